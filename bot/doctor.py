"""`python -m bot.cli doctor`: every part of the set-up checked for real and reported; it changes nothing.

Each line is ok, a problem, or information (-); the count of problems is the count of problem lines, and any
problem makes the exit status 1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from bot.config import Settings, unknown_names, unknown_sentence
from bot.core.text import plural
from bot.errors import CoachError
from bot.logs import hide_password

OK, BAD, INFO = "[green]      ok[/green]", "[red] problem[/red]", "[dim]       -[/dim]"


def scrub_url(url: str) -> str:
    """A database URL without its password (also one written without `//`)."""
    return hide_password(url)


class Report:
    """The lines printed so far and the problems among them."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.problems = 0

    def line(self, label: str, good: bool | None, detail: str) -> None:
        """One check: good True (ok), False (a problem, counted) or None (information)."""
        mark = OK if good else BAD if good is False else INFO
        self.problems += good is False
        self.console.print(f"{mark}  {label}: {escape(detail)}", soft_wrap=True)

    def finish(self) -> int:
        """The closing sentence; the exit status."""
        n = self.problems
        self.console.print("All checks passed." if not n else f"{plural(n, 'problem')} found.")
        return 1 if n else 0


def doctor_without_settings(error: CoachError, console: Console | None = None) -> int:
    """A setting cannot be read: that is the one problem to report (nothing else can be checked without it)."""
    report = Report(console or Console())
    report.line("settings", False, str(error))
    return report.finish()


def run_doctor(settings: Settings, console: Console) -> int:
    """Print every check; exit status 1 when something needs fixing."""
    report = Report(console)
    report.line("settings", True, "read from the environment and .env")
    setting_names(report)
    _data_folder(settings, report)
    loaded = _model(settings, report)
    _gpu(settings, report, loaded)
    _speech(settings, report)
    embedder = _embedder(settings, report)
    bank = _decks(settings, report)
    _index(settings, report, _retrieval_embedder(settings, report, embedder), bank)
    _database(settings, report)
    _tokens(settings, report)
    return report.finish()


def setting_names(report: Report) -> None:
    """A COACH_ name that is no setting (a typo such as COACH_DATADIR) is a problem: its value is ignored."""
    for name, close in unknown_names():
        report.line("setting name", False, unknown_sentence(name, close))


def _data_folder(settings: Settings, report: Report) -> None:
    folder = settings.data_dir.expanduser()
    shown = str(folder.resolve())
    if folder.is_dir():
        writable = os.access(folder, os.W_OK | os.X_OK)
        report.line("data folder", writable, shown if writable else
                    f"{shown} is not writable: answers, the index and the model cannot be saved; fix its permissions "
                    "or point COACH_DATA_DIR at another folder.")
        return
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if os.access(parent, os.W_OK | os.X_OK):
        report.line("data folder", None, f"{shown} (not created yet; created on first use)")
    else:
        report.line("data folder", False, f"{shown} does not exist and cannot be created ({parent} is not writable); "
                    "set COACH_DATA_DIR to a folder you can write to.")


