"""The Chroma index: incremental re-index by content hash, deletions, embedder changes, the folder lock."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import ChromaIndex, MemoryIndex
from bot.errors import IndexBusyError

DECKS = Path(__file__).resolve().parent / "data" / "decks"


def test_incremental_reindex(tmp_path: Path, knowledge: Path, edit_deck: Callable[..., None]) -> None:
    embedder = HashEmbedder()
    index = ChromaIndex(embedder, path=tmp_path / "chroma")
    first = index.sync(load_bank(knowledge))
    assert sorted(first.added) == ["dropout", "momentum", "pooling"]
    embedder.calls.clear()

    again = index.sync(load_bank(knowledge))
    assert not again.changed and again.unchanged == 3
    assert embedder.calls == []  # nothing embedded

    edit_deck("momentum", question="How does momentum accelerate gradient descent?")
    third = index.sync(load_bank(knowledge))
    assert third.updated == ["momentum"] and not third.added and not third.removed
    embedded = [t for call in embedder.calls for t in call]
    assert "How does momentum accelerate gradient descent?" in embedded
    assert not any("pooling" in t.lower() for t in embedded)

    data = yaml.safe_load((knowledge / "mini.yaml").read_text())
    data["questions"] = [q for q in data["questions"] if q["id"] != "pooling"]
    (knowledge / "mini.yaml").write_text(yaml.safe_dump(data))
    fourth = index.sync(load_bank(knowledge))
    assert fourth.removed == ["pooling"]
    assert "pooling" not in index.stored_hashes()
    assert all(h.entry.id != "pooling" for h in index.search("max pooling downsampling feature maps", k=3))
    index.close()


def test_index_survives_restart_and_second_deck(tmp_path: Path, knowledge: Path) -> None:
    index = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    index.sync(load_bank(knowledge))
    index.close()
    extra = yaml.safe_load((knowledge / "mini.yaml").read_text())
    extra["deck"] = "extra"
    extra["questions"] = [dict(extra["questions"][0], id="dropout-2", question="Where is dropout not applied?")]
    (knowledge / "extra.yaml").write_text(yaml.safe_dump(extra))
    embedder = HashEmbedder()
    reopened = ChromaIndex(embedder, path=tmp_path / "chroma")
    report = reopened.sync(load_bank(knowledge))
    assert report.added == ["dropout-2"] and report.unchanged == 3
    reopened.close()


def test_changed_embedder_rebuilds(tmp_path: Path, knowledge: Path) -> None:
    index = ChromaIndex(HashEmbedder(dim=64), path=tmp_path / "chroma")
    index.sync(load_bank(knowledge))
    index.close()
    other = ChromaIndex(HashEmbedder(dim=128, name="another-model"), path=tmp_path / "chroma")
    report = other.sync(load_bank(knowledge))
    assert report.rebuilt and len(report.added) == 3
    assert other.search("moving average of past gradients", k=1)[0].entry.id == "momentum"
    other.close()


def test_second_process_is_refused_quickly(tmp_path: Path) -> None:
    import subprocess
    import sys

    holder = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    code = ("import time,sys; from pathlib import Path; from bot.core.embedder import HashEmbedder;"
            "from bot.core.index import ChromaIndex; from bot.errors import IndexBusyError\n"
            "t=time.monotonic()\ntry:\n ChromaIndex(HashEmbedder(), path=Path(sys.argv[1]))\n"
            "except IndexBusyError as e:\n print(round(time.monotonic()-t,2), e); sys.exit(3)\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "chroma")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3, proc.stderr
    waited = float(proc.stdout.split()[0])
    print(f"second process refused after {waited:.2f} s (whole process {time.monotonic() - started:.2f} s)")
    assert waited < 2.0
    assert "Another process is using the index" in proc.stdout
    holder.close()
    with pytest.raises(IndexBusyError):
        a = ChromaIndex(HashEmbedder(), path=tmp_path / "c2", lock_timeout=0.1)
        try:
            ChromaIndex(HashEmbedder(), path=tmp_path / "c2", lock_timeout=0.1)
        finally:
            a.close()


def test_memory_twin_matches_chroma(tmp_path: Path, knowledge: Path) -> None:
    bank = load_bank(knowledge)
    chroma = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    chroma.sync(bank)
    memory = MemoryIndex(HashEmbedder())
    memory.sync(bank)
    for query in ("turning off neurons at random", "speed up gradient descent", "downsample feature maps"):
        assert [h.entry.id for h in chroma.search(query, 3)] == [h.entry.id for h in memory.search(query, 3)]
    chroma.close()
