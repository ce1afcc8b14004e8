"""Figures and report folders: where the min cut runs, what it separates, how widths pay off.

Every ``plot_*`` function takes a result object, draws into ``ax`` (or a new figure when
``ax`` is ``None``) and returns the :class:`matplotlib.figure.Figure`. matplotlib is imported
inside the functions only, so ``import widthdesign`` (and even ``import widthdesign.report``)
stays free of it. New figures are plain :class:`~matplotlib.figure.Figure` objects, not
pyplot figures: nothing is registered globally, nothing needs closing, and saving uses the Agg
renderer whatever backend the session has. To show one interactively, pass ``ax`` from
``plt.subplots()``.

What each figure shows:

- :func:`plot_network`: the tensor network and its min cut (collapsed per level for large
  networks);
- :func:`plot_partition`: the partition on the input grid, bounds in the title;
- :func:`plot_widths`: widths per layer of the spec, the recommended and the uniform designs;
- :func:`plot_interaction_profile`: log2 upper bound against interaction scale per design;
- :func:`plot_budget_sweep`: objective against budget, recommended vs uniform;
- :func:`write_report`: all of them, plus ``index.html`` and ``summary.md``, into a folder.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(4, 2), Layer(4, 2), Layer(4)])
>>> pos = network_layout(arch)    # layered: inputs at y = 0, the output on top
>>> pos[("input", 0)], pos[("delta", 0, 0)], pos[("output",)]
((0.0, 0.0), (0.5, 2.0), (4.25, 7.0))
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cuts
from .batch import bounds_many
from .errors import WidthDesignError
from .partitions import parse_partition
from .spec import Architecture, atomic_write_bytes, cost, pooling_tree

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ReportError",
    "plot_network",
    "plot_partition",
    "plot_widths",
    "plot_interaction_profile",
    "plot_budget_sweep",
    "write_report",
    "network_layout",
    "interaction_scales",
    "interaction_profile",
    "default_partitions",
    "check_report_folder",
    "FORMATS",
    "SIDE_A",
    "SIDE_B",
    "CUT",
]


class ReportError(WidthDesignError):
    """A report cannot be written (folder not empty without ``force``, bad format...)."""


# -- style ----------------------------------------------------------------------------------
# Okabe-Ito palette (colour-blind safe). Sides are blue / yellow, the cut vermillion: the three
# stay apart under every common colour-vision deficiency, and the cut is the only saturated
# warm line in a network drawing whose other edges are grey.
SIDE_A = "#0072B2"
SIDE_B = "#F0E442"
CUT = "#D55E00"
EDGE = "#A0A0A0"
INK = "#222222"
#: Colour per design label; other labels cycle through :data:`_CYCLE`.
DESIGN_COLORS = {"spec": "#0072B2", "recommended": "#D55E00", "uniform": "#009E73"}
_CYCLE = ["#CC79A7", "#56B4E9", "#E69F00", "#000000", "#999999"]
_HATCH = {"spec": "", "recommended": "//", "uniform": ".."}
_LINESTYLE = {"spec": "-", "recommended": "--", "uniform": ":"}
_MARKER = {"spec": "o", "recommended": "s", "uniform": "^"}

FIGSIZE = (7.0, 4.5)
DPI = 150
#: Networks with more inputs than this are drawn collapsed, one row per level.
MAX_DRAWN_INPUTS = 256
FORMATS = ("png", "svg", "pdf")

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # keep text as text in SVG (searchable, smaller)
    "pdf.fonttype": 42,  # TrueType in PDF, as journals ask
}


def _rc():
    import matplotlib

    return matplotlib.rc_context(_RC)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    """``ax``'s figure, or a new constrained-layout figure (not registered with pyplot)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _design_color(label: str, i: int) -> str:
    return DESIGN_COLORS.get(label, _CYCLE[i % len(_CYCLE)])


# -- numbers --------------------------------------------------------------------------------


def _fmt(x: int) -> str:
    """Bounds and costs in figures: exact up to 12 digits (see :func:`cuts.format_int`)."""
    return cuts.format_int(x, digits=12)


