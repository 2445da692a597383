"""Fine-tune the packaged all-MiniLM-L6-v2 into a (key point, sentence) cross-encoder on the synthetic deck pairs.

Usage: nice -n 10 python -m benchmarks.pair_train [--pairs FILE] [--out DIR] [--epochs N] [--seed N] [--threads N]
The pairs come from benchmarks/pair_synth.py (made only from the deck); nothing of the labeled answer sets is read.
The result is a sentence_transformers CrossEncoder folder (one logit: P(opposite) after the sigmoid).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pair_eval import MAX_LENGTH, MODEL_DIR  # noqa: E402


def train(pairs: list[dict[str, object]], out: Path, epochs: float, seed: int, batch: int, lr: float,
          freeze: int) -> float:
    """Train and save; returns the seconds spent."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from bot.core.embedder import packaged_model_path

    random.seed(seed)
    torch.manual_seed(seed)
    base = packaged_model_path()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    frozen = [model.base_model.embeddings, *model.base_model.encoder.layer[:freeze]]
    for param in (p for module in frozen for p in module.parameters()):   # a step's cost on a shared 2-core CPU
        param.requires_grad = False
    steps = int(epochs * len(pairs) / batch)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    warm = max(1.0, 0.1 * steps)   # linear warm-up over a tenth of the steps, then linear decay
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    start, seen = time.perf_counter(), 0.0
    order: list[int] = []
    for step in range(steps):
        if len(order) < batch:   # shuffled, then batched by length within windows of 32 batches (less padding)
            shuffled = random.sample(range(len(pairs)), len(pairs))
            windows = [sorted(shuffled[i:i + 32 * batch], key=lambda j: len(str(pairs[j]["sentence"])))
                       for i in range(0, len(shuffled), 32 * batch)]
            batches = [w[i:i + batch] for w in windows for i in range(0, len(w), batch)]
            order += [j for b in random.sample(batches, len(batches)) for j in b]
        idx, order = order[:batch], order[batch:]
        enc = tok([str(pairs[i]["point"]) for i in idx], [str(pairs[i]["sentence"]) for i in idx],
                  padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        target = torch.tensor([float(str(pairs[i]["label"])) for i in idx])
        loss = loss_fn(model(**enc).logits.squeeze(-1), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen = 0.98 * seen + 0.02 * loss.item() if step else loss.item()
        if step % 25 == 24:
            print(f"  step {step + 1}/{steps} loss {seen:.3f} {time.perf_counter() - start:.0f} s "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Train from the pairs file and record how."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=Path("/tmp/pair_synth.jsonl"))
    ap.add_argument("--out", type=Path, default=MODEL_DIR)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--freeze", type=int, default=3, help="lower transformer layers kept as packaged (of 6)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    import torch

    torch.set_num_threads(args.threads)
    pairs = [json.loads(line) for line in args.pairs.read_text().splitlines() if line]
    seconds = train(pairs, args.out, args.epochs, args.seed, args.batch, args.lr, args.freeze)
    (args.out / "training.json").write_text(json.dumps({"argv": sys.argv, "pairs": len(pairs), "seconds": seconds,
                                                        "seed": args.seed, "epochs": args.epochs,
                                                        "freeze": args.freeze, "threads": args.threads}))
    print(f"trained on {len(pairs)} pairs in {seconds:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
