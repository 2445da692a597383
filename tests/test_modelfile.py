"""The packaged model file: assembled from byte-chunk parts, checked by size, magic and sha256, reused later."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.core.llm import modelfile
from bot.core.llm.modelfile import (
    PACKAGED_MODELS,
    PackagedModel,
    installed_parts,
    model_report,
    resolve_model_path,
    verify_model,
)
from bot.errors import ModelError
from tests.narrow import must

PART_BYTES = [b"GGUF" + b"a" * 96, b"b" * 100, b"c" * 57]
BLOB = b"".join(PART_BYTES)


def one_sentence(exc: BaseException) -> str:
    """The error's message, checked to be a single line ending with a full stop."""
    text = str(exc)
    assert "\n" not in text and text.endswith("."), text
    assert "Traceback" not in text
    return text


def settings_for(tmp_path: Path, **env: Any) -> Settings:
    """Settings with the data folder in tmp_path."""
    return Settings(COACH_DATA_DIR=tmp_path / "data", **env)


@pytest.fixture()
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PackagedModel, list[Path]]:
    """A three-part fake 'package' registered as COACH_MODEL=test."""
    folder = tmp_path / "site"
    folder.mkdir()
    parts = []
    for i, data in enumerate(PART_BYTES, 1):
        part = folder / f"part{i:02d}.bin"
        part.write_bytes(data)
        parts.append(part)
    spec = PackagedModel("test", "test.gguf", "fake_part", 3, len(BLOB), hashlib.sha256(BLOB).hexdigest())
    monkeypatch.setitem(PACKAGED_MODELS, "test", spec)
    return spec, parts


def test_assembles_parts_in_order_with_progress(tmp_path: Path, fake_model: tuple[PackagedModel, list[Path]]) -> None:
    spec, parts = fake_model
    seen: list[tuple[int, int]] = []
    path = resolve_model_path(settings_for(tmp_path, COACH_MODEL="test"), lambda d, t: seen.append((d, t)),
                              find_parts=lambda s: parts)
    assert path == tmp_path / "data" / "models" / "test.gguf"
    assert path.read_bytes() == BLOB
    assert seen[0] == (0, len(BLOB)) and seen[-1] == (len(BLOB), len(BLOB))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")], "temp file left behind"


def test_later_starts_reuse_the_file_without_reading_parts(tmp_path: Path,
                                                         fake_model: tuple[PackagedModel, list[Path]]) -> None:
    _, parts = fake_model
    settings = settings_for(tmp_path, COACH_MODEL="test")
    first = resolve_model_path(settings, find_parts=lambda s: parts)

    def boom(spec: PackagedModel) -> list[Path]:
        raise AssertionError("parts read again")

    assert resolve_model_path(settings, find_parts=boom) == first


def test_wrong_sized_assembled_file_is_rebuilt(tmp_path: Path, fake_model: tuple[PackagedModel, list[Path]]) -> None:
    _, parts = fake_model
    settings = settings_for(tmp_path, COACH_MODEL="test")
    path = resolve_model_path(settings, find_parts=lambda s: parts)
    path.write_bytes(BLOB[:50])  # an interrupted copy by hand, say
    assert resolve_model_path(settings, find_parts=lambda s: parts).read_bytes() == BLOB


def test_truncated_parts_are_a_clear_error(tmp_path: Path, fake_model: tuple[PackagedModel, list[Path]]) -> None:
    _, parts = fake_model
    parts[2].write_bytes(b"c" * 10)
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL="test"), find_parts=lambda s: parts)
    assert "truncated" in one_sentence(info.value)


def test_missing_part_is_a_clear_error(tmp_path: Path, fake_model: tuple[PackagedModel, list[Path]]) -> None:
    _, parts = fake_model
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL="test"), find_parts=lambda s: parts[:2])
    assert "found 2" in one_sentence(info.value)


def test_wrong_checksum_is_a_clear_error_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            fake_model: tuple[PackagedModel, list[Path]]) -> None:
    spec, parts = fake_model
    monkeypatch.setitem(PACKAGED_MODELS, "test", PackagedModel(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL="test"), find_parts=lambda s: parts)
    assert "sha256" in one_sentence(info.value)
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_missing_model_path_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "x" / "y.gguf"
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL_PATH=missing))
    assert one_sentence(info.value) == (f"Model file {missing} does not exist; set COACH_MODEL_PATH or install the "
                                        "model packages (see README).")


def test_non_gguf_model_path_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_text("<html>not a model</html>")
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL_PATH=bogus))
    assert "not a GGUF" in one_sentence(info.value)


def test_model_path_is_used_as_is(tmp_path: Path, tiny_gguf: Path) -> None:
    assert resolve_model_path(settings_for(tmp_path, COACH_MODEL_PATH=tiny_gguf)) == tiny_gguf


def test_unknown_choice_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        resolve_model_path(settings_for(tmp_path, COACH_MODEL="7b"))
    assert "COACH_MODEL" in one_sentence(info.value)


def test_packages_not_installed_is_a_clear_error() -> None:
    spec = PackagedModel("1.5b", "x.gguf", "no_such_package_part", 2, 10, "0" * 64)
    with pytest.raises(ModelError) as info:
        installed_parts(spec)
    assert "not installed" in one_sentence(info.value)


def test_verify_checks_size_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(BLOB)
    digest = hashlib.sha256(BLOB).hexdigest()
    assert verify_model(path, len(BLOB), digest) == digest
    with pytest.raises(ModelError) as info:
        verify_model(path, len(BLOB) + 1, digest)
    assert "truncated" in one_sentence(info.value)
    with pytest.raises(ModelError) as info:
        verify_model(path, len(BLOB), "f" * 64)
    assert "sha256" in one_sentence(info.value)


