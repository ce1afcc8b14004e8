"""Budget sweep: objective against budget, recommended vs baselines."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._common import (
    _LINESTYLE,
    _MARKER,
    DESIGN_COLORS,
    INK,
    ReportError,
    _baselines_note,
    _cost_model,
    _design_color,
    _fmt,
    _new_axes,
    _rc,
    _rec_title,
    _y_scale,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_budget_sweep(recommendations: Sequence[Any], ax: Axes | None = None) -> Figure:
    """Objective against budget for the recommended and the uniform designs.

    One ``Line2D`` per design kind (labels ``recommended``, ``uniform``); the spec's design,
    when given, is a single point at its own cost.
    """
    recs = sorted(recommendations, key=lambda r: r.budget)
    if not recs:
        raise ReportError("budget sweep: no recommendations to plot")
    with _rc():
        fig, ax = _new_axes(ax)
        budgets = [float(r.budget) for r in recs]
        series: dict[str, list[float]] = {"recommended": [float(r.design.objective) for r in recs]}
        if all("uniform" in (r.baselines or {}) for r in recs):
            series["uniform"] = [float(r.baselines["uniform"].objective) for r in recs]
        for i, (label, ys) in enumerate(series.items()):
            ax.plot(
                budgets,
                ys,
                color=_design_color(label, i),
                ls=_LINESTYLE[label],
                marker=_MARKER[label],
                ms=5,
                lw=1.8,
                label=label,
            )
        spec = (recs[0].baselines or {}).get("spec")
        if spec is not None:
            ax.scatter(
                [float(spec.cost)],
                [float(spec.objective)],
                marker="*",
                s=120,
                color=DESIGN_COLORS["spec"],
                edgecolors=INK,
                zorder=4,
                label=f"spec {list(spec.widths)}",
            )
        if max(budgets) / max(min(budgets), 1e-300) >= 8:
            from matplotlib.ticker import NullLocator

            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
        # tick the budgets swept (at most 7, so labels never collide), as plain numbers
        ticks = budgets[:: max(1, math.ceil(len(budgets) / 7))]
        ax.set_xticks(ticks, [_fmt(int(b)) for b in ticks])
        ax.set_xlabel(f"budget ({_cost_model(recs[0])})")
        kind = getattr(recs[0], "objective_kind", "sum")
        values = [v for ys in series.values() for v in ys]
        values += [float(spec.objective)] if spec is not None else []
        _y_scale(ax, values, f"objective ({kind} of weighted log2 upper bounds)")
        ax.grid(color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        handles, labels = ax.get_legend_handles_labels()
        note = _baselines_note(recs[0])
        if note:  # which baselines (and candidates) the curves compare, as a last line
            from matplotlib.lines import Line2D

            handles, labels = [*handles, Line2D([], [], ls="")], [*labels, note]
        ax.legend(handles, labels, frameon=False, loc="best")
        title = _rec_title(recs[0], "objective vs budget")
        ax.set_title(re.sub(r"budget [^,\n]*(, )?", "", title).rstrip(", \n"), loc="left")
    return fig
