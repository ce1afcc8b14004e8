"""Width profile: widths per layer of each design."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import (
    _HATCH,
    INK,
    _baselines_note,
    _cost_model,
    _design_color,
    _designs,
    _fmt,
    _legend_below,
    _new_axes,
    _not_searched,
    _pct,
    _rc,
    _rec_title,
    _y_scale,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_widths(recommendation: Any, ax: Axes | None = None) -> Figure:
    """Grouped bars per layer: the recommended design and its baselines (spec, uniform,
    wide-base, wide-tip).

    Each design's legend entry gives its cost (the recommendation's cost model), its
    objective F and its breadth as percentages of the best reachable scores; the last legend
    line says what the baselines are and which candidate widths were searched. Bars are
    ``BarContainer``s labelled by design name (``spec``, ``recommended``, ``uniform``...).
    """
    with _rc():
        fig, ax = _new_axes(ax, figsize=(7.0, 5.5))
        designs = _designs(recommendation)
        depth = len(recommendation.design.widths)
        x = np.arange(depth)
        k = len(designs)
        width = 0.8 / k
        model = _cost_model(recommendation)
        top = 1
        for i, (label, d) in enumerate(designs.items()):
            widths = [int(w) for w in d.widths]
            top = max(top, max(widths))
            bars = ax.bar(
                x + (i - (k - 1) / 2) * width,
                widths,
                width * 0.95,
                color=_design_color(label, i),
                edgecolor=INK,
                linewidth=0.5,
                hatch=_HATCH.get(label, ""),
                label=label,
            )
            ax.bar_label(bars, labels=[str(w) for w in widths], fontsize=7, padding=1)
        ax.set_xticks(x, [f"layer {i}" for i in range(depth)])
        values = [float(w) for d in designs.values() for w in d.widths]
        # headroom for the value labels on the bars
        _y_scale(ax, values, "width (channels)", headroom=1.25)
        ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        handles, labels = ax.get_legend_handles_labels()
        text = {
            label: f"{label}: {_design_text(d, model)}{_not_searched(recommendation, label)}"
            for label, d in designs.items()
        }
        # below the axes: inside, it would sit on the tallest bars' value labels
        labels = [text[lb] for lb in labels]
        note = _baselines_note(recommendation)
        if note:  # say what the baselines are, as the last legend line
            import textwrap

            from matplotlib.lines import Line2D

            handles = [*handles, Line2D([], [], ls="")]
            labels = [*labels, textwrap.fill(note, 100)]
        _legend_below(fig, ax, handles, ncol=1, labels=labels)
        ax.set_title(_rec_title(recommendation, "layer widths"), loc="left")
    return fig


def _design_text(d: Any, model: str) -> str:
    """``params = 8448, F = 95.8 %, breadth = 90.5 %`` (scores as percentages)."""
    text = f"{model} = {_fmt(int(d.cost))}, F = {_pct(d.objective)}"
    breadth = getattr(d, "breadth", None)
    return text + ("" if breadth is None else f", breadth = {_pct(breadth)}")
