"""The tensor network drawing with its min cut (collapsed per level for large networks)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import cuts
from ..spec import Architecture, pooling_tree
from ._common import (
    CUT,
    EDGE,
    INK,
    MAX_DRAWN_INPUTS,
    SIDE_A,
    SIDE_B,
    _bounds_text,
    _legend_below,
    _level_tex,
    _new_axes,
    _rc,
    _title,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def network_layout(arch: Architecture, window_gap: float = 0.5) -> dict[tuple, tuple[float, float]]:
    """Layered coordinates ``node -> (x, y)`` of the tensor network's nodes.

    Rows bottom to top: inputs (y = 0), then per layer ``l`` its conv nodes (y = 2l + 1) and
    its delta tensors (y = 2l + 2), the output on top (y = 2L + 1). Leaves follow a
    depth-first walk of the pooling tree so every window is contiguous (edges never cross),
    with ``window_gap`` extra space between first-level windows; a parent sits above the
    mean of its children.
    """
    tree = pooling_tree(arch)
    depth = tree.depth
    order = np.array([0])  # level-`depth` positions, in drawing order
    for level in range(depth - 1, -1, -1):
        order = np.concatenate([tree.window(level, w) for w in order.tolist()])
    x = np.empty(tree.sizes[0])
    gaps = np.cumsum(np.r_[0, np.diff(tree.parents[0][order]) != 0]) * window_gap
    x[order] = np.arange(len(order)) + gaps
    pos: dict[tuple, tuple[float, float]] = {}
    leaves = tree.leaves.tolist()
    for s, i in enumerate(leaves):
        pos[("input", i)] = (float(x[s]), 0.0)
    for level in range(depth):
        for j in range(tree.sizes[level]):
            pos[("conv", level, j)] = (float(x[j]), 2.0 * level + 1)
        sums = np.bincount(tree.parents[level], weights=x, minlength=tree.sizes[level + 1])
        x = sums / np.diff(tree.starts[level])
        for w in range(tree.sizes[level + 1]):
            pos[("delta", level, w)] = (float(x[w]), 2.0 * level + 2)
    pos[("output",)] = (float(x[0]), 2.0 * depth + 1)
    return pos


def _linewidth(dim: int) -> float:
    """Line width grows with log2 of the bond dimension (capped so wide layers stay lines)."""
    return min(0.7 + 0.8 * math.log2(max(dim, 1)), 5.5)


@dataclass(frozen=True)
class _Frame:
    """Where things go in a network drawing: node positions, x-limits, and the room (in points)
    each row leaves between neighbours, which sizes the marks so dense rows stay readable."""

    pos: dict[tuple, tuple[float, float]]
    xlim: tuple[float, float]
    x_max: float
    span: float
    gap: dict[float, float]  # row y -> smallest x distance between neighbours (data units)
    diam: dict[float, float]  # row y -> node marker diameter (points)
    pt_per_unit: float
    dims: tuple[int, ...]

    def level_lw(self, level: int) -> float:
        """Line width of the bonds of ``level`` (0: input bonds), capped by the denser row."""
        lower = 0.0 if level == 0 else 2.0 * level - 1
        return min(_linewidth(self.dims[level]), 0.4 * self.gap[lower] * self.pt_per_unit)


def _frame(fig: Figure, ax: Axes, arch: Architecture) -> _Frame:
    pos = network_layout(arch)
    xs = [p[0] for p in pos.values()]
    x_min, x_max = min(xs), max(xs)
    span = max(x_max - x_min, 1.0)
    xlim = (x_min - 0.8, x_max + 0.14 * span + 1.5)
    # Marks scale with the room each row leaves between neighbours (in points), so a
    # 256-input bottom row gets thin ticks while the sparse top rows keep full-size nodes.
    pt_per_unit = fig.get_figwidth() * ax.get_position().width * 72 / (xlim[1] - xlim[0])
    rows: dict[float, list[float]] = {}
    for x, y in pos.values():
        rows.setdefault(y, []).append(x)
    gap = {y: float(np.diff(sorted(v)).min()) if len(v) > 1 else span for y, v in rows.items()}
    diam = {y: min(11.0, 0.6 * gap[y] * pt_per_unit) for y in rows}
    return _Frame(pos, xlim, x_max, span, gap, diam, pt_per_unit, tuple(arch.bond_dims()))


def _draw_bonds(ax: Axes, g: Any, cut: cuts.Cut, fr: _Frame) -> None:
    """Grey bonds per level (``bonds-<level>``), cut bonds thick in the cut colour
    (``cut-bonds``), and the legs of cut deltas that cross sides (``cut-delta-legs``)."""
    from matplotlib.collections import LineCollection

    from ..network import LEVEL

    pos = fr.pos
    side_a = cut.side_a
    legs: list[tuple] = []
    leg_widths: list[float] = []
    crossing = set()
    for node, _ in cut.deltas:
        for nb in g.neighbors(node):
            if (nb in side_a) != (node in side_a):
                legs.append((pos[node], pos[nb]))
                leg_widths.append(fr.level_lw(node[1] + 1) * 1.4 + 0.3)
                crossing.add(frozenset((node, nb)))
    cut_bonds = {frozenset((u, v)) for u, v, _ in cut.bonds}
    by_level: dict[int, list] = {}
    for u, v, data in g.edges(data=True):
        if frozenset((u, v)) in cut_bonds or frozenset((u, v)) in crossing:
            continue
        by_level.setdefault(data[LEVEL], []).append((pos[u], pos[v]))
    for level, segs in sorted(by_level.items()):
        ax.add_collection(
            LineCollection(
                segs, colors=EDGE, linewidths=fr.level_lw(level), zorder=1, gid=f"bonds-{level}"
            )
        )
    ax.add_collection(
        LineCollection(
            [(pos[u], pos[v]) for u, v, _ in cut.bonds],
            colors=CUT,
            linewidths=min(fr.level_lw(0) + 2.0, 0.8 * fr.gap[0.0] * fr.pt_per_unit),
            zorder=3,
            gid="cut-bonds",
        )
    )
    ax.add_collection(
        LineCollection(legs, colors=CUT, linewidths=leg_widths, zorder=3, gid="cut-delta-legs")
    )


_SHAPES = {"input": ("s", 0.85), "conv": ("o", 1.0), "delta": ("^", 1.0), "output": ("H", 1.4)}


def _input_bar(fr: _Frame) -> tuple[Any, float]:
    """A bar marker filling the gaps of a dense input row (the partition read as a coloured
    strip); a marker is scaled by its larger extent, so its size is max(w, h)."""
    from matplotlib.path import Path

    w = 0.9 * fr.gap[0.0] * fr.pt_per_unit
    h = min(14.0, 6.0 * w)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return Path([*corners, corners[0]], closed=True), max(w, h)


def _draw_nodes(ax: Axes, g: Any, cut: cuts.Cut, fr: _Frame) -> None:
    """Nodes by kind and side (``nodes-<kind>-<A|B>``), filled with their side's colour."""
    kinds = {node: data["kind"] for node, data in g.nodes(data=True)}
    for kind, (marker, factor) in _SHAPES.items():
        for side, color in (("A", SIDE_A), ("B", SIDE_B)):
            nodes = [
                v for v, k in kinds.items() if k == kind and (v in cut.side_a) == (side == "A")
            ]
            if not nodes:
                continue
            xy = np.array([fr.pos[v] for v in nodes])
            d = np.array([fr.diam[fr.pos[v][1]] for v in nodes]) * factor
            edge, lw = INK, np.minimum(0.6, 0.08 * d)
            if kind == "input" and fr.diam[0.0] < 4.0:
                marker, size = _input_bar(fr)
                d = np.full(len(nodes), size)
                edge, lw = "none", 0.0
            ax.scatter(
                xy[:, 0],
                xy[:, 1],
                s=d**2,
                marker=marker,
                c=color,
                edgecolors=edge,
                linewidths=lw,
                zorder=4,
                gid=f"nodes-{kind}-{side}",
            )


