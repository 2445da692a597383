"""Retrieval without a model: the query's abbreviations, what an index is rebuilt for, what loads the model, and
how the packaged mpnet's zip parts are joined."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.core import packaged_mpnet, retrieval
from bot.core.bank import Bank, Entry, load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import ChromaIndex, MemoryIndex
from bot.core.query_words import normalise_query
from bot.errors import ConfigError

DECKS = Path(__file__).resolve().parent / "data" / "decks"


class CountingEmbedder(HashEmbedder):
    """The hashing embedder with a model that must be loaded (and is counted) before anything is embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.checks = 0

    def load(self) -> None:
        self.loads += 1

    def check(self) -> None:
        self.checks += 1


def test_abbreviations_and_shorthand_are_spelled_out() -> None:
    assert normalise_query("whats a CNN") == "what is a convolutional neural network"
    assert normalise_query("DL vs ML, how do u tune hyperparams w/ SGD?") == (
        "deep learning versus machine learning, how do you tune hyperparameters with stochastic gradient descent?")
    # Only whole words: a word that merely contains an abbreviation, and an unknown one, stay as typed.
    assert normalise_query("mlops for html and ReLU") == "mlops for html and ReLU"


def test_chat_shorthand_of_the_field_is_spelled_out() -> None:
    assert normalise_query("grads too small b4 training?") == "gradients too small before training?"
    assert normalise_query("tuning hparams w/ a lower lr, is it any gud") == (
        "tuning hyperparameters with a lower learning rate, is it any good")
    assert normalise_query("b4x and grade stay") == "b4x and grade stay"   # only whole words


def test_an_answer_is_embedded_sentence_by_sentence() -> None:
    answer = ("Dropout turns off random neurons\nduring each training step. It is off at inference.\n\n"
              "- It acts like an ensemble of thinned networks\n- Short one\n")
    assert retrieval.answer_sentences(answer) == [
        "Dropout turns off random neurons during each training step.",   # a wrapped line is joined, not split
        "It is off at inference.", "- It acts like an ensemble of thinned networks"]
    assert retrieval.answer_sentences("Too short.") == ["Too short."]   # never an entry without a sentence


def _attention_bank() -> Bank:
    attention = Entry(id="attention", question="What is attention in a transformer, and why does it matter?",
                      topics=("nlp",), difficulty=1, answer="Attention weighs every input token by its relevance to "
                      "the current one.\nIt lets a transformer keep long-range context.")
    multi_head = Entry(id="multi-head", question="What is multi-head attention?", topics=("nlp",), difficulty=2,
                       answer="Multi-head attention runs the attention mechanism several times.\n\nThe heads run side "
                       "by side in parallel, and their outputs are concatenated and projected.")
    return Bank({e.id: e for e in (attention, multi_head)}, {})


def test_a_query_restating_a_sentence_deep_in_an_answer_finds_its_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    index = MemoryIndex(HashEmbedder())
    index.sync(_attention_bank())
    query = "why do the heads run side by side in parallel with their outputs concatenated and projected"
    assert [h.entry.id for h in index.search(query, 2)] == ["multi-head", "attention"]
    # The sentence is in neither the question nor the answer's first line: without its own vector the
    # look-alike whose question shares the query's words comes first.
    monkeypatch.setattr(retrieval, "SENTENCE_WEIGHT", 0.0)
    assert index.search(query, 1)[0].entry.id == "attention"


def test_keywords_match_other_forms_of_a_word() -> None:
    keywords = retrieval.KeywordIndex(list(_attention_bank().entries.values()))
    assert set(keywords.scores("concatenating projections")) == {"multi-head"}   # "concatenated and projected"


def test_an_abbreviated_query_finds_the_spelled_out_question(monkeypatch: pytest.MonkeyPatch) -> None:
    bank = load_bank(DECKS)
    index = MemoryIndex(HashEmbedder())
    index.sync(bank)
    # "GD" is the only link to "How does momentum speed up gradient descent?": typed as is, another entry wins.
    assert index.search("GD but faster", k=1)[0].entry.id == "momentum"
    monkeypatch.setattr(retrieval, "normalise_query", lambda text: text)
    assert index.search("GD but faster", k=1)[0].entry.id != "momentum"


def test_related_entries_come_from_stored_vectors_without_embedding(tmp_path: Path) -> None:
    bank = load_bank(DECKS)
    for index in (MemoryIndex(CountingEmbedder()), ChromaIndex(CountingEmbedder(), path=tmp_path / "chroma")):
        index.sync(bank)
        embedder: Any = index.embedder
        embedder.calls.clear()
        related = index.related(bank.entries["momentum"], k=2)
        assert embedder.calls == []  # the interview's critique never makes the retrieval model load
        assert len(related) == 2 and all(e.id != "momentum" for e in related)
        index.close()


def test_an_unchanged_index_never_loads_the_model(tmp_path: Path) -> None:
    bank = load_bank(DECKS)
    first = CountingEmbedder()
    index = ChromaIndex(first, path=tmp_path / "chroma")
    index.sync(bank)
    index.close()
    assert first.loads >= 1
    again = CountingEmbedder()
    reopened = ChromaIndex(again, path=tmp_path / "chroma")
    report = reopened.sync(bank)
    reopened.related(bank.entries["dropout"])
    assert not report.changed and again.loads == 0 and again.checks >= 1
    reopened.close()


