"""The in-process llama.cpp model: prefix reuse per session, constrained decoding, streaming."""

from __future__ import annotations

import codecs
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.llm.base import ChatPrompt, TokenCallback, grammar_schema
from bot.core.llm.grammar_sampler import TopGrammar, chain_with
from bot.errors import ModelError

# ---------------------------------------------------------------------------------------------------------------
# The in-process llama.cpp model.

SENTINEL = "\ue000COACH-USER-TURN\ue000"
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
TRIM_MARK = " […] "
LOOSE_CHAR_RULE = r'char ::= [^"\\] |'
STRICT_CHAR_RULE = r'char ::= [^"\\\x7F\x00-\x1F] |'
PREWARM_CHUNK = 64  # tokens evaluated between two checks of a cancelled prewarm: a real job waits at most this


@dataclass
class GenerationStats:
    """What one generate() call cost: how much of the prompt was reused, evaluated, trimmed, and how fast."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    evaluated_tokens: int = 0
    trimmed_tokens: int = 0
    generated_tokens: int = 0
    restored_session: bool = False
    ttft_s: float = 0.0
    total_s: float = 0.0
    full_grammar_checks: int = 0  # steps where no likely token fitted the grammar (see grammar_sampler)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token."""
        spent = self.total_s - self.ttft_s
        return (self.generated_tokens - 1) / spent if self.generated_tokens > 1 and spent > 0 else 0.0


@dataclass
class _Snapshot:
    """The KV cache of one session's sequence and the tokens it holds."""

    tokens: list[int]
    blob: Any  # ctypes uint8 array, handed back to llama.cpp without a copy
    size: int
    answered: bool = False  # saved after a generation (its prewarm was consumed), not by a prewarm


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