def _draw_cut_deltas(ax: Axes, cut: cuts.Cut, fr: _Frame) -> None:
    """A cut-coloured outline (``cut-deltas``) around each delta tensor the cut takes."""
    delta_xy = np.array([fr.pos[v] for v, _ in cut.deltas]).reshape(-1, 2)
    ring = np.array([fr.diam[y] for _, y in delta_xy]) * 1.7
    ax.scatter(
        delta_xy[:, 0],
        delta_xy[:, 1],
        s=ring**2,
        marker="^",
        facecolors="none",
        edgecolors=CUT,
        linewidths=np.minimum(2.2, 0.15 * ring),
        zorder=5,
        gid="cut-deltas",
    )


def _label_network(ax: Axes, arch: Architecture, fr: _Frame) -> None:
    """Bond dimensions on the right, input indices (small networks) below, rows on the left."""
    depth = arch.depth
    n = arch.num_inputs
    names = _level_tex(depth)
    for level, dim in enumerate(fr.dims):
        y = 0.5 if level == 0 else 2.0 * level  # the middle of that level's bonds
        x = fr.x_max + 0.04 * fr.span + 0.6
        ax.text(x, y, f"{names[level]} = {dim}", va="center", ha="left", fontsize=8, color=INK)
    if n <= 32:
        grid = arch.shape if arch.tree is None and len(arch.shape) == 2 else None
        for i in range(n):
            label = str(i) if grid is None else f"{i // grid[1]},{i % grid[1]}"
            ax.text(
                fr.pos[("input", i)][0],
                -0.55,
                label,
                ha="center",
                va="top",
                fontsize=7 if len(label) < 4 else 6,
                rotation=0 if n <= 16 else 90,
                color=INK,
            )
    ax.set_xlim(*fr.xlim)
    ax.set_ylim(-1.6 if n <= 32 else -0.8, 2.0 * depth + 1.8)
    rows = ["inputs"] + [t for i in range(depth) for t in (f"conv {i}", f"δ {i}")]
    ax.set_yticks(range(2 * depth + 2), rows + ["output"])
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(axis="y", length=0)


