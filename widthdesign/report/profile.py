"""Interaction profile: log2 upper bound against interaction scale per design."""

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
        if other.shape == values.shape and np.allclose(other, values, rtol=1e-9, atol=1e-9):
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


def plot_interaction_profile(arch_or_designs: Any, ax: Axes | None = None) -> Figure:
    """Bits of the upper bound (its log2) against interaction scale k for each design.

    ``checkerboard:k`` on 2-D (and N-D) grids, ``blocks:k`` on 1-D, k = 1, 2, 4, ... up to
    half the grid side. Small k is short-range interaction (governed by early widths), large
    k long-range (governed by deep widths). ``arch_or_designs``: an Architecture, a mapping
    label -> Architecture, a sequence of them, or a Recommendation (its spec, recommended and
    uniform designs). One ``Line2D`` per design, labelled with its name and widths; a design
    whose curve coincides with an earlier one is drawn with larger hollow markers (so both
    stay visible) and its label says ``= <earlier>``.
    """
    designs = _as_designs(arch_or_designs)
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
            color = _design_color(label, i)
            ax.plot(
                ks,
                values,
                color=color,
                ls=_LINESTYLE.get(label, "-"),
                marker=_MARKER.get(label, "o"),
                ms=5 if same is None else 9 + 2 * len(drawn),
                mfc=color if same is None else "none",
                mew=1.0 if same is None else 1.6,
                lw=1.8,
                label=f"{label} {list(arch.widths)}" + ("" if same is None else f"  (= {same})"),
            )
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
            f"{first.name or 'network'} — interaction profile\n"
            "early widths serve short range, deep widths long range",
            loc="left",
        )
    return fig
