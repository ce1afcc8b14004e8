"""The partition on the input grid."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .. import cuts
from ..spec import Architecture
from ._common import (
    CUT,
    FIGSIZE,
    INK,
    SIDE_A,
    SIDE_B,
    _bounds_text,
    _legend_below,
    _new_axes,
    _rc,
    _ticks,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_partition(
    bounds_result: cuts.Bounds, arch: Architecture, ax: Axes | None = None
) -> Figure:
    """The partition on the input grid: side A and side B in two colours, bounds in the title.

    1-D: a strip; 2-D: an image (row 0 at the top); N-D: up to four 2-D slices side by side
    (leading coordinates fixed). Pooling-window boundaries are drawn as white lines when they
    are sparse enough to read, and inputs whose terminal bond the cut takes get a cross.
    The image is an ``AxesImage`` (gid ``partition``) of 1 on side A, 0 on side B.
    """
    from matplotlib.patches import Patch

    with _rc():
        one_d = len(arch.shape) == 1
        size = (7.0, 2.4) if one_d else (FIGSIZE if len(arch.shape) == 2 else (7.0, 3.4))
        fig, ax = _new_axes(ax, size)
        part = bounds_result.partition
        mask = part.mask
        grid = arch.shape
        image, index, captions = _show_partition(ax, mask, grid, (SIDE_A, SIDE_B), "partition")
        rows, cols = image.shape
        window_handles: list = []
        if arch.tree is None and arch.order is None:
            window_handles = _window_lines(ax, arch, index)
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
        _grid_axes(ax, grid, image.shape, captions)
        if one_d:
            ax.spines["bottom"].set_visible(True)  # the strip sits on its index axis
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
        handles += window_handles
        _legend_below(fig, ax, handles, ncol=min(len(handles), 3))
    return fig


def _grid_axes(ax: Axes, grid: tuple[int, ...], shape, captions) -> None:
    """Ticks, axis names, N-D slice captions and no frame, for an image of the input grid
    made by :func:`_partition_image` (shared by the partition figure and the cut map)."""
    one_d = len(grid) == 1
    cols = shape[1]
    for x0, text in captions:
        ax.text(x0, -0.7, text, ha="left", va="bottom", fontsize=8, color=INK)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if one_d:
        ax.set_yticks([])
        ax.set_xlabel("input index")
    else:
        ax.set_xlabel(f"axis {len(grid) - 1}")
        ax.set_ylabel(f"axis {len(grid) - 2}")
        ax.set_yticks(_ticks(grid[-2]))
    ticks = _ticks(cols if one_d else grid[-1])
    if one_d or len(grid) == 2:
        ax.set_xticks(ticks)
    else:
        # slices sit side by side: tick each with its own coordinates
        starts = range(0, cols, grid[-1] + 1)
        ax.set_xticks(
            [o + t for o in starts for t in ticks], [str(t) for _ in starts for t in ticks]
        )


def _show_partition(ax, mask: np.ndarray, grid: tuple[int, ...], colors, gid: str):
    """Draw the partition over the grid (side A / side B colours, blank padding); returns
    :func:`_partition_image`'s image, slot index and captions."""
    from matplotlib.colors import ListedColormap

    image, index, captions = _partition_image(mask, grid)
    color_a, color_b = colors
    ax.imshow(
        np.ma.masked_invalid(image),
        cmap=ListedColormap([color_b, color_a]).with_extremes(bad="white"),
        vmin=0,
        vmax=1,
        interpolation="nearest",
        aspect="auto" if len(grid) == 1 else "equal",
        gid=gid,
    )
    return image, index, captions


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


def _window_lines(ax: Axes, arch: Architecture, index: np.ndarray) -> list:
    """White lines at pooling-window boundaries, thicker for coarser levels; only levels with
    at most 8 windows per axis (finer ones would turn the image into a mesh). Returns one
    legend handle per level drawn, naming the layer and its window size."""
    from matplotlib.lines import Line2D
    from matplotlib.patheffects import withStroke

    if arch.overlapping:
        return []  # overlapping windows have no boundaries to draw
    grid = arch.shape
    cols = index.shape[1]
    spans = [1] * len(grid)
    handles = []
    for level, pool in enumerate(arch.pools[:-1]):
        spans = [s * p for s, p in zip(spans, pool)]
        if any(g // s > 8 for g, s in zip(grid[-2:], spans[-2:])):
            continue
        lw = 1.2 + 0.8 * len(handles)
        w = spans[-1]
        period = grid[-1] + 1  # N-D slices sit side by side with a one-pixel gap
        gid = f"windows-{level}"
        for x in range(1, cols):
            local = x % period
            if 0 < local < grid[-1] and local % w == 0:
                ax.axvline(x - 0.5, color="white", lw=lw, gid=gid)
        if len(grid) >= 2:
            h = spans[-2]
            for y in range(h, grid[-2], h):
                ax.axhline(y - 0.5, color="white", lw=lw, gid=gid)
        size = "x".join(map(str, spans))
        # white on a white legend needs a dark rim to be seen
        handles.append(
            Line2D(
                [],
                [],
                color="white",
                lw=lw,
                path_effects=[withStroke(linewidth=lw + 1.2, foreground=INK)],
                label=f"pooling windows of layer {level} ({size} inputs)",
            )
        )
    return handles
