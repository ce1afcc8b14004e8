"""The min-cut engine: exact bounds on the separation rank of a ConvAC for a partition.

For a partition (A, B) of the inputs, the **upper bound** is the minimal multiplicative cut of
the tensor network (:mod:`widthdesign.network`) separating A's terminals from B's, where a
delta (copy) tensor is a hyperedge: all of its crossing legs count once. The **lower bound**
(Levine et al. 2018, Theorem 2) is the largest, over integers p >= 2, of the min cut with every
bond dimension rounded down to a power of p; the bounds meet whenever all bond dimensions are
powers of one integer.

Min-cut strategies live in a registry, :data:`CUT_METHODS`, name -> function with one
signature ``method(arch, mask, dims) -> Cut`` (``mask``: bool per input, True on side A;
``dims``: bond dimensions ``(M, r_0, ..., r_{L-1})``, possibly rounded):

- ``"dp"`` (default): dynamic program over the pooling tree, exact integers, linear time;
- ``"ortools"``: OR-Tools max-flow on Lawler's gadget graph (any graph), integer capacities;
- ``"networkx"``: networkx Boykov-Kolmogorov on the same graph.

The max-flow strategies are exact too: with exponents of a common base, or else in two
passes, the second with capacities ``ceil(log2(d) * 2^S)`` fine enough (S from the first
cut's value) that no other cut value can tie the minimum; when those capacities do not fit
OR-Tools' int64, ``"ortools"`` solves that pass with networkx (Python ints).

Values are exact Python ints (they reach 10^1000 and beyond); floats only ever appear as
``log2_*`` conveniences. The max-flow strategies find the cut with integer capacities
(exponents when all dimensions are powers of one integer, else scaled log2 fine enough to be
exact, see :func:`exact_capacity_units`) and then recompute the cut's value exactly.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(4, 2), Layer(4, 2), Layer(4)])
>>> b = bounds(arch, "even-odd")
>>> b.upper_bound, b.lower_bound, b.exact
(16, 16, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from .batch import bounds_many
from .errors import WidthDesignError
from .exact import (
    common_base,
    exact_log2,
    format_int,
    ilog,
    int_to_decimal,
    iroot,
    lower_bound_bases,
)
from .network import DIM, KIND, LEVEL, build_network, check_network_size, node_name
from .partitions import Partition, parse_partition, partition_from_mask
from .spec import Architecture, pooling_tree

__all__ = [
    "Bounds",
    "Cut",
    "bounds",
    "min_cut",
    "graph_min_cut",
    "lower_bound",
    "CUT_METHODS",
    "register_cut_method",
    "as_partition",
    "tree_dp",
    "trace_sides",
    "cut_windows",
    "describe_cut",
    "exact_sides",
    "side_counts",
    "lawler_arcs",
    "lower_bound_bases",
    "exact_log2",
    "format_int",
    "int_to_decimal",
    "iroot",
    "ilog",
    "common_base",
    "capacity_units",
    "exact_capacity_units",
    "cached_network",
    "ortools_source_side",
]

Node = tuple


@dataclass(frozen=True)
class Cut:
    """A cut of the tensor network: the certificate behind an upper bound.

    Attributes:
        bonds: plain bonds cut, as ``(u, v, dim)`` (input bonds of dimension M).
        deltas: delta tensors whose legs cross, as ``(node, dim)``; each counts once.
        side_a: every node on A's side (the rest is on B's side).
    """

    bonds: tuple[tuple[Node, Node, int], ...]
    deltas: tuple[tuple[Node, int], ...]
    side_a: frozenset

    @property
    def value(self) -> int:
        """The cut's weight: product of the cut bonds' and deltas' dimensions (exact)."""
        return math.prod(d for *_, d in self.bonds) * math.prod(d for _, d in self.deltas)

    @property
    def log2_value(self) -> float:
        return sum(math.log2(d) for *_, d in self.bonds) + sum(math.log2(d) for _, d in self.deltas)

    def formula(self, depth: int, tex: bool = False, sep: str = " ") -> str:
        """``M^3 r0^2 r2``: which bond dimensions the cut multiplies, per level (matplotlib
        mathtext when ``tex``).

        >>> Cut(bonds=(), deltas=((("delta", 0, 0), 3), (("delta", 0, 1), 3)), side_a=frozenset()).formula(2)
        'r0^2'
        """
        counts = self.counts(depth)
        if tex:
            names = ["M"] + [f"r_{{{i}}}" for i in range(depth)]
            terms = [n if c == 1 else f"{n}^{{{c}}}" for n, c in zip(names, counts) if c]
            return "$" + r"\,".join(terms) + "$" if terms else "1"
        names = ["M"] + [f"r{i}" for i in range(depth)]
        terms = [n if c == 1 else f"{n}^{c}" for n, c in zip(names, counts) if c]
        return sep.join(terms) or "1"

    def counts(self, depth: int) -> tuple[int, ...]:
        """How many items the cut takes per level: ``(input bonds, layer 0 deltas, ...)``."""
        c = [0] * (depth + 1)
        c[0] = len(self.bonds)
        for node, _ in self.deltas:
            c[node[1] + 1] += 1
        return tuple(c)

    def to_dict(self) -> dict:
        return {
            "bonds": [[node_name(u), node_name(v), d] for u, v, d in self.bonds],
            "deltas": [[node_name(n), d] for n, d in self.deltas],
        }


