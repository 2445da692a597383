"""One data folder, several processes: the process holding the Chroma folder (a bot) leaves a snapshot, and every
other process (a terminal command, a second bot) searches a read-only copy of it; writers stay exclusive."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import ChromaIndex, MemoryIndex, open_index
from bot.core.runtime import Runtime
from bot.errors import IndexBusyError

DECKS = Path(__file__).resolve().parent / "data" / "decks"
QUERIES = ["turning off neurons at random", "speed up gradient descent", "downsample feature maps"]


def test_a_second_opener_searches_the_holders_snapshot_without_embedding_it_again(tmp_path: Path,
                                                                                  knowledge: Path) -> None:
    bank = load_bank(knowledge)
    holder = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    holder.sync(bank)
    holder.write_snapshot()
    reader_embedder = HashEmbedder()
    reader = open_index(reader_embedder, path=tmp_path / "chroma", url=None)
    try:
        assert isinstance(reader, MemoryIndex)
        report = reader.sync(bank)
        assert report.embedded_texts == 0 and not report.changed
        assert reader.freshness(bank)["fresh"]
        for query in QUERIES:
            assert [h.entry.id for h in reader.search(query, 3)] == [h.entry.id for h in holder.search(query, 3)]
        # The bank changed since the holder's snapshot: the reader embeds that entry only, in memory.
        data = yaml.safe_load((knowledge / "mini.yaml").read_text())
        data["questions"][0]["answer"] += " Dropout also acts as a cheap ensemble."
        (knowledge / "mini.yaml").write_text(yaml.safe_dump(data))
        changed = load_bank(knowledge)
        assert not reader.freshness(changed)["fresh"]
        before = len(reader_embedder.calls)
        report = reader.sync(changed)
        assert report.updated == [data["questions"][0]["id"]] and len(reader_embedder.calls) == before + 1
    finally:
        holder.close()


def test_without_a_snapshot_a_second_opener_embeds_the_bank_itself(tmp_path: Path, knowledge: Path) -> None:
    holder = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")   # a holder from before snapshots existed
    try:
        reader = open_index(HashEmbedder(), path=tmp_path / "chroma", url=None)
        report = reader.sync(load_bank(knowledge))
        assert report.embedded_texts > 0 and reader.search(QUERIES[0], 1)[0].entry.id == "dropout"
    finally:
        holder.close()


def test_a_snapshot_of_another_embedder_is_not_used(tmp_path: Path, knowledge: Path) -> None:
    bank = load_bank(knowledge)
    holder = ChromaIndex(HashEmbedder(dim=64), path=tmp_path / "chroma")
    holder.sync(bank)
    holder.write_snapshot()
    try:
        reader = open_index(HashEmbedder(dim=128, name="another"), path=tmp_path / "chroma", url=None)
        assert reader.sync(bank).embedded_texts > 0   # its own vectors, not the 64-dimensional ones
    finally:
        holder.close()


def test_runtimes_share_one_folder_readers_work_and_a_writer_gets_one_sentence(tmp_path: Path,
                                                                               knowledge: Path) -> None:
    settings = Settings(COACH_DATA_DIR=tmp_path / "data", COACH_KNOWLEDGE_DIR=knowledge)  # type: ignore[call-arg]
    bot = Runtime(settings, use_llm=False, embedder=HashEmbedder())
    terminal = Runtime(settings, use_llm=False, embedder=HashEmbedder())
    try:
        assert isinstance(bot.index(), ChromaIndex)          # the bot holds the folder and leaves a snapshot
        found = terminal.index().search(QUERIES[1], 1)        # `ask` while the bot runs
        assert found and found[0].entry.id == "momentum"
        with pytest.raises(IndexBusyError, match="Another process is using the index"):
            terminal.reindex()                                # `index` while the bot runs
    finally:
        bot.close()
        terminal.close()
