"""Budget sweep: the favored partitions' log2 bounds against budget, recommended vs uniform.

The objective F is normalized per budget (each score divides by the best bound reachable
within *that* budget), so F of two budgets are not comparable; the bits of the bounds are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._common import (
    DESIGN_COLORS,
    DPI,
    INK,
    PART_COLORS,
    ReportError,
    _baselines_note,
    _cands_text,
    _cost_model,
    _favor_text,
    _fmt,
    _legend_below,
    _new_axes,
    _rc,
    _rec_candidates,
    _settings_text,
    _title,
    _y_scale,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: More favored partitions (with distinct curves) than this share one axes.
MAX_PANELS = 6
#: At most this many budgets are ticked on the x-axis (every budget of the default sweep).
MAX_TICKS = 7

#: Style per design kind (the colour is the partition's).
_STYLE = {
    "recommended": {"ls": "-", "marker": "s", "mfc": None},
    "uniform": {"ls": ":", "marker": "^", "mfc": "none"},
}


def sweep_series(recs: Sequence[Any]) -> dict[str, dict[str, list[float]]]:
    """``{design: {partition label(s): log2 upper bounds per budget}}`` for ``recommended``
    and (when every budget has one) ``uniform``; budgets in the order of ``recs``.

    Partitions whose series are equal for both designs (left-right and top-bottom on a square
    grid) share one entry, labelled ``"left-right = top-bottom"``, so no curve hides another.
    """
    names = [s.partition for s in recs[0].design.scores]
    kinds = ["recommended"]
    if all("uniform" in (r.baselines or {}) for r in recs):
        kinds.append("uniform")

    def bits(kind: str, j: int) -> list[float]:
        designs = [r.design if kind == "recommended" else r.baselines[kind] for r in recs]
        return [float(d.scores[j].log2_upper_bound) for d in designs]

    groups: dict[tuple, list[int]] = {}  # equal curves (within float noise) -> partitions
    for j in range(len(names)):
        key = tuple(tuple(round(v, 9) for v in bits(k, j)) for k in kinds)
        groups.setdefault(key, []).append(j)
    out: dict[str, dict[str, list[float]]] = {k: {} for k in kinds}
    for members in groups.values():
        label = " = ".join(names[j] for j in members)
        for kind in kinds:
            out[kind][label] = bits(kind, members[0])
    return out


def plot_budget_sweep(recommendations: Sequence[Any], ax: Axes | None = None) -> Figure:
    """The favored partitions' log2 upper bounds (bits) against budget, for the recommended
    and the uniform designs of each budget.

    Not the objective: F is normalized per budget, so it does not grow with the budget. One
    ``Line2D`` per design kind and favored partition (partitions with equal curves share one),
    labelled ``recommended: left-right``, ``uniform: left-right``...; in a new figure, one
    panel per partition (bits of different partitions differ by orders of magnitude), in a
    given ``ax`` (or beyond :data:`MAX_PANELS` partitions) all of them, coloured by partition. The spec's design, when given, is a star
    at its own cost.
    """
    recs = sorted(recommendations, key=lambda r: r.budget)
    if not recs:
        raise ReportError("budget sweep: no recommendations to plot")
    series = sweep_series(recs)
    groups = list(series["recommended"])
    with _rc():
        panels = ax is None and len(groups) <= MAX_PANELS
        if ax is None and not panels:  # too many panels: one axes, a colour per partition
            ax = _new_axes(None, figsize=(7.0, 6.0))[1]
        fig, axes = _sweep_axes(ax, len(groups))
        budgets = [float(r.budget) for r in recs]
        spec = (recs[0].baselines or {}).get("spec")
        names = [s.partition for s in recs[0].design.scores]
        for i, group in enumerate(groups):
            a = axes[i] if panels else axes[0]
            values: list[float] = []
            for kind, lines in series.items():
                color = DESIGN_COLORS[kind] if panels else PART_COLORS[i % len(PART_COLORS)]
                style = _STYLE[kind]
                a.plot(
                    budgets,
                    lines[group],
                    color=color,
                    ls=style["ls"],
                    marker=style["marker"],
                    mfc=style["mfc"] or color,
                    ms=5 if kind == "recommended" else 7,
                    lw=1.8 if kind == "recommended" else 1.4,
                    label=f"{kind}: {group}",
                )
                values.extend(lines[group])
            if spec is not None:
                y = float(spec.scores[names.index(group.split(" = ")[0])].log2_upper_bound)
                a.scatter(
                    [float(spec.cost)],
                    [y],
                    marker="*",
                    s=110,
                    color=DESIGN_COLORS["spec"] if panels else PART_COLORS[i % len(PART_COLORS)],
                    edgecolors=INK,
                    zorder=4,
                    label=f"spec {list(spec.widths)} at its cost",
                )
                values.append(y)
            if panels or i == len(groups) - 1:
                _sweep_axis(a, budgets, values if panels else _all_y(a), recs, panels)
            if panels:
                a.set_title(group, loc="left", fontsize=9)
        _sweep_legend(fig, axes[0], recs, panels, spec)
        title = _sweep_title(recs)
        if panels:
            fig.suptitle(title, x=0.02, ha="left", fontsize=10)
        else:
            axes[0].set_title(title, loc="left")
    return fig


def _sweep_axes(ax: Axes | None, n: int) -> tuple[Figure, list]:
    """``ax`` alone, or a new figure with one panel per partition group (two columns)."""
    if ax is not None:
        return ax.figure, [ax]
    from matplotlib.figure import Figure

    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(7.0, 2.0 + 2.4 * rows), dpi=DPI, layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for extra in axes[n:]:
        fig.delaxes(extra)
    return fig, axes[:n]


def _all_y(ax: Axes) -> list[float]:
    ys = [float(y) for line in ax.get_lines() for y in line.get_ydata()]
    for coll in ax.collections:
        ys += [float(y) for _, y in coll.get_offsets()]
    return ys


def _sweep_axis(ax: Axes, budgets: list[float], values: list[float], recs: Sequence, panels: bool):
    """Budgets on x (log when they span a factor 8), bits on y (the shared convention).

    Every budget swept is ticked (up to :data:`MAX_TICKS`; beyond, every other one...), with
    its min-width floor under it when the floors differ between budgets."""
    if max(budgets) / max(min(budgets), 1e-300) >= 8:
        from matplotlib.ticker import NullLocator

        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    step = max(1, math.ceil(len(budgets) / MAX_TICKS))
    floors = [getattr(r, "min_width", None) for r in recs]
    per_budget = len(set(floors)) > 1
    labels = [_fmt(int(b)) + (f"\nmin {w}" if per_budget else "") for b, w in zip(budgets, floors)]
    ax.set_xticks(budgets[::step], labels[::step], fontsize=7 if panels else 8)
    # on two lines when the floors are shown: one line overflows a half-width panel
    ax.set_xlabel(
        f"budget ({_cost_model(recs[0])})" + ("\nmin width under each budget" if per_budget else "")
    )
    label = "bits (log2 upper bound)" if panels else "favored partitions: bits (log2 upper bound)"
    _y_scale(ax, values, label, nonpositive="mask")
    ax.grid(color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def _sweep_title(recs: Sequence[Any]) -> str:
    """The spec's name, the favor and the settings every budget shares (no single budget:
    the x-axis holds them, with the floors when they differ)."""
    name = getattr(getattr(recs[0], "arch", None), "name", "") or "network"
    favor = _favor_text(getattr(recs[0], "favor", None))
    return _title(
        f"{name} — log2 bounds of the favored partitions vs budget",
        f"favor {favor}" if favor else "",
        _settings_text(recs[0], sweep_floor_text(recs)),
    )


def sweep_floor_text(recs: Sequence[Any]) -> str:
    """``min width 19``, or when the floors differ per budget (``auto`` is half the widest
    uniform width *of each budget*) where to read them."""
    floors = sorted({getattr(r, "min_width", 1) for r in recs})
    if len(floors) == 1:
        return f"min width {floors[0]}"
    return f"min width {floors[0]}..{floors[-1]} per budget (x-axis)"


def sweep_candidates_text(recs: Sequence[Any]) -> str:
    """The candidate widths of each budget in a few words, budgets that share them together:
    ``powers of two 16..1024 (budgets 2184, 4368), powers of two 32..1024 (8736, ...)``;
    "" when no recommendation says."""
    groups: dict[str, list[str]] = {}
    for r in sorted(recs, key=lambda r: r.budget):
        cands = _rec_candidates(r)
        if cands:
            groups.setdefault(_cands_text(cands), []).append(_fmt(int(r.budget)))
    if len(groups) <= 1:
        return next(iter(groups), "")
    items = [
        f"{text} (budget{'s' if len(b) > 1 else ''} {', '.join(b)})" for text, b in groups.items()
    ]
    return "; ".join(items)


def _sweep_legend(fig: Figure, ax: Axes, recs: Sequence, panels: bool, spec: Any) -> None:
    """Designs (one entry each in panels, per partition otherwise), then what the curves are
    and are not (only the designs drawn: recommended, uniform, spec) and the candidate widths
    per budget, wrapped to the figure's width."""
    import textwrap

    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if panels:  # the partition is in each panel's title
        labels = [lb.split(":")[0] if not lb.startswith("spec") else lb for lb in labels]
    shown = {"uniform", "spec"} if spec is not None else {"uniform"}
    note = _baselines_note(recs[0], shown=shown, candidates=False)
    note = note.replace("within the budget", "within each budget")
    cands = sweep_candidates_text(recs)
    note = "; ".join(
        x
        for x in [
            "bits, not F (F is normalized per budget)",
            note,
            cands and f"candidate widths {cands}",
        ]
        if x
    )
    handles = [*handles, Line2D([], [], ls="")]
    labels = [*labels, textwrap.fill(note, 100)]
    if panels:
        fig.legend(handles, labels, loc="outside lower center", ncol=1, frameon=False)
    else:
        _legend_below(fig, ax, handles, ncol=1, labels=labels)


def _group_of(name: str, groups: dict[str, Any]) -> str:
    """The series label (maybe ``a = b``) that holds partition ``name``."""
    return next(g for g in groups if name in g.split(" = "))
