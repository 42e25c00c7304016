"""Charts for the digest: matplotlib PNGs embedded as ``data:`` URIs, drawn from the suppressed view only.

Every word drawn into an image (axis labels, legend, row labels, week labels) is in the recipient's locale, and
so are the numbers on the bars and the axis ticks (the view's cells are already formatted).

A suppressed count has no exact value in the view, so its bar is not drawn: the chart shows ``<k`` instead.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from digest.i18n import Lang
from digest.privacy import Cell
from digest.view import Breakdown, DigestView

NAVY = "#1f3a5f"
ORANGE = "#d9822b"
GREY = "#9aa5b1"
LIGHT = "#e4e8ee"
DPI = 150

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8.5,
        "axes.edgecolor": GREY,
        "axes.labelcolor": "#333333",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "lurewatch",
    }
)


def _to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})  # same width for every chart
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _values(cells: Sequence[Cell]) -> list[float]:
    return [0.0 if c.value is None else float(c.value) for c in cells]


def _mark_suppressed(ax: Axes, positions: Sequence[float], cells: Sequence[Cell], *, horizontal: bool) -> None:
    for position, value in zip(positions, cells, strict=True):
        if value.suppressed:
            if horizontal:
                ax.annotate(value.text, (0, position), xytext=(3, 0), textcoords="offset points",
                            va="center", ha="left", fontsize=7, color=GREY)
            else:
                ax.annotate(value.text, (position, 0), xytext=(0, 2), textcoords="offset points",
                            va="bottom", ha="center", fontsize=7, color=GREY)


def trend_chart(view: DigestView) -> str:
    fig, ax = plt.subplots(figsize=(7.0, 2.3), layout="constrained")
    labels = [p.label for p in view.trend]
    cells = [p.high_risk for p in view.trend]
    positions = list(range(len(labels)))
    colors = [ORANGE if i == len(labels) - 1 else NAVY for i in positions]
    bars = ax.bar(positions, _values(cells), color=colors, width=0.62)
    for bar, value in zip(bars, cells, strict=True):
        if not value.suppressed:
            ax.annotate(value.text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7.5)
    _mark_suppressed(ax, positions, cells, horizontal=False)
    ax.set_xticks(positions, labels)
    ax.set_ylabel(view.lang.gettext("high-risk ads"))
    _locale_ticks(ax.yaxis, view.lang)
    ax.margins(y=0.18)
    ax.grid(axis="y", color=LIGHT, linewidth=0.8)
    ax.set_axisbelow(True)
    return _to_data_uri(fig)


def _locale_ticks(axis: Any, lang: Lang) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: lang.number(round(value))))


def breakdown_chart(breakdown: Breakdown, *, limit: int = 10, lang: Lang | None = None) -> str:
    lang = lang or Lang()
    rows = list(breakdown.rows[:limit])[::-1]
    height = max(1.2, 0.26 * len(rows) + 0.6)
    fig, ax = plt.subplots(figsize=(7.0, height), layout="constrained")
    positions = list(range(len(rows)))
    current = [r.current for r in rows]
    previous = [r.previous for r in rows]
    ax.barh([p - 0.19 for p in positions], _values(previous), height=0.36, color=GREY,
            label=lang.gettext("previous week"))
    ax.barh([p + 0.19 for p in positions], _values(current), height=0.36, color=NAVY,
            label=lang.gettext("this week"))
    _mark_suppressed(ax, [p + 0.19 for p in positions], current, horizontal=True)
    _mark_suppressed(ax, [p - 0.19 for p in positions], previous, horizontal=True)
    ax.set_yticks(positions, [r.label for r in rows])
    ax.set_xlabel(lang.gettext("high-risk ads"))
    _locale_ticks(ax.xaxis, lang)
    ax.grid(axis="x", color=LIGHT, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=False, fontsize=7.5)
    ax.margins(x=0.12)
    return _to_data_uri(fig)


def render_charts(view: DigestView) -> dict[str, str]:
    charts = {"trend": trend_chart(view)}
    for name in ("indicator", "country"):
        breakdown = view.breakdowns.get(name)
        if breakdown is not None and breakdown.rows:
            charts[name] = breakdown_chart(breakdown, lang=view.lang)
    return charts
