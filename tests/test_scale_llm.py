"""OpenAICompatibleLLM against a real `python -m llama_cpp.server` (tiny model) and a scripted fake server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.core.llm.base import ChatPrompt
from bot.core.llm.jsonout import validate_json
from bot.core.llm.openai_server import InvalidOutputError, OpenAICompatibleLLM, RequestRejected, api_root, public_url
from bot.errors import ConfigError, ModelError
from tests.test_scale_servers import Server, free_port, start_llama_server

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"enum": ["agrees", "contradicts", "unrelated"]},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 10},
        # Short strings: the tiny random model fills strings with rare characters, which grammars sample slowly.
        "notes": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 2},
        "quote": {"type": "string", "maxLength": 4},
    },
    "required": ["verdict", "confidence", "notes", "quote"],
    "additionalProperties": False,
}
SYSTEM = "You are an interview coach. Reply with JSON only."
FIXED = ("Question: what is dropout and why does it reduce overfitting?\nReference: during each training step a "
         "random fraction of units is dropped, so the network cannot rely on any single unit.\n")
PROMPT = ChatPrompt(SYSTEM, FIXED, "<answer>\nDropout randomly turns off neurons while training.\n</answer>")
GOOD_JSON = {"verdict": "agrees", "confidence": 7, "notes": ["ok"], "quote": ""}
Reply = tuple[int, Any, dict[str, str]]   # status, JSON body or SSE pieces, headers


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One llama_cpp.server with the tiny model for the whole module."""
    started = start_llama_server(tiny_gguf, tmp_path_factory.mktemp("llama") / "server.log")
    yield started
    started.stop()


@pytest.fixture()
def llm(server: Server) -> Iterator[OpenAICompatibleLLM]:
    """A fresh client of the shared server."""
    client = OpenAICompatibleLLM(server.url, model="coach", seed=1)
    yield client
    client.close()


# ---------------------------------------------------------------- the real server


def test_generate_returns_the_models_text(llm: OpenAICompatibleLLM) -> None:
    text = llm.generate(PROMPT, max_tokens=16)
    assert isinstance(text, str) and text


def test_streamed_pieces_join_to_the_output(llm: OpenAICompatibleLLM) -> None:
    pieces: list[str] = []
    text = llm.generate(PROMPT, max_tokens=24, on_token=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces) == text


@pytest.mark.parametrize("seed", range(3))
def test_schema_constrained_json_validates(server: Server, seed: int) -> None:
    llm = OpenAICompatibleLLM(server.url, seed=seed)
    pieces: list[str] = []
    text = llm.generate(PROMPT, schema=SCHEMA, max_tokens=160, on_token=pieces.append)
    data = validate_json(text, SCHEMA)
    assert data["verdict"] in ("agrees", "contradicts", "unrelated") and 0 <= data["confidence"] <= 10
    assert "".join(pieces) == text
    # llama_cpp.server refuses json_schema, so the client fell back to json_object with a schema, and stays there.
    assert llm.response_format == "json_object"
    llm.close()


def test_prewarm_evaluates_the_fixed_part_in_the_background(llm: OpenAICompatibleLLM) -> None:
    started = time.perf_counter()
    future = llm.submit_prewarm(PROMPT, session="s1")
    assert time.perf_counter() - started < 0.5   # never blocks the caller
    assert future.result(timeout=30) is True
    assert isinstance(llm.generate(PROMPT, max_tokens=8, session="s1"), str)


def test_describe_lists_the_servers_models(llm: OpenAICompatibleLLM, server: Server) -> None:
    info = llm.describe()
    assert info["reachable"] is True and "coach" in info["models"] and info["server"] == server.url


def test_clients_in_parallel_share_one_server(server: Server) -> None:
    llm = OpenAICompatibleLLM(server.url)
    results: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            results.append(llm.generate(PROMPT, schema=SCHEMA, max_tokens=160))
        except BaseException as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    llm.close()
    assert errors == [] and len(results) == 3


