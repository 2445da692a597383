"""The LLM protocol over any OpenAI-compatible server: llama-server, `python -m llama_cpp.server`, vLLM, OpenAI."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.core.llm.base import ChatPrompt, TokenCallback, grammar_schema
from bot.core.llm.jsonout import validate_json
from bot.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

# Ways of asking for schema-constrained JSON, tried in this order until the server takes one:
# OpenAI, vLLM and llama-server take json_schema; llama_cpp.server only json_object with a "schema" key.
FORMATS = ("json_schema", "json_object", "none")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
MAX_PENDING_PREWARMS = 16
DOWN_GRACE = 15.0  # seconds after the server was found down during which calls fail at once instead of retrying


class RequestRejected(ModelError):
    """The server refused the request itself (HTTP 400/422, or a validation error): retrying cannot help."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class InvalidOutputError(ModelError, ValueError):
    """The output does not follow the schema; a ValueError too, like validate_json's own errors."""


class _Retry(Exception):
    """A failure worth another try (unreachable, overloaded, restarting), with the server's wish of a delay."""

    def __init__(self, error: ModelError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def api_root(base_url: str) -> str:
    """The URL that /chat/completions hangs off; a bare host gets /v1, which every such server serves."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"COACH_LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1, not "
                          f"{public_url(base_url)!r}.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") or "/v1", "", ""))


def public_url(url: str) -> str:
    """The URL without user:password or query, fit for messages and logs."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def response_format(kind: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request fields that ask for schema-constrained JSON in one of FORMATS."""
    if kind == "json_schema":
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "coach_output", "schema": schema, "strict": False}}}
    if kind == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


def _error_detail(response: httpx.Response) -> str:
    """The server's own error message, first line, short."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        body = error.get("message", error) if isinstance(error, dict) else error
    text = str(body).strip().splitlines()[0] if str(body).strip() else response.reason_phrase
    return text[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait (Retry-After), capped so a bot never stalls for long."""
    try:
        return min(float(response.headers.get("retry-after", "")), MAX_RETRY_AFTER)
    except ValueError:
        return None