def _bounds_text(b: cuts.Bounds) -> str:
    if b.exact:
        return f"rank = {_fmt(b.upper_bound)}"
    return f"{_fmt(b.lower_bound)} ≤ rank ≤ {_fmt(b.upper_bound)}"


def _level_tex(depth: int) -> list[str]:
    """Mathtext names of the bond dimensions, ``$M$``, ``$r_0$``, ..."""
    return ["$M$"] + [f"$r_{{{i}}}$" for i in range(depth)]


# -- the tensor network ---------------------------------------------------------------------


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
    per level, how many bonds or deltas the cut takes, of which dimension.

    Artists carry ``gid``s for inspection: ``cut-bonds`` and ``cut-delta-legs``
    (LineCollections), ``cut-deltas`` and ``nodes-<kind>-<A|B>`` (scatters), ``bonds-<level>``.
    """
    if arch.num_inputs > max_inputs:
        return _plot_network_collapsed(bounds_result, arch, ax)
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.path import Path

    with _rc():
        fig, ax = _new_axes(ax)
        cut = bounds_result.cut
        pos = network_layout(arch)
        dims = arch.bond_dims()
        depth = arch.depth
        n = arch.num_inputs
        from .network import LEVEL, build_network

        g = build_network(arch)
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

        def level_lw(level: int) -> float:
            lower = 0.0 if level == 0 else 2.0 * level - 1  # the denser end of these bonds
            return min(_linewidth(dims[level]), 0.4 * gap[lower] * pt_per_unit)

        cut_bonds = {frozenset((u, v)) for u, v, _ in cut.bonds}
        side_a = cut.side_a
        # Legs of a cut delta that cross sides: drawn in the cut colour instead of grey.
        legs: list[tuple] = []
        leg_widths: list[float] = []
        crossing = set()
        for node, _ in cut.deltas:
            for nb in g.neighbors(node):
                if (nb in side_a) != (node in side_a):
                    legs.append((pos[node], pos[nb]))
                    leg_widths.append(level_lw(node[1] + 1) * 1.4 + 0.3)
                    crossing.add(frozenset((node, nb)))
        by_level: dict[int, list] = {}
        for u, v, data in g.edges(data=True):
            if frozenset((u, v)) in cut_bonds or frozenset((u, v)) in crossing:
                continue
            by_level.setdefault(data[LEVEL], []).append((pos[u], pos[v]))
        for level, segs in sorted(by_level.items()):
            ax.add_collection(
                LineCollection(
                    segs, colors=EDGE, linewidths=level_lw(level), zorder=1, gid=f"bonds-{level}"
                )
            )
        bond_segs = [(pos[u], pos[v]) for u, v, _ in cut.bonds]
        ax.add_collection(
            LineCollection(
                bond_segs,
                colors=CUT,
                linewidths=min(level_lw(0) + 2.0, 0.8 * gap[0.0] * pt_per_unit),
                zorder=3,
                gid="cut-bonds",
            )
        )
        ax.add_collection(
            LineCollection(legs, colors=CUT, linewidths=leg_widths, zorder=3, gid="cut-delta-legs")
        )
        shapes = {
            "input": ("s", 0.85),
            "conv": ("o", 1.0),
            "delta": ("^", 1.0),
            "output": ("H", 1.4),
        }
        kinds = {node: data["kind"] for node, data in g.nodes(data=True)}
        for kind, (marker, factor) in shapes.items():
            for side, color in (("A", SIDE_A), ("B", SIDE_B)):
                nodes = [
                    v for v, k in kinds.items() if k == kind and (v in side_a) == (side == "A")
                ]
                if not nodes:
                    continue
                xy = np.array([pos[v] for v in nodes])
                d = np.array([diam[pos[v][1]] for v in nodes]) * factor
                edge, lw = INK, np.minimum(0.6, 0.08 * d)
                if kind == "input" and diam[0.0] < 4.0:
                    # too dense for squares: bars filling the gaps form a coloured strip (the
                    # partition, read along the bottom); a marker is scaled by its larger
                    # extent, so s = max(w, h)^2 for a w x h bar
                    w = 0.9 * gap[0.0] * pt_per_unit
                    h = min(14.0, 6.0 * w)
                    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
                    marker = Path([*corners, corners[0]], closed=True)
                    d = np.full(len(nodes), max(w, h))
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
        delta_xy = np.array([pos[v] for v, _ in cut.deltas]).reshape(-1, 2)
        ring = np.array([diam[y] for _, y in delta_xy]) * 1.7
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
        # Width labels on the right, one per level, at the middle of that level's bonds.
        names = _level_tex(depth)
        for level, dim in enumerate(dims):
            y = 0.5 if level == 0 else 2.0 * level
            ax.text(
                x_max + 0.04 * span + 0.6,
                y,
                f"{names[level]} = {dim}",
                va="center",
                ha="left",
                fontsize=8,
                color=INK,
            )
        if n <= 32:
            grid = arch.shape if arch.tree is None and len(arch.shape) == 2 else None
            for i in range(n):
                label = str(i) if grid is None else f"{i // grid[1]},{i % grid[1]}"
                ax.text(
                    pos[("input", i)][0],
                    -0.55,
                    label,
                    ha="center",
                    va="top",
                    fontsize=7 if len(label) < 4 else 6,
                    rotation=0 if n <= 16 else 90,
                    color=INK,
                )
        ax.set_xlim(*xlim)
        ax.set_ylim(-1.6 if n <= 32 else -0.8, 2.0 * depth + 1.8)
        names = ["inputs"] + [t for i in range(depth) for t in (f"conv {i}", f"δ {i}")]
        ax.set_yticks(range(2 * depth + 2), names + ["output"])
        ax.set_xticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.tick_params(axis="y", length=0)
        b = bounds_result
        ax.set_title(
            f"{arch.name or 'network'} — {b.partition.label}: {_bounds_text(b)}\n"
            f"min cut = {cut.formula(depth, tex=True)}  (log2 = {b.log2_upper_bound:.4g})",
            loc="left",
        )
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
    return fig


def _legend_below(
    fig: Figure, ax: Axes, handles: list, ncol: int, labels: list[str] | None = None
) -> None:
    """A legend under the plot: outside the drawing so it hides no node or bar label."""
    labels = labels if labels is not None else [h.get_label() for h in handles]
    if len(fig.axes) == 1 and fig.get_layout_engine() is not None:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)
    else:
        # a caller's axes (maybe one of several): keep the legend attached to it
        ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=ncol,
            frameon=False,
        )


def _plot_network_collapsed(bounds_result: cuts.Bounds, arch: Architecture, ax) -> Figure:
    """One row per level (inputs at the bottom): how many items the cut takes, of which size.

    Each bar is that level's share of log2 of the upper bound (count x log2 dimension), so the
    bars add up to the bound; the annotation gives the count out of the level's total.
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
        for level, (c, d, tot, bit) in enumerate(zip(counts, dims, totals, bits)):
            what = ("input bond" if level == 0 else "window") + ("" if tot == 1 else "s")
            if c:
                text = f"{c} of {tot} {what} × {tex[level]} = {d}  (+{bit:.4g} bits)"
            else:
                text = f"none of {tot} {what}"
            ax.text(bit + 0.02 * top, level, text, va="center", fontsize=8, color=INK)
        labels = [f"input bonds\n{tex[0]} = {dims[0]}"] + [
            f"layer {level} deltas\n{tex[level + 1]} = {dims[level + 1]}" for level in range(depth)
        ]
        ax.set_yticks(y, labels)
        ax.set_xlim(0, top * 1.9)
        ax.set_ylim(-0.6, depth + 0.6)
        ax.set_xlabel("bits of the upper bound taken at this level  (count × log2 width)")
        b = bounds_result
        ax.set_title(
            f"{arch.name or 'network'} — {b.partition.label}: {_bounds_text(b)}\n"
            f"min cut = {cut.formula(depth, tex=True)}  (log2 = {b.log2_upper_bound:.4g}); "
            f"{arch.num_inputs} inputs, shown per level",
            loc="left",
        )
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    return fig


