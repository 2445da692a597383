"""The progress chart: score over time and average by topic, as a PNG."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

ROLLING = 5


def _points(data: Mapping[str, Any]) -> list[int]:
    """Scores oldest first, from `history()` ("points") or `user_stats()` ("recent", newest first)."""
    if data.get("points"):
        return [int(p["score"]) for p in data["points"]]
    return [int(p["score"]) for p in reversed(data.get("recent") or [])]


def _rolling(scores: Sequence[int], window: int = ROLLING) -> list[float]:
    """The mean of each score with up to `window - 1` before it."""
    return [sum(scores[max(0, i - window + 1):i + 1]) / len(scores[max(0, i - window + 1):i + 1])
            for i in range(len(scores))]


def progress_chart(data: Mapping[str, Any]) -> bytes:
    """A PNG of the user's scores, average by topic and spoken answers' delivery; a note when there is no data."""
    # Imported here so that importing the engine stays fast. The Figure API with the Agg canvas never touches
    # pyplot's global state or a display, so it is safe in any thread and needs no matplotlib.use("Agg").
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scores = _points(data)
    by_topic: Mapping[str, float] = data.get("by_topic") or {}
    spoken: Sequence[Mapping[str, Any]] = (data.get("delivery") or {}).get("points") or []
    rows = 1 + bool(by_topic) + bool(spoken)
    figure = Figure(figsize=(8, 3.5 + 2.5 * (rows - 1)), dpi=100)
    FigureCanvasAgg(figure)
    if not scores and not by_topic:
        _empty(figure)
    else:
        _scores(figure.add_subplot(rows, 1, 1), scores)
        if by_topic:
            _topics(figure.add_subplot(rows, 1, 2), by_topic)
        if spoken:
            _delivery(figure.add_subplot(rows, 1, rows), spoken)
        # Fixed margins instead of an automatic layout: the layout engines double the drawing time.
        longest = max((len(_label(t)) for t in by_topic), default=0)
        figure.subplots_adjust(left=min(0.35, max(0.08, 0.012 * longest + 0.03)), right=0.9 if spoken else 0.97,
                               top=0.88 if rows == 1 else 0.93, bottom=0.15 if rows == 1 else 0.08,
                               hspace=0.45 if rows == 2 else 0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(topic: str) -> str:
    """A topic name short enough for the bar chart's axis."""
    return topic if len(topic) <= 24 else topic[:23] + "…"


def _empty(figure: Any) -> None:
    """A single panel that says there is nothing to draw yet."""
    axes = figure.add_subplot(1, 1, 1)
    axes.set_axis_off()
    axes.text(0.5, 0.5, "No answers yet.\nAnswer a question to see your progress here.",
              ha="center", va="center", fontsize=14)


def _scores(axes: Any, scores: Sequence[int]) -> None:
    """Each answer's score, with its rolling average."""
    x = list(range(1, len(scores) + 1))
    axes.plot(x, scores, marker="o", linewidth=1, color="#4878d0", label="score")
    if len(scores) >= ROLLING:
        axes.plot(x, _rolling(scores), linewidth=2, color="#ee854a", label=f"average of last {ROLLING}")
        axes.legend(loc="lower right", fontsize=8)
    axes.set_title("Score per answer")
    axes.set_xlabel("answer")
    axes.set_ylabel("score")
    axes.set_ylim(0, 100)
    axes.grid(alpha=0.3)
    if not scores:
        axes.text(0.5, 0.5, "No answers yet", transform=axes.transAxes, ha="center", va="center")


def _topics(axes: Any, by_topic: Mapping[str, float]) -> None:
    """Average score by topic, weakest at the top."""
    topics = sorted(by_topic, key=lambda t: (by_topic[t], t), reverse=True)
    values = [by_topic[t] for t in topics]
    colors = ["#d65f5f" if v < 50 else "#ee854a" if v < 75 else "#6acc64" for v in values]
    axes.barh([_label(t) for t in topics], values, color=colors)
    axes.set_title("Average score by topic")
    axes.set_xlim(0, 100)
    axes.set_xlabel("average score")
    axes.grid(axis="x", alpha=0.3)
    for y, value in enumerate(values):
        axes.text(min(value + 1, 92), y, f"{value:.0f}", va="center", fontsize=8)


def _delivery(axes: Any, points: Sequence[Mapping[str, Any]]) -> None:
    """Spoken answers: pace (words a minute) and filler words a minute, answer by answer."""
    x = list(range(1, len(points) + 1))
    axes.plot(x, [p.get("wpm") or 0 for p in points], marker="o", linewidth=1, color="#4878d0", label="words/min")
    axes.axhspan(110, 170, color="#6acc64", alpha=0.12)   # the comfortable pace of bot.core.speech.delivery
    axes.set_title("Spoken answers: pace and filler words")
    axes.set_xlabel("spoken answer")
    axes.set_ylabel("words a minute")
    axes.set_ylim(0, max(220, max((p.get("wpm") or 0) for p in points) + 20))
    axes.grid(alpha=0.3)
    fillers = axes.twinx()
    fillers.bar(x, [p.get("fillers_per_minute") or 0 for p in points], width=0.4, color="#ee854a", alpha=0.6,
                label="fillers/min")
    fillers.set_ylabel("fillers a minute")
    fillers.set_ylim(0, max(10, max((p.get("fillers_per_minute") or 0) for p in points) * 1.3))
    axes.set_zorder(fillers.get_zorder() + 1)
    axes.patch.set_visible(False)