class OpenAICompatibleLLM:
    """Streams chat completions from a server; thread-safe, so several users (and processes) share it."""

    def __init__(self, base_url: str, *, api_key: str | None = None, model: str = "coach", timeout: float = 300.0,
                 connect_timeout: float = 5.0, retries: int = 3, backoff: float = 0.25, temperature: float = 0.2,
                 seed: int | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.root = api_root(base_url)
        self.url = public_url(self.root)
        self.model = self.name = model
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.temperature = temperature
        self.seed = seed
        self._format = 0          # index in FORMATS of the first way worth trying; only ever moves forward
        self._cache_prompt = True
        self._down_until = 0.0
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, transport=transport,
                                    timeout=httpx.Timeout(timeout, connect=connect_timeout))
        self._prewarms: dict[str, Future[bool]] = {}
        self._prewarm_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"OpenAICompatibleLLM({self.url!r}, model={self.model!r})"  # never the key

    @property
    def response_format(self) -> str:
        """The way of asking for JSON that this server took last (or will be tried first)."""
        return FORMATS[self._format]

    # -- the LLM protocol ----------------------------------------------------------------------------------------

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """Stream a completion; with schema it is constrained where the server can, and validated either way."""
        # session is not sent: the server finds a prewarmed prefix by the prompt's text (cache_prompt), not by id.
        body = self._body(prompt, max_tokens)
        if schema is None:
            return self._complete(body, on_token)
        text = self._complete_json(body, schema, on_token)
        try:
            validate_json(text, schema)
        except ValueError as exc:
            raise InvalidOutputError(str(exc)) from None
        return text

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> None:
        """Have the server evaluate system + fixed in the background (1 token, cache_prompt); never blocks."""
        self.submit_prewarm(prompt, session=session)

    # -- extras --------------------------------------------------------------------------------------------------

    def submit_prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> Future[bool]:
        """prewarm() with its future: True once the server evaluated the prefix, False if skipped or failed."""
        key = session or f"anonymous-{id(prompt)}"
        with self._prewarm_lock:
            old = self._prewarms.pop(key, None)
            if old is not None:
                old.cancel()  # a newer question of the same session: the old prefix is no longer wanted
            if len(self._prewarms) >= MAX_PENDING_PREWARMS:
                skipped: Future[bool] = Future()
                skipped.set_result(False)
                return skipped
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm-prewarm")
            future = self._pool.submit(self._prewarm_now, prompt)
            self._prewarms[key] = future
        future.add_done_callback(lambda done: self._forget_prewarm(key, done))
        return future

    def models(self, timeout: float = 3.0) -> list[str]:
        """Model names the server offers (GET /models); ModelError when it cannot be reached."""
        try:
            response = self._client.get(f"{self.root}/models", timeout=timeout)
        except httpx.HTTPError:
            raise self._unreachable() from None
        if response.status_code >= 400:
            raise ModelError(f"The language model server at {self.url} answered HTTP {response.status_code} "
                             f"({_error_detail(response)}).")
        try:
            data = response.json().get("data", [])
        except (ValueError, AttributeError):  # an answer, but not the OpenAI list shape: the server is there
            return []
        return [str(m.get("id")) for m in data if isinstance(m, dict)]

    def describe(self) -> dict[str, Any]:
        """What `doctor` shows: the server, whether it answers, its models; never the key."""
        info: dict[str, Any] = {"name": self.name, "server": self.url, "model": self.model,
                                "response_format": self.response_format}
        try:
            info["models"] = self.models()
            info["reachable"] = True
        except ModelError as exc:
            info["reachable"], info["error"] = False, str(exc)
        return info

    def close(self) -> None:
        """Stop the prewarm threads and close the connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    # -- requests ------------------------------------------------------------------------------------------------

    def _body(self, prompt: ChatPrompt, max_tokens: int) -> dict[str, Any]:
        """A streaming chat-completion request: system, then the user turn (fixed + variable)."""
        body: dict[str, Any] = {
            "model": self.model, "stream": True, "max_tokens": max(int(max_tokens), 1),
            "temperature": self.temperature,
            "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]}
        if self.seed is not None:
            body["seed"] = self.seed
        if self._cache_prompt:
            body["cache_prompt"] = True  # llama-server keeps the evaluated prefix; other servers ignore it
        return body

    def _complete_json(self, body: dict[str, Any], schema: dict[str, Any], on_token: TokenCallback | None) -> str:
        """Try each way of asking for JSON, from the last one that worked, until the server takes one."""
        # Small integer ranges become enums: llama.cpp's grammar converter ignores minimum/maximum.
        wanted = grammar_schema(schema)
        for index in range(self._format, len(FORMATS)):
            try:
                text = self._complete(body | response_format(FORMATS[index], wanted), on_token)
            except RequestRejected as exc:
                if index + 1 == len(FORMATS):
                    raise
                log.info("%s refused response_format %s (%s); trying the next way", self.url, FORMATS[index],
                         exc.detail)
                continue
            if index != self._format:
                self._format = index
            return text
        raise AssertionError("unreachable")

    def _complete(self, body: dict[str, Any], on_token: TokenCallback | None) -> str:
        """One completion with retries; drops cache_prompt once if the server refuses unknown fields."""
        try:
            return self._with_retries(body, on_token)
        except RequestRejected as exc:
            if "cache_prompt" not in body or "cache_prompt" not in exc.detail:
                raise
            self._cache_prompt = False  # OpenAI's own API refuses fields it does not know
            return self._with_retries({k: v for k, v in body.items() if k != "cache_prompt"}, on_token)

    def _with_retries(self, body: dict[str, Any], on_token: TokenCallback | None) -> str:
        """Stream, retrying with exponential backoff while the server is unreachable, overloaded or restarting."""
        # Once the server was found down, later calls fail at once for a while: every answer must not wait it out.
        retries = 0 if time.monotonic() < self._down_until else self.retries
        for attempt in range(retries + 1):
            try:
                result = self._stream(body, on_token)
            except _Retry as exc:
                if attempt == retries:
                    self._down_until = time.monotonic() + DOWN_GRACE
                    raise exc.error from None
                # Jitter keeps several bot processes from retrying in lockstep against one server.
                delay = exc.wait if exc.wait is not None else self.backoff * 2 ** attempt * random.uniform(1, 1.5)
                log.warning("%s; retrying in %.2f s", exc.error, delay)
                time.sleep(delay)
            else:
                self._down_until = 0.0
                return result
        raise AssertionError("unreachable")

    def _stream(self, body: dict[str, Any], on_token: TokenCallback | None) -> str:
        """One streaming request; every failure becomes a ModelError (or a _Retry) of one sentence."""
        pieces: list[str] = []
        try:
            with self._client.stream("POST", f"{self.root}/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._status_error(response)
                for piece in self._pieces(response):
                    pieces.append(piece)
                    if on_token is not None:
                        on_token(piece)
        except httpx.ConnectTimeout:
            raise _Retry(self._unreachable()) from None
        except httpx.TimeoutException:
            # Not retried: a slow server given the same work again only gets slower.
            raise ModelError(f"The language model server at {self.url} did not answer within "
                             f"{self.timeout:g} seconds.") from None
        except httpx.TransportError:
            if pieces:  # tokens were shown already; a retry would repeat them
                raise ModelError(f"The connection to the language model server at {self.url} broke off "
                                 "mid-answer.") from None
            raise _Retry(self._unreachable()) from None
        return "".join(pieces)

    def _pieces(self, response: httpx.Response) -> Iterator[str]:
        """The text pieces of a response: an event stream, or one JSON body from a server that does not stream."""
        if "text/event-stream" in response.headers.get("content-type", "text/event-stream"):
            yield from self._deltas(response.iter_lines())
            return
        response.read()
        try:
            choices = response.json().get("choices") or [{}]
        except ValueError:
            raise ModelError(f"The language model server at {self.url} sent something that is not a chat "
                             "completion.") from None
        text = (choices[0].get("message") or {}).get("content")
        if text:
            yield text

    def _deltas(self, lines: Iterable[str]) -> Iterator[str]:
        """The text pieces of a server-sent event stream of chat-completion chunks."""
        for line in lines:
            if not line.startswith("data:"):
                continue  # blank separators, ": ping" comments, event names
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError:
                raise ModelError(f"The language model server at {self.url} sent something that is not a chat "
                                 "completion stream.") from None
            if "error" in chunk:
                error = chunk["error"]
                message = error.get("message", error) if isinstance(error, dict) else error
                raise ModelError(f"The language model server at {self.url} failed mid-answer ({message}).")
            for choice in chunk.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece

    def _status_error(self, response: httpx.Response) -> Exception:
        """The error for an HTTP error status: retried, refused, or plain."""
        status, detail = response.status_code, _error_detail(response)
        where = f"The language model server at {self.url}"
        if status in (401, 403):
            return ModelError(f"{where} refused the API key (HTTP {status}); check COACH_LLM_API_KEY.")
        if status == 404:
            return ModelError(f"{where} has no chat completions endpoint or no model '{self.model}' (HTTP 404); "
                              "check COACH_LLM_BASE_URL and COACH_LLM_MODEL.")
        # llama_cpp.server answers 500 to a request it cannot validate; that is a refusal, not an outage.
        if status in (400, 422) or (status == 500 and "validation error" in detail):
            return RequestRejected(f"{where} refused the request (HTTP {status}: {detail}).", detail)
        error = ModelError(f"{where} answered HTTP {status} ({detail}).")
        return _Retry(error, _retry_after(response)) if status in RETRY_STATUS else error

    def _unreachable(self) -> ModelError:
        """The one sentence for a server that does not answer."""
        return ModelError(f"The language model server at {self.url} is not reachable.")

    # -- prewarm -------------------------------------------------------------------------------------------------

    def _prewarm_now(self, prompt: ChatPrompt) -> bool:
        """Evaluate system + fixed on the server, once, without retries: a prewarm only saves time."""
        body = self._body(ChatPrompt(prompt.system, prompt.fixed), 1)
        try:
            self._stream(body, None)
        except (ModelError, _Retry) as exc:
            log.info("prewarm skipped: %s", exc)
            return False
        return True

    def _forget_prewarm(self, key: str, done: Future[bool]) -> None:
        """Drop a finished prewarm from the pending ones (unless a newer one took its place)."""
        with self._prewarm_lock:
            if self._prewarms.get(key) is done:
                del self._prewarms[key]