def common_prefix(a: Any, b: Any) -> int:
    """Length of the common start of two token sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


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
    """A GGUF model run in-process by llama.cpp, with per-session prefix caching; not thread-safe on its own."""

    def __init__(self, path: str | Path, *, n_threads: int, n_gpu_layers: int = 0, n_ctx: int = 4096, seed: int = 0,
                 temperature: float = 0.2, max_sessions: int = 16, max_state_bytes: int = 2 << 30) -> None:
        self.path = Path(path)
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        self.temperature = temperature
        self.max_sessions = max_sessions
        self.max_state_bytes = max_state_bytes
        self.name = self.path.stem
        self._llm = _load_llama(self.path, n_threads=n_threads, n_gpu_layers=n_gpu_layers, n_ctx=n_ctx, seed=seed)
        self.n_threads = n_threads
        self._template = ChatTemplate(self._llm.metadata.get("tokenizer.chat_template"), *self._bos_eos())
        self._add_bos = bool(self._llm._model.add_bos_token())
        self._vocab = _vocab(self._llm)
        self._pieces: dict[int, bytes] = {}
        self._mark = self._tok(TRIM_MARK)
        self._heads: dict[str, tuple[list[int], list[int]]] = {}
        self._grammars: dict[str, Any] = {}
        self._states: OrderedDict[str, _Snapshot] = OrderedDict()
        self._lock = threading.RLock()
        self.last_stats = GenerationStats()

    # -- public API ----------------------------------------------------------------------------------------------

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """Stream a completion of prompt; with schema the output is grammar-constrained JSON."""
        with self._lock:
            parts = self._parts(prompt, max_tokens)
            stats = GenerationStats(prompt_tokens=len(parts.tokens), trimmed_tokens=parts.trimmed)
            if session is not None:
                stats.restored_session = self._restore(session, parts.tokens)
            stats.reused_tokens = self._reusable(parts.tokens)
            stats.evaluated_tokens = len(parts.tokens) - stats.reused_tokens
            text = self._complete(parts, schema, on_token, stats)
            if session is not None:
                self._snapshot(session, answered=True)
            self.last_stats = stats
            return text

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None,
                cancel: Callable[[], bool] | None = None) -> bool:
        """Evaluate system + fixed now and keep that state for session; False if cancel() stopped it early."""
        with self._lock:
            # Trimmed only if the fixed part alone overflows; then generate() may cut it otherwise (a rare miss).
            prefix = self._parts(ChatPrompt(prompt.system, prompt.fixed), 1).prefix
            if session is not None:
                known = self._states.get(session)
                if known is not None and common_prefix(known.tokens, prefix) == len(prefix):
                    self._states.move_to_end(session)
                    return True
                self._restore(session, prefix)
            done = self._eval_from_common(prefix, cancel)
            if session is not None:  # an interrupted prewarm keeps its progress: it resumes from there later
                self._snapshot(session)
            return done

    def count_tokens(self, text: str) -> int:
        """Number of tokens of text (no special tokens, no BOS)."""
        return len(self._tok(text))

    @property
    def n_tokens(self) -> int:
        """Tokens now held in the live context."""
        return int(self._llm.n_tokens)

    @property
    def n_ctx(self) -> int:
        """Context size in tokens."""
        return int(self._llm.n_ctx())

    def sessions(self) -> list[str]:
        """Session keys with a saved state, least recently used first."""
        return list(self._states)

    def forget(self, session: str) -> None:
        """Drop a session's saved state (its interview ended)."""
        with self._lock:
            self._states.pop(session, None)

    def describe(self) -> dict[str, Any]:
        """What `doctor` shows about the loaded model."""
        import llama_cpp

        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        return {"name": self.name, "path": str(self.path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "n_gpu_layers": self.n_gpu_layers, "gpu_offload_supported": gpu,
                "llama_cpp_version": getattr(llama_cpp, "__version__", "?"),
                "chat_template": "model" if self._llm.metadata.get("tokenizer.chat_template") else "chatml (fallback)",
                "sessions_cached": len(self._states),
                "session_state_bytes": sum(s.size for s in self._states.values())}

    def reset(self) -> None:
        """Forget the live context (the saved session states stay): the next call starts cold."""
        with self._lock:
            self._llm.reset()

    def close(self) -> None:
        """Free the model and its context."""
        with self._lock:
            self._states.clear()
            self._llm.close()

    # -- prompt → tokens -----------------------------------------------------------------------------------------

    def _tok(self, text: str, special: bool = False) -> list[int]:
        """Tokens of text; the user's words are never parsed as control tokens (special=False)."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []

    def _bos_eos(self) -> tuple[str, str]:
        """Text of the BOS and EOS tokens, which templates may print."""
        model = self._llm._model

        def text(token: int) -> str:
            return model.token_get_text(token) if token >= 0 else ""

        return text(self._llm.token_bos()), text(self._llm.token_eos())

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
        """Tokens of head + fixed | variable + tail, trimmed so that the answer still fits in n_ctx."""
        head, tail = self._head_tail(prompt.system)
        fixed, variable = self._tok(prompt.fixed), self._tok(prompt.variable)
        n_ctx = self.n_ctx
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

    # -- states --------------------------------------------------------------------------------------------------

    def _reusable(self, tokens: list[int]) -> int:
        """Prompt tokens the live context already holds (llama.cpp re-evaluates at least one)."""
        held = common_prefix(self._llm.input_ids[: self._llm.n_tokens], tokens)
        return min(held, len(tokens) - 1)

    def _restore(self, session: str, tokens: list[int]) -> bool:
        """Load session's saved state when it shares more of tokens than the live context does."""
        snap = self._states.get(session)
        if snap is None:
            return False
        self._states.move_to_end(session)
        if common_prefix(snap.tokens, tokens) <= self._reusable(tokens):
            return False
        import llama_cpp

        mem = llama_cpp.llama_get_memory(self._llm.ctx)
        llama_cpp.llama_memory_seq_rm(mem, 0, -1, -1)
        if llama_cpp.llama_state_seq_set_data(self._llm.ctx, snap.blob, snap.size, 0) == 0:
            self._llm.n_tokens = 0  # the cache is unusable: evaluate from scratch rather than fail
            return False
        n = len(snap.tokens)
        self._llm.input_ids[:n] = snap.tokens
        self._llm.n_tokens = n
        self._llm._requires_eval = True  # the logits are not restored: llama.cpp must decode before sampling
        return True

    def _snapshot(self, session: str, answered: bool = False) -> None:
        """Save the live context's KV cache for session (only the KV cells, not llama-cpp-python's logits copy)."""
        import ctypes

        import llama_cpp

        ctx = self._llm.ctx
        size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
        blob = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(ctx, blob, size, 0))
        if written == 0:
            return
        tokens = self._llm.input_ids[: self._llm.n_tokens].tolist()
        self._states.pop(session, None)
        self._states[session] = _Snapshot(tokens, blob, written, answered)
        while len(self._states) > self.max_sessions or (
                len(self._states) > 1 and sum(s.size for s in self._states.values()) > self.max_state_bytes):
            self._states.pop(self._eviction_victim(session))

    def _eviction_victim(self, keep: str) -> str:
        """The state to drop: the least recently used answered one (the new one last), else the oldest prewarm.

        A prewarm not yet answered saves a whole prefix evaluation; a state kept after an answer only helps a
        follow-up. Evicting prewarms first made many users answering at once all start cold."""
        others = [key for key in self._states if key != keep] or [keep]
        answered = [key for key in others if self._states[key].answered]
        if answered:
            return answered[0]
        return keep if self._states[keep].answered else others[0]

    def _eval_from_common(self, tokens: list[int], cancel: Callable[[], bool] | None) -> bool:
        """Evaluate what the live context lacks of tokens, in small chunks when cancellable."""
        start = common_prefix(self._llm.input_ids[: self._llm.n_tokens], tokens)
        self._llm.n_tokens = start
        step = PREWARM_CHUNK if cancel is not None else max(len(tokens), 1)
        for i in range(start, len(tokens), step):
            if cancel is not None and cancel():
                return False
            self._llm.eval(tokens[i:i + step])
        return True

    # -- generation ----------------------------------------------------------------------------------------------

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """A llama.cpp grammar for schema, built once per schema."""
        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp import LlamaGrammar
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            gbnf = json_schema_to_gbnf(json.dumps(grammar_schema(schema)))
            # This converter lets raw control characters (a newline) into strings, which is not JSON.
            gbnf = gbnf.replace(LOOSE_CHAR_RULE, STRICT_CHAR_RULE)
            grammar = LlamaGrammar.from_string(gbnf, verbose=False)
            self._grammars[key] = grammar
        return grammar

    def _complete(self, parts: _Parts, schema: dict[str, Any] | None, on_token: TokenCallback | None,
                  stats: GenerationStats) -> str:
        """Sample up to max_new tokens after the prompt, streaming text pieces to on_token.

        Llama.generate() (what create_completion runs) reuses the longest cached token prefix; its streaming
        wrapper is skipped because it re-detokenizes the whole output dozens of times per token.
        """
        import llama_cpp

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span two tokens
        pieces: list[str] = []
        start = time.perf_counter()

        def emit(piece: str) -> None:
            if piece:
                if not pieces:
                    stats.ttft_s = time.perf_counter() - start
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)

        self._llm.set_seed(self.seed)
        grammar = None
        if schema is not None:
            source = self._grammar(schema)
            grammar = TopGrammar(self._vocab, source._grammar, source._root)
            # The instance attribute shadows Llama._init_sampler for this call only (removed below).
            self._llm._init_sampler = lambda **params: chain_with(self._llm, grammar, **params)
        try:
            for token in self._llm.generate(parts.tokens, top_k=40, top_p=0.95, min_p=0.05, temp=self.temperature,
                                            repeat_penalty=1.0):
                if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    break
                if grammar is not None:
                    grammar.accept(token)
                stats.generated_tokens += 1
                emit(decoder.decode(self._piece(token)))
                if stats.generated_tokens >= parts.max_new:
                    break
            emit(decoder.decode(b"", final=True))
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"The model failed while writing its answer ({exc}).") from exc
        finally:
            if grammar is not None:
                del self._llm._init_sampler
                self._llm._sampler = None  # the chain holds grammar.apply: drop it before the grammar is freed
                stats.full_grammar_checks = grammar.full_checks
                grammar.close()
        stats.total_s = time.perf_counter() - start
        return "".join(pieces)

    def _piece(self, token: int) -> bytes:
        """The bytes of one token (control tokens print nothing), cached."""
        piece = self._pieces.get(token)
        if piece is None:
            import ctypes

            import llama_cpp

            buf = ctypes.create_string_buffer(64)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
            if n < 0:
                buf = ctypes.create_string_buffer(-n)
                n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, -n, 0, False)
            piece = self._pieces[token] = buf.raw[:n]
        return piece


def _vocab(llm: Any) -> Any:
    """The llama_vocab pointer of a loaded model."""
    import llama_cpp

    return llama_cpp.llama_model_get_vocab(llm.model)


def _load_llama(path: Path, *, n_threads: int, n_gpu_layers: int, n_ctx: int, seed: int) -> Any:
    """llama_cpp.Llama for path, every failure turned into one ModelError sentence."""
    from bot.core.llm.modelfile import check_quick

    check_quick(path)
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelError("llama-cpp-python is not installed; install it or run with --no-llm.") from None
    try:
        return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                     n_gpu_layers=n_gpu_layers, seed=seed, verbose=False,
                     # Mapped file pages stay resident beside llama.cpp's repacked weights: ~0.6 GB more RSS.
                     use_mmap=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"Could not load the model file {path}: it is damaged or not a model this llama.cpp can "
                         f"run ({exc}).") from None