class TreeCut(Cut):
    """A :class:`Cut` of a pooling-tree network kept as one bool array per level (which side
    every position is on): memory linear in the inputs, the counts and the value without
    building a node set. ``bonds``, ``deltas`` and ``side_a`` are materialized on first use
    (they are the same as the plain :class:`Cut` the trace describes)."""

    def __init__(self, arch: Architecture, tree, slot_a: np.ndarray, sides, dims: Sequence[int]):
        object.__setattr__(self, "_args", (arch, tree, slot_a, sides, tuple(int(d) for d in dims)))
        object.__setattr__(self, "_full", None)

    def _materialize(self) -> Cut:
        if self._full is None:
            object.__setattr__(self, "_full", _cut_from_sides(*self._args))
        return self._full

    bonds = property(lambda self: self._materialize().bonds)  # type: ignore[assignment]
    deltas = property(lambda self: self._materialize().deltas)  # type: ignore[assignment]
    side_a = property(lambda self: self._materialize().side_a)  # type: ignore[assignment]

    def counts(self, depth: int) -> tuple[int, ...]:
        c = self.__dict__.get("_counts")
        if c is None:  # computed once: a pass over every level's sides
            _, tree, slot_a, sides, _ = self._args
            c = side_counts(tree, slot_a, sides)
            object.__setattr__(self, "_counts", c)
        return c + (0,) * (depth + 1 - len(c))

    @property
    def value(self) -> int:
        dims = self._args[4]
        return math.prod(d**c for d, c in zip(dims, self.counts(len(dims) - 1)))

    @property
    def log2_value(self) -> float:
        dims = self._args[4]
        return sum(c * exact_log2(d) for d, c in zip(dims, self.counts(len(dims) - 1)))

    def __repr__(self) -> str:
        return f"TreeCut(counts={self.counts(len(self._args[4]) - 1)})"

    def to_dict(self) -> dict:
        """Same as :meth:`Cut.to_dict`, straight from the arrays (no node set is built)."""
        _, tree, slot_a, sides, dims = self._args
        leaves = tree.leaves
        m = dims[0]
        bonds = [
            [f"input:{leaves[s]}", f"conv:0:{s}", m]
            for s in np.flatnonzero(sides[0] != slot_a).tolist()
        ]
        deltas = [
            [f"delta:{level}:{w}", dims[level + 1]]
            for level in range(tree.depth)
            for w in np.flatnonzero(cut_windows(tree, sides, level)).tolist()
        ]
        return {"bonds": bonds, "deltas": deltas}


