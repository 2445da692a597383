"""`python -m bot.cli doctor`: the model file, GPU offload, the index and the settings, checked and reported."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape

from bot.config import Settings
from bot.errors import CoachError

OK, BAD = "[green]ok[/green]", "[red]problem[/red]"


def _line(console: Console, label: str, good: bool | None, detail: str) -> None:
    mark = OK if good else BAD if good is False else "[dim]-[/dim]"
    console.print(f"{mark:>22}  {label}: {escape(detail)}")


def scrub_url(url: str) -> str:
    """A database URL without its password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def run_doctor(settings: Settings, console: Console) -> int:
    """Print every check; exit status 1 when something needs fixing."""
    problems = 0
    problems += _model(settings, console)
    _gpu(settings, console)
    problems += _speech(settings, console)
    problems += _index(settings, console)
    _settings(settings, console)
    console.print("All checks passed." if not problems else f"{problems} problem(s) found.")
    return 1 if problems else 0


def _model(settings: Settings, console: Console) -> int:
    if settings.llm_base_url:
        _line(console, "model", None, f"served by {settings.llm_base_url} (COACH_LLM_BASE_URL)")
        return 0
    from bot.core.llm.modelfile import model_report

    report = model_report(settings)
    size = f"{report['size']:,} bytes" if report["size"] else "missing"
    expected = f" (expected {report['expected_size']:,})" if report.get("expected_size") else ""
    _line(console, "model file", report["exists"], f"{report['path']} — {size}{expected}")
    if report["sha256"]:
        _line(console, "sha256", report["sha256_ok"], report["sha256"])
    if report["error"]:
        console.print(f"{'':>10}{escape(report['error'])}")
    not_assembled = report["error"] and "not assembled yet" in report["error"]
    return 0 if report["ok"] or not_assembled else 1


def _speech(settings: Settings, console: Console) -> int:
    from bot.core.speech.modelfile import speech_report

    good, detail = speech_report(settings)
    _line(console, "speech model", good, detail)
    return 1 if good is False else 0


def _gpu(settings: Settings, console: Console) -> None:
    try:
        import llama_cpp

        supported = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 - doctor reports, it never crashes
        supported = False
    layers = settings.n_gpu_layers
    if layers and not supported:
        _line(console, "GPU offload", False, f"COACH_N_GPU_LAYERS={layers} but this llama.cpp build is CPU-only "
              "(rebuild llama-cpp-python with CUDA or Metal, see README)")
    else:
        where = "all layers" if layers < 0 else f"{layers} layers" if layers else "none (CPU)"
        _line(console, "GPU offload", None, f"{where}; build supports GPU: {'yes' if supported else 'no'}; "
              f"threads {settings.n_threads}")


def _index(settings: Settings, console: Console) -> int:
    from bot.core.runtime import Runtime

    runtime = Runtime(settings, use_llm=False)
    try:
        bank = runtime.bank
        _line(console, "decks", True, f"{len(bank.decks)} deck(s), {len(bank)} entries in {settings.knowledge_dir}")
        fresh: dict[str, Any] = runtime.index(sync=False).freshness(bank)
    except CoachError as exc:
        _line(console, "index", False, str(exc))
        return 1
    finally:
        runtime.close()
    detail = (f"{fresh['entries']} entries, embedder {fresh['embedder']} ({fresh['dim']} dims)"
              if fresh["fresh"] else f"{len(fresh['stale'])} stale and {len(fresh['extra'])} removed entries; "
              "run `python -m bot.cli index`")
    _line(console, "index", fresh["fresh"], detail)
    return 0 if fresh["fresh"] else 1


def _settings(settings: Settings, console: Console) -> None:
    _line(console, "data folder", None, str(settings.data_dir.resolve()))
    _line(console, "database", None, scrub_url(settings.resolved_database_url()))
    _line(console, "vector store", None, settings.chroma_url or str(settings.chroma_dir))
    for name, value in (("DISCORD_TOKEN", settings.discord_token), ("SLACK_BOT_TOKEN", settings.slack_bot_token),
                        ("SLACK_APP_TOKEN", settings.slack_app_token),
                        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret)):
        _line(console, name, None, "set" if value is not None and value.get_secret_value() else "not set")
