"""The cut map: where the min cut runs, drawn on the input grid.

The partition fills the grid (light tints of the side colours); every pooling window whose
delta tensor the cut takes is outlined at its level, one colour and line width per level
(coarser levels thicker and underneath, so nested outlines stay visible); inputs whose input
bond the cut takes are crossed. Readable from 4x4 to 256x256: windows smaller than a few
pixels are outlined as the boundary of their union instead of one by one.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(2, (2, 2)), Layer(4)])
>>> win = window_index(arch)      # per level: input -> its window (the delta it enters)
>>> win[0].reshape(4, 4).tolist()
[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
>>> win[1].tolist() == [0] * 16   # the last layer pools everything
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import cuts
from ..spec import Architecture, pooling_tree
from ._common import (
    CUT,
    INK,
    _bounds_text,
    _legend_below,
    _level_tex,
    _new_axes,
    _rc,
    _title,
)
from .partition import _grid_axes, _show_partition

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_cut_map", "window_index", "outline_segments", "LEVEL_COLORS", "TINT_A", "TINT_B"]

#: Outline colour per level (Paul Tol's muted scheme, dark enough on both side tints and
#: apart from the cut colour used for input bonds); cycles beyond seven levels.
LEVEL_COLORS = ["#000000", "#AA4499", "#117733", "#332288", "#882255", "#44AA99", "#999933"]
#: Light tints of the side colours: the outlines, not the fill, carry the cut.
TINT_A = "#8CC4E4"
TINT_B = "#F8F3B0"
#: Windows narrower than this (in rendered pixels) are outlined as their union.
MIN_WINDOW_PX = 6.0


def window_index(arch: Architecture) -> list[np.ndarray]:
    """Per level ``l``, an int array over the inputs: the window of layer ``l`` that input
    enters, i.e. the ``w`` of the delta tensor ``("delta", l, w)`` above it."""
    tree = pooling_tree(arch)
    pos = np.empty(arch.num_inputs, dtype=np.int64)
    pos[tree.leaves] = np.arange(arch.num_inputs)  # input -> its level-0 slot
    out = []
    for parent in tree.parents:
        pos = parent[pos]
        out.append(pos.copy())
    return out


def _runs(edges: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of the runs of True in a 1-D bool array."""
    d = np.diff(np.r_[0, edges.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def outline_segments(labels: np.ndarray, keep: np.ndarray) -> list[tuple]:
    """Segments (image data coordinates, pixel centres at integers) of the boundaries between
    pixels of different ``labels`` where at least one side is in ``keep``, and of the image
    border beside ``keep`` pixels; collinear unit edges are merged into one segment.

    >>> outline_segments(np.array([[0, 1]]), np.array([[True, False]]))
    [((-0.5, -0.5), (-0.5, 0.5)), ((0.5, -0.5), (0.5, 0.5)), ((-0.5, -0.5), (0.5, -0.5)), ((-0.5, 0.5), (0.5, 0.5))]
    """
    rows, cols = labels.shape
    segs: list[tuple] = []
    # vertical edges at x = c - 0.5 for c = 0..cols (left border, between columns, right border)
    pad_l = np.pad(labels, ((0, 0), (1, 1)), constant_values=-1)
    pad_k = np.pad(keep, ((0, 0), (1, 1)), constant_values=False)
    vert = (pad_l[:, :-1] != pad_l[:, 1:]) & (pad_k[:, :-1] | pad_k[:, 1:])
    for c in range(cols + 1):
        for r0, r1 in _runs(vert[:, c]):
            segs.append(((c - 0.5, r0 - 0.5), (c - 0.5, r1 - 0.5)))
    pad_l = np.pad(labels, ((1, 1), (0, 0)), constant_values=-1)
    pad_k = np.pad(keep, ((1, 1), (0, 0)), constant_values=False)
    horiz = (pad_l[:-1, :] != pad_l[1:, :]) & (pad_k[:-1, :] | pad_k[1:, :])
    for r in range(rows + 1):
        for c0, c1 in _runs(horiz[r, :]):
            segs.append(((c0 - 0.5, r - 0.5), (c1 - 0.5, r - 0.5)))
    return segs


def _pixels_per_cell(fig: Figure, ax: Axes, shape: tuple[int, int], one_d: bool) -> float:
    """Rendered size of one grid cell in pixels (the smaller of width and height)."""
    bbox = ax.get_position()
    width_px = fig.get_figwidth() * bbox.width * fig.dpi / shape[1]
    if one_d:
        return width_px
    height_px = fig.get_figheight() * bbox.height * fig.dpi / shape[0]
    return min(width_px, height_px)


def _level_outline(ax: Axes, level: int, labels, keep, cell_px: float, win_cells: int) -> bool:
    """Outline the cut windows of one level (gid ``cut-windows-<level>``); return True when
    they are too small to outline one by one and their union is outlined instead."""
    from matplotlib.collections import LineCollection

    # a window spans win_cells cells along the strip in 1-D, sqrt(win_cells) per side in 2-D
    one_d = labels.shape[0] == 1
    window_px = cell_px * (win_cells if one_d else win_cells**0.5)
    union = window_px < MIN_WINDOW_PX
    segs = outline_segments(keep.astype(np.int64) if union else labels, keep)
    lw = float(np.clip(0.6 + 0.5 * level, 0.6, 3.5))
    lw = min(lw, max(0.5, 0.25 * window_px))
    ax.add_collection(
        LineCollection(
            segs,
            colors=LEVEL_COLORS[level % len(LEVEL_COLORS)],
            linewidths=lw,
            zorder=10 - 0.1 * level,  # finer levels on top of coarser ones
            capstyle="projecting",
            gid=f"cut-windows-{level}",
        )
    )
    return union


def plot_cut_map(bounds_result: cuts.Bounds, arch: Architecture, ax: Axes | None = None) -> Figure:
    """Where the min cut of ``bounds_result`` runs, on the input grid of ``arch``.

    1-D: a strip; 2-D: an image (row 0 at the top); N-D: up to four 2-D slices side by side
    (as :func:`plot_partition`). The partition is the fill (``AxesImage``, gid ``cutmap``, 1
    on side A); the pooling windows whose delta tensors the cut takes are outlined per level
    (``LineCollection`` gid ``cut-windows-<level>``, level 0 = the first pooling layer), and
    the inputs whose input bond the cut takes are crossed (gid ``cut-inputs``). The legend
    names every line: level, how many of its windows the cut takes, their size in inputs and
    the bond dimension each contributes.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    b = bounds_result
    cut = b.cut
    mask = b.partition.mask
    grid = arch.shape
    one_d = len(grid) == 1
    with _rc():
        size = (7.0, 2.8) if one_d else ((7.0, 6.4) if len(grid) == 2 else (7.0, 3.8))
        fig, ax = _new_axes(ax, size)
        image, index, captions = _show_partition(ax, mask, grid, (TINT_A, TINT_B), "cutmap")
        cell_px = _pixels_per_cell(fig, ax, image.shape, one_d)
        handles: list = [
            Patch(facecolor=TINT_A, edgecolor=INK, label=f"side A ({int(mask.sum())} inputs)"),
            Patch(facecolor=TINT_B, edgecolor=INK, label=f"side B ({int((~mask).sum())} inputs)"),
        ]
        handles += _draw_cut_windows(ax, arch, cut, index, cell_px)
        handles += _draw_cut_inputs(ax, arch, cut, index, cell_px)
        cut_inputs = cut.bonds
        if not cut.deltas and not cut_inputs:
            handles.append(Line2D([], [], ls="", label="the cut takes nothing (bound 1)"))
        _axes_style(ax, grid, image.shape, captions)
        ax.set_title(
            _title(
                f"{arch.name or 'network'} — where the min cut runs for {b.partition.label}",
                f"{_bounds_text(b)}, min cut = {cut.formula(arch.depth, tex=True)}"
                f"  (log2 = {b.log2_upper_bound:.6g})",
            ),
            loc="left",
            pad=16 if captions else 6,
        )
        _legend_below(fig, ax, handles, ncol=1)
    return fig


def _draw_cut_windows(ax: Axes, arch: Architecture, cut: cuts.Cut, index, cell_px: float) -> list:
    """Outline the windows the cut takes, level by level; one legend handle per level."""
    from matplotlib.lines import Line2D

    dims = arch.bond_dims()
    tex = _level_tex(arch.depth)
    windows = window_index(arch)
    by_level: dict[int, list[int]] = {}
    for node, _ in cut.deltas:
        by_level.setdefault(node[1], []).append(node[2])
    gap = index < 0
    handles = []
    for level in sorted(by_level):
        win = windows[level]
        labels = np.where(gap, -2, win[np.where(gap, 0, index)])
        keep = ~gap & np.isin(labels, by_level[level])
        n_windows = int(win.max()) + 1
        win_cells = arch.num_inputs // n_windows
        union = _level_outline(ax, level, labels, keep, cell_px, win_cells)
        line = ax.findobj(lambda a, lv=level: a.get_gid() == f"cut-windows-{lv}")[0]
        label = (
            f"layer {level} windows cut: {len(by_level[level])} of {n_windows}"
            f" ({win_cells} inputs each), {tex[level + 1]} = {dims[level + 1]} each"
            f" = {_bits(len(by_level[level]), dims[level + 1])} bits"
            + ("; outline of their union" if union else "")
        )
        color, lw = line.get_colors()[0], line.get_linewidths()[0]
        handles.append(Line2D([], [], color=color, lw=lw, label=label))
    return handles


def _draw_cut_inputs(ax: Axes, arch: Architecture, cut: cuts.Cut, index, cell_px: float) -> list:
    """Cross the inputs whose input bond the cut takes; a legend handle when there are any."""
    from matplotlib.lines import Line2D

    cut_inputs = [u[1] for u, _, _ in cut.bonds]
    if not cut_inputs:
        return []
    where = np.argwhere(np.isin(index, cut_inputs))
    ax.scatter(
        where[:, 1],
        where[:, 0],
        marker="x",
        c=CUT,
        # at least ~3 points: a cross may spill over 1-pixel cells but stays visible
        s=float(np.clip(0.5 * max(cell_px, 6.0), 1.0, 40.0)),
        linewidths=float(np.clip(0.08 * cell_px, 0.5, 1.5)),
        zorder=12,
        gid="cut-inputs",
    )
    m = f"{_level_tex(arch.depth)[0]} = {arch.channels}"
    label = f"input bond cut: {len(cut_inputs)} inputs, {m} each"
    label += f" = {_bits(len(cut_inputs), arch.channels)} bits"
    return [Line2D([], [], ls="", marker="x", color=CUT, label=label)]


def _bits(count: int, dim: int) -> str:
    """The bits ``count`` bonds of dimension ``dim`` take, ``count x log2 dim``: the legend
    says what each level adds to log2 of the upper bound (the lines add up to it).

    >>> _bits(1024, 64), _bits(2, 39)
    ('6144', '10.57')
    """
    import math

    return f"{count * math.log2(dim):.4g}" if dim > 1 else "0"


def _axes_style(ax: Axes, grid, shape, captions) -> None:
    """The grid axes of the partition figure, with a margin so border outlines are not
    clipped by the axes."""
    _grid_axes(ax, grid, shape, captions)
    rows, cols = shape
    ax.set_xlim(-0.5 - 0.01 * cols, cols - 0.5 + 0.01 * cols)
    ax.set_ylim(rows - 0.5 + 0.01 * max(rows, 4), -0.5 - 0.01 * max(rows, 4))
