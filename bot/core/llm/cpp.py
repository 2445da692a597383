"""The one door to llama-cpp-python's low-level and private parts, checked against the versions it was written for.

llama.py (multi-sequence decoding, session states) and grammar_sampler.py need llama.cpp's C API (batches, KV memory
per sequence, sampler chains) and a few private attributes of `llama_cpp.Llama`. They reach them only through here,
so a llama-cpp-python upgrade that moves them fails in one place, with one sentence.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.errors import ModelError

SUPPORTED = ((0, 3, 14), (0, 4, 0))  # [lowest, first unsupported): llama_memory_* and kv_unified appeared in 0.3.14
_NEEDED = ("llama_batch_init", "llama_batch_free", "llama_decode", "llama_get_memory", "llama_memory_seq_rm",
           "llama_memory_seq_cp", "llama_state_seq_get_size", "llama_state_seq_get_data", "llama_state_seq_set_data",
           "llama_sampler_sample", "llama_sampler_accept", "llama_sampler_init_grammar", "llama_sampler_apply",
           "llama_vocab_is_eog", "llama_token_to_piece", "llama_model_get_vocab", "llama_supports_gpu_offload",
           "llama_model_n_layer", "llama_context_default_params")
_params_lock = threading.Lock()
FLASH_ATTN = True  # see load()


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def module() -> Any:
    """llama_cpp, once its version and the C functions used here are known to be there; ModelError otherwise."""
    try:
        import llama_cpp
    except ImportError:
        raise ModelError("llama-cpp-python is not installed; install it or run with --no-llm.") from None
    version = getattr(llama_cpp, "__version__", "0")
    low, high = SUPPORTED
    missing = [name for name in _NEEDED if not hasattr(llama_cpp, name)]
    if not low <= _version(version) < high or missing:
        raise ModelError(f"llama-cpp-python {version} is not a version this coach supports (it needs "
                         f"{'.'.join(map(str, low))} or later before {'.'.join(map(str, high))}); reinstall it "
                         "with scripts/install.")
    return llama_cpp


def load(path: Path, *, n_ctx: int, n_threads: int, n_gpu_layers: int, seed: int, n_seq: int) -> Any:
    """A `llama_cpp.Llama` whose context holds n_seq sequences in one unified KV cache of n_ctx cells.

    Unified, because one KV stream per sequence (kv_unified=False) made every step pay for all the streams: with
    eight sequences of 1,500 tokens a one-token step took 232 ms there against 60 ms unified (and 990 against 225
    for eight tokens) on this 2-core machine; and llama.cpp cuts a batch over several streams into equal shares.

    Flash attention, because in one unified cache plain attention multiplies each token's query with every cell of
    every sequence and masks the others' out afterwards (eight users of 1,300 tokens: 10,000 cells per token, as much
    work as the weights themselves), while llama.cpp's flash-attention kernel skips masked cells: a token pays for
    its own sequence only. llama.cpp itself turns it on by default on a CPU; llama-cpp-python turns it off."""
    lib = module()
    import llama_cpp.llama as high

    original = high.llama_cpp.llama_context_default_params

    def params() -> Any:
        value = original()
        value.n_seq_max = n_seq
        value.kv_unified = True
        return value

    with _params_lock:  # Llama() takes no n_seq_max: its default-params factory is swapped for the call
        high.llama_cpp.llama_context_default_params = params
        try:
            return lib.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                             n_gpu_layers=n_gpu_layers, seed=seed, verbose=False, flash_attn=FLASH_ATTN,
                             # Mapped pages stay resident beside llama.cpp's repacked weights: ~0.6 GB more RSS.
                             use_mmap=False)
        finally:
            high.llama_cpp.llama_context_default_params = original


# -- the parts of a loaded Llama --------------------------------------------------------------------------------


def ctx(llm: Any) -> Any:
    """The llama_context pointer."""
    return llm.ctx


def flash_attn(llm: Any) -> bool:
    """Whether the context was made with flash attention on."""
    return int(llm.context_params.flash_attn_type) == int(module().LLAMA_FLASH_ATTN_TYPE_ENABLED)


def vocab(llm: Any) -> Any:
    """The llama_vocab pointer."""
    return module().llama_model_get_vocab(llm.model)


def add_bos(llm: Any) -> bool:
    """Whether the model's tokenizer adds a BOS token."""
    return bool(llm._model.add_bos_token())


