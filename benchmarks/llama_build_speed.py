"""How fast the installed llama.cpp build runs the default model: prompt evaluation and generation, tokens/s.

Usage: python -m benchmarks.llama_build_speed [--runs N]

Compares builds of llama-cpp-python (AVX2 against AVX-512, say) on one machine: the same prompt (82 tokens)
evaluated from a cold context, then 64 tokens generated greedily on top of it, n_threads = the coach's. Prints the
library's path and its CPU features, so each line says which build it measured.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings  # noqa: E402
from bot.core.llm.modelfile import resolve_model_path  # noqa: E402

PROMPT = ("Explain in a few sentences why dropout helps a neural network generalize, and what changes at inference "
          "time. ") * 4


def main(argv: Iterable[str] | None = None) -> int:
    """Load the model once, then time prompt evaluation and generation --runs times."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(list(argv) if argv is not None else None)
    import llama_cpp

    settings = load_settings()
    llm = llama_cpp.Llama(str(resolve_model_path(settings)), n_ctx=2048, n_threads=settings.n_threads,
                          verbose=False)
    print(f"llama-cpp-python {llama_cpp.__version__} at {Path(llama_cpp.__file__).parent}")
    print(f"system info: {llama_cpp.llama_print_system_info().decode(errors='replace').strip()}")
    tokens = llm.tokenize(PROMPT.encode())
    for run in range(args.runs):
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        evaluated = time.perf_counter() - start
        start = time.perf_counter()
        out = llm.create_completion(PROMPT + " ", max_tokens=64, temperature=0)
        generated = time.perf_counter() - start
        n = out["usage"]["completion_tokens"]  # type: ignore[index]
        print(f"run {run + 1}: prompt {len(tokens)} tokens at {len(tokens) / evaluated:.1f} tokens/s; "
              f"{n} tokens generated at {n / generated:.1f} tokens/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
