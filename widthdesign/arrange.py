"""Arrange the inputs for the data: the pooling geometry that keeps dependent inputs together.

:func:`arrange` computes, from training data only, a new ``input.order`` (grid slot ``s``
holds input ``order[s]``) by one of two methods:

- ``tree``: recursive balanced minimum cuts of the ``|corr|`` graph (see
  :mod:`widthdesign.data`), one k-way split per tree node into exactly its windows' sizes
  (METIS through pymetis; KaHIP if installed and asked for), top-down. It minimizes the
  crossing |corr| mass of the canonical partitions (Alexander et al., NeurIPS 2023); it says
  nothing about where a block sits on the grid (children go to windows in METIS' label order).
- ``layout``: a spectral embedding of a k-nearest-neighbour |corr| graph (the normalized
  Laplacian's eigenvectors 2..d+1 for a d-axis grid, sparse shift-invert ``eigsh``), its
  rotation chosen (2-D, 12 angles) by the |corr| between touching slots; assigned to slots by
  sorting within recursive blocks that follow the spec's windows (a k-d split, O(N log N)),
  and up to :data:`ASSIGN_LIMIT` inputs also by an exact assignment of the rank-normalized
  coordinates (``linear_sum_assignment``, cubic), whichever scores higher; then, up to
  :data:`~widthdesign.data.DENSE_LIMIT` inputs, greedy pairwise swaps of nearby slots raising
  the |corr| between touching slots, a pair inside one first-level window counting
  ``|corr| + WINDOW_BONUS * |corr|^BONUS_POWER`` (6 and 8: near-duplicate inputs such as
  mirror-image pixels, |corr| ~ 1, are pulled into one window; ordinary neighbours hardly).
  Grid neighbours end up dependent, which models with spatial filters (a 3x3 representation
  conv) need.
- ``auto`` (the default) computes both and takes the tree when at least
  :data:`PAIRED_INPUTS` of the inputs come in pairs (:func:`paired_fraction`: a mutual
  strongest partner, clearly stronger than the next; mirror images), else keeps the layout
  unless the tree's canonical partitions carry clearly less dependence (:func:`order_score`,
  the mean over layers of mass / random-order mass, lower by more than
  :data:`AUTO_TOLERANCE`); the result's ``reason`` says which and why. On the data measured
  here the two scores are within 2 %: the canonical mass alone does not tell mirror data
  (where the tree is better) from spatial data (where the layout is far better).

Constant inputs (zero variance: correlation defined as 0) are parked on the border by the
layout and anywhere by the tree.

>>> import numpy as np
>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 2), Layer(2, 2), Layer(2)])
>>> rng = np.random.default_rng(0)
>>> base = rng.normal(size=(400, 4))
>>> X = np.concatenate([base, base + 0.3 * rng.normal(size=(400, 4))], axis=1)  # i ~ i + 4
>>> a = arrange(arch, X, method="tree")
>>> sorted(sorted(a.order[s : s + 2]) for s in range(0, 8, 2))   # windows of 2: the pairs
[[0, 4], [1, 5], [2, 6], [3, 7]]
>>> a.apply(X).shape, bool((a.apply(X)[:, 0] == X[:, a.order[0]]).all())
((400, 8), True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import data as _data
from .errors import SpecError
from .spec import Architecture, pooling_tree

__all__ = [
    "METHODS",
    "PARTITIONERS",
    "AUTO_TOLERANCE",
    "Arrangement",
    "ArrangeResult",
    "arrange",
    "tree_order",
    "layout_order",
    "order_score",
    "paired_fraction",
]

#: Methods of :func:`arrange`.
METHODS = ("auto", "tree", "layout")
#: Graph partitioners of the tree method.
PARTITIONERS = ("metis", "kahip")
#: ``auto`` keeps the layout unless its score exceeds the tree's by more than this fraction.
AUTO_TOLERANCE = 0.25
#: ``auto`` takes the tree when this fraction of the inputs come in pairs (see
#: :func:`paired_fraction`): 0.79 on the symmetry task, 1 on mirror_pairs, at most 0.13 on
#: digits, smooth fields and the breast-cancer table.
PAIRED_INPUTS = 0.5
#: A pair's |corr| must exceed the inputs' second strongest by this factor.
PAIR_RATIO = 1.25
#: Nearest neighbours per input in the layout's graph.
LAYOUT_NEIGHBOURS = 10
#: Weight of the within-window term |corr|^BONUS_POWER in the layout's swaps.
WINDOW_BONUS = 6.0
#: Power of |corr| in the within-window bonus (see _swap_refine).
BONUS_POWER = 8
#: Inputs up to which the layout also tries an exact (cubic) assignment to the grid.
ASSIGN_LIMIT = 2048
#: Edge weights handed to the partitioner: round(|corr| * WEIGHT_SCALE) (integers).
WEIGHT_SCALE = 1000


@dataclass(frozen=True)
class ArrangeResult:
    """What :func:`arrange` computed.

    ``cut`` holds the crossing |corr| mass summed over all canonical partitions, overall
    (``total``) and per layer (``levels``), for the arrangement, for the spec's ``given``
    order and for a ``random`` order (the exact expectation over uniform random orders);
    ``scores`` the mean over layers of mass / random mass of each method computed; ``pairs``
    which pairs the masses sum over (all of them up to 4096 inputs, else a kNN graph's).
    """

    order: tuple[int, ...]
    method: str
    reason: str
    cut: dict
    scores: dict
    constant: int
    seconds: float
    pairs: str = "all pairs"


class Arrangement:
    """A data-driven input order for a spec, and a scikit-learn style transformer.

    ``Arrangement(arch).fit(X)`` computes the order from ``X`` (rows: samples); then
    ``.order`` (grid slot ``s`` holds input ``order[s]``), ``.result`` (an
    :class:`ArrangeResult`), ``.apply(X)`` / ``.transform(X)`` (the data rearranged so that
    column ``s`` is input ``order[s]``: a model without ``input.order`` then sees the
    arranged grid) and ``.spec()`` (the spec with the order). ``fit`` changes the object in
    place and returns it, as scikit-learn's pipelines require (the one mutable object here).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(2, 2), Layer(2)])
    >>> x = np.random.default_rng(1).normal(size=(50, 4))
    >>> t = Arrangement(arch, random_state=0).fit(x)
    >>> sorted(t.order), t.transform(x).shape
    ([0, 1, 2, 3], (50, 4))
    """

    def __init__(
        self,
        arch: Architecture | None = None,
        method: str = "auto",
        random_state: int = 0,
        partitioner: str = "metis",
        neighbors: int | None = None,
    ):
        self.arch = arch
        self.method = method
        self.random_state = random_state
        self.partitioner = partitioner
        self.neighbors = neighbors
        self.result: ArrangeResult | None = None

    # scikit-learn's estimator protocol (clone, grid search) without importing it
    def get_params(self, deep: bool = True) -> dict:
        return {
            "arch": self.arch,
            "method": self.method,
            "random_state": self.random_state,
            "partitioner": self.partitioner,
            "neighbors": self.neighbors,
        }

    def set_params(self, **params) -> Arrangement:
        for key, value in params.items():
            if key not in self.get_params():
                raise SpecError("parameter", key, "one of " + ", ".join(self.get_params()))
            setattr(self, key, value)
        return self

    def fit(self, X, y=None) -> Arrangement:
        """Compute the order from ``X`` (``y`` is ignored: the geometry is unsupervised)."""
        arch = self.arch
        if arch is None:  # a plain [n, N] matrix: a 1-D grid with windows of 2 where possible
            arch = _default_arch(np.asarray(X))
            self.arch = arch
        self.result = _arrange(
            arch, X, self.method, int(self.random_state), self.partitioner, self.neighbors
        )
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X, y).transform(X)

    @property
    def order(self) -> tuple[int, ...]:
        if self.result is None:
            raise SpecError("arrangement", "not fitted", "fit(X) before using the order")
        return self.result.order

    def apply(self, X) -> np.ndarray:
        """``X`` rearranged to the order: ``out[:, s] = X[:, order[s]]`` (same shape as X)."""
        x = np.asarray(X)
        order = np.asarray(self.order)
        flat = x.reshape(x.shape[0], -1)
        if flat.shape[1] != len(order):
            raise SpecError("data", f"shape {list(x.shape)}", f"{len(order)} inputs per sample")
        return flat[:, order].reshape(x.shape)

    transform = apply

    def spec(self) -> Architecture:
        """The spec with ``input.order`` set to the arrangement (a relabelled ``tree`` for
        explicit-tree specs)."""
        arch = self.arch
        if arch.tree is not None:
            return replace(arch, tree=_relabel_tree(arch, self.order))
        return replace(arch, order=tuple(int(i) for i in self.order))

    def __repr__(self) -> str:
        state = "unfitted" if self.result is None else f"method={self.result.method!r}"
        return f"Arrangement({state}, random_state={self.random_state})"


def arrange(
    arch: Architecture,
    X,
    seed: int = 0,
    method: str = "auto",
    partitioner: str = "metis",
    neighbors: int | None = None,
) -> Arrangement:
    """The input order data ``X`` asks for on the spec's geometry (a fitted
    :class:`Arrangement`); deterministic for a given ``seed``. See the module docs for the
    methods; ``neighbors`` sets the nearest neighbours per input in the partitioner's graph
    (default: the full |corr| graph up to 1024 inputs, 32 neighbours past it)."""
    return Arrangement(arch, method, seed, partitioner, neighbors).fit(X)


# -- the driver -----------------------------------------------------------------------------


def _arrange(arch, X, method, seed, partitioner, neighbors) -> ArrangeResult:
    start = time.perf_counter()
    if arch.duplicated:  # the order permutes grid slots, but overlapping windows share them
        raise SpecError(
            "spec",
            "overlapping windows",
            "a spec whose windows do not overlap (arrange the same grid without stride)",
        )
    if method not in METHODS:
        raise SpecError("method", method, "one of " + ", ".join(METHODS))
    if partitioner not in PARTITIONERS:
        raise SpecError("partitioner", partitioner, "one of " + ", ".join(PARTITIONERS))
    if neighbors is not None and (not isinstance(neighbors, int) or neighbors < 1):
        raise SpecError("neighbors", neighbors, "a positive integer")
    x = _data.as_matrix(arch, X)
    dep = _data.Dependence(x)
    dfs, bounds = _data.tree_slots(arch)
    candidates: dict[str, np.ndarray] = {}
    if method in ("auto", "tree") or arch.tree is not None:
        candidates["tree"] = tree_order(arch, dep, seed, partitioner, neighbors)
    if method in ("auto", "layout") and arch.tree is None:
        candidates["layout"] = layout_order(arch, dep, seed)
    elif method == "layout":
        raise SpecError("method", method, "tree or auto for a spec with an explicit tree")
    masses = {k: dep.level_masses(o[dfs], bounds) for k, o in candidates.items()}
    rand = _data.random_masses(dep, bounds)
    scores = {k: order_score(m, rand) for k, m in masses.items()}
    chosen, reason = _choose(method, arch, scores, paired_fraction(dep))
    given = _data._slot_inputs(arch)
    given_masses = dep.level_masses(given[dfs], bounds)
    cut = {
        name: _cut_summary(m)
        for name, m in (("arrangement", masses[chosen]), ("given", given_masses), ("random", rand))
    }
    return ArrangeResult(
        order=tuple(int(i) for i in candidates[chosen]),
        method=chosen,
        reason=reason,
        cut=cut,
        scores={k: float(v) for k, v in scores.items()},
        constant=int(dep.constant.sum()),
        seconds=time.perf_counter() - start,
        pairs=dep.pairs,
    )


def order_score(masses: Sequence[np.ndarray], rand: Sequence[np.ndarray]) -> float:
    """Mean over layers (but the last) of crossing mass / random-order mass: 1 for a random
    order, lower when dependent inputs share subtrees. Each layer counts once, so the small
    windows at the bottom weigh as much as the halves at the top."""
    ratios = [
        float(m.sum() / r.sum()) for m, r in zip(masses[:-1], rand[:-1]) if float(r.sum()) > 0
    ]
    return float(np.mean(ratios)) if ratios else 0.0


def paired_fraction(dep: _data.Dependence, ratio: float = PAIR_RATIO) -> float:
    """Fraction of the non-constant inputs whose strongest partner (by |corr|) has them as
    its strongest partner too, with a |corr| at least ``ratio`` times their second
    strongest: inputs that come in pairs (mirror images, near-duplicates) rather than in
    neighbourhoods."""
    n = dep.n_inputs
    if dep.c is not None:
        c = dep.c
        top = np.argpartition(-c, 1, axis=1)[:, :2] if n > 2 else np.zeros((n, 2), int)
        vals = np.take_along_axis(c, top, axis=1)
    else:
        g = dep.graph.tocsr()
        top, vals = np.zeros((n, 2), dtype=np.int64), np.zeros((n, 2))
        for i in range(n):
            lo, hi = g.indptr[i], g.indptr[i + 1]
            best = np.argsort(-g.data[lo:hi], kind="stable")[:2]
            top[i, : len(best)] = g.indices[lo:hi][best]
            vals[i, : len(best)] = g.data[lo:hi][best]
    first = np.argmax(vals, axis=1)
    t1 = top[np.arange(n), first]
    c1, c2 = vals.max(axis=1), vals.min(axis=1)
    live = c1 > 0
    paired = (t1[t1] == np.arange(n)) & (c1 >= ratio * c2) & live
    return float(paired.sum() / max(int(live.sum()), 1))


def _choose(method: str, arch: Architecture, scores: dict, paired: float) -> tuple[str, str]:
    if method != "auto":
        return method, f"--method {method} asked for"
    if "layout" not in scores:
        return "tree", "an explicit-tree spec has no grid to lay out: tree"
    t, lay = scores["tree"], scores["layout"]
    if paired >= PAIRED_INPUTS:
        return "tree", (
            f"tree chosen: {paired:.0%} of the inputs come in pairs (a mutual strongest "
            f"partner, |corr| >= {PAIR_RATIO:g} x the next; mirror images, duplicates), a "
            "dependence the tree keeps in one window and a grid layout cannot lay out "
            f"consistently (canonical mass vs random: tree {t:.3f}, layout {lay:.3f})"
        )
    if lay <= t * (1 + AUTO_TOLERANCE):
        return "layout", (
            f"layout kept: its canonical partitions carry {lay:.3f} of a random order's "
            f"|corr| mass, the tree's {t:.3f} (within {AUTO_TOLERANCE:.0%}), and the layout "
            "also puts dependent inputs on neighbouring slots"
        )
    return "tree", (
        f"tree chosen: its canonical partitions carry {t:.3f} of a random order's |corr| "
        f"mass, the layout's {lay:.3f} (more than {AUTO_TOLERANCE:.0%} above): the data's "
        "dependence is not spatial"
    )


def _cut_summary(masses: Sequence[np.ndarray]) -> dict:
    levels = [float(m.sum()) for m in masses[:-1]]
    return {"total": float(sum(levels)), "levels": levels}


def _default_arch(x: np.ndarray) -> Architecture:
    from .spec import Layer

    n = int(np.prod(x.shape[1:])) if x.ndim > 1 else 0
    if n < 2 or n & (n - 1):
        raise SpecError("data", f"{n} inputs", "a spec (arch=...) unless N is a power of two")
    depth = n.bit_length() - 1
    return Architecture(shape=(n,), channels=2, layers=[Layer(2, 2)] * (depth - 1) + [Layer(2)])


def _relabel_tree(arch: Architecture, order: Sequence[int]) -> Any:
    """The spec's tree with the leaf at depth-first position s replaced by ``order[s]``
    (position s of an explicit tree is its s-th leaf in depth-first order)."""
    it = iter(order)

    def walk(node):
        if isinstance(node, int):
            return int(next(it))
        return [walk(c) for c in node]

    return walk(arch.tree)


# -- the tree: recursive balanced k-way min cuts --------------------------------------------


def _partition_graph(dep: _data.Dependence, neighbors: int | None):
    """Integer-weighted sparse |corr| graph handed to the partitioner."""
    from scipy import sparse

    n = dep.n_inputs
    if neighbors is None:
        neighbors = n if n <= 1024 else 32
    if dep.c is not None and neighbors >= n - 1:
        g = sparse.csr_matrix(dep.c)
    elif dep.c is not None:
        c = dep.c
        idx = np.argpartition(-c, neighbors - 1, axis=1)[:, :neighbors]
        rows = np.repeat(np.arange(n), neighbors)
        vals = np.take_along_axis(c, idx, axis=1).ravel()
        g = sparse.csr_matrix((vals, (rows, idx.ravel())), shape=(n, n))
        g = g.maximum(g.T).tocsr()
    elif dep.graph is not None and neighbors == dep.neighbors:
        g = dep.graph.copy()  # the graph the masses are measured on: no second pass
    else:
        g = _data.knn_graph(dep.z, neighbors)
    g.data = np.rint(g.data * WEIGHT_SCALE)
    g.eliminate_zeros()
    g = g.astype(np.int64)
    g.sort_indices()
    return g


def tree_order(
    arch: Architecture,
    dep: _data.Dependence,
    seed: int = 0,
    partitioner: str = "metis",
    neighbors: int | None = None,
) -> np.ndarray:
    """Slot -> input order from recursive balanced k-way min cuts matching the windows."""
    g = _partition_graph(dep, neighbors)
    tree = pooling_tree(arch)
    leaves = _leaf_counts(tree)
    order = np.empty(tree.sizes[0], dtype=np.int64)
    stack = [(tree.depth, 0, np.arange(tree.sizes[0]))]
    while stack:
        level, pos, inputs = stack.pop()
        if level == 0:
            order[pos] = inputs[0]
            continue
        kids = tree.window(level - 1, pos)
        sizes = leaves[level - 1][kids]
        labels = split(g[inputs][:, inputs], sizes, seed, partitioner)
        for j, kid in enumerate(kids):
            stack.append((level - 1, int(kid), inputs[labels == j]))
    return order


def _leaf_counts(tree) -> list[np.ndarray]:
    counts = [np.ones(tree.sizes[0], dtype=np.int64)]
    for level in range(tree.depth):
        nxt = np.bincount(tree.parents[level], weights=counts[-1], minlength=tree.sizes[level + 1])
        counts.append(nxt.astype(np.int64))
    return counts


def split(g, sizes: Sequence[int], seed: int = 0, partitioner: str = "metis") -> np.ndarray:
    """Labels ``0..k-1`` of the vertices of graph ``g`` (CSR, integer weights), part ``j``
    of exactly ``sizes[j]`` vertices, with a small cut: the partitioner's k-way split, then
    greedy moves (best gain first) out of parts over their size."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n, k = g.shape[0], len(sizes)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if n == k or g.nnz == 0:
        return np.repeat(np.arange(k), sizes)
    if partitioner == "kahip":
        labels = _kahip(g, k, seed)
    else:
        labels = _metis(g, sizes, seed)
    return _rebalance(g, labels, sizes)