def test_runtime_uses_the_server_when_configured(server: Server, tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.core.runtime import Runtime

    settings = Settings(COACH_LLM_BASE_URL=server.url, COACH_LLM_API_KEY="sk-test",  # type: ignore[call-arg]
                        COACH_DATA_DIR=tmp_path)
    runtime = Runtime(settings)
    assert runtime.llm is not None
    model = runtime.llm.get(timeout=10)
    assert isinstance(model, OpenAICompatibleLLM) and "sk-test" not in repr(model)
    assert isinstance(runtime.llm.generate(PROMPT, max_tokens=4), str)


# ---------------------------------------------------------------- failures, with a server that is down or scripted


def test_server_down_is_one_clear_sentence_fast() -> None:
    port = free_port()
    llm = OpenAICompatibleLLM(f"http://user:pw@127.0.0.1:{port}/v1", api_key="sk-secret")
    started = time.perf_counter()
    with pytest.raises(ModelError) as caught:
        llm.generate(PROMPT, max_tokens=8)
    assert time.perf_counter() - started < 5
    assert str(caught.value) == f"The language model server at http://127.0.0.1:{port}/v1 is not reachable."
    started = time.perf_counter()
    with pytest.raises(ModelError, match="is not reachable"):   # known down: no retries for a while
        llm.generate(PROMPT, max_tokens=8)
    assert time.perf_counter() - started < 0.5
    assert llm.describe()["reachable"] is False
    assert llm.submit_prewarm(PROMPT).result(timeout=10) is False   # a prewarm fails quietly


@dataclass
class Fake:
    """A scripted OpenAI-compatible server: each reply is (status, body or SSE pieces, headers)."""

    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


def _sse(pieces: list[str]) -> bytes:
    """A chat-completion event stream of these pieces."""
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    chunks += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b": ping\n\ndata: [DONE]\n\n"


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length", 0))
            fake.requests.append(json.loads(self.rfile.read(length)))
            fake.headers.append(dict(self.headers))
            status, body, headers = fake.replies.pop(0) if fake.replies else (200, ["ok"], {})
            payload = _sse(body) if isinstance(body, list) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "text/event-stream" if isinstance(body, list) else "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@pytest.fixture()
def fake() -> Iterator[Callable[..., Fake]]:
    """Start a scripted server on loopback: fake(replies) -> Fake with its url."""
    servers: list[ThreadingHTTPServer] = []

    def start(*replies: Reply) -> Fake:
        state = Fake(list(replies))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        return state

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_retries_after_a_503_then_succeeds(fake: Callable[..., Fake]) -> None:
    server = fake((503, {"error": {"message": "Loading model"}}, {}), (200, ["Hel", "lo"], {}))
    pieces: list[str] = []
    assert OpenAICompatibleLLM(server.url, backoff=0.01).generate(PROMPT, on_token=pieces.append) == "Hello"
    assert len(server.requests) == 2 and pieces == ["Hel", "lo"]


def test_429_waits_as_told_and_gives_up_with_one_sentence(fake: Callable[..., Fake]) -> None:
    busy: Reply = (429, {"error": {"message": "Too many requests"}}, {"Retry-After": "0"})
    server = fake(busy, busy, busy, (200, ["back"], {}))
    llm = OpenAICompatibleLLM(server.url, retries=2)
    with pytest.raises(ModelError, match=r"^The language model server at .* answered HTTP 429 \(Too many requests\)"):
        llm.generate(PROMPT)
    assert len(server.requests) == 3
    assert llm.generate(PROMPT) == "back"   # one try while it is known busy, and that one succeeds


def test_request_carries_system_user_key_and_cache_prompt(fake: Callable[..., Fake]) -> None:
    server = fake((200, ["x"], {}))
    OpenAICompatibleLLM(server.url, api_key="sk-secret", model="qwen").generate(PROMPT, max_tokens=9)
    [body] = server.requests
    assert body["messages"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT.user}]
    assert (body["model"], body["max_tokens"], body["stream"], body["cache_prompt"]) == ("qwen", 9, True, True)
    assert server.headers[0]["Authorization"] == "Bearer sk-secret"


def test_prewarm_sends_the_fixed_part_for_one_token(fake: Callable[..., Fake]) -> None:
    server = fake((200, ["x"], {}))
    assert OpenAICompatibleLLM(server.url).submit_prewarm(PROMPT, session="s").result(timeout=10) is True
    [body] = server.requests
    assert body["messages"][1]["content"] == FIXED and body["max_tokens"] == 1 and body["cache_prompt"] is True