@dataclass(frozen=True)
class Bounds:
    """Exact bounds on the maximal separation rank of ``arch`` for one partition.

    ``lower_bound <= generic rank <= upper_bound``; ``exact`` when they meet. ``lower_base``
    is the integer p whose rounding gives the lower bound (``None`` when it is 1).

    Overlapping specs: ``lower_bound`` is ``None`` (Theorem 2 is proved for tree networks
    of a function multilinear in distinct inputs; with duplicated inputs the network is that
    function on a diagonal, where no such bound is proved) and ``exact`` is False;
    ``certificate`` reads the cut in the network's own terms (see :func:`describe_cut`).
    """

    partition: Partition
    upper_bound: int
    lower_bound: int | None
    lower_base: int | None
    cut: Cut
    method: str
    certificate: tuple[dict, ...] | None = None

    @property
    def exact(self) -> bool:
        return self.lower_bound is not None and self.lower_bound == self.upper_bound

    @property
    def log2_upper_bound(self) -> float:
        return exact_log2(self.upper_bound)

    @property
    def log2_lower_bound(self) -> float | None:
        return None if self.lower_bound is None else exact_log2(self.lower_bound)

    def to_dict(self, cut: bool = True) -> dict:
        """JSON-ready dict; bounds as exact integers (JSON numbers of any length)."""
        data = {
            "partition": self.partition.label,
            "side_a": list(self.partition.side_a),
            "upper_bound": self.upper_bound,
            "lower_bound": self.lower_bound,
            "exact": self.exact,
            "log2_upper_bound": round(self.log2_upper_bound, 6),
            "log2_lower_bound": (
                None if self.lower_bound is None else round(self.log2_lower_bound, 6)
            ),
            "lower_base": self.lower_base,
        }
        if cut:
            data["cut"] = self.cut.to_dict()
            if self.certificate is not None:
                data["cut"]["copies"] = list(self.certificate)
        return data


# -- strategy registry ----------------------------------------------------------------------

CutMethod = Callable[[Architecture, np.ndarray, Sequence[int]], Cut]
CUT_METHODS: dict[str, CutMethod] = {}


def register_cut_method(name: str) -> Callable[[CutMethod], CutMethod]:
    """Decorator adding a min-cut strategy ``fn(arch, mask, dims) -> Cut`` to the registry."""

    def deco(fn: CutMethod) -> CutMethod:
        CUT_METHODS[name] = fn
        return fn

    return deco


def min_cut(arch: Architecture, mask, dims: Sequence[int] | None = None, method: str = "dp") -> Cut:
    """Minimal cut for side-A ``mask`` with bond dimensions ``dims`` (default: the spec's)."""
    if method not in CUT_METHODS:
        raise WidthDesignError(
            f"cut method {method!r} unknown; expected one of {', '.join(CUT_METHODS)}"
        )
    dims = tuple(dims) if dims is not None else arch.bond_dims()
    return CUT_METHODS[method](arch, np.asarray(mask, dtype=bool), dims)


# -- the dynamic program over the pooling tree ----------------------------------------------


def _window_reduce(values: np.ndarray, tree, level: int, ufunc) -> np.ndarray:
    """Combine ``values`` (one per level-``level`` position) per pooling window."""
    arranged = values[tree.children[level]]
    k = tree.uniform[level]
    if k is not None:
        return ufunc.reduce(arranged.reshape(-1, k), axis=1)
    return ufunc.reduceat(arranged, tree.starts[level][:-1])


def tree_dp(tree, slot_a: np.ndarray, dims: Sequence, combine=np.multiply, dtype=object):
    """Cheapest cut per subtree and side, bottom up.

    Costs combine with ``combine`` (``np.multiply`` on exact ints, ``np.add`` on exponents or
    logs). Returns the two top costs (output on A / on B) and, per level, the arrays needed to
    trace the optimal cut back: ``cut_a``/``cut_b`` (window's delta cut when its parent is on
    A / B) and ``pref_a`` (a position's cheaper side is A).
    """
    unit = 1 if combine is np.multiply else 0
    # pick from a 2-element array of the right dtype: np.where(slot_a, 1, 2**63) would go
    # through uint64/float64 and lose exactness (ints >= 2^63 must stay Python ints)
    pair = np.empty(2, dtype=dtype)
    pair[0], pair[1] = unit, dims[0]
    b_side = np.asarray(slot_a, dtype=bool)
    cost_a = pair[(~b_side).astype(np.intp)]
    cost_b = pair[b_side.astype(np.intp)]
    trace = []
    for level in range(tree.depth):
        r = np.empty((), dtype=dtype)
        r[()] = dims[level + 1]
        pref_a = cost_a <= cost_b
        both = _window_reduce(np.where(pref_a, cost_a, cost_b), tree, level, combine)
        split = combine(both, r)  # delta cut: every child takes its cheaper side
        keep_a = _window_reduce(cost_a, tree, level, combine)
        keep_b = _window_reduce(cost_b, tree, level, combine)
        cut_a, cut_b = split < keep_a, split < keep_b
        cost_a = np.where(cut_a, split, keep_a)
        cost_b = np.where(cut_b, split, keep_b)
        trace.append((cut_a, cut_b, pref_a))
    return cost_a[0], cost_b[0], trace