def _network_legend(fig: Figure, ax: Axes) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="", marker="s", mfc=SIDE_A, mec=INK, label="side A"),
        Line2D([], [], ls="", marker="s", mfc=SIDE_B, mec=INK, label="side B"),
        Line2D([], [], ls="", marker="o", mfc="white", mec=INK, label="conv"),
        Line2D([], [], ls="", marker="^", mfc="white", mec=INK, label="delta (pooling)"),
        Line2D([], [], color=CUT, lw=3, label="cut bond / crossing leg"),
        Line2D(
            [],
            [],
            ls="",
            marker="^",
            ms=9,
            mfc="none",
            mec=CUT,
            mew=2,
            label="cut delta (counts once)",
        ),
    ]
    _legend_below(fig, ax, handles, ncol=3)


def plot_network(
    bounds_result: cuts.Bounds,
    arch: Architecture,
    ax: Axes | None = None,
    max_inputs: int = MAX_DRAWN_INPUTS,
) -> Figure:
    """The tensor network of ``arch`` with the min cut of ``bounds_result``.

    Up to ``max_inputs`` inputs, every node is drawn (inputs as squares, conv matrices as
    circles, delta tensors as triangles, the output as a hexagon), filled with the colour of
    its side; grey bonds thicken with log bond dimension, cut bonds are drawn thick in the cut
    colour, and a cut delta tensor (a hyperedge: its crossing legs count once) gets a cut-
    coloured outline with its crossing legs dashed. Larger networks get the collapsed view:
    per level, how many bonds or deltas the cut takes, of which dimension (see
    :func:`plot_cut_map` for where they are).

    Artists carry ``gid``s for inspection: ``cut-bonds`` and ``cut-delta-legs``
    (LineCollections), ``cut-deltas`` and ``nodes-<kind>-<A|B>`` (scatters), ``bonds-<level>``.
    """
    if arch.num_inputs > max_inputs:
        return _plot_network_collapsed(bounds_result, arch, ax)
    from ..network import build_network

    with _rc():
        fig, ax = _new_axes(ax)
        cut = bounds_result.cut
        fr = _frame(fig, ax, arch)
        g = build_network(arch)
        _draw_bonds(ax, g, cut, fr)
        _draw_nodes(ax, g, cut, fr)
        _draw_cut_deltas(ax, cut, fr)
        _label_network(ax, arch, fr)
        b = bounds_result
        ax.set_title(
            _title(
                f"{arch.name or 'network'} — {b.partition.label}: {_bounds_text(b)}",
                f"min cut = {cut.formula(arch.depth, tex=True)}  (log2 = {b.log2_upper_bound:.4g})",
            ),
            loc="left",
        )
        _network_legend(fig, ax)
    return fig


def _plot_network_collapsed(bounds_result: cuts.Bounds, arch: Architecture, ax) -> Figure:
    """One bar per level (inputs at the bottom): the bits of the upper bound the cut takes there.

    Each bar is that level's share of log2 of the upper bound (count x log2 dimension), so the
    bars add up to the bound; the level's label says how many items the cut takes out of the
    level's total. The x-axis ends just past the longest bar.
    """
    with _rc():
        fig, ax = _new_axes(ax)
        cut = bounds_result.cut
        tree = pooling_tree(arch)
        depth = arch.depth
        dims = arch.bond_dims()
        counts = cut.counts(depth)
        tex = _level_tex(depth)
        # Items a cut can take per level: N input bonds, then one delta per window.
        totals = [tree.sizes[0]] + [tree.sizes[level + 1] for level in range(depth)]
        bits = [c * math.log2(d) for c, d in zip(counts, dims)]
        y = np.arange(depth + 1)
        colors = [CUT if c else EDGE for c in counts]
        ax.barh(y, bits, height=0.6, color=colors, edgecolor=INK, linewidth=0.5, gid="cut-levels")
        top = max(bits) if max(bits) > 0 else 1.0
        for level, bit in enumerate(bits):
            if bit:
                ax.text(bit + 0.01 * top, level, f"{bit:.6g}", va="center", fontsize=8, color=INK)
        labels = []
        for level, (c, d, tot) in enumerate(zip(counts, dims, totals)):
            what = "input bonds" if level == 0 else f"layer {level - 1} windows"
            labels.append(f"{what}, {tex[level]} = {d}\ncut takes {c or 'none'} of {tot}")
        ax.set_yticks(y, labels)
        ax.set_xlim(0, top * 1.12)  # room for the value labels only
        ax.set_ylim(-0.6, depth + 0.6)
        ax.set_xlabel("bits of the upper bound taken at this level  (count × log2 width)")
        b = bounds_result
        ax.set_title(
            _title(
                f"{arch.name or 'network'} — {b.partition.label}: {_bounds_text(b)}",
                f"min cut = {cut.formula(depth, tex=True)}  (log2 = {b.log2_upper_bound:.6g}); "
                f"bits per level ({arch.num_inputs} inputs)",
                # the level labels take ~2 of the 7 inches: wrap to the axes, not the figure
                width=56,
            ),
            loc="left",
        )
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    return fig