def test_verify_is_cached_until_the_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(BLOB)
    digest = verify_model(path, len(BLOB))
    calls: list[Path] = []
    real = modelfile.sha256_file

    def counting(p: Path, progress: object = None) -> str:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(modelfile, "sha256_file", counting)
    assert verify_model(path, len(BLOB)) == digest and calls == []
    path.write_bytes(BLOB[:-1] + b"!")
    os.utime(path, ns=(1, 1))
    assert verify_model(path, len(BLOB)) != digest and calls == [path]


def test_report_for_doctor(tmp_path: Path, fake_model: tuple[PackagedModel, list[Path]],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec, parts = fake_model
    settings = settings_for(tmp_path, COACH_MODEL="test")
    monkeypatch.setattr(modelfile, "installed_parts", lambda s: parts)
    before = model_report(settings)
    assert before["ok"] is False and before["exists"] is False and before["error"]
    resolve_model_path(settings, find_parts=lambda s: parts)
    after = model_report(settings)
    assert after["ok"] is True and after["sha256_ok"] is True and after["sha256"] == spec.sha256
    assert after["size"] == after["expected_size"] == len(BLOB)


def test_report_on_a_missing_custom_model(tmp_path: Path) -> None:
    report = model_report(settings_for(tmp_path, COACH_MODEL_PATH=tmp_path / "none.gguf"))
    assert report["ok"] is False and "does not exist" in report["error"]


@pytest.mark.parametrize("choice", ["1.5b", "0.5b"])
def test_installed_packages_hold_the_expected_bytes(choice: str) -> None:
    spec = PACKAGED_MODELS[choice]
    try:
        parts = installed_parts(spec)
    except ModelError:
        pytest.skip(f"model packages for {choice} are not installed")
    assert len(parts) == spec.parts
    assert sum(p.stat().st_size for p in parts) == spec.size
    assert parts[0].read_bytes()[:4] == b"GGUF"


def test_verify_finds_a_truncated_gguf_of_the_users_own(tmp_path: Path, tiny_gguf: Path) -> None:
    assert modelfile.gguf_data_end(tiny_gguf) == tiny_gguf.stat().st_size
    assert verify_model(tiny_gguf)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:300_000])
    with pytest.raises(ModelError) as info:
        verify_model(cut)
    assert "truncated" in one_sentence(info.value)


def test_a_cut_gguf_header_is_damaged_not_a_crash(tmp_path: Path, tiny_gguf: Path) -> None:
    cut = tmp_path / "header.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:2000])
    with pytest.raises(ModelError) as info:
        verify_model(cut)
    assert "truncated or damaged" in one_sentence(info.value)


def test_llama_opens_the_tiny_model_and_reports_where_its_layers_are(tmp_path: Path, tiny_gguf: Path) -> None:
    from bot.core.llm.modelcheck import llama_opens

    loaded = llama_opens(tiny_gguf, n_gpu_layers=-1)
    assert loaded["ok"] is True and loaded["layers"] == 3 and loaded["gpu_layers"] in (0, 3)
    text = tmp_path / "text.gguf"
    text.write_text("GGUF is what this file claims to be, but it is text.")
    broken = llama_opens(text)
    assert broken["ok"] is False and one_sentence(broken["error"]).startswith("llama.cpp cannot load ")


def test_gpu_layers_are_counted_from_llamas_log() -> None:
    from bot.core.llm.modelcheck import placed_layers

    # The lines llama.cpp's loader prints (CUDA build, 2 of 3 layers offloaded; Metal; CPU only).
    cuda = ("load_tensors: layer   0 assigned to device CPU, is_swa = 0\n"
            "load_tensors: layer   1 assigned to device CUDA0, is_swa = 0\n"
            "load_tensors: layer   2 assigned to device CUDA0, is_swa = 0\n")
    assert placed_layers(cuda) == (3, 2)
    assert placed_layers("load_tensors: layer   0 assigned to device Metal, is_swa = 0\n") == (1, 1)
    assert placed_layers("llama_model_loader: loaded meta data\n") == (None, None)


def test_user_model_problems_are_one_sentence_each(tmp_path: Path, tiny_gguf: Path) -> None:
    from bot.core.llm.modelfile import unusable_reason

    cases = {"empty": b"", "html": b"<html><body>404</body></html>", "lfs": b"version https://git-lfs.github.com/spec/v1\n",
             "short": b"GG", "truncated": tiny_gguf.read_bytes()[:300_000]}
    words = {"empty": "is empty (0 bytes)", "html": "text file", "lfs": "Git LFS pointer", "short": "only 2 bytes",
             "truncated": "is truncated"}
    for name, data in cases.items():
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(data)
        problem = unusable_reason(path)
        assert problem is not None and words[name] in one_sentence(problem), (name, problem)
    assert unusable_reason(tiny_gguf) is None
    assert "is a folder" in one_sentence(must(unusable_reason(tmp_path)))


def test_llama_decodes_the_tiny_model_and_a_crash_is_one_sentence(tmp_path: Path, tiny_gguf: Path) -> None:
    from bot.core.llm.modelcheck import llama_decodes

    assert llama_decodes(tiny_gguf) == {"ok": True, "error": None}
    # a llama.cpp that dies decoding (as its AMX build did) is reported, and doctor keeps going
    crashing = tmp_path / "python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    crashed = llama_decodes(tiny_gguf, python=str(crashing))
    assert crashed["ok"] is False and "crashed decoding a token (signal 11)" in crashed["error"]
    assert "pip cache remove llama_cpp_python" in one_sentence(crashed["error"])
