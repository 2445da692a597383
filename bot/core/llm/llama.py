"""The in-process llama.cpp model: prefix reuse per session, several users decoded in one batch, streaming."""

from __future__ import annotations

import codecs
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.llm import cpp
from bot.core.llm.base import ChatPrompt, Request, TokenCallback, grammar_schema
from bot.core.llm.grammar_sampler import TopGrammar
from bot.core.llm.slots import GenerationStats, Job, Slots, Snapshot, common_prefix
from bot.errors import ModelError

__all__ = ["ChatTemplate", "GenerationStats", "LlamaCppLLM", "common_prefix", "squeeze"]

SENTINEL = "\ue000COACH-USER-TURN\ue000"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
TRIM_MARK = " […] "


@dataclass
class _Parts:
    """A prompt as token lists; prefix (template head + fixed) is what prewarm evaluates."""

    prefix: list[int]
    rest: list[int]
    max_new: int
    trimmed: int = 0

    @property
    def tokens(self) -> list[int]:
        """The whole prompt."""
        return self.prefix + self.rest


def squeeze(tokens: list[int], room: int, mark: list[int]) -> list[int]:
    """Keep the start and the end of tokens within room, the cut middle replaced by mark."""
    if len(tokens) <= room:
        return tokens
    keep = max(room - len(mark), 0)
    head = keep // 2
    return tokens[:head] + mark + tokens[len(tokens) - (keep - head):] if keep else tokens[:room]


class ChatTemplate:
    """The model's own chat template, split around the user turn so the parts tokenize separately."""

    def __init__(self, source: str | None, bos: str = "", eos: str = "") -> None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.source = source or CHATML_TEMPLATE
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise_template_error
        self._template = env.from_string(self.source)
        self.bos, self.eos = bos, eos

    def split(self, system: str) -> tuple[str, str]:
        """(text before the user's words, text after them up to the assistant's turn)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": SENTINEL}]
        try:
            text = self._render(messages)
        except Exception:  # some templates (Gemma, Mistral) refuse a system role: fold it into the user turn
            text = self._render([{"role": "user", "content": f"{system}\n\n{SENTINEL}"}])
        if SENTINEL not in text:
            text = self._render([{"role": "user", "content": f"{system}\n\n{SENTINEL}"}])
        head, _, tail = text.partition(SENTINEL)
        return head, tail

    def _render(self, messages: list[dict[str, str]]) -> str:
        """Render with the variables HF-style templates expect."""
        return self._template.render(messages=messages, add_generation_prompt=True, bos_token=self.bos,
                                     eos_token=self.eos, tools=None)


def _raise_template_error(message: str) -> None:
    """What a template's raise_exception() does."""
    raise ValueError(message)


