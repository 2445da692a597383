"""The terminal interview as a whole process: launch → first question on stdout, and peak RSS with the model used."""

from __future__ import annotations

import os
import re
import select
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, child_env, scratch_data_dir

FIRST_QUESTION = re.compile(rb"Question 1 of \d+|Practice question")


class Child:
    """`python -m bot.cli interview` with stdin held open and stdout read through a pipe."""

    def __init__(self, data_dir: Path, model_choice: str, no_llm: bool) -> None:
        args = [sys.executable, "-m", "bot.cli", "interview", "--user", "bench"] + (["--no-llm"] if no_llm else [])
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=REPO, env=child_env(data_dir, model_choice), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.out = b""

    def wait_for(self, pattern: re.Pattern[bytes], timeout: float, start: int = 0) -> float:
        """Seconds from launch until pattern appears in stdout after byte `start`; TimeoutError otherwise."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.perf_counter() + timeout
        while not pattern.search(self.out, start):
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no {pattern.pattern!r} within {timeout:.0f} s; output: {self.out[-400:]!r}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise TimeoutError(f"the interview ended before {pattern.pattern!r}: {self.out[-400:]!r}")
                self.out += chunk
        return time.perf_counter() - self.started

    def send(self, text: str) -> None:
        """Type text on the child's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode("utf-8"))
        self.proc.stdin.flush()

    def stop(self) -> int:
        """Type /stop, close stdin and reap the child; its ru_maxrss in bytes."""
        self.send("/stop\n")
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss * 1024  # KiB on Linux

    def kill(self) -> None:
        """Stop the child (only this process, by its id)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def first_question_once(model_path: Path | None, model_choice: str, no_llm: bool) -> tuple[float, float]:
    """One cold launch in a fresh data folder: (wall seconds until the first question is on stdout, CPU seconds
    the process had used by then: far less sensitive to a loaded machine than the wall time)."""
    import psutil

    child = Child(scratch_data_dir(model_path), model_choice, no_llm)
    try:
        wall = child.wait_for(FIRST_QUESTION, timeout=60)
        cpu = psutil.Process(child.proc.pid).cpu_times()
        return wall, cpu.user + cpu.system
    finally:
        child.kill()


def launch(model_path: Path | None, model_choice: str, runs: int) -> dict[str, Any]:
    """Median (and all runs) of launch → first question, with and without --no-llm."""
    out: dict[str, Any] = {}
    for label, no_llm in (("no_llm", True), ("with_llm", False)):
        runs_ = [first_question_once(model_path, model_choice, no_llm) for _ in range(runs)]
        times, cpu = [w for w, _ in runs_], [c for _, c in runs_]
        out[label] = {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
                      "cpu_median_s": round(statistics.median(cpu), 3), "cpu_runs_s": [round(c, 3) for c in cpu]}
    return out


class PeakRss:
    """Samples the summed RSS of a process and its children until stopped."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                return
            time.sleep(self.every)

    def stop(self) -> int:
        """The peak seen, in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak


def answer_for(output: bytes, bank: Any) -> str:
    """A decent answer to the question shown (its reference answer), so the critique runs."""
    shown = " ".join(output.decode("utf-8", "replace").replace("│", " ").split())
    for entry in bank.entries.values():
        if " ".join(entry.question.split()) in shown:
            return " ".join(entry.answer.split())
    return "Gradients flow backwards through the layers; normalization and residual connections keep them stable."


def high_water_mark(pid: int) -> int:
    """The peak resident size of a live process since it started its program (VmHWM), in bytes; 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def peak_rss(model_path: Path | None, model_choice: str, bank: Any, timeout: float = 600) -> dict[str, Any]:
    """Run the interview, answer one question (model loaded and used), stop; the process's peak RSS: its VmHWM
    just before it stops, or the largest summed RSS of it and its children sampled every 50 ms.

    If the critique does not end within timeout (a very busy machine), the peak sampled so far is reported with
    the error rather than nothing.
    """
    child = Child(scratch_data_dir(model_path), model_choice, no_llm=False)
    sampler = PeakRss(child.proc.pid)
    result: dict[str, Any] = {"error": None, "launch_to_critique_done_s": None, "critique_by_model": None}
    try:
        child.wait_for(FIRST_QUESTION, timeout=120)
        mark = len(child.out)
        child.send(answer_for(child.out, bank) + "\n\n")
        answered = child.wait_for(re.compile(rb"Follow-up|Question 2 of|Report"), timeout, mark)
        result["launch_to_critique_done_s"] = round(answered, 2)
        result["critique_by_model"] = b"model's critique was unavailable" not in child.out[mark:]
        result["vm_hwm_bytes"] = high_water_mark(child.proc.pid)
        # Not the figure: a child's ru_maxrss also counts the parent's pages it shared between fork and exec (this
        # benchmark's own process holds the model at that point), so it reads the parent's size.
        result["ru_maxrss_bytes"] = child.stop()
    except TimeoutError as exc:
        result["error"] = str(exc)[:300]
    finally:
        sampled = sampler.stop()
        child.kill()
    peak = max(result.get("vm_hwm_bytes", 0), sampled)
    return result | {"peak_rss_bytes": peak, "peak_rss_gb": round(peak / 1e9, 3), "sampled_sum_bytes": sampled,
                     "exit_code": child.proc.returncode}
