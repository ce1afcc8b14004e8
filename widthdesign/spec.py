"""Architecture specs: the ConvAC a user describes, its pooling tree and its compute cost.

A spec is a frozen :class:`Architecture`. It is written in TOML or JSON (one schema)::

    name = "1-D N=16"
    [input]
    shape = [16]        # grid of input positions, any rank
    channels = 2        # M
    # order = [...]     # grid slot s (row-major) holds input order[s]
    [[layers]]
    width = 4
    pool = [2]          # a window of the grid's rank that divides the current grid
    ...
    [output]
    classes = 1         # Y

or, instead of pooling windows, a top-level ``tree`` of nested lists of flat input indices
(all leaves at the same depth) with ``layers`` giving only ``width`` per level.

Everything downstream works on the :class:`PoolingTree`, a level-by-level description of
which positions each pooling window merges, derived once per architecture.

>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(4, 2), Layer(4, 2), Layer(4)])
>>> arch.widths, arch.depth, arch.num_inputs
((4, 4, 4), 3, 8)
>>> pooling_tree(arch).sizes
(8, 4, 2, 1)
"""

from __future__ import annotations

import errno
import json
import math
import os
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SpecError

__all__ = [
    "Architecture",
    "Layer",
    "PoolingTree",
    "pooling_tree",
    "load",
    "loads",
    "dump",
    "dumps",
    "to_dict",
    "from_dict",
    "cost",
    "cost_coefficients",
    "unrolled_leaf_count",
    "CONV_KINDS",
    "MAX_UNROLLED_LEAVES",
    "COST_MODELS",
    "MAX_SPEC_BYTES",
    "MAX_TREE_DEPTH",
    "MAX_INT_DIGITS",
    "check_output_file",
    "check_output_folder",
]

#: Cost models: name -> one-line description (see :func:`cost`).
COST_MODELS = {
    "params": "sum_l r[l-1]*r[l] + r[L-1]*Y  (one 1x1 kernel per layer, as in a ConvNet)",
    "params-unshared": "sum_l n[l]*r[l-1]*r[l] + r[L-1]*Y  (a kernel per position)",
    "macs": "sum_l n[l]*r[l-1]*r[l] + r[L-1]*Y  (multiply-adds of one forward pass)",
}
# conv = "window" layers (a kernel per window offset) replace the per-layer factor: K[l]
# (window size) for params, E[l] (window-member pairs) for params-unshared and macs; see
# cost_coefficients.


@dataclass(frozen=True)
class Layer:
    """One hidden layer: a 1x1 convolution to ``width`` channels, then product pooling.

    ``pool`` is the pooling window (one entry per grid axis; an int for 1-D). ``None`` on the
    last layer means global pooling; with an explicit ``tree`` it must be ``None``. ``width``
    may be ``None`` in a spec given to ``recommend``, which chooses it.

    ``stride`` (default: the window) moves the window by fewer positions than it covers, so
    windows overlap (Sharir & Shashua 2018); window ``x`` covers positions ``x*s + d``,
    ``d = 0 .. w-1``, inside the grid. ``conv`` is ``"1x1"`` (one matrix per position below,
    read by every window that holds it) or ``"window"`` (Sharir & Shashua's generalized
    convolution: one matrix per window offset ``d``). Both give the same tensor network.
    """

    width: int | None
    pool: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    conv: str = "1x1"

    def __post_init__(self) -> None:
        for key in ("pool", "stride"):
            value = getattr(self, key)
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                object.__setattr__(self, key, (int(value),))
            elif isinstance(value, (list, tuple)):
                object.__setattr__(self, key, tuple(value))


