"""The index on a real Chroma server (`chroma run` on loopback): incremental re-index and the same search results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import COLLECTION, ChromaIndex
from tests.test_scale_servers import Server

QUERIES = ["What does dropout do to neurons during training?", "momentum in gradient descent",
           "max pooling downsampling feature maps", "why use a validation set", "velocity of past gradients"]


@pytest.fixture()
def url(chroma: Server) -> str:
    """The server's URL, its collection dropped so that each test starts empty."""
    index = ChromaIndex(HashEmbedder(), url=chroma.url)
    if COLLECTION in {c.name for c in index.client.list_collections()}:
        index.client.delete_collection(COLLECTION)
    return chroma.url


def test_incremental_reindex_on_the_server(url: str, knowledge: Path, edit_deck: Callable[..., None]) -> None:
    embedder = HashEmbedder()
    index = ChromaIndex(embedder, url=url)
    first = index.sync(load_bank(knowledge))
    assert sorted(first.added) == ["dropout", "momentum", "pooling"]
    embedder.calls.clear()

    again = ChromaIndex(embedder, url=url).sync(load_bank(knowledge))   # another client: state lives on the server
    assert not again.changed and again.unchanged == 3 and embedder.calls == []

    edit_deck("momentum", question="How does momentum accelerate gradient descent?")
    third = ChromaIndex(embedder, url=url).sync(load_bank(knowledge))
    assert third.updated == ["momentum"] and not third.added and not third.removed
    embedded = [text for call in embedder.calls for text in call]
    assert "How does momentum accelerate gradient descent?" in embedded
    assert not any("pooling" in text.lower() or "dropout" in text.lower() for text in embedded)


def test_search_matches_the_embedded_store(url: str, knowledge: Path, tmp_path: Path) -> None:
    bank = load_bank(knowledge)
    served = ChromaIndex(HashEmbedder(), url=url)
    local = ChromaIndex(HashEmbedder(), path=tmp_path / "chroma")
    served.sync(bank)
    local.sync(bank)
    try:
        for query in QUERIES:
            got = [(h.entry.id, round(h.score, 4)) for h in served.search(query, k=3)]
            want = [(h.entry.id, round(h.score, 4)) for h in local.search(query, k=3)]
            assert got == want, query
        dropout = bank.entries["dropout"]
        assert [e.id for e in served.related(dropout)] == [e.id for e in local.related(dropout)]
    finally:
        local.close()


def test_many_clients_share_the_server_without_a_folder_lock(url: str, knowledge: Path) -> None:
    bank = load_bank(knowledge)
    clients = [ChromaIndex(HashEmbedder(), url=url) for _ in range(3)]   # the embedded store would refuse this
    for client in clients:
        client.sync(bank)
    assert {tuple(h.entry.id for h in c.search(QUERIES[0])) for c in clients} == {
        tuple(h.entry.id for h in clients[0].search(QUERIES[0]))}
    assert clients[0].freshness(bank)["fresh"] is True


def test_runtime_uses_the_server_when_configured(url: str, knowledge: Path, tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.core.runtime import Runtime

    settings = Settings(COACH_CHROMA_URL=url, COACH_KNOWLEDGE_DIR=knowledge,  # type: ignore[call-arg]
                        COACH_DATA_DIR=tmp_path / "data")
    first, second = (Runtime(settings, use_llm=False, embedder=HashEmbedder()) for _ in range(2))
    assert [h.entry.id for h in first.index().search(QUERIES[0], k=1)] == ["dropout"]
    assert second.reindex().changed is False   # the first runtime's index, seen from another one
    assert not settings.chroma_dir.exists()    # nothing embedded on disk, no folder lock
    first.close()
    second.close()


def test_clients_starting_at_once_create_the_collection_once(url: str, knowledge: Path) -> None:
    import threading

    bank = load_bank(knowledge)
    clients = [ChromaIndex(HashEmbedder(), url=url) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    errors: list[str] = []

    def sync(client: ChromaIndex) -> None:
        barrier.wait()
        try:
            client.sync(bank)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(repr(exc))

    threads = [threading.Thread(target=sync, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert clients[0].freshness(bank)["fresh"] is True


def test_server_down_is_one_clear_sentence() -> None:
    from bot.errors import CoachError
    from tests.test_scale_servers import free_port

    port = free_port()
    with pytest.raises(CoachError, match=rf"^The Chroma server at http://127.0.0.1:{port} is not reachable; "):
        ChromaIndex(HashEmbedder(), url=f"http://127.0.0.1:{port}")
