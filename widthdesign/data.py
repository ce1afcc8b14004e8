"""The data side: load a data set, measure the dependence it carries across the network's
canonical partitions (:func:`profile`).

A data set is an array ``X`` of shape ``[n, *input.shape]`` or ``[n, N]``: ``X[k, i]`` is
sample ``k``'s value of **input** ``i`` (the spec's inputs, before any ``input.order``; grid
slot ``s`` of the network reads input ``order[s]``).

**The dependence measure.** Between two inputs: the absolute Pearson correlation
``|corr(i, j)|`` over the samples (training samples only: whatever is given here). A constant
input (zero variance) has no defined correlation; it is **defined as 0** with every other
input (and counted under ``constant`` in the results). The dependence crossing a partition
``(A, B)`` is the **crossing |corr| mass**::

    mass(A, B) = sum_{i in A} sum_{j in B} |corr(i, j)|

Alexander, De La Vega, Razin & Cohen (NeurIPS 2023) use a graph over the features weighted by
``|corr|`` as the practical surrogate of the data's entanglement across a partition; its cut
weight is this sum. Their exact normalization could not be confirmed here, so this module
calls it the crossing |corr| mass, and reports beside it ``mean``: the mass divided by the
number of crossing pairs ``|A| |B|`` (the average |corr| of a crossing pair, in [0, 1]).

The **canonical partitions** of a pooling tree are each node's block of inputs vs the rest;
:func:`profile` groups them per layer (the blocks a layer's windows pool), and compares them
with the expected mass of a uniformly random order: a block of ``b`` of the ``N`` inputs cuts
each pair with probability ``2 b (N - b) / (N (N - 1))``, so the expectation is that times
the total pair mass (exact, no sampling).

>>> import numpy as np
>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(2, 2), Layer(2)])
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(2, 500))
>>> X = np.stack([a, b, a + 0.1 * rng.normal(size=500), b], axis=1)  # 0~2, 1=3
>>> p = profile(arch, X)
>>> [round(x, 1) for x in p.levels[0].mass_per_node]  # {0,1}: cuts 0~2 and 1=3
[2.0, 2.0]
>>> p.levels[0].capacity_log2                          # min(M^2, r_0) = 2
1.0
"""

from __future__ import annotations

import csv
import io
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SpecError
from .spec import Architecture, pooling_tree

__all__ = [
    "DataError",
    "MAX_DATA_BYTES",
    "LevelProfile",
    "PartProfile",
    "DataProfile",
    "load_data",
    "as_matrix",
    "standardize",
    "abs_correlation",
    "knn_graph",
    "tree_slots",
    "crossing_masses",
    "random_masses",
    "profile",
    "mirror_pairs",
]

#: Largest data file read (bytes). A larger file is refused before it is read.
MAX_DATA_BYTES = 2 << 30


class DataError(SpecError):
    """A data set is unreadable or does not fit the spec (field, value found, expected).

    The message reads ``field = value: expected ...``, the value unquoted (it is a path or a
    description such as ``shape [3, 5]``).
    """

    def __init__(self, field: str, value: object, expected: str):
        self.field, self.value, self.expected = field, value, expected
        text = str(value)
        if len(text) > 80:
            text = "..." + text[-77:]  # keep the end: for a path, the file's name
        Exception.__init__(self, f"{field} = {text}: expected {expected}")


# -- loading and validation -----------------------------------------------------------------


