"""The critique's quality check, with the real default model: `python -m benchmarks.critique_quality [FILE]`.

Every answer of the set (tests/data/critique_answers.yaml by default) is graded and critiqued as a user would get it,
and the critique the user would see is checked: no truncated sentence, no garbled phrase, a follow-up that is one
question about the intended key point and does not give it away, no praise for a missed or contradicted point, no
line that disagrees with the rubric, nothing repeated from the question, and, per answer, what it must mention and
must not say. The lines the model wrote are counted apart from those code wrote in their place (the model's share),
and the model's own lines are checked before any replacement too. Figures print as a table; the JSON goes to
benchmarks/results/critique_quality[-NAME].json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import DATA, REPO, machine, model_info

sys.path.insert(0, str(REPO))

from bot.core.grading import critique as cq  # noqa: E402
from bot.core.grading.critique_checks import question_problem, sentence_problem  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
COMPLETE = re.compile(r"\b(covered (all|every)|nothing (important )?(is )?missing|complete answer|fully (answered|"
                      r"covered)|no (key )?points? (are |is )?missing)", re.IGNORECASE)
PROBLEMS = ("truncated or garbled", "follow-up not a question", "follow-up not about its point", "follow-up leaks",
            "praise for a missed point", "disagrees with the rubric", "repeats the question", "must mention",
            "must not say")


def load_items(path: Path) -> list[dict[str, Any]]:
    """The answers of a quality file (the held-out file may hold them under a top-level key)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), [])
    return [_normal(item) for item in data if isinstance(item, dict) and (item.get("answer") or item.get("text"))]


def _normal(item: dict[str, Any]) -> dict[str, Any]:
    """One answer in our shape: the held-out file names them text and quality, and its must_not_say are phrases."""
    if "answer" in item:
        return item
    return item | {"answer": item["text"], "kind": item.get("quality"),
                   "must_not_say": [re.escape(str(p)) for p in item.get("must_not_say") or []]}


def shown_lines(grade: Any) -> list[tuple[str, str]]:
    """(kind, text) of every critique line the user sees, the follow-up last."""
    out = [("right", s) for s in grade.strengths] + [("line", f) for f in grade.feedback]
    return out + ([("follow_up", grade.follow_up)] if grade.follow_up else [])


def evaluate(grader: Any, entry: Any, item: dict[str, Any], grade: Any) -> dict[str, Any]:
    """The problems of one critique as the user sees it (empty: it passes), and the model's own lines' problems."""
    problems: list[str] = []
    base = grader.rubric_grade(entry, item["answer"])
    if base.result is None or base.flagged:
        return {"problems": ["not critiqued: the rubric flagged the answer"], "model": {}, "kept": [], "asked": []}
    check = grader.checks(entry, base)
    plan = cq.plan(base.result, base.contradictions)
    for kind, text in shown_lines(grade):
        problem = question_problem(text) if kind == "follow_up" else sentence_problem(text)
        if problem and problem not in ("not a question", "several questions", "not one short question"):
            problems.append(f"truncated or garbled: {problem}: {text!r}")
        elif kind == "follow_up" and problem:
            problems.append(f"follow-up not a question: {text!r}")
        if kind != "follow_up" and COMPLETE.search(text) and (base.missed or base.contradictions):
            problems.append(f"disagrees with the rubric: claims completeness: {text!r}")
    for text in grade.strengths:
        if plan.right is not None and check.right(text, plan.right) == "praises a point the answer missed":
            problems.append(f"praise for a missed point: {text!r}")
        if check.right(text, plan.right or 0) == "praises a contradicted claim":
            problems.append(f"praise for a missed point: contradicted claim: {text!r}")
    if grade.follow_up:
        target = grade.follow_up_point if grade.follow_up_point is not None else plan.target
        why = check.follow_up(grade.follow_up, target, plan.deeper)
        if why == "gives the answer away":
            problems.append(f"follow-up leaks: {grade.follow_up!r}")
        elif why == "not about the intended point":
            problems.append(f"follow-up not about its point: {grade.follow_up!r}")
    for text, point in improvement_points(plan, grade):
        if point is not None and check.gap(text, point) == "calls a covered point missing":
            problems.append(f"disagrees with the rubric: {text!r}")
    for kind, text in shown_lines(grade):
        if kind != "follow_up" and re.sub(r"\W+", " ", entry.question.casefold()).strip() in \
                re.sub(r"\W+", " ", text.casefold()):
            problems.append(f"repeats the question: {text!r}")
    problems += label_problems(item, grade)
    return {"problems": problems, "model": model_problems(grader, entry, base, grade),
            "kept": list(grade.critique.kept) if grade.critique else [],
            "asked": list(grade.critique.asked) if grade.critique else []}