@dataclass(frozen=True)
class Architecture:
    """A convolutional arithmetic circuit (ConvAC), unshared weights unless stated otherwise.

    Args:
        shape: input grid, ``(N,)`` for 1-D, ``(H, W)`` for 2-D, any rank.
        channels: M, representation channels per input position.
        layers: hidden layers bottom to top (:class:`Layer`, a dict, or an int width when
            ``tree`` is given).
        order: optional permutation; grid slot ``s`` (row-major) holds input ``order[s]``.
        tree: optional explicit pooling tree of nested lists of flat input indices.
        classes: Y, the number of outputs (bounds are per output).
        name: a label for reports.

    >>> Architecture(shape=(4,), channels=2, layers=[Layer(3, 2), Layer(5)]).pools
    ((2,), (2,))
    """

    shape: tuple[int, ...]
    channels: int
    layers: tuple[Layer, ...]
    order: tuple[int, ...] | None = None
    tree: Any = None
    classes: int = 1
    name: str = ""
    _pools: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)
    _strides: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        _normalize(self)
        _validate(self)

    # -- derived, cheap ---------------------------------------------------------------------
    @property
    def widths(self) -> tuple[int | None, ...]:
        return tuple(layer.width for layer in self.layers)

    @property
    def pools(self) -> tuple[tuple[int, ...], ...]:
        """Pooling window per layer (grid specs; the last one resolved to the full grid)."""
        return self._pools

    @property
    def strides(self) -> tuple[tuple[int, ...], ...]:
        """Stride per layer (grid specs; the window where no stride is given)."""
        return self._strides

    @property
    def overlapping(self) -> bool:
        """Some layer's windows overlap (a stride below its window along some axis): the
        tensor network is the unrolled tree whose leaves repeat inputs."""
        return any(s != p for ss, pp in zip(self._strides, self._pools) for s, p in zip(ss, pp))

    @property
    def duplicated(self) -> bool:
        """Some input is read through two or more paths (overlapping windows share it): the
        network is then its unrolled tree on a diagonal, and no lower bound is proved. False
        for overlapping windows that never share a position (e.g. a window of 3 with stride
        2 on a grid of 2)."""
        return self.overlapping and unrolled_leaf_count(self) > self.num_inputs

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def num_inputs(self) -> int:
        return math.prod(self.shape)

    @property
    def has_widths(self) -> bool:
        return all(w is not None for w in self.widths)

    def require_widths(self) -> tuple[int, ...]:
        """The widths, or :class:`SpecError` naming the first missing one."""
        for i, w in enumerate(self.widths):
            if w is None:
                raise SpecError(f"layers[{i}].width", None, "a positive integer width")
        return tuple(int(w) for w in self.widths)  # type: ignore[arg-type]

    def with_widths(self, widths: Sequence[int]) -> Architecture:
        """A copy with new layer widths (same geometry)."""
        if len(widths) != self.depth:
            raise SpecError("widths", list(widths), f"{self.depth} widths, one per layer")
        layers = tuple(replace(layer, width=int(w)) for layer, w in zip(self.layers, widths))
        return replace(self, layers=layers)

    def bond_dims(self) -> tuple[int, ...]:
        """Bond dimensions ``(M, r_0, ..., r_{L-1})``: terminal bonds, then each level's deltas."""
        return (self.channels, *self.require_widths())


# -- normalization and validation -----------------------------------------------------------


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _normalize(arch: Architecture) -> None:
    set_ = object.__setattr__
    shape = arch.shape
    if _is_int(shape):
        shape = (shape,)
    if arch.tree is not None:
        set_(arch, "tree", _freeze_tree(arch.tree, "tree"))
    if shape is None or (isinstance(shape, (list, tuple)) and len(shape) == 0):
        if arch.tree is None:
            raise SpecError("input.shape", shape, "a non-empty list of positive integers")
        shape = (len(_tree_leaves(arch.tree)),)
    if not isinstance(shape, (list, tuple)) or not all(_is_int(s) and s > 0 for s in shape):
        raise SpecError("input.shape", shape, "a non-empty list of positive integers")
    set_(arch, "shape", tuple(int(s) for s in shape))
    layers = arch.layers
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        raise SpecError("layers", layers, "a non-empty list of layers")
    set_(arch, "layers", tuple(_as_layer(x, i) for i, x in enumerate(layers)))
    if arch.order is not None:
        if not isinstance(arch.order, (list, tuple, np.ndarray)):
            raise SpecError("input.order", arch.order, "a list of input indices")
        set_(arch, "order", tuple(int(x) if _is_int(x) else x for x in arch.order))


def _as_layer(x: object, i: int) -> Layer:
    if isinstance(x, Layer):
        return x
    if _is_int(x) or x is None:
        return Layer(x)  # type: ignore[arg-type]
    if isinstance(x, dict):
        unknown = set(x) - {"width", "pool", "stride", "conv"}
        if unknown:
            raise SpecError(
                f"layers[{i}]", sorted(unknown)[0], "keys 'width', 'pool', 'stride', 'conv' only"
            )
        pool = x.get("pool")
        if pool is not None and not (_is_int(pool) or isinstance(pool, (list, tuple))):
            raise SpecError(f"layers[{i}].pool", pool, "a list of positive integers")
        stride = x.get("stride")
        if stride is not None and not (_is_int(stride) or isinstance(stride, (list, tuple))):
            raise SpecError(f"layers[{i}].stride", stride, "a list of positive integers")
        return Layer(x.get("width"), pool, stride, x.get("conv", "1x1"))
    raise SpecError(f"layers[{i}]", x, "a table with 'width' and 'pool'")


#: Deepest explicit pooling tree (levels) a spec may nest: enough for any real network (a
#: tree of windows of 2 over 2^64 inputs is 64 deep) and far from Python's recursion limit.
MAX_TREE_DEPTH = 200


def _freeze_tree(node: object, where: str) -> Any:
    """Nested lists -> nested tuples, iteratively, refusing trees deeper than
    :data:`MAX_TREE_DEPTH` before anything recursive sees them."""
    stack = [(node, where, 0)]
    while stack:  # check the depth and every item first, without recursion
        item, path, depth = stack.pop()
        if _is_int(item):
            continue
        if not isinstance(item, (list, tuple)) or len(item) == 0:
            raise SpecError(path, item, "a non-empty list of subtrees or an input index")
        if depth >= MAX_TREE_DEPTH:
            raise SpecError(
                "tree", f"{MAX_TREE_DEPTH + 1}+ levels", f"at most {MAX_TREE_DEPTH} nested levels"
            )
        stack.extend((c, f"{path}[{i}]", depth + 1) for i, c in enumerate(item))
    return _freeze_checked(node)


