"""Several prompts decoded at once: each in its own sequence of one llama.cpp context, one batch per step.

On a CPU a batch of n tokens costs far less than n single-token steps (the weights are read once per step), so
users whose critiques are written together each wait little longer than one alone while the machine does several
times the work. A new prompt reuses the longest cached prefix it finds: in a free slot, in another slot (shared
KV cells, no copy) or in a saved session state. A step writes one token for every sequence that is writing and
fills the rest of the batch with prompts (or the labels code writes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.llm import cpp
from bot.core.llm.grammar_sampler import TopGrammar

PREWARM_CHUNK = 64  # prompt tokens per step of a cancellable evaluation: a real job waits at most this long
WAIT_FOR_SHARED = 32  # a prompt whose start another slot is about to evaluate waits for it when it gains this many


def common_prefix(a: Any, b: Any) -> int:
    """Length of the common start of two token sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class GenerationStats:
    """What one generation cost: how much of the prompt was reused, evaluated, trimmed, and how fast."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    evaluated_tokens: int = 0
    trimmed_tokens: int = 0
    generated_tokens: int = 0
    forced_tokens: int = 0  # label tokens written by code, not sampled (line format)
    restored_session: bool = False
    batched_with: int = 0  # most other sequences decoded in the same steps
    ttft_s: float = 0.0
    total_s: float = 0.0
    full_grammar_checks: int = 0  # steps where no likely token fitted the grammar (see grammar_sampler)

    @property
    def tokens_per_s(self) -> float:
        """Output tokens (sampled and forced) per second after the first one."""
        spent = self.total_s - self.ttft_s
        produced = self.generated_tokens + self.forced_tokens
        return (produced - 1) / spent if produced > 1 and spent > 0 else 0.0


@dataclass
class Snapshot:
    """A saved sequence: its tokens and its KV cells."""

    tokens: list[int]
    blob: Any  # ctypes uint8 array, handed back to llama.cpp without a copy
    size: int


@dataclass
class Job:
    """One prompt to evaluate and (max_new > 0) continue; emit() gets each output token as it is decided."""

    tokens: list[int]
    max_new: int
    temp: float = 0.2
    seed: int = 0
    grammar: TopGrammar | None = None
    labels: list[list[int]] = field(default_factory=list)  # forced after each newline; a newline after the last ends
    newline: Callable[[int], bool] = lambda token: False
    stop: Callable[[int], bool] = lambda token: False
    emit: Callable[[int, bool], None] | None = None  # (token, forced)
    cancel: Callable[[], bool] | None = None
    snapshot: Snapshot | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    output: list[int] = field(default_factory=list)
    error: BaseException | None = None
    cancelled: bool = False
    seq: int = -1
    started: float = 0.0


@dataclass
class _Slot:
    seq: int
    tokens: list[int] = field(default_factory=list)  # what the KV cells of this sequence hold, in order
    pending: list[int] = field(default_factory=list)  # to decode next
    job: Job | None = None
    sampler: cpp.Sampler | None = None
    used: float = 0.0
    wait: tuple[int, int] | None = None  # (slot, length): take that slot's first length cells once evaluated


class Slots:
    """The sequences of one context and the decode loop that serves them; one thread at a time."""

    def __init__(self, llm: Any, n_seq: int, n_batch: int = 512) -> None:
        self.ctx = cpp.ctx(llm)
        self.memory = cpp.Memory(self.ctx)
        self.batch = cpp.Batch(n_batch, n_seq)
        self.n_batch = n_batch
        self.slots = [_Slot(i) for i in range(n_seq)]

    # -- placing a job ---------------------------------------------------------------------------------------

    def free(self) -> int:
        """How many slots have no job."""
        return sum(s.job is None for s in self.slots)

    def place(self, job: Job) -> bool:
        """Give job a slot, reusing the longest cached prefix; False when every slot is busy."""
        free = [s for s in self.slots if s.job is None]
        if not free:
            return False
        limit = len(job.tokens) - (1 if job.max_new > 0 else 0)  # the last prompt token is decoded for its logits

        def reuse(tokens: list[int]) -> int:
            return min(common_prefix(tokens, job.tokens), limit)

        home = max(free, key=lambda s: (reuse(s.tokens), s.used))
        donor = max(self.slots, key=lambda s: reuse(s.tokens))
        spare = min(free, key=lambda s: s.used)
        saved = reuse(job.snapshot.tokens) if job.snapshot is not None else 0
        best = max(reuse(home.tokens), reuse(donor.tokens), saved)
        if job.snapshot is not None and saved == best and saved > reuse(home.tokens) and saved > reuse(donor.tokens):
            home = spare
            if self.memory.load(job.snapshot.blob, job.snapshot.size, home.seq):
                home.tokens = list(job.snapshot.tokens)
                job.stats.restored_session = True
            else:
                home.tokens = []
        elif reuse(donor.tokens) > reuse(home.tokens):
            home = spare if spare is not donor else home
            self.memory.share(donor.seq, home.seq, reuse(donor.tokens))
            home.tokens = donor.tokens[: reuse(donor.tokens)]
        kept = reuse(home.tokens)
        self.memory.drop(home.seq, kept)
        home.tokens = home.tokens[:kept]
        home.pending = job.tokens[kept:]
        home.job, home.used, home.wait = job, time.perf_counter(), None
        # Another prompt now being evaluated starts the same way (the same question): share its cells when ready.
        ahead = [(reuse(s.tokens + s.pending), s.seq) for s in self.slots if s.job is not None and s is not home]
        if ahead and max(ahead)[0] >= kept + WAIT_FOR_SHARED:
            length, seq = max(ahead)
            home.wait = (seq, length)
        job.seq, job.started = home.seq, time.perf_counter()
        job.stats.reused_tokens, job.stats.evaluated_tokens = kept, len(home.pending)
        if job.max_new > 0:
            first = job.grammar.apply if job.grammar is not None else None
            home.sampler = cpp.Sampler(temp=job.temp, seed=job.seed, first=first)
        return True

    # -- decoding --------------------------------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether any slot has a job."""
        return any(s.job is not None for s in self.slots)

    def step(self) -> list[Job]:
        """Decode one batch over every busy slot; the jobs that finished (or failed) in it."""
        finished: list[Job] = []
        rows: list[tuple[_Slot, int, int | None]] = []
        self.batch.clear()
        budget = self.n_batch
        busy = [s for s in self.slots if s.job is not None and not self._waiting(s)]
        # Slots writing their answer (one token each) go first; prompts fill what is left of the batch.
        for slot in sorted(busy, key=lambda s: len(s.pending)):
            job = slot.job
            assert job is not None
            if job.cancel is not None and job.cancel():
                job.cancelled = True
                finished.append(self._release(slot))
                continue
            room = min(budget, PREWARM_CHUNK) if job.cancel is not None else budget
            take = slot.pending[:room]
            if not take:
                if job.max_new == 0:
                    finished.append(self._release(slot))
                continue
            last = None
            for j, token in enumerate(take):
                wants = job.max_new > 0 and j == len(take) - 1 and len(take) == len(slot.pending)
                at = self.batch.add(token, len(slot.tokens) + j, slot.seq, wants)
                last = at if wants else last
            rows.append((slot, len(take), last))
            budget -= len(take)
            if budget <= 0:
                break
        if not rows:
            return finished
        code = self.batch.decode(self.ctx)
        if code != 0:
            return finished + self._failed(rows, code)
        for slot, taken, index in rows:
            slot.tokens += slot.pending[:taken]
            slot.pending = slot.pending[taken:]
            job = slot.job
            assert job is not None
            job.stats.batched_with = max(job.stats.batched_with, len(rows) - 1)
            done = self._next(slot, job, index) if index is not None else job.max_new == 0 and not slot.pending
            if done:
                finished.append(self._release(slot))
        return finished

    def _waiting(self, slot: _Slot) -> bool:
        """Whether slot still waits for another slot to evaluate the start they share (then takes its cells)."""
        if slot.wait is None or slot.job is None:
            return False
        seq, length = slot.wait
        donor = self.slots[seq]
        if donor.job is not None and len(donor.tokens) < length and donor.pending:
            return True
        slot.wait = None
        job = slot.job
        have = min(common_prefix(donor.tokens, job.tokens), length)
        if have > len(slot.tokens):
            self.memory.share(donor.seq, slot.seq, have)
            slot.tokens, slot.pending = donor.tokens[:have], job.tokens[have:]
            job.stats.reused_tokens, job.stats.evaluated_tokens = have, len(slot.pending)
        return False

    def _next(self, slot: _Slot, job: Job, index: int) -> bool:
        """Sample the next token of job (from batch entry index); whether the job is done."""
        assert slot.sampler is not None
        try:
            token = slot.sampler.sample(self.ctx, index)
            if job.grammar is not None:
                job.grammar.accept(token)
            if job.stop(token):
                return True
            job.output.append(token)
            job.stats.generated_tokens += 1
            if job.emit is not None:
                job.emit(token, False)
            slot.pending = [token]
            if len(job.output) >= job.max_new:
                return True
            if job.newline(token):
                if not job.labels:
                    return True
                label = job.labels.pop(0)
                slot.pending += label
                job.output += label
                job.stats.forced_tokens += len(label)
                if job.emit is not None:
                    for forced in label:
                        job.emit(forced, True)
        except Exception as exc:  # noqa: BLE001 - a failing callback ends its own job, never the others
            job.error = exc
            return True
        return False

    def _failed(self, rows: list[tuple[_Slot, int, int | None]], code: int) -> list[Job]:
        """llama_decode refused the batch: idle caches are dropped; if that was not it, the newest job fails."""
        idle = [s for s in self.slots if s.job is None and s.tokens]
        for slot in idle:
            self.memory.drop(slot.seq)
            slot.tokens = []
        if idle and code == 1:
            return []  # room was made; the same batch is built again next step
        slot = max((r[0] for r in rows), key=lambda s: s.job.started if s.job else 0.0)
        assert slot.job is not None
        slot.job.error = RuntimeError(f"llama_decode failed ({code}): the context has no room for this prompt")
        self.memory.drop(slot.seq)
        slot.tokens, slot.pending = [], []
        return [self._release(slot)]

    def _release(self, slot: _Slot) -> Job:
        """Free the slot (its cached tokens stay for the next prompt that starts the same way)."""
        job = slot.job
        assert job is not None
        if slot.sampler is not None:
            slot.sampler.close()
            slot.sampler = None
        if job.max_new > 0 and slot.pending:
            slot.pending = []  # the last sampled token was never decoded: the cells end before it
        job.stats.total_s = time.perf_counter() - job.started
        slot.job, slot.used = None, time.perf_counter()
        return job

    # -- states ----------------------------------------------------------------------------------------------

    def save(self, seq: int) -> Snapshot | None:
        """The cached tokens and KV cells of one slot."""
        slot = self.slots[seq]
        if not slot.tokens:
            return None
        blob, size = self.memory.save(seq)
        return Snapshot(list(slot.tokens), blob, size) if size else None

    def holding(self) -> int:
        """Tokens held by the slot used last (what a one-user context holds)."""
        return len(max(self.slots, key=lambda s: s.used).tokens)

    def clear(self) -> None:
        """Forget every cached sequence (the KV cells are dropped)."""
        for slot in self.slots:
            if slot.job is None:
                self.memory.drop(slot.seq)
                slot.tokens, slot.pending = [], []

    def close(self) -> None:
        """Free the batch."""
        self.batch.close()