# -- the partition --------------------------------------------------------------------------


def plot_partition(
    bounds_result: cuts.Bounds, arch: Architecture, ax: Axes | None = None
) -> Figure:
    """The partition on the input grid: side A and side B in two colours, bounds in the title.

    1-D: a strip; 2-D: an image (row 0 at the top); N-D: up to four 2-D slices side by side
    (leading coordinates fixed). Pooling-window boundaries are drawn as white lines when they
    are sparse enough to read, and inputs whose terminal bond the cut takes get a cross.
    The image is an ``AxesImage`` (gid ``partition``) of 1 on side A, 0 on side B.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    with _rc():
        one_d = len(arch.shape) == 1
        size = (7.0, 2.4) if one_d else (FIGSIZE if len(arch.shape) == 2 else (7.0, 3.4))
        fig, ax = _new_axes(ax, size)
        part = bounds_result.partition
        mask = part.mask
        grid = arch.shape
        image, index, captions = _partition_image(mask, grid)
        cmap = ListedColormap([SIDE_B, SIDE_A]).with_extremes(bad="white")
        ax.imshow(
            np.ma.masked_invalid(image),
            cmap=cmap,
            vmin=0,
            vmax=1,
            interpolation="nearest",
            aspect="auto" if one_d else "equal",
            gid="partition",
        )
        rows, cols = image.shape
        if arch.tree is None and arch.order is None:
            _window_lines(ax, arch, index)
        cut_inputs = [u[1] for u, _, _ in bounds_result.cut.bonds]
        if cut_inputs and len(cut_inputs) <= 4096:
            where = np.argwhere(np.isin(index, cut_inputs))
            ax.scatter(
                where[:, 1],
                where[:, 0],
                marker="x",
                c=CUT,
                s=float(np.clip(2400 / max(rows, cols) ** 1.3, 4, 60)),
                linewidths=1.2,
                zorder=3,
                gid="cut-inputs",
            )
        for x0, text in captions:
            ax.text(x0, -0.7, text, ha="left", va="bottom", fontsize=8, color=INK)
        if one_d:
            ax.set_yticks([])
            ax.set_xlabel("input index")
            for spine in ("left", "top", "right"):
                ax.spines[spine].set_visible(False)
        else:
            ax.set_xlabel(f"axis {len(grid) - 1}")
            ax.set_ylabel(f"axis {len(grid) - 2}")
            for spine in ax.spines.values():
                spine.set_visible(False)
        ticks = _ticks(cols if one_d else grid[-1])
        if one_d or len(grid) == 2:
            ax.set_xticks(ticks)
        else:
            # slices sit side by side: tick each with its own coordinates
            starts = range(0, cols, grid[-1] + 1)
            ax.set_xticks(
                [o + t for o in starts for t in ticks], [str(t) for _ in starts for t in ticks]
            )
        if not one_d:
            ax.set_yticks(_ticks(grid[-2]))
        title = (
            f"{arch.name or 'network'} — partition {part.label}\n{_bounds_text(bounds_result)}"
            f"  (log2 = {bounds_result.log2_upper_bound:.4g})"
        )
        # N-D slice captions sit just above the image: lift the title clear of them
        ax.set_title(title, loc="left" if one_d else "center", pad=16 if captions else 6)
        n_a = int(mask.sum())
        handles = [
            Patch(facecolor=SIDE_A, edgecolor=INK, label=f"side A ({n_a} inputs)"),
            Patch(facecolor=SIDE_B, edgecolor=INK, label=f"side B ({mask.size - n_a} inputs)"),
        ]
        if cut_inputs:
            from matplotlib.lines import Line2D

            handles.append(
                Line2D([], [], ls="", marker="x", color=CUT, label="input bond in the cut")
            )
        _legend_below(fig, ax, handles, ncol=len(handles))
    return fig


def _ticks(n: int) -> list[int]:
    """A few round tick positions in 0..n-1."""
    if n <= 16:
        return list(range(n))
    step = 2 ** max(0, math.ceil(math.log2(n / 8)))
    return list(range(0, n, step))


def _partition_image(mask: np.ndarray, grid: tuple[int, ...]):
    """``(image, index, captions)``: values 1/0 (NaN gaps), the input index of each pixel
    (-1 in gaps) and slice captions ``(x, text)`` for N-D grids."""
    if len(grid) == 1:
        return mask[None, :].astype(float), np.arange(grid[0])[None, :], []
    if len(grid) == 2:
        return mask.reshape(grid).astype(float), np.arange(mask.size).reshape(grid), []
    lead = grid[:-2]
    n_lead = math.prod(lead)
    picks = sorted(set(np.linspace(0, n_lead - 1, min(4, n_lead)).round().astype(int).tolist()))
    m = mask.reshape(n_lead, grid[-2], grid[-1])
    idx = np.arange(mask.size).reshape(n_lead, grid[-2], grid[-1])
    gap_img = np.full((grid[-2], 1), np.nan)
    gap_idx = np.full((grid[-2], 1), -1)
    images, indices, captions, x0 = [], [], [], 0
    for k, p in enumerate(picks):
        if k:
            images.append(gap_img)
            indices.append(gap_idx)
            x0 += 1
        images.append(m[p].astype(float))
        indices.append(idx[p])
        coord = np.unravel_index(p, lead)
        captions.append((x0 - 0.5, "slice " + ",".join(map(str, coord)) + ",:,:"))
        x0 += grid[-1]
    return np.hstack(images), np.hstack(indices), captions


def _window_lines(ax: Axes, arch: Architecture, index: np.ndarray) -> None:
    """White lines at pooling-window boundaries, thicker for coarser levels; only levels with
    at most 8 windows per axis (finer ones would turn the image into a mesh)."""
    grid = arch.shape
    cols = index.shape[1]
    spans = [1] * len(grid)
    drawn = 0
    for pool in arch.pools[:-1]:
        spans = [s * p for s, p in zip(spans, pool)]
        if any(g // s > 8 for g, s in zip(grid[-2:], spans[-2:])):
            continue
        lw = 1.2 + 0.8 * drawn
        drawn += 1
        w = spans[-1]
        period = grid[-1] + 1  # N-D slices sit side by side with a one-pixel gap
        for x in range(1, cols):
            local = x % period
            if 0 < local < grid[-1] and local % w == 0:
                ax.axvline(x - 0.5, color="white", lw=lw)
        if len(grid) >= 2:
            h = spans[-2]
            for y in range(h, grid[-2], h):
                ax.axhline(y - 0.5, color="white", lw=lw)


# -- designs: widths, interaction profile, budget sweep -------------------------------------


def _designs(rec: Any) -> dict[str, Any]:
    """Designs of a recommendation in display order: spec, recommended, uniform, others."""
    baselines = dict(getattr(rec, "baselines", {}) or {})
    out = {}
    if "spec" in baselines:
        out["spec"] = baselines.pop("spec")
    out["recommended"] = rec.design
    if "uniform" in baselines:
        out["uniform"] = baselines.pop("uniform")
    out.update(baselines)
    return out


def _cost_model(rec: Any) -> str:
    return str(getattr(rec, "cost_model", "params"))


def plot_widths(recommendation: Any, ax: Axes | None = None) -> Figure:
    """Grouped bars per layer: the spec's widths, the recommended and the uniform design.

    Each design's legend entry gives its cost (the recommendation's cost model) and its
    objective. Bars are ``BarContainer``s labelled by design name (``spec``,
    ``recommended``, ``uniform``...).
    """
    with _rc():
        fig, ax = _new_axes(ax)
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
        low = min(min(int(w) for w in d.widths) for d in designs.values())
        if top / max(low, 1) >= 16:
            # widths of 2 next to 256 (a typical global-favoring design) need a log axis
            from matplotlib.ticker import FuncFormatter, LogLocator

            ax.set_yscale("log", base=2)
            ax.yaxis.set_major_locator(LogLocator(base=2))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_ylim(0.7 if low <= 1 else low / 1.6, top * 2.2)
            ax.set_ylabel("width (channels, log scale)")
        else:
            ax.set_ylim(0, top * 1.25)
            ax.set_ylabel("width (channels)")
        ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        handles, labels = ax.get_legend_handles_labels()
        text = {
            label: f"{label}: {model} = {_fmt(int(d.cost))}, objective = {float(d.objective):.4g}"
            for label, d in designs.items()
        }
        # below the axes: inside, it would sit on the tallest bars' value labels
        _legend_below(fig, ax, handles, ncol=1, labels=[text[lb] for lb in labels])
        ax.set_title(_rec_title(recommendation, "layer widths"), loc="left")
    return fig


def _rec_title(rec: Any, what: str) -> str:
    arch = getattr(rec, "arch", None)
    name = getattr(arch, "name", "") or "network"
    favor = _favor_text(getattr(rec, "favor", None))
    budget = getattr(rec, "budget", None)
    parts = [f"{name} — {what}"]
    if budget is not None:
        parts.append(f"budget {_cost_model(rec)} ≤ {_fmt(int(budget))}")
    if favor:
        parts.append(f"favor {favor}")
    return parts[0] + ("\n" + ", ".join(parts[1:]) if len(parts) > 1 else "")


def _favor_text(favor: Any) -> str:
    """A short text for a recommendation's ``favor`` (string, mapping or sequence)."""
    if favor is None:
        return ""
    if isinstance(favor, str):
        return favor
    if isinstance(favor, Mapping):
        items = list(favor.items())
    else:
        items = list(favor)
    out = []
    for item in items[:4]:
        if isinstance(item, tuple) and len(item) == 2:
            p, w = item
            out.append(f"{getattr(p, 'label', p)}" + ("" if w == 1 else f"={w:g}"))
        else:
            out.append(str(getattr(item, "label", item)))
    return ", ".join(out) + (", ..." if len(items) > 4 else "")


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
    result = bounds_many(arch, masks)
    for key in ("log2_upper", "log2_upper_bound", "log2_upper_bounds"):
        if isinstance(result, Mapping) and key in result:
            return np.asarray(result[key], dtype=float)
        if hasattr(result, key):
            return np.asarray(getattr(result, key), dtype=float)
    return None