def _freeze_checked(node: object) -> Any:
    if _is_int(node):
        return int(node)
    return tuple(_freeze_checked(c) for c in node)  # type: ignore[union-attr]


def _tree_leaves(tree: Any) -> list[int]:
    if isinstance(tree, int):
        return [tree]
    return [leaf for child in tree for leaf in _tree_leaves(child)]


def _tree_depths(tree: Any, depth: int = 0) -> set[int]:
    if isinstance(tree, int):
        return {depth}
    return set().union(*(_tree_depths(c, depth + 1) for c in tree))


#: Most decimal digits of a dimension (M, a width, Y): Python's own default limit for int()
#: of a string. Bounds (products of dimensions) have no limit; the lower-bound bases of a
#: 4300-digit dimension take seconds to enumerate.
MAX_INT_DIGITS = 4300
_MAX_INT = 10**MAX_INT_DIGITS


def _positive_int(value: object, what: str = "") -> str:
    """What a dimension field expects, said for the value found: the digit limit only when
    the value is an integer past it (``width = -4`` needs no talk of 4300 digits)."""
    name = f" ({what})" if what else ""
    if _is_int(value) and value >= _MAX_INT:
        return f"a positive integer{name} of at most {MAX_INT_DIGITS} digits"
    return f"a positive integer{name}"


def _validate(arch: Architecture) -> None:
    if not _is_int(arch.channels) or arch.channels < 1 or arch.channels >= _MAX_INT:
        raise SpecError("input.channels", arch.channels, _positive_int(arch.channels, "M"))
    if not _is_int(arch.classes) or arch.classes < 1 or arch.classes >= _MAX_INT:
        raise SpecError("output.classes", arch.classes, _positive_int(arch.classes, "Y"))
    for i, layer in enumerate(arch.layers):
        ok = _is_int(layer.width) and 1 <= layer.width < _MAX_INT
        if layer.width is not None and not ok:
            raise SpecError(f"layers[{i}].width", layer.width, _positive_int(layer.width))
    n = arch.num_inputs
    if arch.order is not None:
        ok = all(map(_is_int, arch.order)) and sorted(arch.order) == list(range(n))
        if not ok:
            raise SpecError("input.order", list(arch.order), f"a permutation of 0..{n - 1}")
    _check_convs(arch)
    if arch.tree is not None:
        _validate_tree(arch)
    else:
        pools, strides = _validate_pools(arch)
        object.__setattr__(arch, "_pools", pools)
        object.__setattr__(arch, "_strides", strides)


def _validate_tree(arch: Architecture) -> None:
    n = arch.num_inputs
    leaves = _tree_leaves(arch.tree)
    if sorted(leaves) != list(range(n)):
        raise SpecError("tree", arch.tree, f"leaves forming a permutation of 0..{n - 1}")
    depths = _tree_depths(arch.tree)
    if len(depths) != 1:
        raise SpecError("tree", arch.tree, "all leaves at the same depth")
    (depth,) = depths
    if depth != arch.depth:
        raise SpecError("layers", len(arch.layers), f"{depth} layers, one per tree level")
    if arch.order is not None:
        raise SpecError("input.order", list(arch.order), "no order when a tree is given")
    for i, layer in enumerate(arch.layers):
        if layer.pool is not None:
            raise SpecError(f"layers[{i}].pool", list(layer.pool), "no pool when a tree is given")


def _validate_pools(arch: Architecture) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Windows and strides per layer, checked against the grid entering each layer."""
    grid = arch.shape
    pools, strides = [], []
    for i, layer in enumerate(arch.layers):
        last = i == arch.depth - 1
        pool = layer.pool
        if pool is None:
            if not last:
                raise SpecError(f"layers[{i}].pool", None, f"a window of {len(grid)} integers")
            if layer.stride is not None:
                raise SpecError(
                    f"layers[{i}].stride",
                    list(layer.stride),
                    "no stride on a layer that pools globally (no pool); give a pool with it",
                )
            pool = grid
        if len(pool) != len(grid) or not all(_is_int(p) and p >= 1 for p in pool):
            raise SpecError(
                f"layers[{i}].pool",
                list(pool),
                f"a list of {len(grid)} positive integers (one per axis of the grid {list(grid)})",
            )
        stride = _check_stride(layer, i, pool, grid)
        if stride == tuple(pool) and any(g % p for g, p in zip(grid, pool)):
            raise SpecError(
                f"layers[{i}].pool", list(pool), f"a window that divides the grid {list(grid)}"
            )
        grid = tuple(g // s for g, s in zip(grid, stride))
        if last and math.prod(grid) != 1:
            raise SpecError(
                f"layers[{i}].pool",
                list(pool),
                f"a window that reduces the grid {[g * s for g, s in zip(grid, stride)]} "
                "to a single position (the last layer pools globally)",
            )
        pools.append(tuple(int(p) for p in pool))
        strides.append(stride)
    return tuple(pools), tuple(strides)


def _check_stride(layer: Layer, i: int, pool, grid) -> tuple[int, ...]:
    """The layer's stride (its window when none is given), or :class:`SpecError`."""
    if layer.stride is None:
        return tuple(int(p) for p in pool)
    stride = layer.stride
    field_ = f"layers[{i}].stride"
    if len(stride) != len(grid) or not all(_is_int(s) and s >= 1 for s in stride):
        raise SpecError(
            field_,
            list(stride),
            f"a list of {len(grid)} positive integers (one per axis of the grid {list(grid)})",
        )
    if any(s > p for s, p in zip(stride, pool)):
        raise SpecError(
            field_,
            list(stride),
            f"at most the window {list(pool)} along every axis (a larger stride skips inputs)",
        )
    if any(g % s for g, s in zip(grid, stride)):
        raise SpecError(field_, list(stride), f"a stride that divides the grid {list(grid)}")
    return tuple(int(s) for s in stride)


