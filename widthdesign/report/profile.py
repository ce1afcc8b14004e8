"""Interaction profile: per design, the score (with a recommendation) or the log2 upper bound
against interaction scale."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..batch import bounds_many
from ..partitions import parse_partition
from ..spec import Architecture
from ._common import (
    _LINESTYLE,
    _MARKER,
    INK,
    _as_designs,
    _design_color,
    _new_axes,
    _rc,
    _y_scale,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def interaction_scales(arch: Architecture) -> list[tuple[int, str]]:
    """``(k, partition spec)`` for k = 1, 2, 4, ... up to half the (smallest) grid side:
    ``blocks:k`` on 1-D grids, ``checkerboard:k`` otherwise."""
    side = min(arch.shape)
    family = "blocks" if len(arch.shape) == 1 else "checkerboard"
    ks = [2**i for i in range(max(1, side.bit_length())) if 2**i <= side // 2]
    return [(k, f"{family}:{k}") for k in ks]


def interaction_profile(arch: Architecture) -> tuple[list[int], np.ndarray, list[str]]:
    """``(ks, log2 upper bounds, partition specs)`` along :func:`interaction_scales`.

    All scales in one call of the batch engine (:func:`widthdesign.batch.bounds_many`).
    """
    scales = interaction_scales(arch)
    ks = [k for k, _ in scales]
    specs = [s for _, s in scales]
    if not scales:
        return ks, np.zeros(0), specs
    masks = np.stack([parse_partition(s, arch).mask for s in specs])
    return ks, bounds_many(arch, masks).log2_upper, specs


def _same_as(values: np.ndarray, earlier: dict[str, np.ndarray]) -> str | None:
    """The first earlier design with the same profile (within float noise), if any."""
    for label, other in earlier.items():
        if other.shape == values.shape and np.allclose(
            other, values, rtol=1e-9, atol=1e-9, equal_nan=True
        ):
            return label
    return None


def _mark_zero_bits(ax: Axes, zeros: list[tuple[list[int], str]]) -> None:
    """A log axis cannot show 0 bits (bound 1): mark those points on the bottom edge with a
    down triangle (gid ``zero-bits``) and name them in the legend."""
    floor = ax.get_ylim()[0]
    for ks, color in zeros:
        if ks:
            ax.scatter(
                ks,
                [floor] * len(ks),
                marker="v",
                s=50,
                color=color,
                clip_on=False,
                zorder=5,
                gid="zero-bits",
            )
    if any(ks for ks, _ in zeros):
        ax.scatter([], [], marker="v", s=50, color=INK, label="0 bits (bound 1), below the axis")


def _has_profile(obj: Any) -> bool:
    """A recommendation whose designs carry their interaction profile (scores)."""
    design = getattr(obj, "design", None)
    return bool(getattr(design, "profile", None)) and hasattr(obj, "baselines")


def plot_interaction_profile(arch_or_designs: Any, ax: Axes | None = None) -> Figure:
    """How each design serves every interaction scale, short range to long range.

    Given a Recommendation (whose designs carry their profile): the **score** of each design
    (recommended and every baseline) on the partitions of
    :func:`widthdesign.optimize.profile_partitions` (``checkerboard:k`` / ``blocks:k``, then
    ``left-right`` and ``top-bottom``), as a fraction of the best log2 bound any design within
    the budget reaches for that partition (the same normalization as the optimizer's; the
    breadth is the mean of these scores). The y data are the scores, drawn as percentages.

    Otherwise (an Architecture, a mapping label -> Architecture, a sequence of them): the bits
    of the upper bound (its log2) against the scale k of ``checkerboard:k`` on 2-D (and N-D)
    grids, ``blocks:k`` on 1-D, k = 1, 2, 4, ... up to half the grid side.

    Small k is short-range interaction (governed by early widths), large k long-range
    (governed by deep widths). One ``Line2D`` per design, labelled with its name and widths; a
    design whose curve coincides with an earlier one is drawn with larger hollow markers (so
    both stay visible) and its label says ``= <earlier>``.
    """
    if _has_profile(arch_or_designs):
        return _plot_scores(arch_or_designs, ax)
    return _plot_bits(_as_designs(arch_or_designs), ax)


def _draw_line(ax: Axes, xs, values: np.ndarray, key: str, label: str, i: int, same, n: int):
    """One design's curve (style by its ``key``, legend ``label``); a curve equal to an
    earlier one gets larger hollow markers."""
    color = _design_color(key, i)
    ax.plot(
        xs,
        values,
        color=color,
        ls=_LINESTYLE.get(key, "-"),
        marker=_MARKER.get(key, "o"),
        ms=5 if same is None else 9 + 2 * n,
        mfc=color if same is None else "none",
        mew=1.0 if same is None else 1.6,
        lw=1.8,
        label=label + ("" if same is None else f"  (= {same})"),
    )
    return color


def _plot_scores(rec: Any, ax: Axes | None) -> Figure:
    from matplotlib.ticker import PercentFormatter

    from ._common import _designs, _legend_below, _not_searched, _pct, _rec_title

    designs = _designs(rec)
    names = [s.partition for s in rec.design.profile]
    xs = np.arange(len(names))
    with _rc():
        fig, ax = _new_axes(ax, figsize=(7.0, 5.5))
        drawn: dict[str, np.ndarray] = {}
        values_all: list[float] = []
        for i, (label, d) in enumerate(designs.items()):
            # a partition no design can separate (best 0 bits) has no score: a gap
            values = np.array(
                [s.score if s.best_log2_upper > 0 else np.nan for s in d.profile], dtype=float
            )
            values_all.extend(v for v in values.tolist() if v == v)
            same = _same_as(values, drawn)
            text = f"{label} {list(d.widths)}, breadth {_pct(d.breadth)}"
            text += _not_searched(rec, label)
            _draw_line(ax, xs, values, label, text, i, same, len(drawn))
            drawn[label] = values
        ticks = [n.split(":")[1] if ":" in n else n for n in names]
        ax.set_xticks(xs, ticks)
        family = next((n.split(":")[0] for n in names if ":" in n), "")
        ax.set_xlabel(f"interaction scale ({family}:k, then the halves)   short range → long range")
        ax.set_ylim(0, max([1.0, *values_all]) * 1.08)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_ylabel("score: % of the best log2 bound within the budget")
        ax.axhline(1.0, color=INK, lw=0.6, ls=(0, (1, 3)), zorder=0)
        ax.grid(color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        handles = ax.get_lines()[: len(designs)]
        _legend_below(fig, ax, handles, ncol=1)
        what = "interaction profile in % (breadth = mean score)"
        ax.set_title(_rec_title(rec, what), loc="left")
    return fig


def _plot_bits(designs: dict[str, Architecture], ax: Axes | None) -> Figure:
    with _rc():
        fig, ax = _new_axes(ax)
        family = ""
        all_values: list[float] = []
        ks: list[int] = []
        drawn: dict[str, np.ndarray] = {}
        zeros: list[tuple[list[int], str]] = []  # (ks, colour) of 0-bit points per design
        for i, (label, arch) in enumerate(designs.items()):
            ks, values, specs = interaction_profile(arch)
            family = specs[0].split(":")[0] if specs else family
            all_values.extend(values.tolist())
            same = _same_as(values, drawn)
            text = f"{label} {list(arch.widths)}"
            color = _draw_line(ax, ks, values, label, text, i, same, len(drawn))
            drawn[label] = values
            zeros.append(([k for k, v in zip(ks, values) if v <= 0], color))
        if ks:
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
        # masked: a 0-bit point leaves a gap (marked below) instead of a line plunging off
        if _y_scale(ax, all_values, "upper bound, bits (log2 of the rank)", nonpositive="mask"):
            _mark_zero_bits(ax, zeros)
        ax.set_xlabel(f"interaction scale k ({family}:k)   short range → long range")
        ax.grid(color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(frameon=False, loc="best")
        first = next(iter(designs.values()))
        ax.set_title(
            f"{first.name or 'network'} — interaction profile in bits (log2 upper bound)\n"
            "early widths serve short range, deep widths long range",
            loc="left",
        )
    return fig