def load_data(path: str | os.PathLike, max_bytes: int = MAX_DATA_BYTES) -> np.ndarray:
    """Read a data set: ``.npy``, ``.npz`` (its only array, or the one named ``x``/``X``) or
    ``.csv`` (numbers only; one optional header row). Returns the array as stored; use
    :func:`as_matrix` to check it against a spec.

    Errors (:class:`DataError`) name the file and what was expected: missing or unreadable
    files, files over ``max_bytes``, empty or ragged CSV, non-numeric values.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError("data", str(p), f"a readable file ({exc.strerror})") from None
    if not p.is_file():
        raise DataError("data", str(p), "a file (.npy, .npz or .csv)")
    if size > max_bytes:
        raise DataError("data", str(p), f"a file of at most {max_bytes} bytes (it has {size})")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _read_csv(p)
    if suffix not in (".npy", ".npz"):
        raise DataError("data", str(p), "a .npy, .npz or .csv file")
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError("data", str(p), f"a valid {suffix} file ({exc})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            names = list(loaded.files)
            pick = [n for n in ("x", "X") if n in names] or (names if len(names) == 1 else [])
            if not pick:
                raise DataError(
                    "data", str(p), f"an .npz with one array or one named 'x' (found {names})"
                )
            try:
                return loaded[pick[0]]
            except ValueError as exc:  # object arrays need pickle: refused
                raise DataError("data", str(p), f"a numeric array ({exc})") from None
    return loaded


def _read_csv(p: Path) -> np.ndarray:
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError("data", str(p), f"a readable UTF-8 CSV file ({exc})") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise DataError("data", str(p), "a CSV file with at least one row of numbers")
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        rows = rows[1:]  # a header row
    if not rows:
        raise DataError("data", str(p), "a CSV file with rows of numbers below its header")
    width = len(rows[0])
    for k, row in enumerate(rows):
        if len(row) != width:
            raise DataError(
                "data", str(p), f"rows of equal length (row {k + 1} has {len(row)}, not {width})"
            )
    try:
        return np.array([[float(c) for c in row] for row in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError("data", str(p), f"numbers only ({exc})") from None


def as_matrix(arch: Architecture, X, field: str = "data") -> np.ndarray:
    """``X`` as a float matrix ``[n, N]`` (inputs in the spec's flat row-major order), after
    checking it: numeric, shape ``[n, *input.shape]`` or ``[n, N]``, at least 2 samples, no
    NaN or infinity. float32 stays float32; everything else becomes float64.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(2, 2), channels=2, layers=[Layer(2)])
    >>> as_matrix(arch, np.zeros((3, 2, 2))).shape
    (3, 4)
    >>> as_matrix(arch, np.zeros((3, 5)))
    Traceback (most recent call last):
    ...
    widthdesign.data.DataError: data = shape [3, 5]: expected shape [n, 2, 2] or [n, 4]
    """
    x = np.asarray(X)
    n_inputs = arch.num_inputs
    if x.dtype.kind not in "biuf":
        raise DataError(field, f"dtype {x.dtype}", "a numeric array")
    grid = list(arch.shape)
    ok = x.ndim >= 1 and (list(x.shape[1:]) == grid or (x.ndim == 2 and x.shape[1] == n_inputs))
    if not ok:
        expected = f"shape [n, {', '.join(map(str, grid))}] or [n, {n_inputs}]"
        if len(grid) == 1:
            expected = f"shape [n, {n_inputs}]"
        raise DataError(field, f"shape {list(x.shape)}", expected)
    if x.shape[0] < 2:
        raise DataError(field, f"{x.shape[0]} sample(s)", "at least 2 samples (rows)")
    x = x.reshape(x.shape[0], n_inputs)
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        k, i = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            field, f"{x[k, i]} at sample {k}, input {i}", "finite values (no NaN or infinity)"
        )
    return x


# -- correlations ---------------------------------------------------------------------------


def standardize(x: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Columns centred and scaled to unit norm, so ``Z.T @ Z`` is the correlation matrix.

    Returns ``(Z, constant)``: constant (zero-variance) columns are all zero in ``Z``, which
    makes their correlation with everything 0 (``constant`` is their bool mask).
    """
    x = np.asarray(x)
    constant = np.ptp(x, axis=0) == 0  # exact: no tolerance decides what is constant
    z = x - x.mean(axis=0, dtype=np.float64)
    norm = np.sqrt(np.einsum("ij,ij->j", z, z, dtype=np.float64))
    norm[constant | (norm == 0)] = np.inf
    return (z / norm).astype(dtype, copy=False), constant