#: The kinds of layer (``conv`` in a spec).
CONV_KINDS = ("1x1", "window")


def _check_convs(arch: Architecture) -> None:
    for i, layer in enumerate(arch.layers):
        if layer.conv not in CONV_KINDS:
            raise SpecError(f"layers[{i}].conv", layer.conv, "'1x1' or 'window'")
        if arch.tree is None:
            continue
        if layer.stride is not None:
            raise SpecError(
                f"layers[{i}].stride",
                list(layer.stride),
                "no stride when a tree is given (overlapping windows need a grid spec with pool)",
            )
        if layer.conv != "1x1":
            raise SpecError(
                f"layers[{i}].conv",
                layer.conv,
                "'1x1' when a tree is given (conv = 'window' needs a grid spec with pool)",
            )


# -- the pooling tree -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PoolingTree:
    """Level-by-level structure of the pooling: the skeleton of the tensor network.

    Attributes:
        leaves: ``leaves[s]`` is the input index held by level-0 position (slot) ``s``.
        parents: ``parents[l][j]`` is the window of level ``l`` that position ``j`` of level
            ``l`` falls in; windows of level ``l`` are the positions of level ``l + 1``.
        sizes: ``(n_0, ..., n_L)``, positions entering each layer; ``n_0 = N``, ``n_L = 1``.
        grids: grid shape entering each layer (and ``(1, ...)`` at the top), or ``None`` for
            an explicit tree.
        children: ``children[l]`` are the level-``l`` positions sorted by window; window ``w``
            holds ``children[l][starts[l][w]:starts[l][w + 1]]``.
        starts: window boundaries into ``children[l]`` (length ``n_{l+1} + 1``).
        uniform: window size per level when every window of that level has the same size.
        positions: overlapping specs only (else ``None``): the tree is the network unrolled
            so that every input appears once per path that reads it (its leaves repeat
            inputs); ``positions[l][j]`` is the row-major grid position, in the network's
            grid entering layer ``l`` (``network_grids[l]``), of the tree's level-``l``
            position ``j`` (levels ``0 .. L``).
        network_grids: grid shape entering each layer and the top ``(1, ...)`` of the
            network itself (grid specs; for non-overlapping specs the same as ``grids``).
    """

    leaves: np.ndarray
    parents: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]
    grids: tuple[tuple[int, ...], ...] | None
    children: tuple[np.ndarray, ...]
    starts: tuple[np.ndarray, ...]
    uniform: tuple[int | None, ...]
    positions: tuple[np.ndarray, ...] | None = None
    network_grids: tuple[tuple[int, ...], ...] | None = None

    @property
    def depth(self) -> int:
        return len(self.parents)

    @property
    def network_sizes(self) -> tuple[int, ...]:
        """Positions of the network (not of the unrolled tree) entering each layer, and 1."""
        if self.network_grids is None:
            return self.sizes
        return tuple(math.prod(g) for g in self.network_grids)

    def window(self, level: int, w: int) -> np.ndarray:
        """Positions of level ``level`` merged by window ``w``."""
        s = self.starts[level]
        return self.children[level][s[w] : s[w + 1]]