def _as_designs(arch_or_designs: Any) -> dict[str, Architecture]:
    """Label -> architecture from an Architecture, a mapping, a sequence or a Recommendation."""
    if isinstance(arch_or_designs, Architecture):
        return {"spec": arch_or_designs}
    if isinstance(arch_or_designs, Mapping):
        return {str(k): v for k, v in arch_or_designs.items()}
    if hasattr(arch_or_designs, "design") and hasattr(arch_or_designs, "arch"):
        base = arch_or_designs.arch
        return {
            label: base.with_widths([int(w) for w in d.widths])
            for label, d in _designs(arch_or_designs).items()
        }
    out = {}
    for i, a in enumerate(arch_or_designs):
        label = a.name or f"design {i}"
        out[label if label not in out else f"{label} ({i})"] = a
    return out


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
        ax.set_ylabel(f"objective ({kind} of weighted log2 upper bounds)")
        ax.grid(color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(frameon=False, loc="best")
        title = _rec_title(recs[0], "objective vs budget")
        ax.set_title(re.sub(r"budget [^,\n]*(, )?", "", title).rstrip(", \n"), loc="left")
    return fig


# -- the report folder ----------------------------------------------------------------------


def default_partitions(arch: Architecture) -> list[str]:
    """``left-right`` plus ``top-bottom`` and ``checkerboard`` (2-D and up) or ``even-odd``."""
    if len(arch.shape) >= 2:
        return ["left-right", "top-bottom", "checkerboard"]
    return ["left-right", "even-odd"]


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:limit] or "part"


