"""The figures recorder of the reliability suite: each case prints its figure and records it here.

The figures and every test's outcome are written as JSON to $COACH_RELIABILITY_OUT (or a file under the pytest
temporary folder) at the end of the session; scripts/reliability_report.py turns them into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_OUTCOMES: dict[str, str] = {}


class Figures:
    """Figures keyed by case number; each names the test that measured it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, request: pytest.FixtureRequest, case: int, title: str, checked: str, figure: str,
               sees: str | None = None) -> None:
        """Print the figure and keep it for the report; `sees`: what the user is shown now, word for word."""
        print(f"\n[case {case}] {title}: {figure}" + (f"\n    the user sees: {sees}" if sees else ""))
        with self._lock:
            self.rows.append({"case": case, "title": title, "checked": checked, "figure": figure,
                              "test": request.node.nodeid, **({"sees": sees} if sees else {})})
        _flush()


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    """The session's figures recorder."""
    yield _FIGURES


class Recorder:
    """The recorder bound to one test: `record(case, title, checked, figure)`."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def __call__(self, case: int, title: str, checked: str, figure: str, sees: str | None = None) -> None:
        _FIGURES.record(self.request, case, title, checked, figure, sees)


@pytest.fixture()
def record(request: pytest.FixtureRequest, figures: Figures) -> Recorder:
    """Record a figure for the running test."""
    return Recorder(request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if "reliability" not in item.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        state = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        if hasattr(report, "wasxfail") and report.passed:
            state = "xpassed"
        _OUTCOMES[item.nodeid] = state
        _flush()


def _flush() -> None:
    """Write what is known so far (a run cut short still leaves its figures)."""
    out = os.environ.get("COACH_RELIABILITY_OUT")
    if not out:
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"figures": _FIGURES.rows, "outcomes": _OUTCOMES}, indent=2, ensure_ascii=False))