def test_wrong_key_is_named_without_the_key(fake: Callable[..., Fake]) -> None:
    server = fake((401, {"error": {"message": "Invalid API Key"}}, {}))
    with pytest.raises(ModelError, match="refused the API key") as caught:
        OpenAICompatibleLLM(server.url, api_key="sk-secret").generate(PROMPT)
    assert "sk-secret" not in str(caught.value) and len(server.requests) == 1


def test_json_schema_first_then_fallbacks_and_validation(fake: Callable[..., Fake]) -> None:
    refused: Reply = (400, {"error": {"message": "response_format not supported"}}, {})
    server = fake(refused, refused, (200, [json.dumps(GOOD_JSON)], {}), (200, ['{"verdict": "maybe"}'], {}))
    llm = OpenAICompatibleLLM(server.url)
    assert json.loads(llm.generate(PROMPT, schema=SCHEMA)) == GOOD_JSON
    kinds = [r.get("response_format", {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", None] and llm.response_format == "none"
    with pytest.raises(InvalidOutputError, match="does not follow the schema"):   # validated either way
        llm.generate(PROMPT, schema=SCHEMA)
    assert "response_format" not in server.requests[-1]


def test_json_schema_request_shape(fake: Callable[..., Fake]) -> None:
    server = fake((200, [json.dumps(GOOD_JSON)], {}))
    OpenAICompatibleLLM(server.url).generate(PROMPT, schema=SCHEMA)
    sent = server.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "coach_output"
    assert sent["json_schema"]["schema"]["properties"]["confidence"]["enum"] == list(range(11))


def test_cache_prompt_is_dropped_where_refused(fake: Callable[..., Fake]) -> None:
    refused: Reply = (400, {"error": {"message": "Unrecognized request argument supplied: cache_prompt"}}, {})
    server = fake(refused, (200, ["fine"], {}), (200, ["again"], {}))
    llm = OpenAICompatibleLLM(server.url)
    assert llm.generate(PROMPT) == "fine" and llm.generate(PROMPT) == "again"
    assert ["cache_prompt" in r for r in server.requests] == [True, False, False]


def test_other_refusals_are_not_retried(fake: Callable[..., Fake]) -> None:
    server = fake((400, {"error": {"message": "the request exceeds the context size"}}, {}))
    with pytest.raises(RequestRejected, match="exceeds the context size"):
        OpenAICompatibleLLM(server.url).generate(PROMPT)
    assert len(server.requests) == 1


def test_a_server_that_does_not_stream_still_works(fake: Callable[..., Fake]) -> None:
    server = fake((200, {"choices": [{"message": {"role": "assistant", "content": "whole"}}]}, {}))
    pieces: list[str] = []
    assert OpenAICompatibleLLM(server.url).generate(PROMPT, on_token=pieces.append) == "whole"
    assert pieces == ["whole"]


def test_base_url_forms() -> None:
    assert api_root("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1"
    assert api_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1"
    assert api_root("https://api.example.com/openai/v1") == "https://api.example.com/openai/v1"
    assert public_url("http://me:secret@host:1/v1?key=k") == "http://host:1/v1"
    with pytest.raises(ConfigError, match="COACH_LLM_BASE_URL"):
        OpenAICompatibleLLM("127.0.0.1:8080")


# ---------------------------------------------------------------- the real 0.5B model behind the server


@pytest.mark.real_model
@pytest.mark.slow
def test_packaged_small_model_writes_a_critique_through_the_server(tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.core.llm.modelfile import PACKAGED_MODELS, installed_parts, resolve_model_path

    try:
        installed_parts(PACKAGED_MODELS["0.5b"])
    except ModelError as exc:
        pytest.skip(str(exc))
    settings = Settings(COACH_MODEL="0.5b")  # type: ignore[call-arg]
    settings.model_path = None   # this test is about the packaged model, whatever COACH_MODEL_PATH says
    server = start_llama_server(resolve_model_path(settings), tmp_path / "server.log", n_ctx=2048)
    try:
        llm = OpenAICompatibleLLM(server.url, seed=0)
        schema = {"type": "object", "properties": {"strengths": {"type": "array", "items": {"type": "string"}},
                                                   "follow_up": {"type": "string"}},
                  "required": ["strengths", "follow_up"], "additionalProperties": False}
        pieces: list[str] = []
        data = validate_json(llm.generate(PROMPT, schema=schema, max_tokens=120, on_token=pieces.append), schema)
        assert data["follow_up"].strip() and len(pieces) > 3
    finally:
        server.stop()