def test_an_index_built_with_other_texts_is_rebuilt_not_mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = load_bank(DECKS)
    monkeypatch.setattr(retrieval, "TEXTS_VERSION", "q+k+f/1")   # what the previous release embedded
    old = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    old.sync(bank)
    old.close()
    monkeypatch.undo()
    index = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    fresh = index.freshness(bank)
    assert not fresh["same_embedder"] and not fresh["fresh"]
    report = index.sync(bank)
    assert report.rebuilt and sorted(report.added) == sorted(bank.entries)
    assert index.freshness(bank)["fresh"]
    index.close()


def test_a_snapshot_of_other_texts_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = load_bank(DECKS)
    monkeypatch.setattr(retrieval, "TEXTS_VERSION", "q+k+f/1")
    holder = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    holder.sync(bank)
    holder.write_snapshot()
    holder.close()
    monkeypatch.undo()
    copy = MemoryIndex.from_snapshot(HashEmbedder(), tmp_path / "chroma" / retrieval.SNAPSHOT)
    assert copy.stored_hashes() == {}
    assert sorted(copy.sync(bank).added) == sorted(bank.entries)


def _split_zip(tmp_path: Path, members: dict[str, bytes], parts: int = 5) -> list[Path]:
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    blob = whole.read_bytes()
    size = -(-len(blob) // parts)
    files = []
    for n in range(parts):
        folder = tmp_path / f"part_00{n + 1}" / "input"
        folder.mkdir(parents=True)
        files.append(folder / f"all-mpnet-base-v2.zip.00{n + 1}")
        files[-1].write_bytes(blob[n * size:(n + 1) * size])
    return files


def test_the_zip_parts_join_into_the_model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = np.arange(5000, dtype=np.float32).tobytes()
    parts = _split_zip(tmp_path, {"all-mpnet-base-v2/modules.json": b"[]",
                                  "all-mpnet-base-v2/model.safetensors": weights})
    monkeypatch.setattr(packaged_mpnet, "part_files", lambda: parts)
    folder = Path(packaged_mpnet.packaged_mpnet_path())
    assert folder == tmp_path / "part_005" / "unpacked" / "all-mpnet-base-v2"
    assert (folder / "model.safetensors").read_bytes() == weights
    assert [p.name for p in folder.parent.iterdir()] == ["all-mpnet-base-v2"]  # no work files left behind
    assert packaged_mpnet.packaged_mpnet_path() == str(folder)  # the second call unpacks nothing


def test_parts_with_a_path_outside_the_folder_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _split_zip(tmp_path, {"all-mpnet-base-v2/modules.json": b"[]", "../evil.txt": b"x"})
    monkeypatch.setattr(packaged_mpnet, "part_files", lambda: parts)
    with pytest.raises(ConfigError, match="unexpected paths"):
        packaged_mpnet.packaged_mpnet_path()
    assert not (tmp_path / "part_005" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_a_missing_part_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as metadata

    def missing(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(ConfigError, match="scripts/install"):
        packaged_mpnet.part_files()


def test_the_interviews_warm_up_opens_no_index_and_related_entries_still_come(tmp_path: Path) -> None:
    from tests.cli_support import fake_runtime

    runtime = fake_runtime(tmp_path, use_llm=False)
    runtime.warm_up(index=False)
    assert runtime._index is None and not (tmp_path / "chroma").exists()
    momentum = runtime.bank.entries["momentum"]
    related = runtime.related(momentum)
    assert len(related) == 2 and momentum not in related
    runtime.close()


def test_an_entry_among_near_neighbours_yields_to_an_equally_close_lone_one() -> None:
    rng = np.random.default_rng(7)
    centre, far = rng.normal(size=64), rng.normal(size=64)
    vectors = {f"family-{n}": np.stack([centre + 0.1 * rng.normal(size=64) for _ in range(3)]) for n in range(4)}
    vectors["lone"] = np.stack([far + 0.1 * rng.normal(size=64) for _ in range(3)])
    crowded = retrieval.crowding(vectors)
    assert min(crowded[f"family-{n}"] for n in range(4)) > crowded["lone"] + 0.2
    ranked = retrieval.fuse({"family-0": 0.6, "lone": 0.6}, {}, crowded)
    assert [i for i, _ in ranked] == ["lone", "family-0"]
    assert retrieval.crowding({"only": vectors["lone"]}) == {}   # one entry: nothing to correct


def test_chroma_and_its_memory_twin_give_the_same_scores(tmp_path: Path) -> None:
    bank = load_bank(DECKS)
    chroma = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    chroma.sync(bank)
    memory = MemoryIndex(HashEmbedder())
    memory.sync(bank)
    assert chroma._crowding and chroma._crowding.keys() == memory._crowding.keys()
    for query in ("turning off neurons at random", "downsample feature maps"):
        mine = [(h.entry.id, round(h.score, 4)) for h in chroma.search(query, 3)]
        assert mine == [(h.entry.id, round(h.score, 4)) for h in memory.search(query, 3)]
    chroma.close()