def _model(settings: Settings, report: Report) -> dict[str, Any] | None:
    """The model file: size, GGUF magic, sha256, then a real llama.cpp load; the load's result, if any."""
    if settings.llm_base_url:
        report.line("model", None, f"served by {settings.llm_base_url} (COACH_LLM_BASE_URL)")
        return None
    from bot.core.llm.modelcheck import llama_decodes, llama_opens
    from bot.core.llm.modelfile import model_report

    info = model_report(settings, remember=False)
    if info["path"] is None:  # the settings name no model at all (COACH_MODEL mistyped)
        report.line("model", False, str(info["error"]))
        return None
    size = f"{info['size']:,} bytes" if info["size"] is not None else "no file"
    expected = f" (expected {info['expected_size']:,})" if info.get("expected_size") else ""
    if info.get("not_assembled"):
        report.line("model file", None, f"{info['path']}: not assembled yet; it is assembled from the installed "
                    "packages on first use")
        return None
    report.line("model file", info["ok"], f"{info['path']} — {size}{expected}")
    if info["error"]:
        report.console.print(f"{'':>10}{escape(info['error'])}", soft_wrap=True)
    if info["sha256"]:
        matches = "matches the package" if info["sha256_ok"] else "your own model, no published checksum to compare" \
            if info["sha256_ok"] is None else "does NOT match the package"
        report.line("sha256", info["sha256_ok"], f"{info['sha256']} — {matches}")
    if not info["ok"]:
        return None
    loaded = llama_opens(Path(info["path"]), settings.n_gpu_layers)
    report.line("llama.cpp load", loaded["ok"], "the model loads" if loaded["ok"] else str(loaded["error"]))
    if loaded["ok"]:
        decoded = llama_decodes(Path(info["path"]))
        report.line("llama.cpp decode", decoded["ok"], "it decodes a few tokens" if decoded["ok"]
                    else str(decoded["error"]))
    return loaded


def _speech(settings: Settings, report: Report) -> None:
    from bot.core.speech.modelfile import speech_report

    good, detail = speech_report(settings)
    report.line("speech model", good, detail)


def _gpu(settings: Settings, report: Report, loaded: dict[str, Any] | None) -> None:
    try:
        import llama_cpp

        supported = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 - doctor reports, it never crashes
        supported = False
    layers = settings.n_gpu_layers
    where = "all layers" if layers < 0 else f"{layers} layers" if layers else "none (CPU)"
    base = f"COACH_N_GPU_LAYERS={layers} ({where}); this llama.cpp build supports GPU offload: " \
           f"{'yes' if supported else 'no'}; threads {settings.n_threads}"
    if layers and not supported:
        report.line("GPU offload", False, f"{base}. The layers stay on the CPU: rebuild llama-cpp-python with CUDA "
                    "or Metal (see README) or set COACH_N_GPU_LAYERS=0.")
        return
    on_gpu, total = (loaded or {}).get("gpu_layers"), (loaded or {}).get("layers")
    if layers and on_gpu is not None and total:
        wanted = total if layers < 0 else min(layers, total)
        honoured = on_gpu >= wanted
        report.line("GPU offload", honoured, f"{base}; {on_gpu} of {total} layers loaded on a GPU" +
                    ("" if honoured else " (is a GPU visible to this process?)"))
        return
    report.line("GPU offload", None, base)


def _embedder(settings: Settings, report: Report) -> Any | None:
    from bot.core.embedder import SentenceEmbedder

    embedder = SentenceEmbedder(settings.embedding_model)
    return _model_line(report, "embedding model", embedder, embedder.load)


def _retrieval_embedder(settings: Settings, report: Report, embedder: Any | None) -> Any | None:
    """The index's embedder (COACH_EMBEDDING_MODEL's when set, else the packaged mpnet), found but not loaded."""
    from bot.core.embedder import retrieval_embedder

    if settings.embedding_model:
        return embedder
    found = retrieval_embedder()
    return _model_line(report, "retrieval model", found, found.check)


def _model_line(report: Report, label: str, embedder: Any, ready: Callable[[], object]) -> Any | None:
    """One line on an embedding model: its name and size once ready() passes, else why not."""
    try:
        ready()
    except CoachError as exc:
        report.line(label, False, str(exc))
        return None
    report.line(label, True, f"{embedder.name} ({embedder.dim} dimensions)")
    return embedder


def _decks(settings: Settings, report: Report) -> Any | None:
    from bot.core.bank import load_bank

    try:
        bank = load_bank(settings.knowledge_dir)
    except CoachError as exc:
        report.line("decks", False, str(exc))
        return None
    entries = plural(len(bank), "entry", "entries")
    report.line("decks", True, f"{plural(len(bank.decks), 'deck')}, {entries} in {settings.knowledge_dir}")
    return bank