def _render(fig: Figure, fmt: str) -> bytes:
    """Figure -> bytes with the Agg-based canvases (no pyplot, no display needed)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else None
    if fmt == "svg":
        metadata = {"Date": None}  # reproducible files: no timestamp
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None}
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
    return buf.getvalue()


def check_report_folder(out_dir: str | Path, force: bool = False) -> None:
    """Raise :class:`ReportError` unless ``out_dir`` is absent, empty, or ``force``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"report folder '{out_dir}' is a file; expected a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise ReportError(
            f"report folder '{out_dir}' exists and is not empty; "
            "choose a new folder or use --force to overwrite"
        )


def write_report(
    out_dir: str | Path,
    arch: Architecture,
    parts: Sequence[Any] | None = None,
    recommendation: Any = None,
    sweep: Sequence[Any] | None = None,
    fmt: str = "png",
    force: bool = False,
) -> list[Path]:
    """Write a report folder; return the written paths (figures, ``index.html``, ``summary.md``).

    Figures: per partition the network with its min cut and the partition on the grid, the
    interaction profile, and with a ``recommendation`` the width profile (and with a ``sweep``
    of recommendations the budget sweep). The cut figures use the recommended widths when a
    recommendation is given, else the spec's. ``index.html`` is self-contained (PNG as data
    URIs, SVG inline, PDF as a PNG preview plus a link); ``summary.md`` holds the tables.

    Everything is rendered in memory first, then each file is written under a temporary name
    and renamed, so a failure leaves no half-written file. Refuses (:class:`ReportError`) a
    non-empty existing folder unless ``force``.
    """
    out = Path(out_dir)
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r} unknown; expected one of {', '.join(FORMATS)}")
    check_report_folder(out, force)
    parts = list(parts) if parts else default_partitions(arch)
    designs: dict[str, Architecture] = {}
    if recommendation is not None:
        designs = _as_designs(recommendation)
        # the cut figures show the recommended widths: say so in their titles
        primary = replace(designs["recommended"], name=f"{arch.name or 'network'} (recommended)")
    else:
        arch.require_widths()
        designs = {"spec": arch}
        primary = arch
    results = {label: [cuts.bounds(a, p) for p in parts] for label, a in designs.items()}
    primary_label = "recommended" if recommendation is not None else "spec"

    figures: list[tuple[str, str, Any]] = []  # (file name, caption, figure)
    for i, b in enumerate(results[primary_label]):
        slug = f"{i + 1:02d}-{_slug(b.partition.label)}"
        figures.append(
            (
                f"network-{slug}.{fmt}",
                f"Tensor network ({primary_label} widths {list(primary.widths)}) with the min "
                f"cut for {b.partition.label}",
                plot_network(b, primary),
            )
        )
        figures.append(
            (
                f"partition-{slug}.{fmt}",
                f"Partition {b.partition.label} on the input grid",
                plot_partition(b, primary),
            )
        )
    profile_input = recommendation if recommendation is not None else {"spec": arch}
    figures.append(
        (f"interaction.{fmt}", "Interaction profile", plot_interaction_profile(profile_input))
    )
    if recommendation is not None:
        figures.append((f"widths.{fmt}", "Width profile", plot_widths(recommendation)))
    if sweep:
        figures.append((f"sweep.{fmt}", "Budget sweep", plot_budget_sweep(sweep)))

    blobs: list[tuple[str, bytes]] = []
    html_figs = []
    for name, caption, fig in figures:
        data = _render(fig, fmt)
        blobs.append((name, data))
        preview = data if fmt != "pdf" else _render(fig, "png")
        html_figs.append((name, caption, preview, "svg" if fmt == "svg" else "png"))
    tables = _tables(arch, parts, designs, results, recommendation, sweep)
    blobs.append(("summary.md", _markdown(arch, tables, [(n, c) for n, c, _ in figures]).encode()))
    blobs.append(("index.html", _html(arch, tables, html_figs, fmt).encode()))

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in blobs:
        path = out / name
        atomic_write_bytes(path, data)
        written.append(path)
    return written