def improvement_points(plan: Any, grade: Any) -> list[tuple[str, int | None]]:
    """Each of the model's kept improvement lines with the point the product promised it is about: the gap line
    the contradicted or first missed point, the "Stronger" line plan.extra (compose keeps them in that order)."""
    kept = [k for k in ("gap", "stronger") if grade.critique is not None and k in grade.critique.kept]
    points = {"gap": plan.wrong.point if plan.wrong is not None else plan.gap, "stronger": plan.extra}
    return [(text, points[kind]) for kind, text in zip(kept, grade.improvements, strict=True)]


def label_problems(item: dict[str, Any], grade: Any) -> list[str]:
    """What the answer's labels say the critique must mention and must not say."""
    text = "\n".join(t for _, t in shown_lines(grade))
    folded = text.casefold()
    out = [f"must mention one of {group}" for group in item.get("must_mention") or []
           if not any(str(word).casefold() in folded for word in group)]
    for pattern in item.get("must_not_say") or []:
        for _, line in shown_lines(grade):
            if re.search(pattern, line, re.IGNORECASE):
                out.append(f"must not say /{pattern}/: {line!r}")
    return out


def model_problems(grader: Any, entry: Any, base: Any, grade: Any) -> dict[str, str]:
    """Each line the model wrote, checked before anything replaced it: line -> problem (none when it passed)."""
    if grade.critique is None:
        return {}
    plan = cq.plan(base.result, base.contradictions)
    check = grader.checks(entry, base)
    found = cq.parse(grade.critique.raw)
    out: dict[str, str] = {}
    if plan.right is not None:
        out["right"] = check.right(found.right, plan.right) or ""
    point = plan.wrong.point if plan.wrong is not None else plan.gap
    if point is not None:
        out["gap"] = check.gap(found.gap, point) or ""
    if plan.extra is not None:
        out["stronger"] = check.gap(found.stronger, plan.extra) or ""
    out["follow_up"] = check.follow_up(found.follow_up, plan.target, plan.deeper) or ""
    return out


def rubric_agrees(item: dict[str, Any], base: Any) -> bool:
    """Whether the rubric saw the answer as its label says (a critique follows the rubric, right or wrong)."""
    kind = item.get("kind")
    if kind == "wrong":
        return bool(base.contradictions) or base.score <= 40
    if kind == "partial":
        return bool(base.missed)
    return not base.missed and not base.contradictions


