"""Retrieval quality on paraphrased queries with the packaged all-mpnet-base-v2 (slow: the model is 420 MB), the
`ask --json` contract, and warm latency (printed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot.core.index import ChromaIndex

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(real_retrieval_embedder, real_bank, tmp_path_factory):
    idx = ChromaIndex(real_retrieval_embedder, path=tmp_path_factory.mktemp("chroma"))
    report = idx.sync(real_bank)
    print(f"\ncold index of {len(real_bank)} entries: {report.seconds:.2f} s ({report.embedded_texts} texts)")
    yield idx
    idx.close()


def test_recall_on_paraphrases(index) -> None:
    cases = yaml.safe_load((DATA / "paraphrases.yaml").read_text())
    assert len(cases) >= 40
    top1 = top3 = 0
    misses = []
    for case in cases:
        ids = [h.entry.id for h in index.search(case["query"], k=3)]
        top1 += ids[0] == case["id"]
        top3 += case["id"] in ids
        if ids[0] != case["id"]:
            misses.append((case["query"], case["id"], ids))
    r1, r3 = top1 / len(cases), top3 / len(cases)
    print(f"\nrecall@1 = {r1:.3f}, recall@3 = {r3:.3f} over {len(cases)} paraphrased queries")
    for miss in misses:
        print("  miss:", miss)
    assert r1 >= 0.95 and r3 == 1.0


def _recall(index, path: Path) -> tuple[float, float]:
    cases = yaml.safe_load(path.read_text())
    ids = [[h.entry.id for h in index.search(case["query"], k=3)] for case in cases]
    top1 = sum(found[0] == case["id"] for found, case in zip(ids, cases, strict=True)) / len(cases)
    top3 = sum(case["id"] in found for found, case in zip(ids, cases, strict=True)) / len(cases)
    print(f"\n{path.name}: recall@1 = {top1:.3f}, recall@3 = {top3:.3f} over {len(cases)} queries")
    return top1, top3


@pytest.mark.xfail(strict=True, reason="measured once, before any tuning: recall@1 0.867, recall@3 0.933 (MiniLM as "
                                       "before: 0.733); 0.933 with the crowding correction (dev set since), 0.900 / "
                                       "0.967 with the answer's sentences: the misses are neighbours (loss vs "
                                       "optimizer, loss vs gradient descent, interpretability vs ethics)")
def test_recall_on_new_paraphrases_written_for_mpnet(index) -> None:
    """Thirty queries written after the model was chosen and never tuned on (tests/data/paraphrases_round2.yaml)."""
    top1, top3 = _recall(index, DATA / "paraphrases_round2.yaml")
    assert top1 >= 0.95 and top3 == 1.0


@pytest.mark.xfail(strict=True, reason="measured recall@1 0.825 (tests/data/paraphrases_far.yaml, queries without the "
                                       "questions' words; 0.800 before the answer's sentences were embedded) and 0.975 "
                                       "(held-out, 162 queries written blind; 0.969 before)")
def test_recall_on_paraphrases_that_share_no_words(index) -> None:
    far, _ = _recall(index, DATA / "paraphrases_far.yaml")
    heldout, _ = _recall(index, DATA / "heldout" / "paraphrases_heldout.yaml")
    assert far >= 0.95 and heldout >= 0.95


# Written for this test, in words the deck's questions do not use, for entries whose nearest neighbour is a look-alike.
LOOK_ALIKES = [
    ("cnn-overview", "give me the big picture of the network family built for photos, and why it beats a plain net"),
    ("convolutional-layer-mechanics", "what exactly happens inside a single filter layer as it moves over the pixels"),
    # optimizer-role came first before the answer's sentences were embedded: one of them now puts momentum first.
    ("momentum-optimization", "keeping a running average of past steps so the optimizer rolls through narrow ravines"),
    pytest.param("gd-vs-sgd", "is it better to update after one sample at a time or only after a full sweep over the "
                 "data", marks=pytest.mark.xfail(strict=True, reason="written before measuring: a neighbour is first")),
    # Written for the answer-sentence change before it was measured (main ranked the first one second, after
    # attention-mechanism; the branch ranks it first). The misses stay as strict xfails with what was measured.
    ("multi-head-attention", "why would a transformer split its focus into several parallel pieces and then glue "
     "their outputs back together"),
    pytest.param("vanishing-gradient-remedies", "which tricks keep the learning signal alive in the first layers of a "
                 "very deep net, like skip connections or a different activation", marks=pytest.mark.xfail(
                     strict=True, reason="measured: deep-network-training-challenges first, the entry third")),
    ("transfer-learning-small-image-dataset", "I only have a few hundred labelled photos: how would I start from a "
     "network trained on ImageNet to classify them"),
    ("backpropagation-step-by-step", "trace the path from a wrong output back to each weight change, one stage after "
     "another"),
    ("batchnorm-vs-layernorm", "normalising across the samples of a mini-batch versus across the features of one "
     "sample: when is each one preferred"),
    ("loss-function-role", "mean squared error for regression or cross-entropy for classes: why does that pick "
     "change what the model learns"),
]


@pytest.mark.parametrize(("wanted", "query"), LOOK_ALIKES)
def test_a_look_alike_entry_does_not_take_its_neighbours_question(index, wanted, query) -> None:
    ids = [h.entry.id for h in index.search(query, k=3)]
    assert ids[0] == wanted, ids


def test_unchanged_reindex_is_fast_and_embeds_nothing(index, real_bank) -> None:
    started = time.perf_counter()
    report = index.sync(real_bank)
    took = time.perf_counter() - started
    print(f"\nunchanged re-index: {took * 1000:.0f} ms")
    assert not report.changed and report.embedded_texts == 0


def test_ask_latency_printed(index) -> None:
    queries = [c["query"] for c in yaml.safe_load((DATA / "paraphrases.yaml").read_text())]
    index.search(queries[0])
    times = []
    for q in queries:
        started = time.perf_counter()
        index.search(q, k=3)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"\nask warm: p50 {times[len(times) // 2]:.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms")


def test_ask_json_shape(tmp_path: Path) -> None:
    env = dict(os.environ, COACH_DATA_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "why do gradients vanish in deep nets",
                           "--k", "2", "--json"], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["results"] and len(data["results"]) == 2
    for row in data["results"]:
        assert set(row) == {"id", "question", "answer", "topics", "score"}
        assert isinstance(row["score"], float) and isinstance(row["topics"], list)
    assert data["results"][0]["score"] >= data["results"][1]["score"]
    assert "vanishing" in data["results"][0]["id"]
