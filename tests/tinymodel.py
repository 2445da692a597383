"""A tiny random llama-architecture GGUF with a byte-level BPE vocab and a ChatML template, for unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# A few common English merges, so that words become fewer tokens than characters (as in a real vocab).
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("in", "g"), ("e", "r"), ("Ġ", "a"), ("o", "n"),
          ("r", "e"), ("Ġ", "s"), ("a", "t"), ("e", "n"), ("o", "r"), ("Ġ", "w"), ("a", "n"), ("Ġ", "c"),
          ("i", "s"), ("Ġ", "o"), ("e", "s"), ("Ġ", "i"), ("Ġ", "p"), ("Ġ", "b"), ("Ġ", "m"), ("Ġ", "f"),
          ("Ġ", "d"), ("a", "l"), ("Ġ", "\""), ("\"", ":"), ("Ġo", "f"), ("Ġa", "n"), ("Ġan", "d"), ("t", "i")]

N_EMBD, N_HEAD, N_HEAD_KV, N_LAYER, N_FF, N_CTX = 64, 4, 2, 2, 128, 4096


def byte_tokens() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values (what byte-level BPE vocabs store)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return [mapping[b] for b in range(256)]


def vocab() -> tuple[list[str], list[int], list[str]]:
    """Tokens, their types, and the merge rules."""
    tokens = byte_tokens()
    for left, right in MERGES:
        if left + right not in tokens:
            tokens.append(left + right)
    types = [1] * len(tokens) + [3] * len(SPECIAL_TOKENS)  # 1 = normal, 3 = control
    return tokens + SPECIAL_TOKENS, types, [f"{a} {b}" for a, b in MERGES]


def _tensors(n_vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights in llama's tensor layout (numpy shapes are ggml's reversed).

    Dimension 0 of the residual stream is a constant that no layer writes to; the output rows of the bytes
    0x80-0xFF weigh it negatively, so the model never samples a lone non-ASCII byte (invalid UTF-8, which a
    real model does not produce and which would make JSON string lengths disagree with the grammar's).
    """
    head_dim = N_EMBD // N_HEAD

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    embd, output = w(n_vocab, N_EMBD), w(n_vocab, N_EMBD)
    embd[:, 0] = 4.0
    output[:, 0] = 0.0
    output[0x80:0x100, 0] = -3.0
    out = {"token_embd.weight": embd, "output_norm.weight": np.ones(N_EMBD, np.float32), "output.weight": output}
    for i in range(N_LAYER):
        attn_out, ffn_down = w(N_EMBD, N_EMBD), w(N_EMBD, N_FF)
        attn_out[0, :] = 0.0
        ffn_down[0, :] = 0.0
        out |= {f"blk.{i}.attn_norm.weight": np.ones(N_EMBD, np.float32),
                f"blk.{i}.attn_q.weight": w(N_EMBD, N_EMBD),
                f"blk.{i}.attn_k.weight": w(N_HEAD_KV * head_dim, N_EMBD),
                f"blk.{i}.attn_v.weight": w(N_HEAD_KV * head_dim, N_EMBD),
                f"blk.{i}.attn_output.weight": attn_out,
                f"blk.{i}.ffn_norm.weight": np.ones(N_EMBD, np.float32),
                f"blk.{i}.ffn_gate.weight": w(N_FF, N_EMBD),
                f"blk.{i}.ffn_up.weight": w(N_FF, N_EMBD),
                f"blk.{i}.ffn_down.weight": ffn_down}
    return out


def write_tiny_gguf(path: Path, seed: int = 0) -> Path:
    """Write the tiny model to path (a few hundred KB; llama.cpp loads it in milliseconds)."""
    import gguf

    tokens, types, merges = vocab()
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-chatml")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)  # all F32
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML_TEMPLATE)
    for name, data in _tensors(len(tokens), np.random.default_rng(seed)).items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)