# -- tables, Markdown and HTML --------------------------------------------------------------


def _tables(
    arch, parts, designs, results, rec, sweep
) -> list[tuple[str, list[str], list[list[str]]]]:
    """``(title, header, rows)`` tables shared by ``summary.md`` and ``index.html``."""
    tables = []
    labels = list(designs)
    depth = arch.depth
    header = ["partition", "design", "upper bound", "lower bound", "exact", "log2 upper", "min cut"]
    rows = []
    for j in range(len(parts)):
        for label in labels:
            b = results[label][j]
            rows.append(
                [
                    b.partition.label,
                    label,
                    _fmt(b.upper_bound),
                    _fmt(b.lower_bound),
                    "yes" if b.exact else "no",
                    f"{b.log2_upper_bound:.4g}",
                    b.cut.formula(depth, sep=" · "),
                ]
            )
    tables.append(("Bounds per partition", header, rows))

    widths_header = ["design"] + [f"r{i}" for i in range(depth)] + ["params", "macs"]
    widths_rows = []
    for label, a in designs.items():
        w = a.require_widths()
        widths_rows.append([label, *map(str, w), _fmt(cost(a, "params")), _fmt(cost(a, "macs"))])
    tables.append(("Widths and costs", widths_header, widths_rows))

    if rec is not None:
        ds = _designs(rec)
        model = _cost_model(rec)
        rows = []
        for label, d in ds.items():
            rows.append([label, _fmt(int(d.cost)), f"{float(d.objective):.4g}"])
        tables.append(
            (
                f"Objective ({getattr(rec, 'objective_kind', 'sum')}) under budget "
                f"{model} ≤ {_fmt(int(rec.budget))}"
                + (f", favor {_favor_text(rec.favor)}" if getattr(rec, "favor", None) else ""),
                ["design", model, "objective"],
                rows,
            )
        )
        gains = []
        for other in [x for x in labels if x != "recommended"]:
            for j in range(len(parts)):
                new = results["recommended"][j].log2_upper_bound
                old = results[other][j].log2_upper_bound
                gains.append([_part_label(results, j), other, f"{new - old:+.4g}"])
            gains.append(
                [
                    "objective",
                    other,
                    f"{float(rec.design.objective) - float(ds[other].objective):+.4g}",
                ]
            )
        if gains:
            tables.append(
                ("Gains of the recommended design (log2 bits)", ["quantity", "vs", "gain"], gains)
            )
    if sweep:
        rows = []
        for r in sorted(sweep, key=lambda r: r.budget):
            uni = (r.baselines or {}).get("uniform")
            rows.append(
                [
                    _fmt(int(r.budget)),
                    str(list(r.design.widths)),
                    f"{float(r.design.objective):.4g}",
                    "-" if uni is None else str(list(uni.widths)),
                    "-" if uni is None else f"{float(uni.objective):.4g}",
                ]
            )
        tables.append(
            (
                "Budget sweep",
                ["budget", "recommended", "its objective", "uniform", "its objective"],
                rows,
            )
        )
    return tables