def token_text(llm: Any, token: int) -> str:
    """The text of a special token (BOS, EOS) as templates print it."""
    return str(llm._model.token_get_text(token)) if token >= 0 else ""


def piece(vocab_: Any, token: int) -> bytes:
    """The bytes of one token; control tokens print nothing."""
    lib = module()
    buf = ctypes.create_string_buffer(64)
    n = lib.llama_token_to_piece(vocab_, token, buf, 64, 0, False)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = lib.llama_token_to_piece(vocab_, token, buf, -n, 0, False)
    return bytes(buf.raw[:n])


def is_eog(vocab_: Any, token: int) -> bool:
    """Whether token ends a generation."""
    return bool(module().llama_vocab_is_eog(vocab_, token))


def forget_live_tokens(llm: Any) -> None:
    """Tell the Llama object its own view of the context is void (its generate() then starts from scratch)."""
    llm.n_tokens = 0


def offload(llm: Any, n_gpu_layers: int) -> dict[str, Any]:
    """Whether this build can offload to a GPU, and how many of the model's layers are offloaded."""
    lib = module()
    supported = bool(lib.llama_supports_gpu_offload())
    layers = int(lib.llama_model_n_layer(llm.model))
    wanted = layers + 1 if n_gpu_layers < 0 else min(n_gpu_layers, layers + 1)  # +1: the output layer
    return {"gpu_offload_supported": supported, "n_layers": layers,
            "layers_offloaded": wanted if supported else 0, "n_gpu_layers": n_gpu_layers}


# -- batches, KV memory per sequence, states --------------------------------------------------------------------


class Batch:
    """A llama_batch of up to `size` tokens, each in one sequence."""

    def __init__(self, size: int, n_seq: int) -> None:
        self._lib = module()
        self.size = size
        self.raw = self._lib.llama_batch_init(size, 0, n_seq)
        self.n = 0

    def clear(self) -> None:
        """Empty the batch."""
        self.n = 0

    def add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        """Append one token; its index in the batch (where its logits are read)."""
        i = self.n
        raw = self.raw
        raw.token[i], raw.pos[i], raw.n_seq_id[i], raw.logits[i] = token, pos, 1, logits
        raw.seq_id[i][0] = seq
        self.n += 1
        return i

    def decode(self, context: Any) -> int:
        """llama_decode; 0 on success, 1 when the KV cache has no room, negative on an error."""
        self.raw.n_tokens = self.n
        return int(self._lib.llama_decode(context, self.raw))

    def close(self) -> None:
        """Free the batch."""
        if self.raw is not None:
            self._lib.llama_batch_free(self.raw)
            self.raw = None


class Memory:
    """The KV cells of each sequence of a context."""

    def __init__(self, context: Any) -> None:
        self._lib = module()
        self.ctx = context
        self.mem = self._lib.llama_get_memory(context)

    def drop(self, seq: int, start: int = 0) -> None:
        """Remove the cells of seq from position start on (all of them by default)."""
        self._lib.llama_memory_seq_rm(self.mem, seq, start if start > 0 else -1, -1)

    def share(self, src: int, dst: int, length: int) -> None:
        """Make dst hold src's first length positions (no copy: in one unified cache the cells gain a sequence id)."""
        self._lib.llama_memory_seq_rm(self.mem, dst, -1, -1)
        if length > 0:
            self._lib.llama_memory_seq_cp(self.mem, src, dst, 0, length)

    def save(self, seq: int) -> tuple[Any, int]:
        """The KV cells of seq as a ctypes buffer and its size (0 when llama.cpp could not write it)."""
        size = int(self._lib.llama_state_seq_get_size(self.ctx, seq))
        blob = (ctypes.c_uint8 * max(size, 1))()
        written = int(self._lib.llama_state_seq_get_data(self.ctx, blob, size, seq))
        return blob, written

    def load(self, blob: Any, size: int, seq: int) -> bool:
        """Put saved cells back as sequence seq; False if llama.cpp refused them (seq is then empty)."""
        self._lib.llama_memory_seq_rm(self.mem, seq, -1, -1)
        return int(self._lib.llama_state_seq_set_data(self.ctx, blob, size, seq)) != 0


# -- sampling -----------------------------------------------------------------------------------------------------


