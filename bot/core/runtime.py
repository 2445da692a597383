"""Builds the heavy objects once per process, from the settings, and hands them out."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from bot.config import Settings
from bot.core.access import Access
from bot.core.bank import Bank, Entry, load_bank
from bot.core.replies import UserRef
from bot.errors import CoachError, IndexBusyError

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.embedder import Embedder
    from bot.core.grading.grader import Grader
    from bot.core.index import ChromaIndex, MemoryIndex, Progress, SyncReport
    from bot.core.llm.base import LLM
    from bot.core.llm.lazy import LazyLLM
    from bot.core.retrieval import RelatedEntries
    from bot.core.schedule import Scheduler
    from bot.core.speech.base import Transcriber
    from bot.core.speech.worker import SpeechWorker
    from bot.core.store.sql import SqlStore
    from bot.core.voice import VoiceAnswers

log = logging.getLogger(__name__)
BATCH_CTX = 3072


class Runtime:
    """The process-wide engine parts: bank, embedder, index, LLM, store, grader, coach. Each made on first use."""

    def __init__(self, settings: Settings, *, use_llm: bool = True, llm: LLM | None = None,
                 embedder: Embedder | None = None, transcriber: Transcriber | None = None,
                 parallel: int = 8) -> None:
        self.settings = settings
        self.use_llm = use_llm
        self.parallel = settings.llm_parallel or parallel  # users decoded together (1: the terminal's one user)
        self._given_llm = llm
        self._given_transcriber = transcriber
        self._given_embedder = embedder
        self._lock = threading.RLock()
        self._index: ChromaIndex | MemoryIndex | None = None
        self._synced = False
        self._warming: threading.Thread | None = None
        self._preparing: list[threading.Thread] = []
        self.last_sync: SyncReport | None = None

    @cached_property
    def bank(self) -> Bank:
        """Every deck of the knowledge folder, validated."""
        return load_bank(self.settings.knowledge_dir)

    @cached_property
    def embedder(self) -> Embedder:
        """The sentence embedder (the packaged MiniLM unless COACH_EMBEDDING_MODEL says otherwise)."""
        if self._given_embedder is not None:
            return self._given_embedder
        from bot.core.embedder import SentenceEmbedder

        return SentenceEmbedder(self.settings.embedding_model)

    @cached_property
    def retrieval_embedder(self) -> Embedder:
        """The index's embedder (all-mpnet-base-v2 unless COACH_EMBEDDING_MODEL says otherwise); loaded only when a
        query or a changed entry is embedded, so an interview over a fresh index never holds it."""
        if self._given_embedder is not None:
            return self._given_embedder
        from bot.core.embedder import retrieval_embedder

        return retrieval_embedder(self.settings.embedding_model)

    def index(self, progress: Progress | None = None, sync: bool = True,
              recover: bool = False) -> ChromaIndex | MemoryIndex:
        """The index, synced with the bank on first use: the Chroma folder, or while another process (a bot) holds
        it, a read-only copy of it in memory; `recover` sets a damaged store aside."""
        from bot.core.index import ChromaIndex, open_index

        with self._lock:
            if self._index is None:
                self._index = open_index(self.retrieval_embedder, path=self.settings.chroma_dir,
                                         url=self.settings.chroma_url, recover=recover)
            if sync and not self._synced:
                self.last_sync = self._index.sync(self.bank, progress=progress)
                self._synced = True
                if isinstance(self._index, ChromaIndex):
                    self._index.write_snapshot()
            return self._index

    def reindex(self, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        """Sync the index with the bank now and report what changed (this process must hold the folder)."""
        from bot.core.index import ChromaIndex

        with self._lock:
            if self._index is None:
                self._index = ChromaIndex(self.retrieval_embedder, path=self.settings.chroma_dir,
                                          url=self.settings.chroma_url, recover=rebuild)
            if not isinstance(self._index, ChromaIndex):
                raise IndexBusyError(f"Another process is using the index in {self.settings.chroma_dir}; stop it or "
                                     "set another COACH_DATA_DIR.")
            report = self._index.sync(self.bank, progress=progress, rebuild=rebuild)
            self._index.write_snapshot()
            self._synced = True
            return report

    @cached_property
    def _related(self) -> RelatedEntries:
        from bot.core.retrieval import RelatedEntries

        return RelatedEntries(self.embedder)

    def related(self, entry: Entry, k: int = 2) -> list[Entry]:
        """Entries close to this one, for the critique prompt, by the grading embedder (the index's model is not
        needed: an interview never loads it); none if they cannot be found."""
        try:
            return self._related.related(self.bank, entry, k)
        except Exception:  # noqa: BLE001 - context for the model is optional; grading goes on without it
            log.warning("related entries unavailable", exc_info=True)
            return []

    @cached_property
    def store(self) -> SqlStore:
        """The SQL store (SQLite in the data folder unless COACH_DATABASE_URL says otherwise)."""
        from bot.core.store.sql import SqlStore
        from bot.errors import ConfigError
        from bot.explain import database_sentence, explain

        url = self.settings.resolved_database_url()
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            return SqlStore(url)
        except Exception as exc:  # a typo or a server down is one sentence naming the setting, never a traceback
            cause = exc.__cause__ or exc  # SqlStore's own sentence leaves the URL out; this one names the setting
            sentence = database_sentence(cause, url, opening=True) or explain(cause, self.settings)
            if sentence is None:
                raise
            raise ConfigError(sentence) from exc

    @cached_property
    def scheduler(self) -> Scheduler:
        """FSRS reviews and question choice."""
        from bot.core.schedule import Scheduler

        return Scheduler(self.store, self.bank)

    @cached_property
    def llm(self) -> LazyLLM | None:
        """The language model, loading in the background; None when told to run rubric-only."""
        if not self.use_llm:
            return None
        from bot.core.llm.lazy import LazyLLM

        if self._given_llm is not None:
            given = self._given_llm
            return LazyLLM(lambda: given, name=given.name).start()
        return LazyLLM(self._build_llm, name="llm")

    def _build_llm(self) -> LLM:
        """The configured model: an OpenAI-compatible server, or llama.cpp in-process behind one worker."""
        s = self.settings
        if s.llm_base_url:
            from bot.core.llm.openai_server import OpenAICompatibleLLM

            key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
            return OpenAICompatibleLLM(s.llm_base_url, api_key=key, model=s.llm_model_name)
        from bot.core.llm.llama import LlamaCppLLM
        from bot.core.llm.modelfile import resolve_model_path
        from bot.core.llm.worker import LLMWorker

        path = resolve_model_path(s, progress=self.model_progress)
        # Several users: each sequence gets BATCH_CTX tokens unless COACH_N_CTX says otherwise (the critique's prompt
        # and reply need about 2,300 at most), so that eight of them hold 0.7 GB of KV cache rather than 0.9.
        n_ctx = s.n_ctx if self.parallel == 1 or "n_ctx" in s.model_fields_set else min(s.n_ctx, BATCH_CTX)
        return LLMWorker(LlamaCppLLM(path, n_threads=s.n_threads, n_gpu_layers=s.n_gpu_layers, n_ctx=n_ctx,
                                     parallel=self.parallel))

    model_progress: Any = None  # the terminal sets a callback (done, total) to show assembly progress

    @cached_property
    def grader(self) -> Grader:
        """Rubric plus the model's critique (rubric-only without a model)."""
        from bot.core.grading.grader import Grader
        from bot.core.grading.probes import ProbeDrafts

        return Grader(self.embedder, llm=self.llm, related=self.related, prompts_dir=self.settings.prompts_dir,
                      probes=ProbeDrafts(self.settings.data_dir / "drafted_probes.json"))

    @cached_property
    def coach(self) -> Coach:
        """The coach that adapters call."""
        from bot.core.coach import Coach

        # The grader (numpy, the rubric) is built on the first answer, not before the first question.
        grader = cast("Grader", _Lazy(lambda: self.grader))
        s = self.settings
        access = Access(reviewers=s.user_keys(s.slack_reviewers), managers=s.user_keys(s.slack_managers),
                        knowledge_dir=s.knowledge_dir, reindex=self._reindex_fixed)
        # The speech worker (a thread, the model) starts with the first recording, not with the coach.
        speech = cast("Transcriber", _Lazy(lambda: self.speech))
        return Coach(self.bank, grader, self.store, self.scheduler, prewarm=self._prewarm, access=access,
                     interviewer_seconds=s.interviewer_seconds, speech=speech, max_audio_seconds=s.max_audio_seconds,
                     max_audio_bytes=s.max_audio_bytes)

    def _reindex_fixed(self, entry: Entry) -> None:
        """A reviewer fixed an entry: re-embed it now (only changed entries are embedded) if the index is open."""
        from bot.core.index import ChromaIndex

        with self._lock:
            if self._index is None:
                return  # the first search syncs the index with the fixed bank
            self.last_sync = self._index.sync(self.bank)
            if isinstance(self._index, ChromaIndex):
                self._index.write_snapshot()

    @cached_property
    def speech(self) -> SpeechWorker:
        """Speech to text on its own worker thread; the model is built there on first use (or on start())."""
        from bot.core.speech.worker import SpeechWorker

        if self._given_transcriber is not None:
            given = self._given_transcriber
            return SpeechWorker(lambda: given)
        return SpeechWorker(self._build_transcriber)

    def _build_transcriber(self) -> Transcriber:
        """The configured speech model: an OpenAI-compatible server, or faster-whisper in-process."""
        s = self.settings
        if s.stt_base_url:
            from bot.core.speech.server import OpenAICompatibleTranscriber

            key = s.stt_api_key.get_secret_value() if s.stt_api_key else None
            return OpenAICompatibleTranscriber(s.stt_base_url, api_key=key, model=s.stt_server_model)
        from bot.core.speech.modelfile import resolve_speech_model
        from bot.core.speech.whisper import FasterWhisperTranscriber

        folder = resolve_speech_model(s, progress=self.model_progress)
        return FasterWhisperTranscriber(folder, cpu_threads=s.stt_threads or s.n_threads)

    @cached_property
    def voice(self) -> VoiceAnswers:
        """Spoken answers (the coach's own): the terminal calls it with audio bytes or a recorded clip."""
        return self.coach.voice

    def _prewarm(self, user: UserRef, entry: Entry, session: str) -> None:
        """Prepare the rubric (points encoded, entry parsed) and evaluate the fixed part of the critique prompt
        while the user reads the question."""
        # On a thread of its own: the question is shown before any model loads, and grading then costs one pass.
        thread = threading.Thread(target=self._prepare, args=(entry,), name="coach-prepare", daemon=True)
        thread.start()
        with self._lock:
            self._preparing = [t for t in self._preparing if t.is_alive()] + [thread]
        if self.llm is None or not self.llm.ready:
            return
        try:
            self.llm.prewarm(self.grader.fixed_prompt(entry), session=session)
        except Exception:  # noqa: BLE001 - prewarming only saves time; never fail a question over it
            log.warning("prewarm failed", exc_info=True)

    def prewarm_typed(self, user: UserRef, text: str) -> None:
        """Evaluate the answer typed so far (the terminal calls this at each line), so that once the answer is sent
        only its last line and the findings are left to evaluate before the critique starts."""
        if self.llm is None or not self.llm.ready or not text.strip():
            return
        try:
            session = self.store.open_session(user)
            if session is None or session.current_question_id is None or session.follow_up:
                return  # a follow-up's answer is graded by the rubric alone
            key = f"s{session.id}"
            prompt = self.grader.typed_prompt(self.bank.get(session.current_question_id), text, key)
            if prompt is not None:
                self.llm.prewarm(prompt, session=key)
        except Exception:  # noqa: BLE001 - evaluating ahead only saves time; never fail an answer over it
            log.warning("prewarm of the typed answer failed", exc_info=True)
    def _prepare(self, entry: Entry) -> None:
        """Encode and parse an entry for the rubric and the claim check (a failure only costs time later)."""
        try:
            self.grader.prepare(entry)
        except Exception:  # noqa: BLE001 - preparing only saves time; grading prepares what is missing
            log.warning("preparing the rubric failed", exc_info=True)

    def warm_up(self, index: bool = True) -> None:
        """Load the embedder and the parser, sync the index (unless `index` is False: the terminal's interview needs
        none) and start the model (call on a background thread)."""
        if self.llm is not None:
            self.llm.start()
        load = getattr(self.embedder, "load", None)
        if load is not None:
            load()
        from bot.core.grading.parse import shared

        shared().load()
        self._related.prepare(self.bank)
        if index:
            self.index()
            # A bot only keeps the index fresh for `ask` (nothing in a bot searches it): the model that built it
            # leaves memory until a query needs it.
            release = getattr(self.retrieval_embedder, "release", None)
            if release is not None and self.retrieval_embedder is not self.embedder:
                release()

    def warm_up_in_background(self) -> None:
        """Warm up on a thread of its own, once per process however many adapters ask; failures are only logged."""
        with self._lock:
            if self._warming is None:
                self._warming = threading.Thread(target=self._warm_up_quietly, name="warm-up", daemon=True)
                self._warming.start()

    def _warm_up_quietly(self) -> None:
        try:
            self.warm_up()
        except CoachError as exc:  # the coach still works (rubric only, or the error when an answer needs it)
            log.warning("Warm-up incomplete: %s", exc)
        except Exception:
            log.exception("Warm-up failed")

    def close(self, timeout: float = 30.0) -> None:
        """Release what holds files or threads."""
        # A daemon thread still inside torch when the interpreter exits is killed there, and the unwinding aborts
        # the process ("terminate called without an active exception", exit 134): let the preparing finish first.
        with self._lock:
            preparing = list(self._preparing)
        for thread in preparing:
            thread.join(timeout)
        if self._index is not None:
            self._index.close()
        if "speech" in self.__dict__:
            self.speech.close()
        if "store" in self.__dict__:
            self.store.close()


class _Lazy:
    """Builds an object on first attribute access."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._obj: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._obj is None:
            self._obj = self._build()
        return getattr(self._obj, name)