def _part_label(results: dict, j: int) -> str:
    return next(iter(results.values()))[j].partition.label


def _arch_line(arch: Architecture) -> str:
    grid = "x".join(map(str, arch.shape))
    widths = list(arch.widths) if arch.has_widths else "not set"
    return (
        f"{arch.num_inputs} inputs on a {grid} grid, M = {arch.channels}, "
        f"{arch.depth} layers, spec widths {widths}, Y = {arch.classes}"
    )


def _markdown(arch: Architecture, tables, figures) -> str:
    lines = [f"# Report: {arch.name or 'network'}", "", _arch_line(arch), ""]
    for title, header, rows in tables:
        lines += [f"## {title}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Figures", ""]
    lines += [f"- [{caption}]({name})" for name, caption in figures]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; }
figure img, figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _html(arch: Architecture, tables, figures, fmt: str) -> str:
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Report: {esc(arch.name or 'network')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Report: {esc(arch.name or 'network')}</h1>",
        f"<p>{esc(_arch_line(arch))}</p>",
    ]
    for title, header, rows in tables:
        out.append(f"<h2>{esc(title)}</h2><table><tr>")
        out.append("".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        out.append("</table>")
    out.append("<h2>Figures</h2>")
    for name, caption, data, kind in figures:
        out.append("<figure>")
        if kind == "svg":
            svg = data.decode("utf-8")
            out.append(svg[svg.find("<svg") :])  # drop the XML prolog and doctype
        else:
            b64 = base64.b64encode(data).decode("ascii")
            out.append(f'<img alt="{esc(caption)}" src="data:image/png;base64,{b64}">')
        link = f' (<a href="{esc(name)}">{esc(name)}</a>)' if fmt == "pdf" else ""
        out.append(f"<figcaption>{esc(caption)}{link}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