def _metis(g, sizes: np.ndarray, seed: int) -> np.ndarray:
    import pymetis

    n, k = g.shape[0], len(sizes)
    opts = pymetis.Options(seed=seed, ufactor=1, ncuts=1)
    uniform = bool((sizes == sizes[0]).all())
    tpwgts = None if uniform else (sizes / n).tolist()
    adjacency = pymetis.CSRAdjacency(g.indptr.astype(np.int32), g.indices.astype(np.int32))
    _, parts = pymetis.part_graph(
        k,
        adjacency,
        eweights=g.data.astype(np.int32),
        tpwgts=tpwgts,
        options=opts,
    )
    return np.asarray(parts, dtype=np.int64)


def _kahip(g, k: int, seed: int) -> np.ndarray:
    try:
        import kahip
    except ImportError:
        raise SpecError("partitioner", "kahip", "the kahip package installed") from None
    n = g.shape[0]
    _, parts = kahip.kaffpa(
        [1] * n,
        g.indptr.tolist(),
        g.data.tolist(),
        g.indices.tolist(),
        k,
        0.01,
        True,
        seed,
        kahip.FAST,
    )
    return np.asarray(parts, dtype=np.int64)


def _rebalance(g, labels: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    labels = labels.copy()
    k = len(sizes)
    count = np.bincount(labels, minlength=k)
    if (count == sizes).all():
        return labels
    onehot = np.zeros((g.shape[0], k))
    onehot[np.arange(g.shape[0]), labels] = 1
    conn = np.asarray(g @ onehot, dtype=np.float64)  # weight from each vertex to each part
    while (count > sizes).any():
        over, under = count > sizes, count < sizes
        movable = np.flatnonzero(over[labels])
        own = conn[movable, labels[movable]]
        dest = np.flatnonzero(under)
        gain = conn[np.ix_(movable, dest)] - own[:, None]
        v_i, d_i = np.unravel_index(int(np.argmax(gain)), gain.shape)
        v, old, new = movable[v_i], labels[movable[v_i]], dest[d_i]
        row = g.getrow(v)
        conn[row.indices, old] -= row.data
        conn[row.indices, new] += row.data
        labels[v] = new
        count[old] -= 1
        count[new] += 1
    return labels


# -- the layout: spectral embedding, sorted into the windows, then swaps --------------------


def layout_order(arch: Architecture, dep: _data.Dependence, seed: int = 0) -> np.ndarray:
    """Slot -> input order placing dependent inputs on touching grid slots."""
    shape = arch.shape
    axes = [a for a, s in enumerate(shape) if s > 1]
    coords = np.zeros((dep.n_inputs, len(shape)))
    if axes:
        emb = _spectral(dep, len(axes), seed)
        for j, a in enumerate(sorted(axes, key=lambda a: -shape[a])):
            coords[:, a] = emb[:, j]
    candidates = [coords]
    if len(axes) == 2:
        a0, a1 = axes
        for theta in np.linspace(0, math.pi, 12, endpoint=False)[1:]:
            rot = coords.copy()
            c, s = math.cos(theta), math.sin(theta)
            rot[:, a0] = c * coords[:, a0] - s * coords[:, a1]
            rot[:, a1] = s * coords[:, a0] + c * coords[:, a1]
            candidates.append(rot)
    scored = []
    for k, cand in enumerate(candidates):
        order = _kd_assign(arch, cand)
        scored.append((dep.neighbour_score(order, shape), -k, order, cand))
    scored.sort(key=lambda t: t[:2], reverse=True)
    best_score, _, best, _ = scored[0]
    if dep.n_inputs <= ASSIGN_LIMIT and axes:
        # an exact assignment of the best rotations' coordinates (rank-normalized per axis,
        # so the embedding's crowded borders spread out) beats the sort on these sizes
        for score, _, _, cand in scored[:3]:
            order = _assign(cand, shape)
            score = dep.neighbour_score(order, shape)
            if score > best_score:
                best, best_score = order, score
    if dep.c is not None and axes:
        window = pooling_tree(arch).parents[0]
        rng = np.random.default_rng(seed)
        best = _swap_refine(dep.c, best, shape, rng, window, WINDOW_BONUS)
    return best


def _assign(coords: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Slots by a minimum-cost assignment (``linear_sum_assignment``) of the inputs' rank-
    normalized coordinates to the grid positions (squared distance): cubic in N."""
    from scipy.optimize import linear_sum_assignment
    from scipy.stats import rankdata

    n = coords.shape[0]
    grid = np.stack(np.unravel_index(np.arange(n), tuple(shape)), axis=1).astype(np.float64)
    scaled = np.zeros_like(grid)
    for a, size in enumerate(shape):
        if size > 1:
            scaled[:, a] = (rankdata(coords[:, a]) - 0.5) / n * size - 0.5
    cost = ((scaled[:, None, :] - grid[None, :, :]) ** 2).sum(axis=-1)
    rows, cols = linear_sum_assignment(cost)
    order = np.empty(n, dtype=np.int64)
    order[cols] = rows
    return order


def _spectral(dep: _data.Dependence, d: int, seed: int) -> np.ndarray:
    """Coordinates ``[N, d]``: eigenvectors 2..d+1 of the normalized Laplacian of the kNN
    |corr| graph over the non-constant inputs; constant inputs on a ring outside."""
    from scipy import sparse
    from scipy.sparse.linalg import eigsh

    n = dep.n_inputs
    live = np.flatnonzero(~dep.constant)
    out = np.zeros((n, d))
    if len(live) > d + 1:
        k = min(LAYOUT_NEIGHBOURS, len(live) - 1)
        if dep.c is not None:
            c = dep.c[np.ix_(live, live)]
            idx = np.argpartition(-c, k - 1, axis=1)[:, :k]
            rows = np.repeat(np.arange(len(live)), k)
            vals = np.take_along_axis(c, idx, axis=1).ravel().astype(np.float64)
            w = sparse.csr_matrix((vals, (rows, idx.ravel())), shape=(len(live),) * 2)
            w = w.maximum(w.T).tocsr()
        elif dep.graph is not None and dep.neighbors >= k:
            w = _top_k(dep.graph[live][:, live], k)
        else:
            w = _data.knn_graph(dep.z[:, live], k).astype(np.float64)
        w = _connect(w)
        deg = np.asarray(w.sum(axis=1)).ravel()
        deg[deg == 0] = 1
        dinv = sparse.diags(1 / np.sqrt(deg))
        lap = sparse.identity(len(live)) - dinv @ w @ dinv
        v0 = np.random.default_rng(seed).normal(size=len(live))
        vals, vecs = eigsh(lap.tocsc(), k=d + 1, sigma=-1e-3, which="LM", v0=v0)
        vecs = vecs[:, np.argsort(vals)][:, 1 : d + 1] / np.sqrt(deg)[:, None]
        vecs = (vecs - vecs.mean(axis=0)) / (vecs.std(axis=0) + 1e-300)
        for j in range(d):  # a sign convention: deterministic across eigensolver runs
            if vecs[np.argmax(np.abs(vecs[:, j])), j] < 0:
                vecs[:, j] *= -1
        out[live] = vecs
    dead = np.flatnonzero(dep.constant)
    if len(dead):
        radius = 1.5 * (np.abs(out).max() + 1.0)
        angles = np.linspace(0, 2 * math.pi, len(dead), endpoint=False)
        if d == 1:  # both ends of the line
            out[dead, 0] = radius * np.where(np.arange(len(dead)) % 2, 1.0, -1.0)
        else:
            out[dead, 0], out[dead, 1] = radius * np.cos(angles), radius * np.sin(angles)
    return out


def _top_k(g, k: int):
    """Each row's ``k`` heaviest edges of a CSR graph, symmetrized (max), float64."""
    from scipy import sparse

    g = g.tocsr()
    rows, cols, vals = [], [], []
    for i in range(g.shape[0]):
        lo, hi = g.indptr[i], g.indptr[i + 1]
        d = g.data[lo:hi]
        keep = np.argsort(-d, kind="stable")[:k]
        rows.append(np.full(len(keep), i))
        cols.append(g.indices[lo:hi][keep])
        vals.append(d[keep])
    w = sparse.csr_matrix(
        (np.concatenate(vals).astype(np.float64), (np.concatenate(rows), np.concatenate(cols))),
        shape=g.shape,
    )
    return w.maximum(w.T).tocsr()


def _connect(w):
    """Join the components of a graph by weak edges (an eigensolver needs one component)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    n_comp, labels = csgraph.connected_components(w, directed=False)
    if n_comp == 1:
        return w
    reps = np.array([np.flatnonzero(labels == c)[0] for c in range(n_comp)])
    eps = 1e-6 * (w.data.min() if w.nnz else 1.0)
    rows = np.concatenate([reps[:-1], reps[1:]])
    cols = np.concatenate([reps[1:], reps[:-1]])
    link = sparse.csr_matrix((np.full(len(rows), eps), (rows, cols)), shape=w.shape)
    return (w + link).tocsr()


def _kd_assign(arch: Architecture, coords: np.ndarray) -> np.ndarray:
    """Slots by recursive sorting: at each tree node, split its inputs along each window
    axis in turn (sorted by that axis' coordinate) into the window's children. All nodes of
    a level at once (grid specs have equal windows per level): O(N log N) in numpy."""
    tree = pooling_tree(arch)
    groups = np.arange(tree.sizes[0])[None, :]  # row r: the inputs of level position pos[r]
    positions = np.zeros(1, dtype=np.int64)
    for level in range(tree.depth, 0, -1):
        window = arch.pools[level - 1]
        for axis, p in enumerate(window):
            if p == 1:
                continue
            m, size = groups.shape
            idx = np.argsort(coords[groups, axis], axis=1, kind="stable")
            groups = np.take_along_axis(groups, idx, axis=1).reshape(m * p, size // p)
        k = math.prod(window)
        kids = tree.children[level - 1].reshape(-1, k)  # windows' children, row-major inside
        positions = kids[positions].ravel()
    order = np.empty(tree.sizes[0], dtype=np.int64)
    order[positions] = groups[:, 0]
    return order


def _swap_refine(
    c: np.ndarray,
    order: np.ndarray,
    shape: Sequence[int],
    rng,
    window: np.ndarray | None = None,
    bonus: float = 0.0,
    passes: int = 8,
    radius: int = 2,
) -> np.ndarray:
    """Greedy pairwise swaps of slots at most ``radius`` apart (per axis) while the sum of
    |corr| between touching slots grows, a pair in the same first-level pooling window
    (``window[s]``: slot s's window) counting ``|corr| + bonus |corr|^BONUS_POWER``; each
    slot tries its best swap once per pass."""
    n = len(order)
    grid = np.arange(n).reshape(shape)
    nbr = _offset_table(grid, 1)  # [n, 3^d - 1] touching slots, n = none
    cand = _offset_table(grid, radius)
    same = np.zeros(nbr.shape)
    if window is not None and bonus:
        win = np.append(window, -1)
        same = bonus * (win[nbr] == win[:n, None])
    cpad = np.zeros((n + 1, n + 1), dtype=np.float64)
    cpad[:n, :n] = c
    # inside a window a pair counts |corr| + bonus |corr|^p: near-duplicates (mirror-image
    # pairs, |corr| ~ 1) are pulled into one window, ordinary neighbours (~0.5) hardly
    ppad = cpad**BONUS_POWER
    o = np.append(order, n)  # slot n: a dummy holding the dummy input n (|corr| 0)
    for _ in range(passes):
        moved = 0
        for s in rng.permutation(n):
            t = cand[s][cand[s] < n]
            if not len(t):
                continue
            a, b = o[s], o[t]
            ns, nt = nbr[s], nbr[t]
            on, ont = o[ns], o[nt]
            keep_s = ns[None, :] != t[:, None]
            keep_t = nt != s
            gain = _gain(cpad, a, b, on, ont, keep_s, keep_t)
            if window is not None and bonus:
                gain += _gain(ppad, a, b, on, ont, keep_s * same[s], keep_t * same[t])
            j = int(np.argmax(gain))
            if gain[j] > 1e-6:
                o[s], o[t[j]] = b[j], a
                moved += 1
        if not moved:
            break
    return o[:n].copy()


def _gain(c, a, b, on, ont, keep_s, keep_t) -> np.ndarray:
    """Change of sum_pairs weight * c when slot s (holding a, neighbours holding ``on``)
    swaps with each candidate t (holding ``b``, neighbours holding ``ont``)."""
    g1 = ((c[b][:, on] - c[a, on][None, :]) * keep_s).sum(axis=1)
    g2 = ((c[a][ont] - np.take_along_axis(c[b], ont, axis=1)) * keep_t).sum(axis=1)
    return g1 + g2


def _offset_table(grid: np.ndarray, radius: int) -> np.ndarray:
    """For each slot, the slots within ``radius`` along every axis (itself excluded); ``n``
    pads the table where the grid ends."""
    import itertools

    n, d = grid.size, grid.ndim
    steps = [s for s in itertools.product(range(-radius, radius + 1), repeat=d) if any(s)]
    idx = np.stack(np.unravel_index(np.arange(n), grid.shape), axis=1)
    cols = []
    for step in steps:
        j = idx + np.asarray(step)
        ok = ((j >= 0) & (j < np.asarray(grid.shape))).all(axis=1)
        flat = np.full(n, n, dtype=np.int64)
        flat[ok] = np.ravel_multi_index(tuple(j[ok].T), grid.shape)
        cols.append(flat)
    return np.stack(cols, axis=1)