class Sampler:
    """llama-cpp-python's own sampling chain (top-k, typical, top-p, min-p, temperature, seeded draw), optionally
    preceded by a custom filter (the likeliest-first grammar check)."""

    def __init__(self, *, temp: float, seed: int, top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05,
                 first: Callable[[Any], None] | None = None) -> None:
        from llama_cpp import _internals

        self._lib = module()
        self.chain = _internals.LlamaSampler()
        if first is not None:
            self.chain.add_custom(first)
        if temp <= 0:
            self.chain.add_greedy()
        else:
            self.chain.add_top_k(top_k)
            self.chain.add_typical(1.0, 1)
            self.chain.add_top_p(top_p, 1)
            self.chain.add_min_p(min_p, 1)
            self.chain.add_temp(temp)
            self.chain.add_dist(seed)

    def sample(self, context: Any, index: int) -> int:
        """A token drawn from the logits of batch entry index (accepted into the chain's state)."""
        return int(self._lib.llama_sampler_sample(self.chain.sampler, context, index))

    def close(self) -> None:
        """Free the chain."""
        self.chain.close()


def grammar_sampler(vocab_: Any, gbnf: str, root: str) -> Any:
    """A llama.cpp grammar sampler (a pointer), or ModelError if the grammar does not parse."""
    sampler = module().llama_sampler_init_grammar(vocab_, gbnf.encode("utf-8"), root.encode("utf-8"))
    if not sampler:
        raise ValueError("llama.cpp could not parse the grammar.")
    return sampler


def compiled_grammar(schema_json: str) -> tuple[str, str]:
    """GBNF text and root rule for a JSON schema, by llama-cpp-python's own converter."""
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(schema_json)
    # This converter lets raw control characters (a newline) into strings, which is not JSON.
    gbnf = gbnf.replace(r'char ::= [^"\\] |', r'char ::= [^"\\\x7F\x00-\x1F] |')
    grammar = LlamaGrammar.from_string(gbnf, verbose=False)
    return grammar._grammar, grammar._root


def token_data(n: int) -> Any:
    """A ctypes array of n llama_token_data and an llama_token_data_array over it."""
    lib = module()
    data = (lib.llama_token_data * n)()
    return data, lib.llama_token_data_array(data=data, size=n, selected=-1, sorted=False)


def token_data_view(cur_p: Any) -> tuple[Any, Any]:
    """(the llama_token_data_array a sampler got, a ctypes array over its candidates)."""
    candidates = cur_p.contents
    size = int(candidates.size)
    return candidates, (module().llama_token_data * size).from_address(ctypes.addressof(candidates.data.contents))


def apply(sampler: Any, array: Any) -> None:
    """Run one llama.cpp sampler over a candidate array (a pointer or an array passed by reference)."""
    lib = module()
    lib.llama_sampler_apply(sampler, array if isinstance(array, ctypes._Pointer) else ctypes.byref(array))


def accept(sampler: Any, token: int) -> None:
    """Advance a llama.cpp sampler past a token that was taken."""
    module().llama_sampler_accept(sampler, token)


def free(sampler: Any) -> None:
    """Free a llama.cpp sampler."""
    module().llama_sampler_free(sampler)


@contextlib.contextmanager
def perf_eval_counter(llm: Any) -> Iterator[Callable[[], int]]:
    """Prompt tokens llama.cpp itself counts as evaluated inside the block (a test of prefix reuse)."""
    lib = module()
    lib.llama_perf_context_reset(llm.ctx)
    yield lambda: int(lib.llama_perf_context(llm.ctx).n_p_eval)


def tokens_of(llm: Any, text: str, special: bool) -> Sequence[int]:
    """Tokens of text, no BOS."""
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)) if text else []


# -- next-token logits after a prompt (the claim verifier) -----------------------------------------------------------


def eval_reusing(llm: Any, tokens: Sequence[int]) -> int:
    """Evaluate tokens on a plain Llama, reusing the longest prefix it already holds; how many were evaluated.
    At least the last token is evaluated, so its logits are fresh."""
    held = llm.input_ids[: llm.n_tokens].tolist()
    same = 0
    for a, b in zip(held, tokens, strict=False):
        if a != b:
            break
        same += 1
    same = min(same, len(tokens) - 1)
    llm.n_tokens = same  # eval() drops the cells from n_tokens on
    llm.eval(list(tokens[same:]))
    return len(tokens) - same


def last_logits(llm: Any, ids: Sequence[int]) -> list[float]:
    """The logits of these token ids after the last evaluated token."""
    row = module().llama_get_logits_ith(llm.ctx, -1)
    return [float(row[i]) for i in ids]