def trace_sides(tree, trace, top_a: bool) -> list[np.ndarray]:
    """Side (True = A) of every conv position per level, and of the output, from a DP trace."""
    sides = [np.array([top_a])]
    for level in range(tree.depth - 1, -1, -1):
        cut_a, cut_b, pref_a = trace[level]
        parent = tree.parents[level]
        parent_a = sides[0][parent]
        cut = np.where(parent_a, cut_a[parent], cut_b[parent])
        sides.insert(0, np.where(cut, pref_a, parent_a))
    return sides


#: Above this many inputs, the dp method without a common base of the dimensions traces the
#: cut with float64 logs and checks its exact value against the batch engine's exact minimum
#: (object arrays of Python ints cost ~100 bytes and ~50 ns per position and level).
FAST_INPUTS = 1 << 16


@register_cut_method("dp")
def dp_min_cut(arch: Architecture, mask: np.ndarray, dims: Sequence[int]) -> Cut:
    """Exact minimal cut by the dynamic program over the pooling tree (linear time).

    Costs are exact: int exponents when every dimension is a power of one integer (the same
    decisions as on the integers, at numpy speed), else Python ints; on large networks a
    float64 trace whose exact value is checked against :func:`widthdesign.batch.bounds_many`.
    """
    tree = pooling_tree(arch)
    # duplicated inputs (overlapping specs) keep their input's side
    slot_a = np.asarray(mask, dtype=bool)[tree.leaves]
    dims = [int(d) for d in dims]
    big = tree.sizes[0] > FAST_INPUTS  # tree positions (N without overlaps)
    if big and _common_exponents(dims, tree) is None:
        cut = _float_traced_cut(arch, tree, slot_a, dims, _batch_one(arch, mask).upper_bound(0))
        if cut is not None:
            return cut
    sides = exact_sides(tree, slot_a, dims)
    if big:
        return TreeCut(arch, tree, slot_a, sides, dims)
    return _cut_from_sides(arch, tree, slot_a, sides, dims)


def _max_cost(exps: Sequence[int], tree) -> int:
    """An upper bound on any subtree cost of an exponent DP (every item of the tree cut)."""
    return sum(int(s) * int(e) for s, e in zip(tree.sizes, exps))


def exact_sides(tree, slot_a: np.ndarray, dims: Sequence[int]) -> list[np.ndarray]:
    """Sides (True = A) per level of an exact min cut: the tree DP on int exponents when every
    dimension is a power of one integer (the same decisions as on the integers), else on
    Python ints."""
    exps = _common_exponents(dims, tree)
    if exps is not None:
        dtype = np.int32 if _max_cost(exps, tree) < 2**31 else np.int64
        top_a, top_b, trace = tree_dp(tree, slot_a, exps, combine=np.add, dtype=dtype)
    else:
        top_a, top_b, trace = tree_dp(tree, slot_a, [int(d) for d in dims])
    return trace_sides(tree, trace, bool(top_a <= top_b))


def side_counts(tree, slot_a: np.ndarray, sides: list[np.ndarray]) -> tuple[int, ...]:
    """Items per level that the cut given by ``sides`` takes: ``(input bonds, layer 0
    deltas, ...)``, the exponents of its value in ``(M, r_0, ...)``."""
    counts = [int(np.count_nonzero(sides[0] != slot_a))]
    counts += [int(np.count_nonzero(cut_windows(tree, sides, lv))) for lv in range(tree.depth)]
    return tuple(counts)


def _common_exponents(dims: Sequence[int], tree) -> list[int] | None:
    """Exponents of the dimensions' common base, when there is one and the DP fits int64."""
    base = common_base(dims)
    if base is None:
        return None
    exps = [ilog(d, base) if d > 1 else 0 for d in dims]
    return exps if _max_cost(exps, tree) < 2**62 else None


def _batch_one(arch: Architecture, mask):
    return bounds_many(arch, np.asarray(mask, dtype=bool)[None, :])


def _float_traced_cut(arch, tree, slot_a, dims, best: int) -> Cut | None:
    """The cut traced by a float64 log DP, if its exact value is the exact minimum ``best``
    (the batch engine's, which re-decides near-ties exactly); ``None`` on a float near-tie."""
    logs = [exact_log2(d) for d in dims]
    top_a, top_b, trace = tree_dp(tree, slot_a, logs, combine=np.add, dtype=np.float64)
    cut = TreeCut(arch, tree, slot_a, trace_sides(tree, trace, bool(top_a <= top_b)), dims)
    return cut if cut.value == best else None