def _index(settings: Settings, report: Report, embedder: Any | None, bank: Any | None) -> None:
    """The Chroma store: readable, built with the configured embedder, in step with the decks.

    Chroma rewrites its files whenever a client opens them, so an embedded store is inspected on a copy.
    """
    where = settings.chroma_url or str(settings.chroma_dir)
    if not settings.chroma_url and not (settings.chroma_dir / "chroma.sqlite3").is_file():
        report.line("index", None, f"{where}: not built yet; it is built on first use, or now by "
                    "`python -m bot.cli index`")
        return
    try:
        fresh = _freshness(settings, embedder, bank)
    except CoachError as exc:
        report.line("index", False, str(exc))
        return
    except OSError as exc:
        report.line("index", False, f"{where} cannot be read ({exc.strerror or exc}); check its permissions.")
        return
    if fresh is None:
        report.line("index", None, f"{where}: not compared (the decks cannot be read)")
    elif not fresh["exists"]:
        report.line("index", False, f"{where}: empty; run `python -m bot.cli index`.")
    elif embedder is not None and not fresh["same_embedder"]:
        built = fresh["built_with"]
        report.line("index", False, f"{where}: built with {built['embedder']} ({built['dim']} dimensions), but the "
                    f"embedding model is now {fresh['embedder']} ({fresh['dim']}); run `python -m bot.cli index` "
                    "to rebuild it (the old index serves until the new one is complete).")
    elif not fresh["stale"] and not fresh["extra"]:
        report.line("index", True, f"{where}: {plural(fresh['entries'], 'entry', 'entries')}, in step with the decks"
                    + (f", embedder {fresh['built_with']['embedder']}" if fresh["built_with"]["embedder"] else ""))
    else:
        report.line("index", False, f"{where}: {len(fresh['stale'])} new or changed and {len(fresh['extra'])} "
                    "removed entries not indexed yet; run `python -m bot.cli index`.")


def _freshness(settings: Settings, embedder: Any | None, bank: Any | None) -> dict[str, Any] | None:
    """The index compared with the bank: on a Chroma server directly, an embedded store on a temporary copy."""
    from bot.core.chroma_store import LOCK_NAME, forget_client
    from bot.core.embedder import HashEmbedder
    from bot.core.index import ChromaIndex

    # Comparing hashes needs no model; the signature compares names and dimensions only when the model loaded.
    probe = embedder or HashEmbedder(name=settings.embedding_model or "all-MiniLM-L6-v2")
    if settings.chroma_url:
        index = ChromaIndex(probe, url=settings.chroma_url)
        try:
            return index.freshness(bank) if bank is not None else None
        finally:
            index.close()
    with tempfile.TemporaryDirectory(prefix="coach-doctor-") as tmp:
        copy = Path(tmp) / "chroma"
        shutil.copytree(settings.chroma_dir, copy, ignore=shutil.ignore_patterns(LOCK_NAME))
        try:
            index = ChromaIndex(probe, path=copy)
            try:
                return index.freshness(bank) if bank is not None else None
            finally:
                index.close()
        except CoachError as exc:
            raise CoachError(str(exc).replace(str(copy), str(settings.chroma_dir))) from exc
        finally:
            forget_client(copy)


def _database(settings: Settings, report: Report) -> None:
    from bot.core.store.check import check_database

    for check in check_database(settings.resolved_database_url()):
        report.line(check.label, check.good, check.detail)


def _tokens(settings: Settings, report: Report) -> None:
    report.line("vector store", None, settings.chroma_url or str(settings.chroma_dir))
    for name, value in (("DISCORD_TOKEN", settings.discord_token), ("SLACK_BOT_TOKEN", settings.slack_bot_token),
                        ("SLACK_APP_TOKEN", settings.slack_app_token),
                        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret)):
        report.line(name, None, "set" if value is not None and value.get_secret_value() else "not set")
