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
    _as_designs,
    _design_color,
    _new_axes,
    _rc,
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


def plot_interaction_profile(arch_or_designs: Any, ax: Axes | None = None) -> Figure:
    """log2 upper bound against interaction scale k for each design.

    ``checkerboard:k`` on 2-D (and N-D) grids, ``blocks:k`` on 1-D, k = 1, 2, 4, ... up to
    half the grid side. Small k is short-range interaction (governed by early widths), large
    k long-range (governed by deep widths). ``arch_or_designs``: an Architecture, a mapping
    label -> Architecture, a sequence of them, or a Recommendation (its spec, recommended and
    uniform designs). One ``Line2D`` per design, labelled with its name and widths.
    """
    designs = _as_designs(arch_or_designs)
    with _rc():
        fig, ax = _new_axes(ax)
        family = ""
        all_values: list[float] = []
        ks: list[int] = []
        for i, (label, arch) in enumerate(designs.items()):
            ks, values, specs = interaction_profile(arch)
            family = specs[0].split(":")[0] if specs else family
            all_values.extend(values.tolist())
            ax.plot(
                ks,
                values,
                color=_design_color(label, i),
                ls=_LINESTYLE.get(label, "-"),
                marker=_MARKER.get(label, "o"),
                ms=5,
                lw=1.8,
                label=f"{label} {list(arch.widths)}",
            )
        if ks:
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.minorticks_off()
        positive = [v for v in all_values if v > 0]
        if positive and max(positive) / min(positive) > 30:
            # log2 bounds span orders of magnitude on big grids (6144 vs 4 on 64x64)
            from matplotlib.ticker import FuncFormatter, LogLocator

            ax.set_yscale("log", base=2)
            ax.yaxis.set_major_locator(LogLocator(base=4))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_ylabel("log2 upper bound (log scale)")
        else:
            ax.set_ylim(bottom=0)  # a linear axis from 0 does not exaggerate differences
            ax.set_ylabel("log2 upper bound on the separation rank")
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