class LlamaCppLLM:
    """A GGUF model run in-process by llama.cpp; `parallel` users are decoded together. One thread at a time."""

    def __init__(self, path: str | Path, *, n_threads: int, n_gpu_layers: int = 0, n_ctx: int = 4096, seed: int = 0,
                 temperature: float = 0.2, max_sessions: int = 24, max_state_bytes: int = 2 << 30,
                 parallel: int = 1) -> None:
        from bot.core.llm.modelfile import check_quick

        self.path = Path(path)
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        self.temperature = temperature
        self.max_sessions = max_sessions
        self.max_state_bytes = max_state_bytes
        self.parallel = max(1, parallel)
        self.name = self.path.stem
        self._n_ctx = n_ctx
        check_quick(self.path)
        try:
            # Each sequence may use n_ctx tokens; they share one unified cache of that many cells per sequence.
            self._llm = cpp.load(self.path, n_ctx=n_ctx * self.parallel, n_threads=n_threads,
                                 n_gpu_layers=n_gpu_layers, seed=seed, n_seq=self.parallel)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"Could not load the model file {path}: it is damaged or not a model this llama.cpp "
                             f"can run ({exc}).") from None
        self.n_threads = n_threads
        self._template = ChatTemplate(self._llm.metadata.get("tokenizer.chat_template"),
                                      cpp.token_text(self._llm, self._llm.token_bos()),
                                      cpp.token_text(self._llm, self._llm.token_eos()))
        self._add_bos = cpp.add_bos(self._llm)
        self._vocab = cpp.vocab(self._llm)
        self._pieces: dict[int, bytes] = {}
        self._mark = self._tok(TRIM_MARK)
        self._heads: dict[str, tuple[list[int], list[int]]] = {}
        self._grammars: dict[str, tuple[str, str]] = {}
        self._states: OrderedDict[str, Snapshot] = OrderedDict()
        self._slots = Slots(self._llm, self.parallel)
        self._lock = threading.RLock()
        self.last_stats = GenerationStats()

    # -- public API ----------------------------------------------------------------------------------------------

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """Stream a completion of prompt; with schema the output is grammar-constrained JSON."""
        request = Request(prompt, schema, max_tokens, on_token, session)
        self.generate_many([request])
        if request.error is not None:
            raise request.error
        return request.text or ""

    def generate_many(self, requests: Sequence[Request], more: Callable[[], Request | None] | None = None) -> None:
        """Decode requests together (up to `parallel` at once, more() asked for another whenever a slot frees);
        each request gets its text or error, and its done() is called as soon as it ends."""
        with self._lock:
            queue = deque(requests)
            running: dict[int, tuple[Request, Job, Callable[[], str]]] = {}
            while True:
                while self._slots.free():
                    request = queue.popleft() if queue else (more() if more is not None else None)
                    if request is None:
                        break
                    try:
                        job, text = self._job(request)
                    except Exception as exc:  # noqa: BLE001 - one bad request never stops the others
                        self._end(request, None, exc)
                        continue
                    self._slots.place(job)
                    running[id(job)] = (request, job, text)
                if not self._slots.busy():
                    return
                for job in self._slots.step():
                    request, _, text = running.pop(id(job))
                    self._end(request, text() if job.error is None else None, job.error, job)

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None,
                cancel: Callable[[], bool] | None = None) -> bool:
        """Evaluate system + fixed (+ variable, the answer typed so far: no tail) now and keep that state for
        session; False if cancel() stopped it early (its progress is kept: it resumes from there)."""
        with self._lock:
            head, _ = self._head_tail(prompt.system)
            room = self._n_ctx - 1 - len(head)
            tokens = head + squeeze(self._tok(prompt.fixed) + self._tok(prompt.variable), room, self._mark)
            known = self._states.get(session) if session is not None else None
            if known is not None:
                self._states.move_to_end(session)  # type: ignore[arg-type]
                if common_prefix(known.tokens, tokens) == len(tokens):
                    return True
            job = Job(tokens, 0, cancel=cancel, snapshot=known)
            self._slots.place(job)
            while self._slots.busy():
                self._slots.step()
            if session is not None:
                saved = self._slots.save(job.seq)
                if saved is not None:
                    self._keep(session, saved)
            return not job.cancelled

    def count_tokens(self, text: str) -> int:
        """Number of tokens of text (no special tokens, no BOS)."""
        return len(self._tok(text))

    @property
    def n_tokens(self) -> int:
        """Tokens held by the sequence used last."""
        return self._slots.holding()

    @property
    def n_ctx(self) -> int:
        """Context size of one request, in tokens."""
        return self._n_ctx

    def sessions(self) -> list[str]:
        """Session keys with a saved state, least recently used first."""
        return list(self._states)

    def forget(self, session: str) -> None:
        """Drop a session's saved state (its interview ended)."""
        with self._lock:
            self._states.pop(session, None)

    def describe(self) -> dict[str, Any]:
        """What `doctor` and the benchmarks show about the loaded model."""
        import llama_cpp

        return {"name": self.name, "path": str(self.path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "parallel": self.parallel, "flash_attn": cpp.flash_attn(self._llm),
                **cpp.offload(self._llm, self.n_gpu_layers),
                "llama_cpp_version": getattr(llama_cpp, "__version__", "?"),
                "chat_template": "model" if self._llm.metadata.get("tokenizer.chat_template") else "chatml (fallback)",
                "sessions_cached": len(self._states), "session_state_bytes": sum(s.size for s in self._states.values())}

    def reset(self) -> None:
        """Forget every cached sequence (the saved session states stay): the next call starts cold."""
        with self._lock:
            self._slots.clear()
            cpp.forget_live_tokens(self._llm)

    def close(self) -> None:
        """Free the model and its context."""
        with self._lock:
            self._states.clear()
            self._slots.close()
            self._llm.close()

    # -- prompt → tokens -----------------------------------------------------------------------------------------

    def _tok(self, text: str, special: bool = False) -> list[int]:
        """Tokens of text; the user's words are never parsed as control tokens (special=False)."""
        return list(cpp.tokens_of(self._llm, text, special))

    def _head_tail(self, system: str) -> tuple[list[int], list[int]]:
        """Template tokens before and after the user turn, cached per system text."""
        cached = self._heads.get(system)
        if cached is None:
            head, tail = self._template.split(system)
            bos = self._template.bos
            head_tokens = self._tok(head, special=True)
            if self._add_bos and not (bos and head.startswith(bos)):
                head_tokens = [self._llm.token_bos()] + head_tokens
            cached = (head_tokens, self._tok(tail, special=True))
            if len(self._heads) > 64:
                self._heads.clear()
            self._heads[system] = cached
        return cached

    def _parts(self, prompt: ChatPrompt, max_tokens: int) -> _Parts:
        """Tokens of head + fixed | variable + tail (+ the first label), trimmed so the answer fits in n_ctx."""
        head, tail = self._head_tail(prompt.system)
        tail = tail + (self._tok(prompt.labels[0]) if prompt.labels else [])
        fixed, variable = self._tok(prompt.fixed), self._tok(prompt.variable)
        n_ctx = self._n_ctx
        max_new = max(min(max_tokens, n_ctx // 2), 1)
        room = n_ctx - 1 - max_new - len(head) - len(tail)
        before = len(fixed) + len(variable)
        if before > room:
            # The user's part gives way first, down to a quarter of the room; then the fixed part is cut too.
            var_room = max(room - len(fixed), min(len(variable), max(room // 4, 0)))
            variable = squeeze(variable, var_room, self._mark)
            fixed = squeeze(fixed, max(room - len(variable), 0), self._mark)
        prefix, rest = head + fixed, variable + tail
        total = len(prefix) + len(rest)
        if total > n_ctx - 1 - max_new:  # a huge system text: keep the start and the assistant's turn
            whole = squeeze(prefix + rest, max(n_ctx - 1 - max_new, len(tail) + 2), self._mark)
            prefix, rest = [], whole
        trimmed = before + len(head) + len(tail) - len(prefix) - len(rest)
        return _Parts(prefix, rest, max_new, max(trimmed, 0))

    # -- requests → jobs -----------------------------------------------------------------------------------------

    def _job(self, request: Request) -> tuple[Job, Callable[[], str]]:
        """The decoding job of a request, and how to read its text once it has ended."""
        prompt = request.prompt
        parts = self._parts(prompt, request.max_tokens)
        stats = GenerationStats(prompt_tokens=len(parts.tokens), trimmed_tokens=parts.trimmed)
        request.stats = stats
        snapshot = None
        if request.session is not None and request.session in self._states:
            self._states.move_to_end(request.session)
            snapshot = self._states[request.session]
        grammar = None
        if request.schema is not None:
            gbnf, root = self._grammar(request.schema)
            grammar = TopGrammar(self._vocab, gbnf, root)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two tokens
        pieces: list[str] = [prompt.labels[0]] if prompt.labels else []
        shown = [False]
        began = time.perf_counter()

        def emit(token: int, forced: bool) -> None:
            piece = decoder.decode(self._piece(token))
            if not piece:
                return
            if not shown[0]:
                stats.ttft_s = time.perf_counter() - began
                shown[0] = True
                if pieces and request.on_token is not None:
                    request.on_token(pieces[0])  # the first label, written before any token was decoded
            pieces.append(piece)
            if request.on_token is not None:
                request.on_token(piece)

        def text() -> str:
            rest = decoder.decode(b"", final=True)
            if rest:
                pieces.append(rest)
                if request.on_token is not None:
                    request.on_token(rest)
            return "".join(pieces)

        job = Job(parts.tokens, parts.max_new, temp=self.temperature, seed=self.seed, grammar=grammar,
                  labels=[self._tok(label) for label in prompt.labels[1:]],
                  newline=self._ends_line if prompt.labels else (lambda t: False),
                  stop=lambda t: cpp.is_eog(self._vocab, t), emit=emit, snapshot=snapshot, stats=stats)
        return job, text

    def _end(self, request: Request, text: str | None, error: BaseException | None, job: Job | None = None) -> None:
        """Hand a finished request its outcome."""
        if job is not None and job.grammar is not None:
            job.stats.full_grammar_checks = job.grammar.full_checks
            job.grammar.close()
        if isinstance(error, (RuntimeError, ValueError)) and not isinstance(error, ModelError):
            error = ModelError(f"The model failed while writing its answer ({error}).")
        request.text, request.error = text, error
        if request.stats is not None:
            self.last_stats = request.stats
        if request.done is not None:
            request.done(request)

    def _ends_line(self, token: int) -> bool:
        """Whether a token ends a line (a label's field) of the line format."""
        return b"\n" in self._piece(token)

    def _keep(self, session: str, snapshot: Snapshot) -> None:
        """Save a session's state; the least recently used go first past max_sessions or max_state_bytes."""
        self._states.pop(session, None)
        self._states[session] = snapshot
        while len(self._states) > self.max_sessions or (
                len(self._states) > 1 and sum(s.size for s in self._states.values()) > self.max_state_bytes):
            self._states.popitem(last=False)

    def _grammar(self, schema: dict[str, Any]) -> tuple[str, str]:
        """GBNF and root rule for schema, built once per schema."""
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            grammar = self._grammars[key] = cpp.compiled_grammar(json.dumps(grammar_schema(schema)))
        return grammar

    def _piece(self, token: int) -> bytes:
        """The bytes of one token (control tokens print nothing), cached."""
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = cpp.piece(self._vocab, token)
        return piece