def abs_correlation(x: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Dense ``N x N`` matrix of ``|corr|`` between inputs, 0 on the diagonal and for
    constant inputs (memory ``4 N^2`` bytes: use :func:`knn_graph` past ~10k inputs).

    >>> x = np.array([[0., 1, 5], [1, 0, 5], [2, 2, 5]])
    >>> abs_correlation(x).round(2).tolist()
    [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    z, _ = standardize(x, dtype)
    c = np.abs(z.T @ z)
    np.fill_diagonal(c, 0)
    np.minimum(c, 1, out=c)  # rounding may leave 1 + eps
    return c


def _row_blocks(n_rows: int, n_cols: int, budget: int = 1 << 25) -> range:
    """Row-chunk starts so that a chunk of ``n_cols`` floats per row stays ~``budget`` items."""
    step = max(1, budget // max(n_cols, 1))
    return range(0, n_rows, step)


def knn_graph(z: np.ndarray, k: int, sketch: int | None = None, seed: int = 0):
    """Symmetric sparse graph (scipy CSR, float32 ``|corr|`` weights): each input joined to its
    ``k`` most correlated inputs (an edge kept if either end chose it, weight the |corr|).

    ``z`` is :func:`standardize`'s output; the full correlation matrix is never held: rows are
    computed in blocks (memory ~ ``k N`` plus one block). With ``sketch`` (a number of rows
    smaller than the samples) candidates are found on a Gaussian sketch of the samples
    (correlations within ~``1/sqrt(sketch)``): per input the ~``2 k`` largest sketched values
    (a threshold from every 16th column), then the ``k`` of largest **exact** |corr| among
    them: an approximate kNN graph with exact weights, ``n / sketch`` times cheaper to find.
    """
    from scipy import sparse

    n_samples, n = z.shape
    k = max(0, min(k, n - 1))
    if k == 0:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    approx = None
    if sketch is not None and sketch < n_samples and n > 64 * k:
        rng = np.random.default_rng([seed, 53])
        proj = rng.normal(size=(sketch, n_samples)).astype(np.float32) / np.float32(sketch**0.5)
        approx = proj @ z
        z_t = np.ascontiguousarray(z.T)
    rows, cols, vals = [], [], []
    step = max(1, (1 << 25) // n)
    for a in range(0, n, step):
        b = min(n, a + step)
        if approx is None:
            c = np.abs(z[:, a:b].T @ z)
            c[np.arange(b - a), np.arange(a, b)] = -1  # never its own neighbour
            idx = np.argpartition(c, n - k, axis=1)[:, n - k :]
            r, j, w = np.repeat(np.arange(a, b), k), idx.ravel(), np.take_along_axis(c, idx, 1)
            w = w.ravel()
        else:
            r, j, w = _sketched_candidates(approx, z_t, a, b, k)
        rows.append(r)
        cols.append(j)
        vals.append(w)
    r, c_, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float32)
    v = np.minimum(v, 1)
    keep = v > 0
    g = sparse.csr_matrix((v[keep], (r[keep], c_[keep])), shape=(n, n), dtype=np.float32)
    return g.maximum(g.T).tocsr()


def _sketched_candidates(approx, z_t, a: int, b: int, k: int):
    """Rows ``a..b``: candidate pairs above a per-row threshold of the sketched |corr|, then
    each row's ``k`` best by exact |corr| (``(rows, cols, weights)``)."""
    c = np.abs(approx[:, a:b].T @ approx)
    c[np.arange(b - a), np.arange(a, b)] = -1
    sub = c[:, ::16]
    q = max(1, min(sub.shape[1] - 1, (2 * k) // 16 + 1))
    tau = np.partition(sub, sub.shape[1] - q, axis=1)[:, sub.shape[1] - q]
    ri, cj = np.nonzero(c >= tau[:, None])
    del c
    by_col = np.argsort(cj, kind="stable")  # gathers of one column row after row: cache hits
    ri, cj = ri[by_col], cj[by_col]
    w = np.empty(len(ri), dtype=np.float32)
    for lo in range(0, len(ri), 1 << 16):  # exact |corr| of the candidates, bounded memory
        hi = min(len(ri), lo + (1 << 16))
        w[lo:hi] = np.abs(np.einsum("ij,ij->i", z_t[a + ri[lo:hi]], z_t[cj[lo:hi]]))
    order = np.lexsort((-w, ri))  # by row, best first
    ri, cj, w = ri[order], cj[order], w[order]
    first = np.searchsorted(ri, ri, side="left")
    keep = np.arange(len(ri)) - first < k
    return a + ri[keep], cj[keep], w[keep]


def _exact_pairs(z: np.ndarray, rows: np.ndarray, idx: np.ndarray, chunk: int = 64) -> np.ndarray:
    """``|corr(rows[i], idx[i, j])|`` for every i, j, a few rows at a time (bounded memory)."""
    out = np.empty(idx.shape, dtype=np.float32)
    for lo in range(0, len(rows), chunk):
        hi = min(len(rows), lo + chunk)
        zi = z[:, rows[lo:hi]]
        zj = z[:, idx[lo:hi].ravel()].reshape(z.shape[0], hi - lo, idx.shape[1])
        out[lo:hi] = np.abs(np.einsum("si,sij->ij", zi, zj))
    return out


# -- canonical partitions -------------------------------------------------------------------


def tree_slots(arch: Architecture) -> tuple[np.ndarray, list[np.ndarray]]:
    """Slots in depth-first tree order, and per layer the window boundaries into it.

    Returns ``(dfs, bounds)``: ``dfs`` lists the grid slots (level-0 positions) so that every
    pooling window's slots are contiguous; ``bounds[l]`` (length ``n_{l+1} + 1``) delimits the
    windows of layer ``l`` in ``dfs``, windows in depth-first order.

    >>> from widthdesign.spec import Architecture, Layer
    >>> dfs, bounds = tree_slots(Architecture(shape=(2, 4), channels=2,
    ...                                       layers=[Layer(2, (2, 2)), Layer(2)]))
    >>> dfs.tolist(), bounds[0].tolist(), bounds[1].tolist()
    ([0, 1, 4, 5, 2, 3, 6, 7], [0, 4, 8], [0, 8])
    """
    tree = pooling_tree(arch)
    perms = [np.zeros(1, dtype=np.int64)]  # positions of each level in DFS order, top first
    for level in range(tree.depth - 1, -1, -1):
        starts, kids = tree.starts[level], tree.children[level]
        perms.append(np.concatenate([kids[starts[w] : starts[w + 1]] for w in perms[-1]]))
    perms.reverse()  # perms[l]: level-l positions in DFS order
    leaves = np.ones(tree.sizes[0], dtype=np.int64)
    bounds = []
    for level in range(tree.depth):
        leaves = np.bincount(tree.parents[level], weights=leaves, minlength=tree.sizes[level + 1])
        leaves = leaves.astype(np.int64)
        bounds.append(np.concatenate([[0], np.cumsum(leaves[perms[level + 1]])]))
    return perms[0].astype(np.int64), bounds


#: Inputs up to which the dense |corr| matrix is formed and kept (4 N^2 bytes: 64 MB).
DENSE_LIMIT = 4096
#: Nearest neighbours per input of the sparse |corr| graph used past DENSE_LIMIT.
SPARSE_NEIGHBOURS = 32
#: Rows of the Gaussian sketch that finds those neighbours (their weights stay exact).
SKETCH_ROWS = 256


class Dependence:
    """The |corr| structure of a data set, computed once and queried for many orders.

    Dense (the ``N x N`` matrix) up to :data:`DENSE_LIMIT` inputs. Past it (or with
    ``dense=False``) the ``neighbors``-nearest-neighbour |corr| graph (:func:`knn_graph`, one
    pass over the data) stands for it: every mass is then the exact sum over that graph's
    edges (all pairs when ``neighbors >= N - 1``), the random expectation included.
    """

    def __init__(
        self, x: np.ndarray, dense: bool | None = None, neighbors: int = SPARSE_NEIGHBOURS
    ):
        self.z, self.constant = standardize(x)
        self._zt = None
        self.n_inputs = self.z.shape[1]
        self.dense = self.n_inputs <= DENSE_LIMIT if dense is None else dense
        self.c = abs_correlation_from_z(self.z) if self.dense else None
        # past DENSE_LIMIT the neighbours are found on a sketch of 256 samples (exact weights)
        sketch = SKETCH_ROWS if self.z.shape[0] > 2 * SKETCH_ROWS else None
        self.graph = None if self.dense else knn_graph(self.z, neighbors, sketch=sketch)
        self.neighbors = None if self.dense else min(neighbors, self.n_inputs - 1)
        if self.c is not None:
            self.rowsum = self.c.sum(axis=1, dtype=np.float64)
        else:
            self.rowsum = np.asarray(self.graph.sum(axis=1), dtype=np.float64).ravel()
        #: sum over unordered pairs (of the graph's edges, past DENSE_LIMIT) of |corr|
        self.pair_mass = float(self.rowsum.sum() / 2)

    @property
    def pairs(self) -> str:
        """Which pairs the masses sum over: ``all pairs`` or the kNN graph's edges."""
        if self.c is not None:
            return "all pairs"
        return f"edges of the {self.neighbors}-nearest-neighbour |corr| graph"

    def _rows(self, cols: np.ndarray, budget: int = 1 << 24):
        """Yield ``(a, b, |corr|[cols[a:b]][:, cols])`` blocks of the dense matrix."""
        n = len(cols)
        step = max(1, budget // max(n, 1))
        for a in range(0, n, step):
            b = min(n, a + step)
            yield a, b, self.c[np.ix_(cols[a:b], cols)]

    def level_masses(self, dfs_inputs: np.ndarray, bounds: Sequence[np.ndarray]) -> list:
        """Crossing mass of every tree node: ``out[l][w]`` for window ``w`` (DFS order) of
        layer ``l``, when ``dfs_inputs`` are the inputs in depth-first slot order."""
        cols = np.asarray(dfs_inputs, dtype=np.int64)
        node_of = [np.searchsorted(b, np.arange(len(cols)), side="right") - 1 for b in bounds]
        if self.c is None:
            g = self.graph.tocoo()
            pos = np.empty(len(cols), dtype=np.int64)
            pos[cols] = np.arange(len(cols))  # input -> DFS position
            r, c = pos[g.row], pos[g.col]
            out = []
            for level, bnd in enumerate(bounds):
                nid = node_of[level]
                cut = nid[r] != nid[c]
                out.append(np.bincount(nid[r][cut], weights=g.data[cut], minlength=len(bnd) - 1))
            return out
        within = [np.zeros(len(cols)) for _ in bounds]
        for a, b, block in self._rows(cols):
            cs = np.cumsum(block, axis=1, dtype=np.float64)
            cs = np.concatenate([np.zeros((b - a, 1)), cs], axis=1)
            rows = np.arange(b - a)
            for level, bnd in enumerate(bounds):
                w = node_of[level][a:b]
                within[level][a:b] = cs[rows, bnd[w + 1]] - cs[rows, bnd[w]]
        crossing_rows = [self.rowsum[cols] - w for w in within]
        return [
            np.bincount(node_of[level], weights=crossing_rows[level], minlength=len(bnd) - 1)
            for level, bnd in enumerate(bounds)
        ]

    def part_mass(self, side_a: np.ndarray) -> float:
        """Crossing mass of the partition (side A, the rest)."""
        a = np.asarray(side_a, dtype=np.int64)
        if self.c is None:
            inside = float(self.graph[a][:, a].sum())
            return float(self.rowsum[a].sum() - inside)
        inside = sum(float(block.sum(dtype=np.float64)) for _, _, block in self._rows(a))
        return float(self.rowsum[a].sum() - inside)

    def neighbour_score(self, order: np.ndarray, shape: Sequence[int]) -> float:
        """Sum of |corr| over pairs of grid slots that touch (8-neighbourhood in 2-D, all
        3^d - 1 directions in d-D), when slot ``s`` holds input ``order[s]``."""
        grid = np.asarray(order).reshape(shape)
        total = 0.0
        if self.c is None and self._zt is None:
            self._zt = np.ascontiguousarray(self.z.T)  # row gathers, not strided columns
        for a, b in _neighbour_pairs(grid):
            if self.c is not None:
                total += float(self.c[a, b].sum(dtype=np.float64))
            else:
                for lo in range(0, len(a), 4096):
                    za, zb = self._zt[a[lo : lo + 4096]], self._zt[b[lo : lo + 4096]]
                    total += float(np.abs(np.einsum("ij,ij->i", za, zb)).sum())
        return total


def abs_correlation_from_z(z: np.ndarray) -> np.ndarray:
    c = np.abs(z.T @ z)
    np.fill_diagonal(c, 0)
    np.minimum(c, 1, out=c)
    return c


def _neighbour_pairs(grid: np.ndarray):
    """Flat index arrays ``(a, b)`` of touching slot pairs, one array pair per direction."""
    import itertools

    d = grid.ndim
    for step in itertools.product((-1, 0, 1), repeat=d):
        if step <= (0,) * d:  # each unordered direction once (lexicographically positive)
            continue
        src = tuple(slice(max(0, -s), g - max(0, s)) for s, g in zip(step, grid.shape))
        dst = tuple(slice(max(0, s), g + min(0, s)) for s, g in zip(step, grid.shape))
        a, b = grid[src].ravel(), grid[dst].ravel()
        if a.size:
            yield a, b


def crossing_masses(arch: Architecture, x, order=None) -> list[np.ndarray]:
    """Crossing |corr| mass of every canonical partition: ``out[l][w]`` for window ``w``
    (depth-first order) of layer ``l`` (the last layer's single window, the whole set, has
    mass 0). ``order`` (grid slot s holds input ``order[s]``) defaults to the spec's own."""
    dep = x if isinstance(x, Dependence) else Dependence(as_matrix(arch, x))
    dfs, bounds = tree_slots(arch)
    return dep.level_masses(_slot_inputs(arch, order)[dfs], bounds)


def _slot_inputs(arch: Architecture, order=None) -> np.ndarray:
    if order is not None:
        return np.asarray(order, dtype=np.int64)
    return pooling_tree(arch).leaves.astype(np.int64)


def random_masses(dep: Dependence, bounds: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Expected crossing mass of each node over uniformly random orders (exact): a block of
    ``b`` inputs splits a given pair with probability ``2 b (N - b) / (N (N - 1))``."""
    n = dep.n_inputs
    out = []
    for bnd in bounds:
        b = np.diff(bnd).astype(np.float64)
        p = 2 * b * (n - b) / (n * (n - 1)) if n > 1 else np.zeros_like(b)
        out.append(p * dep.pair_mass)
    return out


# -- the profile ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelProfile:
    """The canonical partitions of one layer: each of its windows' blocks vs the rest.

    ``mass`` sums the nodes' crossing masses, ``random`` its expectation over random orders;
    ``mean`` is the average |corr| of a crossing pair (mass / sum of ``|A| |B|``);
    ``capacity`` the network's exact min-cut upper bound for one node of the layer (the
    same for every node when the layer's windows are uniform), ``capacity_log2`` its log2;
    both ``None`` for a spec without widths.
    """

    layer: int
    block: int | None
    nodes: int
    mass: float
    mass_per_node: tuple[float, ...]
    mean: float
    random: float
    capacity: int | None
    capacity_log2: float | None

    @property
    def ratio(self) -> float:
        """``mass / random``: below 1, the order keeps dependent inputs together."""
        return self.mass / self.random if self.random > 0 else 0.0


@dataclass(frozen=True)
class PartProfile:
    """One user partition (``--part``): crossing mass, mean, random expectation, capacity."""

    label: str
    size_a: int
    mass: float
    mean: float
    random: float
    capacity: int | None
    capacity_log2: float | None


@dataclass(frozen=True)
class DataProfile:
    """Result of :func:`profile`: the data's crossing |corr| mass per layer and partition."""

    samples: int
    inputs: int
    constant: int
    pair_mass: float
    levels: tuple[LevelProfile, ...]
    parts: tuple[PartProfile, ...]
    pairs: str = "all pairs"

    @property
    def total(self) -> float:
        """Crossing mass summed over every canonical partition."""
        return sum(lv.mass for lv in self.levels)

    def level_table(self) -> tuple[list[str], list[list[str]]]:
        """``(header, rows)`` of the per-layer profile as text cells, for tables (the CLI's
        and the report's)."""
        header = ["layer", "block", "nodes", "crossing", "mean |corr|", "random", "vs random"]
        rows = [
            [
                str(lv.layer),
                "-" if lv.block is None else str(lv.block),
                str(lv.nodes),
                f"{lv.mass:.1f}",
                f"{lv.mean:.4f}",
                f"{lv.random:.1f}",
                f"{lv.ratio:.3f}",
                "?" if lv.capacity_log2 is None else f"{lv.capacity_log2:.2f}",
            ]
            for lv in self.levels
        ]
        return header + ["capacity log2"], rows


def profile(arch: Architecture, X, parts: Sequence = (), order=None) -> DataProfile:
    """The interaction profile of data ``X`` for the spec's pooling tree.

    Per layer (except the last, global one), the crossing |corr| mass of the canonical
    partitions its windows define (see the module docs), with the random-order expectation
    and the network's capacity for them; the same for each partition in ``parts`` (spec
    strings or anything :func:`widthdesign.bounds` takes). ``order`` overrides the spec's
    ``input.order`` (grid slot s holds input ``order[s]``).
    """
    from .cuts import bounds

    x = as_matrix(arch, X)
    dep = Dependence(x)
    if arch.duplicated:
        if order is not None:
            raise SpecError(
                "order", "given", "no order for overlapping windows (inputs are read twice)"
            )
        levels = _overlap_levels(arch, dep)
        return _data_profile(arch, x, dep, levels, parts, arch)
    dfs, bnds = tree_slots(arch)
    slot_inputs = _slot_inputs(arch, order)
    masses = dep.level_masses(slot_inputs[dfs], bnds)
    rand = random_masses(dep, bnds)
    n = arch.num_inputs
    geometry = arch if order is None else _with_order(arch, order)
    levels = []
    for layer in range(arch.depth - 1):
        bnd = bnds[layer]
        sizes = np.diff(bnd)
        pairs = float((sizes * (n - sizes)).sum())
        cap = None
        if arch.has_widths:
            node = slot_inputs[dfs[bnd[0] : bnd[1]]]
            cap = bounds(geometry, node.tolist()).upper_bound
        levels.append(
            LevelProfile(
                layer=layer,
                block=int(sizes[0]) if (sizes == sizes[0]).all() else None,
                nodes=len(sizes),
                mass=float(masses[layer].sum()),
                mass_per_node=tuple(float(m) for m in masses[layer]),
                mean=float(masses[layer].sum() / pairs) if pairs else 0.0,
                random=float(rand[layer].sum()),
                capacity=cap,
                capacity_log2=_log2(cap),
            )
        )
    return _data_profile(arch, x, dep, levels, parts, geometry)


def _data_profile(arch, x, dep, levels, parts, geometry) -> DataProfile:
    """The :class:`DataProfile` from the per-layer rows, with the user's partitions."""
    from .cuts import as_partition, bounds

    n = arch.num_inputs
    out_parts = []
    for spec in parts:
        part = as_partition(arch, spec)
        a = np.asarray(part.side_a, dtype=np.int64)
        b = n - len(a)
        mass = dep.part_mass(a)
        cap = bounds(geometry, part).upper_bound if arch.has_widths else None
        out_parts.append(
            PartProfile(
                label=part.label,
                size_a=len(a),
                mass=mass,
                mean=mass / (len(a) * b) if len(a) * b else 0.0,
                random=2 * len(a) * b / (n * (n - 1)) * dep.pair_mass if n > 1 else 0.0,
                capacity=cap,
                capacity_log2=_log2(cap),
            )
        )
    return DataProfile(
        samples=x.shape[0],
        inputs=n,
        constant=int(dep.constant.sum()),
        pair_mass=dep.pair_mass,
        levels=tuple(levels),
        parts=tuple(out_parts),
        pairs=dep.pairs,
    )


def receptive_fields(arch: Architecture) -> list[list[frozenset[int]]]:
    """Per layer, the distinct inputs each of its network positions (after pooling) reads.

    With overlapping windows these are the canonical blocks: a position of layer ``l``
    depends on exactly these inputs, so the partition (block, rest) is the one its subtree
    of the unrolled tree separates; copies of one position share one block.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 3, 2)] * 3)
    >>> fields = receptive_fields(arch)
    >>> [sorted(f) for f in fields[0]][:2], [len(f) for f in fields[1]], len(fields[2][0])
    ([[0, 1, 2], [2, 3, 4]], [7, 4], 8)
    """
    tree = pooling_tree(arch)
    pos = tree.positions
    below = {int(p): frozenset([int(i)]) for p, i in zip(pos[0], tree.leaves)}
    out = []
    for level in range(tree.depth):
        fields: dict[int, frozenset[int]] = {}
        for w in range(tree.sizes[level + 1]):
            p = int(pos[level + 1][w])
            if p not in fields:
                kids = pos[level][tree.window(level, w)]
                fields[p] = frozenset().union(*(below[int(k)] for k in kids))
        out.append([fields[p] for p in sorted(fields)])
        below = fields
    return out


def _overlap_levels(arch: Architecture, dep: Dependence) -> list[LevelProfile]:
    """Per layer (but the last), the crossing mass of every network position's receptive
    field vs the rest (fields overlap, so their masses are not a partition of the pairs)."""
    from .cuts import bounds

    n, levels = arch.num_inputs, []
    for layer, fields in enumerate(receptive_fields(arch)[:-1]):
        masses = [dep.part_mass(np.fromiter(sorted(f), dtype=np.int64)) for f in fields]
        sizes = np.array([len(f) for f in fields], dtype=np.float64)
        pairs = float((sizes * (n - sizes)).sum())
        rand = 2 * sizes * (n - sizes) / (n * (n - 1)) * dep.pair_mass if n > 1 else 0 * sizes
        cap = bounds(arch, sorted(fields[0])).upper_bound if arch.has_widths else None
        levels.append(
            LevelProfile(
                layer=layer,
                block=int(sizes[0]) if (sizes == sizes[0]).all() else None,
                nodes=len(fields),
                mass=float(sum(masses)),
                mass_per_node=tuple(float(m) for m in masses),
                mean=float(sum(masses) / pairs) if pairs else 0.0,
                random=float(np.sum(rand)),
                capacity=cap,
                capacity_log2=_log2(cap),
            )
        )
    return levels


def _with_order(arch: Architecture, order) -> Architecture:
    from dataclasses import replace

    return replace(arch, order=tuple(int(i) for i in order))


def _log2(value: int | None) -> float | None:
    if value is None:
        return None
    return value.bit_length() - 1 + math.log2(value / (1 << (value.bit_length() - 1)))


# -- a synthetic data set with a known best tree ----------------------------------------------


def mirror_pairs(
    n: int = 400, size: int = 16, weights=(1.0, 0.6, 0.35, 0.2), noise: float = 0.3, seed: int = 0
) -> np.ndarray:
    """Samples ``[n, size]`` whose dependence follows the mirror tree: input ``i`` pairs
    with ``size - 1 - i``, pairs of neighbouring pairs join, and so on up (the tree of
    ``examples/mirror_1d_n16.toml``). Input ``i`` is a sum over the levels ``l`` of a
    Gaussian factor shared by its level-``l`` mirror block (weight ``weights[l]``), plus
    noise: inputs of smaller common blocks are more correlated, so that tree is the
    best one at every level (the bundled ``examples/mirror_pairs_n16.csv``, rounded to 4
    decimals, is ``mirror_pairs()``).

    >>> x = mirror_pairs(2000)
    >>> c = abs_correlation(x)
    >>> int(c[0].argmax()), bool(c[0, 15] > c[0, 1] > c[0, 2] > c[0, 4])
    (15, True)
    """
    if size < 2 or size & (size - 1):
        raise DataError("size", size, "a power of two, at least 2")
    rng = np.random.default_rng([seed, 41])
    half = size // 2
    pair = np.minimum(np.arange(size), size - 1 - np.arange(size))  # pair index 0..half-1
    x = noise * rng.normal(size=(n, size))
    for level, w in enumerate(weights):
        block = pair >> level  # pairs of pairs... at level l
        blocks = max(1, half >> level)
        factors = rng.normal(size=(n, blocks))
        x += w * factors[:, np.minimum(block, blocks - 1)]
    return x