def cut_windows(tree, sides: list[np.ndarray], level: int) -> np.ndarray:
    """Bool per window of ``level``: its delta is cut (its members and its parent are not
    all on one side), given the sides of :func:`trace_sides`."""
    n_a = np.bincount(tree.parents[level], weights=sides[level], minlength=tree.sizes[level + 1])
    size = np.diff(tree.starts[level])
    parent_a = sides[level + 1]
    return np.where(parent_a, n_a != size, n_a > 0)


def _cut_from_sides(arch, tree, slot_a, sides, dims) -> Cut:
    leaves = tree.leaves.tolist()
    bonds = tuple(
        (("input", leaves[s]), ("conv", 0, s), int(dims[0]))
        for s in np.flatnonzero(sides[0] != slot_a).tolist()
    )
    side_a = {("input", leaves[s]) for s in np.flatnonzero(slot_a).tolist()}
    deltas = []
    for level in range(tree.depth):
        child_a = sides[level]
        parent_a = sides[level + 1]
        for w in np.flatnonzero(cut_windows(tree, sides, level)).tolist():
            deltas.append((("delta", level, w), int(dims[level + 1])))
        side_a.update(("conv", level, j) for j in np.flatnonzero(child_a).tolist())
        side_a.update(("delta", level, w) for w in np.flatnonzero(parent_a).tolist())
    if sides[-1][0]:
        side_a.add(("output",))
    return Cut(bonds=bonds, deltas=tuple(deltas), side_a=frozenset(side_a))


def describe_cut(arch: Architecture, cut: Cut) -> tuple[dict, ...]:
    """The items of a cut of an overlapping spec's unrolled tree in the network's terms.

    One dict per cut item, in the order of ``cut.bonds`` then ``cut.deltas``: ``layer``
    (``-1`` for an input bond, else the layer whose delta it is), ``dim`` (its bond
    dimension: the items multiply to ``cut.value``), ``position`` (grid coordinate of the
    input, or of the window in the grid the layer outputs), ``input`` (input bonds: the
    flat input index) and ``path``: the grid coordinates through which this copy is read,
    from the positions the top layer pools down to the item's own position (each copy of a
    duplicated input or window has its own path). Removing these items separates every copy of A's inputs from
    every copy of B's.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 3, 2)] * 3)
    >>> b = bounds(arch, "left-right")
    >>> b.upper_bound, b.lower_bound, b.exact, b.cut.formula(arch.depth)
    (4, None, False, 'r0^2')
    >>> [(c["layer"], c["position"], c["path"]) for c in b.certificate]
    [(0, [0], [[0], [0]]), (0, [1], [[0], [1]])]
    """
    tree = pooling_tree(arch)
    grids = tree.network_grids
    positions = tree.positions
    if positions is None:  # not unrolled: tree position = network position
        positions = [np.arange(s) for s in tree.sizes]

    def coord(level: int, j: int) -> list[int]:
        flat = int(positions[level][j])
        if grids is None:
            return [flat]
        return [int(c) for c in np.unravel_index(flat, grids[level])]

    def path(level: int, j: int) -> list[list[int]]:
        out = []
        while level < tree.depth:  # from the top window's members down to this level
            out.append(coord(level, j))
            j = int(tree.parents[level][j])
            level += 1
        return out[::-1]

    items = []
    for (_, i), (_, _, slot), d in cut.bonds:
        items.append(
            {
                "layer": -1,
                "dim": int(d),
                "input": int(i),
                "position": coord(0, slot),
                "path": path(0, slot),
            }
        )
    for (_, level, w), d in cut.deltas:
        items.append(
            {
                "layer": int(level),
                "dim": int(d),
                "position": coord(level + 1, w),
                "path": path(level + 1, w),
            }
        )
    return tuple(items)


# -- max-flow on Lawler's gadget graph (any tensor network) ---------------------------------


def capacity_units(dims: Sequence[int]) -> list[int]:
    """Integer capacity per level: exact exponents of a common base when there is one,
    else log2 scaled by 2^24 (a first pass: :func:`graph_min_cut` re-solves with
    :func:`exact_capacity_units` so that near-ties are decided exactly)."""
    base = common_base(dims)
    if base is not None:
        return [ilog(d, base) for d in dims]
    return [round(math.log2(d) * (1 << 24)) for d in dims]