@lru_cache(maxsize=64)
def pooling_tree(arch: Architecture) -> PoolingTree:
    """The :class:`PoolingTree` of an architecture (cached per architecture)."""
    positions = network_grids = None
    if arch.tree is not None:
        leaves, parents, sizes = _tree_structure(arch.tree)
        grids = None
    elif arch.overlapping:
        positions, parents, sizes, network_grids = _unrolled_structure(
            arch.shape, arch.pools, arch.strides
        )
        leaves = positions[0] if arch.order is None else np.asarray(arch.order)[positions[0]]
        grids = None  # the tree's levels are not grids: the batch engine takes its tree path
    else:
        n = arch.num_inputs
        leaves = np.asarray(arch.order) if arch.order is not None else np.arange(n)
        parents, sizes, grids = _grid_structure(arch.shape, arch.pools)
        network_grids = grids
    # int32 indices below 2^31 positions: the tree of a 4096x4096 grid is ~280 MB, not 560
    index = np.int32 if sizes[0] < 2**31 else np.int64
    parents = [p.astype(index, copy=False) for p in parents]
    children, starts, uniform = [], [], []
    for level, parent in enumerate(parents):
        order = np.argsort(parent, kind="stable").astype(index)
        counts = np.bincount(parent, minlength=sizes[level + 1])
        children.append(order)
        starts.append(np.concatenate([[0], np.cumsum(counts)]))
        uniform.append(int(counts[0]) if counts.min() == counts.max() else None)
    return PoolingTree(
        leaves=leaves.astype(index, copy=False),
        parents=tuple(parents),
        sizes=tuple(sizes),
        grids=grids,
        children=tuple(children),
        starts=tuple(starts),
        uniform=tuple(uniform),
        positions=None if positions is None else tuple(p.astype(index) for p in positions),
        network_grids=network_grids,
    )


#: Most positions (leaves) an unrolled tree of an overlapping spec may have: 2^24 leaves take
#: ~0.5 GB of tree arrays and seconds per partition (32x32 with five 3x3 / stride-2 layers
#: has 13,924).
MAX_UNROLLED_LEAVES = 1 << 24