def run(path: Path, threads: int, limit: int | None, rows_file: Path | None = None) -> dict[str, Any]:
    """Grade and check every answer; the JSON of the run."""
    from bot.config import Settings
    from bot.core.runtime import Runtime

    items = load_items(path)[:limit]
    runtime = Runtime(Settings(), use_llm=True, parallel=threads)
    grader, bank = runtime.grader, runtime.bank
    runtime.embedder.load()  # type: ignore[attr-defined]
    worker = runtime.llm.get()  # type: ignore[union-attr]
    began = machine()
    rows: list[dict[str, Any]] = [{} for _ in items]
    lock = threading.Lock()
    queue = list(enumerate(items))
    started = time.perf_counter()

    def serve() -> None:
        while True:
            with lock:
                if not queue:
                    return
                i, item = queue.pop(0)
            entry = bank.get(item["question_id"])
            t0 = time.perf_counter()
            grade = grader.grade(entry, item["answer"], session=f"quality-{i}")
            row = {"question_id": item["question_id"], "kind": item.get("kind"), "score": grade.score,
                   "llm": grade.llm, "seconds": round(time.perf_counter() - t0, 2),
                   "rubric_agrees": rubric_agrees(item, grader.rubric_grade(entry, item["answer"])),
                   "strengths": grade.strengths, "feedback": grade.feedback, "follow_up": grade.follow_up,
                   "raw": grade.critique.raw if grade.critique else None}
            row |= evaluate(grader, entry, item, grade)
            rows[i] = row
            if rows_file is not None:  # each row as it comes: a run stopped early still leaves its figures
                with lock, rows_file.open("a", encoding="utf-8") as out:
                    out.write(json.dumps({"index": i} | row, default=str) + "\n")
            print(f"[{i + 1}/{len(items)} load {os.getloadavg()[0]:.1f}] {item['question_id']} {item.get('kind')}: "
                  f"{len(row['problems'])} problem(s), model lines kept {row['kept']}", file=sys.stderr, flush=True)

    pool = [threading.Thread(target=serve) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    close = getattr(worker, "close", None)   # the in-process worker holds a thread; a fake or a server does not
    if close is not None:
        close()
    path_model = getattr(getattr(worker, "llm", None), "path", None)
    return {"file": str(path), "items": len(items), "seconds": round(elapsed, 1), "machine_start": began,
            "machine_end": machine(), "model": model_info(path_model), "summary": summarize(rows), "rows": rows}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures: answers with each kind of problem, follow-ups on target, the model's share of the lines."""
    counts = {name: sum(any(p.startswith(name) for p in r["problems"]) for r in rows) for name in PROBLEMS}
    follow = [r for r in rows if r.get("follow_up")]
    on_target = sum(not any(p.startswith(("follow-up",)) for p in r["problems"]) for r in follow)
    asked = Counter(k for r in rows for k in r.get("asked", []))
    kept = Counter(k for r in rows for k in r.get("kept", []))
    raw = Counter(v.split(":")[0] for r in rows for v in r.get("model", {}).values() if v)
    agree = [r for r in rows if r.get("rubric_agrees")]
    return {"answers": len(rows), "answers_without_problems": sum(not r["problems"] for r in rows),
            "answers_with": counts, "follow_ups": len(follow),
            "follow_ups_questions_on_target_pct": round(100 * on_target / len(follow), 1) if follow else 0.0,
            "model_lines_kept": {k: f"{kept[k]}/{asked[k]}" for k in asked},
            "model_lines_kept_pct": round(100 * sum(kept.values()) / max(1, sum(asked.values())), 1),
            "model_line_problems_before_checks": dict(raw),
            "rubric_agrees_with_label": f"{len(agree)}/{len(rows)}",
            "label_problems_where_rubric_agrees": sum(any(p.startswith("must") for p in r["problems"]) for r in agree),
            "by_kind": {kind: f"{sum(not r['problems'] for r in rows if r['kind'] == kind)}/"
                              f"{sum(r['kind'] == kind for r in rows)} clean"
                        for kind in ("strong", "partial", "wrong")}}


def render(result: dict[str, Any]) -> str:
    """The summary as a table."""
    s = result["summary"]
    lines = [f"{result['items']} answers from {result['file']} in {result['seconds']} s; load average "
             f"{result['machine_start']['load_average']} → {result['machine_end']['load_average']}",
             "", "| figure | result | target |", "|---|---|---|",
             f"| answers whose critique passes every check | {s['answers_without_problems']}/{s['answers']} | all |"]
    targets = {"truncated or garbled": "0", "follow-up leaks": "0", "praise for a missed point": "0",
               "disagrees with the rubric": "0"}
    for name, count in s["answers_with"].items():
        lines.append(f"| answers with: {name} | {count} | {targets.get(name, '0')} |")
    lines += [f"| follow-ups that are questions about the intended point | {s['follow_ups_questions_on_target_pct']} % "
              f"of {s['follow_ups']} | ≥ 95 % |",
              f"| lines written by the model and kept (the rest written from the rubric or the probe) | "
              f"{s['model_lines_kept_pct']} % {s['model_lines_kept']} | — |",
              f"| the model's own lines failing a check, by reason | {s['model_line_problems_before_checks']} | — |",
              f"| rubric agrees with the answer's label | {s['rubric_agrees_with_label']} | — |",
              f"| clean critiques by kind | {s['by_kind']} | — |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the check on a file and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.critique_quality", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DATA / "critique_answers.yaml")
    parser.add_argument("--threads", type=int, default=4, help="answers critiqued at once (batched decoding)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N answers")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--from-rows", type=Path, default=None,
                        help="print the figures of the rows a run has written so far (its .rows.jsonl)")
    args = parser.parse_args(argv)
    if args.from_rows is not None:
        rows = [json.loads(line) for line in args.from_rows.read_text(encoding="utf-8").splitlines() if line]
        print(render({"items": len(rows), "file": str(args.from_rows), "seconds": "?", "summary": summarize(rows),
                      "machine_start": {"load_average": "?"}, "machine_end": {"load_average": "?"}}))
        return 0
    name = "" if args.file.name == "critique_answers.yaml" else "-" + args.file.stem
    out = args.out or RESULTS / f"critique_quality{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows_file = out.with_suffix(".rows.jsonl")
    rows_file.unlink(missing_ok=True)
    result = run(args.file, args.threads, args.limit, rows_file)
    print(render(result))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"written: {out}")
    sys.stdout.flush()
    os._exit(0)  # llama.cpp and torch threads may abort the interpreter's shutdown; everything is written


if __name__ == "__main__":
    sys.exit(main())