def exact_capacity_units(dims: Sequence[int], scale_bits: int) -> list[int]:
    """``ceil(log2(d) * 2^scale_bits) + 1`` per dimension (Python ints, any size): over-
    estimates by less than 3 units. With ``2^scale_bits >= 3 * items * V`` (``items``: the
    finite arcs, ``V``: the value of some cut), a minimum of these integer capacities is a
    minimum of the exact product: two distinct cut values V' > V* <= V differ by
    ``log2(V'/V*) >= log2(1 + 1/V*) >= 1/V``, more than the rounding of any cut.

    >>> exact_capacity_units([2**40 + 1, 2**40], 50)[1] == 40 * 2**50 + 1
    True
    """
    return [_scaled_log2(int(d), int(scale_bits)) for d in dims]


@lru_cache(maxsize=256)
def _scaled_log2(d: int, scale_bits: int) -> int:
    import decimal

    if d == 1:
        return 1
    digits = int((scale_bits + d.bit_length().bit_length()) * 0.30103) + 12
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        ctx.Emax = decimal.MAX_EMAX
        x = decimal.Decimal(d).ln() / decimal.Decimal(2).ln() * (decimal.Decimal(2) ** scale_bits)
        return int(x.to_integral_value(rounding=decimal.ROUND_CEILING)) + 1


@lru_cache(maxsize=8)
def cached_network(arch: Architecture) -> nx.Graph:
    return build_network(arch)


def lawler_arcs(g: nx.Graph, side_a: set, caps_by_level: Sequence[int] | None = None):
    """Arcs of the flow network for a tensor network ``g``: node list and (tail, head, cap).

    Plain bonds become two opposite arcs; a delta node of capacity c becomes Lawler's gadget
    u -> v (capacity c) with infinite arcs from every neighbour to u and from v to it. Source
    and sink are joined to A's and B's input terminals by infinite arcs. ``cap=None`` means
    infinite. Capacities default to the edges' ``dim`` (no rounding) when not given per level.
    """
    index: dict = {}

    def idx(x):
        if x not in index:
            index[x] = len(index)
        return index[x]

    source, sink = idx("__source__"), idx("__sink__")
    arcs = []

    def cap_of(data):
        return caps_by_level[data[LEVEL]] if caps_by_level is not None else data[DIM]

    for node, data in g.nodes(data=True):
        kind = data[KIND]
        if kind == "delta":
            u, v = idx(("u", node)), idx(("v", node))
            legs = g.edges(node, data=True)
            cap = cap_of(next(iter(legs))[2])
            arcs.append((u, v, cap))
            for _, nb, _ in g.edges(node, data=True):
                arcs.append((idx(nb), u, None))
                arcs.append((v, idx(nb), None))
        elif kind == "input":
            if node in side_a:
                arcs.append((source, idx(node), None))
            else:
                arcs.append((idx(node), sink, None))
    for a, b, data in g.edges(data=True):
        if g.nodes[a][KIND] != "delta" and g.nodes[b][KIND] != "delta":
            cap = cap_of(data)
            arcs.append((idx(a), idx(b), cap))
            arcs.append((idx(b), idx(a), cap))
    return index, source, sink, arcs


def graph_min_cut(
    g: nx.Graph, side_a: set, dims: Sequence[int] | None = None, flow_func: str = "ortools"
) -> Cut:
    """Minimal cut of any tensor network ``g`` (documented attributes) by max-flow.

    ``side_a``: the input nodes on side A. ``dims``: per-level bond dimensions overriding the
    edges' ``dim`` (indexed by the edge attribute ``level``). ``flow_func``: ``"ortools"`` or
    ``"networkx"``.
    """
    if dims is None:
        levels: dict[int, int] = {}
        for _, _, data in g.edges(data=True):
            levels[data[LEVEL]] = data[DIM]
        dims = [levels.get(i, 1) for i in range(max(levels) + 1)]
    if flow_func not in ("ortools", "networkx"):
        raise WidthDesignError(f"flow_func {flow_func!r} unknown; expected 'ortools' or 'networkx'")
    cut = _flow_cut(g, side_a, dims, capacity_units(dims), flow_func)
    if common_base(dims) is not None:
        return cut  # exact exponents: the minimum is exact already
    # Second pass with capacities fine enough to separate every cut value from the minimum
    # (log2 * 2^24 cannot tell 2^40 + 1 from 2^40); the first cut's value bounds the minimum.
    items = sum(1 for *_, cap in lawler_arcs(g, side_a, [1] * len(dims))[3] if cap is not None)
    scale = (3 * items).bit_length() + cut.value.bit_length()
    units = exact_capacity_units(dims, scale)
    if flow_func == "ortools" and items * max(units) >= 2**62:
        flow_func = "networkx"  # OR-Tools capacities are int64; networkx takes Python ints
    return _flow_cut(g, side_a, dims, units, flow_func)