def unrolled_leaf_count(arch: Architecture) -> int:
    """Leaves of the (unrolled) pooling tree, from the sizes alone: ``N`` without overlaps,
    else the number of paths from the output to an input (product of the per-axis counts:
    windows are separable).

    >>> arch = Architecture(shape=(8,), channels=2,
    ...                     layers=[Layer(2, 3, 2), Layer(2, 3, 2), Layer(2, 3, 2)])
    >>> unrolled_leaf_count(arch)
    14
    """
    if arch.tree is not None or not arch.overlapping:
        return arch.num_inputs
    grids = [tuple(arch.shape)]
    for st in arch.strides:
        grids.append(tuple(g // s for g, s in zip(grids[-1], st)))
    return _leaf_count(arch.shape, arch.pools, arch.strides, grids)


def _axis_children(n_in: int, n_out: int, w: int, s: int) -> list[list[int]]:
    """Per window ``x`` of one axis: positions ``x*s + d`` inside ``0 .. n_in - 1``."""
    return [list(range(x * s, min(x * s + w, n_in))) for x in range(n_out)]


def _unrolled_structure(shape, pools, strides):
    """The unrolled tree of an overlapping grid network, top down: every window's children
    are the positions it reads, each with its own copy of the subtree below. Positions of a
    level are numbered window by window (depth-first), members in row-major offset order."""
    grids = [tuple(shape)]
    for st in strides:
        grids.append(tuple(g // s for g, s in zip(grids[-1], st)))
    total = _leaf_count(shape, pools, strides, grids)
    if total > MAX_UNROLLED_LEAVES:
        raise SpecError(
            "layers",
            f"{total} unrolled positions",
            f"an overlapping network of at most {MAX_UNROLLED_LEAVES} input copies "
            "(paths from the output to an input); use larger strides or fewer layers",
        )
    depth = len(pools)
    pos = np.zeros(1, dtype=np.int64)  # level-L positions: the single top
    positions, parents, sizes = [pos], [], [1]
    for level in range(depth - 1, -1, -1):
        grid_in, grid_out = grids[level], grids[level + 1]
        # children of every window of this level as flat positions (CSR: starts, items)
        per_axis = [
            _axis_children(gi, go, w, s)
            for gi, go, w, s in zip(grid_in, grid_out, pools[level], strides[level])
        ]
        items, counts = [], []
        for coord in np.ndindex(*grid_out):
            flat = [0]
            for axis, c in enumerate(coord):
                flat = [f * grid_in[axis] + d for f in flat for d in per_axis[axis][c]]
            items.extend(flat)
            counts.append(len(flat))
        items = np.asarray(items, dtype=np.int64)
        counts = np.asarray(counts, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        k = counts[pos]
        parent = np.repeat(np.arange(pos.size, dtype=np.int64), k)
        offset = np.arange(parent.size, dtype=np.int64) - np.repeat(np.cumsum(k) - k, k)
        pos = items[np.repeat(starts[pos], k) + offset]
        positions.insert(0, pos)
        parents.insert(0, parent)
        sizes.insert(0, int(pos.size))
    return positions, parents, sizes, tuple(grids)


def _leaf_count(shape, pools, strides, grids) -> int:
    total = 1
    for axis in range(len(shape)):
        count = [1]
        for level in range(len(pools) - 1, -1, -1):
            n = grids[level][axis]
            w, s = pools[level][axis], strides[level][axis]
            below = [0] * n
            for x, c in enumerate(count):
                for d in range(x * s, min(x * s + w, n)):
                    below[d] += c
            count = below
        total *= sum(count)
    return total


def _grid_structure(shape, pools):
    grids, parents, sizes = [tuple(shape)], [], [math.prod(shape)]
    grid = tuple(shape)
    for pool in pools:
        new_grid = tuple(g // p for g, p in zip(grid, pool))
        # row-major window index of every position, built axis by axis with broadcasting
        # (np.indices of a 4096x4096 grid alone would take 256 MB)
        parent = np.zeros(grid, dtype=np.int64)
        stride = 1
        for axis in range(len(grid) - 1, -1, -1):
            view = [1] * len(grid)
            view[axis] = grid[axis]
            parent += (np.arange(grid[axis], dtype=np.int64) // pool[axis] * stride).reshape(view)
            stride *= new_grid[axis]
        parents.append(parent.reshape(-1))
        grid = new_grid
        grids.append(grid)
        sizes.append(math.prod(grid))
    return parents, sizes, tuple(grids)


def _tree_structure(tree):
    """Positions of each level are numbered in depth-first order of the tree."""
    levels: list[list[Any]] = []  # levels[d] = nodes at depth d, in DFS order

    def visit(node, d):
        while len(levels) <= d:
            levels.append([])
        levels[d].append(node)
        if not isinstance(node, int):
            for child in node:
                visit(child, d + 1)

    visit(tree, 0)
    depth = len(levels) - 1
    leaves = np.asarray(levels[depth])
    parents, sizes = [], []
    for d in range(depth, 0, -1):  # level l = depth - d
        parent_of = []
        for w, node in enumerate(levels[d - 1]):
            parent_of.extend([w] * len(node))
        parents.append(np.asarray(parent_of))
        sizes.append(len(levels[d]))
    sizes.append(1)
    return leaves, parents, sizes


# -- compute cost ---------------------------------------------------------------------------


def cost(arch: Architecture, model: str = "params", widths: Sequence[int] | None = None) -> int:
    """Compute cost of an architecture (exact integer).

    With r_{-1} = M: ``sum_l c_l r_{l-1} r_l + r_{L-1} Y``, the coefficients ``c_l`` of
    :func:`cost_coefficients` (n_l = the network's positions entering layer l):

    - ``params`` = sum_l r_{l-1} r_l + r_{L-1} Y
    - ``params-unshared`` and ``macs`` = sum_l n_l r_{l-1} r_l + r_{L-1} Y

    for ``conv = "1x1"`` layers; ``conv = "window"`` layers have a matrix per window offset.

    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(3, 2), Layer(5)], classes=10)
    >>> cost(arch), cost(arch, "macs")
    (71, 104)
    """
    r = tuple(widths) if widths is not None else arch.require_widths()
    coef = cost_coefficients(arch, model)
    prev, total = arch.channels, 0
    for c, width in zip(coef, r):
        total += c * prev * width
        prev = width
    return int(total + prev * arch.classes)


def cost_coefficients(arch: Architecture, model: str = "params") -> tuple[int, ...]:
    """Per layer ``l``, the number ``c_l`` of ``r_{l-1} x r_l`` matrices (``params*``) or
    matrix-vector products (``macs``) it costs; see :data:`COST_MODELS`.

    ``conv = "1x1"``: ``params`` 1 (one shared matrix), ``params-unshared`` and ``macs``
    n_l (a matrix per position entering the layer, each product computed once however many
    windows read it). ``conv = "window"`` (a matrix per window offset): ``params`` the
    window's offsets K_l (at most the grid), ``params-unshared`` and ``macs`` E_l, the number
    of (window, member) pairs (windows cut at the far edge have fewer members).

    >>> arch = Architecture(shape=(8,), channels=2,
    ...     layers=[Layer(2, 3, 2, "window"), Layer(2, 3, 2), Layer(2, 3, 2, "window")])
    >>> [cost_coefficients(arch, m) for m in ("params", "params-unshared", "macs")]
    [(3, 1, 2), (11, 4, 2), (11, 4, 2)]
    """
    if model not in COST_MODELS:
        raise SpecError("cost", model, "one of " + ", ".join(COST_MODELS))
    sizes = pooling_tree(arch).network_sizes
    out = []
    for level, layer in enumerate(arch.layers):
        if layer.conv == "1x1":
            out.append(1 if model == "params" else int(sizes[level]))
        else:
            out.append(_window_members(arch, level, model == "params"))
    return tuple(out)


def _window_members(arch: Architecture, level: int, offsets: bool = False) -> int:
    """(window, member) pairs of a grid layer (per axis, the members of every window), or
    with ``offsets`` the window offsets some window uses (a window past the grid's size uses
    only the grid's size)."""
    grid = [arch.shape]
    for st in arch.strides[:level]:
        grid.append(tuple(g // s for g, s in zip(grid[-1], st)))
    total = 1
    for n, w, s in zip(grid[-1], arch.pools[level], arch.strides[level]):
        total *= min(w, n) if offsets else sum(min(w, n - x * s) for x in range(n // s))
    return total


# -- reading and writing --------------------------------------------------------------------

_TOP_KEYS = {"name", "input", "layers", "output", "tree"}


def from_dict(data: dict) -> Architecture:
    """Build an :class:`Architecture` from the TOML/JSON schema (a parsed dict)."""
    if not isinstance(data, dict):
        raise SpecError("spec", type(data).__name__, "a table/object at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpecError(
            "spec", sorted(unknown)[0], "top-level keys " + ", ".join(sorted(_TOP_KEYS))
        )
    inp = data.get("input", {})
    if not isinstance(inp, dict):
        raise SpecError("input", inp, "a table with shape, channels and optional order")
    unknown = set(inp) - {"shape", "channels", "order"}
    if unknown:
        raise SpecError("input", sorted(unknown)[0], "keys shape, channels, order")
    if "channels" not in inp:
        raise SpecError("input.channels", None, "a positive integer (M)")
    out = data.get("output", {})
    if not isinstance(out, dict) or set(out) - {"classes"}:
        raise SpecError("output", out, "a table with only 'classes'")
    layers = data.get("layers")
    if layers is None:
        raise SpecError("layers", None, "a list of layers ([[layers]] in TOML)")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise SpecError("name", name, "a string")
    return Architecture(
        shape=inp.get("shape", ()),
        channels=inp["channels"],
        layers=layers,
        order=inp.get("order"),
        tree=data.get("tree"),
        classes=out.get("classes", 1),
        name=name,
    )


def to_dict(arch: Architecture) -> dict:
    """The schema dict of an architecture (round-trips through :func:`from_dict`)."""
    data: dict[str, Any] = {}
    if arch.name:
        data["name"] = arch.name
    inp: dict[str, Any] = {"shape": list(arch.shape), "channels": arch.channels}
    if arch.order is not None:
        inp["order"] = list(arch.order)
    data["input"] = inp
    if arch.tree is not None:
        data["tree"] = _thaw(arch.tree)
    layers = []
    for layer in arch.layers:
        entry: dict[str, Any] = {}
        if layer.width is not None:
            entry["width"] = layer.width
        if layer.pool is not None:
            entry["pool"] = list(layer.pool)
        if layer.stride is not None:
            entry["stride"] = list(layer.stride)
        if layer.conv != "1x1":
            entry["conv"] = layer.conv
        layers.append(entry)
    data["layers"] = layers
    data["output"] = {"classes": arch.classes}
    return data


def _thaw(tree):
    return tree if isinstance(tree, int) else [_thaw(c) for c in tree]


#: Largest spec file read (a spec of /dev/zero or a runaway generator must not eat the RAM).
MAX_SPEC_BYTES = 16 << 20


def loads(text: str, format: str = "toml", source: str | None = None) -> Architecture:
    """Parse a spec from TOML or JSON text (``source``: a file name for error messages).

    Both formats refuse duplicate keys, and nesting deeper than :data:`MAX_TREE_DEPTH`.
    """
    fmt = format.upper()
    where = source if source is not None else fmt
    # parse with Python's own guard against quadratic int() on huge literals (the CLI lifts
    # it to print exact bounds): a 16 MB integer literal would take hours to convert
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(MAX_INT_DIGITS)
    try:
        if format == "json":
            data = json.loads(text, object_pairs_hook=_unique_keys)
        else:
            data = tomllib.loads(text)
    except _DuplicateKey as exc:
        raise SpecError(
            "spec", where, f"each key once per JSON object (key {exc.args[0]!r} appears twice)"
        ) from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError("spec", where, f"valid {fmt} ({exc})") from None
    except RecursionError:
        raise SpecError(
            "spec", where, f"{fmt} nested at most {MAX_TREE_DEPTH} levels deep (tree too deep)"
        ) from None
    except ValueError as exc:  # e.g. an integer past MAX_INT_DIGITS digits
        if "integer string conversion" in str(exc):
            expected = f"integers of at most {MAX_INT_DIGITS} digits"
            raise SpecError("spec", where, expected) from None
        raise SpecError("spec", where, f"valid {fmt} ({exc})") from None
    finally:
        sys.set_int_max_str_digits(limit)
    try:
        return from_dict(data)
    except RecursionError:
        raise SpecError("tree", where, f"at most {MAX_TREE_DEPTH} levels deep") from None


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """JSON objects with a key twice are refused, as TOML does (no silent last-one-wins)."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def load(path: str | os.PathLike) -> Architecture:
    """Read a spec file (``.toml`` or ``.json``, chosen by suffix); the name defaults to the
    file's stem. Errors are :class:`SpecError` naming the field (the file, line and column
    for a syntax error). Files over :data:`MAX_SPEC_BYTES` are refused unread."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_SPEC_BYTES + 1)  # bounded: /dev/zero never ends
    except OSError as exc:
        raise SpecError(
            "spec",
            str(p),
            f"a readable TOML or JSON file ({exc.strerror or exc.__class__.__name__})",
        ) from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError("spec", str(p), f"a file of at most {MAX_SPEC_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("spec", str(p), "a UTF-8 TOML or JSON text file") from None
    fmt = "json" if p.suffix.lower() == ".json" else "toml"
    arch = loads(text, fmt, source=str(p))
    if not arch.name:
        arch = replace(arch, name=p.stem)
    return arch


def dumps(arch: Architecture, format: str = "toml") -> str:
    """Serialize a spec to TOML (default) or JSON."""
    data = to_dict(arch)
    if format == "json":
        return json.dumps(data, indent=2) + "\n"
    lines = []
    if "name" in data:
        lines.append(f"name = {json.dumps(data['name'])}")
    if "tree" in data:
        lines.append(f"tree = {json.dumps(data['tree'])}")
    lines.append("\n[input]")
    lines.extend(f"{k} = {json.dumps(v)}" for k, v in data["input"].items())
    for layer in data["layers"]:
        lines.append("\n[[layers]]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in layer.items())
    lines.append("\n[output]")
    lines.append(f"classes = {data['output']['classes']}")
    return "\n".join(lines) + "\n"


#: File name endings of a spec file (load and dump pick the format by them).
SPEC_SUFFIXES = (".toml", ".json")


def dump(arch: Architecture, path: str | os.PathLike, force: bool = False) -> None:
    """Write a spec atomically (temporary file, then rename); refuse to overwrite unless
    ``force``, and any name not ending in ``.toml`` or ``.json`` (``out.yaml`` would get TOML
    under a YAML name)."""
    p = Path(path)
    _check_suffix(p, SPEC_SUFFIXES, "output file")
    if p.exists() and not force:
        raise SpecError("output file", str(p), "a path that does not exist yet (or --force)")
    fmt = "json" if p.suffix.lower() == ".json" else "toml"
    atomic_write_text(p, dumps(arch, fmt))


def _check_suffix(p: Path, suffixes: Sequence[str], what: str) -> None:
    if p.suffix.lower() not in suffixes:
        ends = " or ".join(suffixes)
        raise SpecError(what, str(p), f"a file name ending in {ends}")


def check_output_file(
    path: str | os.PathLike,
    force: bool = False,
    what: str = "output file",
    suffixes: Sequence[str] | None = None,
) -> Path:
    """Refuse, before any work, an output file that could not be written: a name without one
    of ``suffixes`` (when given), an existing file (unless ``force``), a folder, a missing
    parent or one below a regular file, a read-only or pseudo filesystem (a probe file is
    created and removed beside it).

    >>> check_output_file("out.yaml", what="--write-spec", suffixes=SPEC_SUFFIXES)
    Traceback (most recent call last):
    ...
    widthdesign.errors.SpecError: --write-spec = 'out.yaml': expected a file name ending in .toml or .json
    """
    p = Path(path)
    if suffixes is not None:
        _check_suffix(p, suffixes, what)
    if p.is_dir():
        raise SpecError(what, str(p), "a file path, not a folder")
    if p.exists() and not force:
        raise SpecError(what, str(p), "a path that does not exist yet (or --force)")
    if not p.parent.is_dir():
        state = "is not a folder" if p.parent.exists() else "does not exist"
        raise SpecError(what, str(p), f"a path in an existing folder ({str(p.parent)!r} {state})")
    _probe_writable(p.parent, what, p)
    return p


def check_output_folder(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Refuse, before any work, a folder that could not be created or written: below a
    regular file, or on a read-only or pseudo filesystem (probed in its nearest existing
    ancestor)."""
    p = Path(path)
    anchor = p.absolute()
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    if not anchor.is_dir():
        raise SpecError(what, str(p), f"a folder path ({str(anchor)!r} is a file)")
    _probe_writable(anchor, what, p)
    return p


def _probe_writable(folder: Path, what: str, target: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".widthdesign-probe-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        # /proc and /sys answer "No such file or directory" for a new file in a folder that
        # exists: say what happened, not what the errno's text claims
        if exc.errno == errno.ENOENT and folder.is_dir():
            reason = "the filesystem there does not accept new files"
        else:
            reason = exc.strerror or exc.__class__.__name__
        raise SpecError(
            what,
            str(target),
            f"a writable location (cannot create a file in {str(folder)!r}: {reason})",
        ) from None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def iter_levels(arch: Architecture) -> Iterable[dict]:
    """One row per layer for ``inspect``: grid in, window, stride, kind of layer, positions,
    width, windows out, and the unrolled tree's positions (``copies``: the network's
    positions counted once per path that reads them; equal to ``positions`` without
    overlaps)."""
    tree = pooling_tree(arch)
    grids = tree.network_grids
    sizes = tree.network_sizes
    for level, layer in enumerate(arch.layers):
        yield {
            "layer": level,
            "grid": list(grids[level]) if grids else None,
            "positions": sizes[level],
            "pool": list(arch.pools[level]) if arch.tree is None else tree.uniform[level],
            "stride": list(arch.strides[level]) if arch.tree is None else None,
            "conv": layer.conv,
            "width": layer.width,
            "windows": sizes[level + 1],
            "copies": tree.sizes[level],
        }