def _flow_cut(g: nx.Graph, side_a: set, dims, units: Sequence[int], flow_func: str) -> Cut:
    index, source, sink, arcs = lawler_arcs(g, side_a, units)
    if flow_func == "ortools":
        source_side = ortools_source_side(source, sink, arcs)
    else:
        source_side = _networkx_source_side(source, sink, arcs)
    names = {i: x for x, i in index.items()}
    in_s = {names[i] for i in source_side}
    return _cut_from_source_side(g, in_s, dims)


def ortools_source_side(source: int, sink: int, arcs) -> list[int]:
    """Source side of a minimum cut by OR-Tools max-flow; ``None`` capacities are infinite
    (one more than all finite capacities together)."""
    inf = sum(c for *_, c in arcs if c is not None) + 1
    from ortools.graph.python import max_flow

    smf = max_flow.SimpleMaxFlow()
    tails = np.fromiter((a for a, _, _ in arcs), dtype=np.int32, count=len(arcs))
    heads = np.fromiter((b for _, b, _ in arcs), dtype=np.int32, count=len(arcs))
    caps = np.fromiter((inf if c is None else c for *_, c in arcs), dtype=np.int64, count=len(arcs))
    smf.add_arcs_with_capacity(tails, heads, caps)
    status = smf.solve(source, sink)
    if status != smf.OPTIMAL:
        raise WidthDesignError(f"OR-Tools max-flow failed with status {status}")
    return smf.get_source_side_min_cut()


def _networkx_source_side(source, sink, arcs):
    from networkx.algorithms.flow import boykov_kolmogorov

    d = nx.DiGraph()
    for a, b, c in arcs:
        if c is None:
            d.add_edge(a, b)  # no capacity attribute: infinite
        else:
            d.add_edge(a, b, capacity=c)
    _, (s_side, _) = nx.minimum_cut(d, source, sink, flow_func=boykov_kolmogorov)
    return s_side


def _cut_from_source_side(g: nx.Graph, in_s: set, dims) -> Cut:
    side_a = set()
    bonds, deltas = [], []
    for node, data in g.nodes(data=True):
        if data[KIND] == "delta":
            u_in, v_in = ("u", node) in in_s, ("v", node) in in_s
            if u_in and not v_in:
                leg = next(iter(g.edges(node, data=True)))[2]
                deltas.append((node, int(dims[leg[LEVEL]])))
            if v_in or u_in:
                side_a.add(node)
        elif node in in_s:
            side_a.add(node)
    for a, b, data in g.edges(data=True):
        if g.nodes[a][KIND] != "delta" and g.nodes[b][KIND] != "delta":
            if (a in side_a) != (b in side_a):
                u, v = (a, b) if g.nodes[a][KIND] == "input" else (b, a)
                bonds.append((u, v, int(dims[data[LEVEL]])))
    # nodes never reached by the flow graph's source side (isolated in it) sit on B's side
    return Cut(bonds=tuple(sorted(bonds)), deltas=tuple(sorted(deltas)), side_a=frozenset(side_a))


def _graph_method(flow_func: str) -> CutMethod:
    def method(arch: Architecture, mask: np.ndarray, dims: Sequence[int]) -> Cut:
        check_network_size(arch, f"method {flow_func}")
        g = cached_network(arch)
        side_a = {("input", int(i)) for i in np.flatnonzero(mask)}
        return graph_min_cut(g, side_a, dims, flow_func=flow_func)

    method.__name__ = f"{flow_func}_min_cut"
    method.__doc__ = f"Minimal cut by {flow_func} max-flow on Lawler's gadget graph."
    return method


register_cut_method("ortools")(_graph_method("ortools"))
register_cut_method("networkx")(_graph_method("networkx"))


# -- bounds ---------------------------------------------------------------------------------


def lower_bound(
    arch: Architecture, mask, dims: Sequence[int] | None = None
) -> tuple[int, int | None]:
    """Levine et al.'s Theorem 2 lower bound: ``(max_p p^mincut_p, best p)`` (the smallest
    best p). Bases p > M are skipped (their bound is 1); when all dimensions are powers of one
    integer b, p = b reaches the upper bound, and no smaller p can (unique factorization).
    ``(None, None)`` for overlapping specs that read an input twice (no proved bound, see
    :class:`Bounds`)."""
    if arch.duplicated:
        return None, None  # type: ignore[return-value]
    dims = tuple(int(d) for d in dims) if dims is not None else arch.bond_dims()
    tree = pooling_tree(arch)
    slot_a = np.asarray(mask, dtype=bool)[tree.leaves]
    base = common_base(dims)
    if base is not None and _common_exponents(dims, tree) is not None:
        bases = [base]
    else:
        bases = [p for p in lower_bound_bases(dims) if p <= dims[0]]
    best, best_p = 1, None
    for p in bases:
        exps = [ilog(d, p) for d in dims]
        if _max_cost(exps, tree) >= 2**62:
            a, b, _ = tree_dp(tree, slot_a, exps, combine=np.add, dtype=object)
        else:
            a, b, _ = tree_dp(tree, slot_a, exps, combine=np.add, dtype=np.int64)
        value = p ** int(min(a, b))
        if value > best:
            best, best_p = value, p
    return best, best_p


def as_partition(arch: Architecture, partition) -> Partition:
    """Accept a :class:`Partition`, a spec string, indices or a bool mask."""
    if isinstance(partition, Partition):
        if partition.num_inputs != arch.num_inputs:
            from .errors import PartitionError

            raise PartitionError(
                f"Partition {partition.label!r}: has {partition.num_inputs} inputs; "
                f"expected {arch.num_inputs}"
            )
        return partition
    if isinstance(partition, str):
        return parse_partition(partition, arch)
    arr = np.asarray(partition)
    if arr.dtype == bool:
        return partition_from_mask(arr, None, arch.num_inputs)
    if arr.dtype.kind not in "iu":
        from .errors import PartitionError

        raise PartitionError(
            f"Partition {_short_repr(partition)}: expected a Partition, a spec string, "
            "side-A indices or a bool mask"
        )
    return parse_partition(",".join(str(int(i)) for i in arr.reshape(-1)), arch)


def _short_repr(x, limit: int = 40) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bounds(arch: Architecture, partition, method: str = "dp") -> Bounds:
    """Exact upper and lower bounds on the separation rank, with the cut as certificate.

    ``partition``: a spec string (``"left-right"``, ``"0,3,5"``...), a :class:`Partition`,
    a sequence of side-A indices or a bool mask. ``method``: a name in :data:`CUT_METHODS`.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(16,), channels=2,
    ...                     layers=[Layer(w, 2) for w in (3, 5, 7)] + [Layer(11)])
    >>> b = bounds(arch, "left-right")
    >>> b.upper_bound, b.cut.value, b.lower_bound <= b.upper_bound
    (7, 7, True)
    """
    part = as_partition(arch, partition)
    dims = arch.bond_dims()
    mask = part.mask
    if arch.duplicated:
        # min cut of the unrolled tree (an upper bound); no proved lower bound carries over
        cut = min_cut(arch, mask, dims, method=method)
        return Bounds(part, cut.value, None, None, cut, method, describe_cut(arch, cut))
    tree = pooling_tree(arch)
    if _common_exponents(dims, tree) is None and method == "dp" and arch.num_inputs > FAST_INPUTS:
        # large and no common base: the batch engine's exact bounds, one float trace for the cut
        res = _batch_one(arch, mask)
        slot_a = mask[tree.leaves]
        upper, low = res.upper_bound(0), res.lower_bound(0)
        cut = _float_traced_cut(arch, tree, slot_a, dims, upper) or min_cut(arch, mask, dims)
        bases = [p for p, e in zip(res.lower_bases, res.lower_exponents[0]) if p ** int(e) == low]
        return Bounds(part, upper, low, min(bases) if low > 1 else None, cut, method)
    cut = min_cut(arch, mask, dims, method=method)
    if _common_exponents(dims, tree) is not None:
        # one base b: p = b rounds nothing, so the lower bound is the upper bound, and no
        # p < b reaches it (see lower_bound): no second DP
        low, base = cut.value, (common_base(dims) if cut.value > 1 else None)
    else:
        low, base = lower_bound(arch, mask, dims)
    return Bounds(part, cut.value, low, base, cut, method)
