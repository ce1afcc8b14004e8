"""The batch engine: exact bounds for many partitions at once, vectorized.

:func:`bounds_many` runs the dynamic program of :func:`widthdesign.cuts.tree_dp` on 2-D
arrays ``[partitions, positions]``, a chunk of partitions at a time, and returns a
:class:`BatchBounds` with ``log2`` bounds as numpy arrays and the exact integers on demand.

How it stays exact and fast:

- The inputs are reordered once so that every pooling window is a contiguous run of positions
  at every level (depth-first order of the pooling tree); a level is then a
  ``reshape(P, n_next, k)`` and a sum over the last axis, with no gather inside the loop.
- The bottom levels of the tree, while their subtrees hold at most 16 inputs, are folded into
  a lookup table indexed by the subtree's bits: the masks are packed with ``np.packbits`` and
  each 16-input block costs one table read instead of ~20 array operations on 16 bytes.
- When every bond dimension (M, r_0, ...) is a power of one integer b, costs are exact int32
  exponents of b and the lower bound equals the upper bound (Levine et al., Theorem 2).
- Otherwise costs are float64 log2 values *and* the count vector of the cut items per level
  (how many input bonds and how many deltas of each level the cheapest cut takes), packed in
  bit fields of uint64 words. The count vector is the certificate: the exact upper bound is
  ``prod(dims[k] ** counts[k])``. Comparisons whose float margin is within the rounding
  tolerance are re-decided exactly (equal prime-exponent vectors mean an exact tie, else
  Python ints decide), so near-ties never pick a more expensive cut.
- The lower bound is an exact int exponent DP per useful base p (the candidates of
  :func:`widthdesign.exact.lower_bound_bases`, minus the ones that cannot win: p > M gives 1,
  and p is dropped when another base's rounded dimensions are all at least as large).

>>> import numpy as np
>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(3, 2), Layer(5, 2), Layer(7)])
>>> masks = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0, 1, 0]], dtype=bool)
>>> res = bounds_many(arch, masks)
>>> res.upper_bound(0), res.lower_bound(0), res.upper_bound(1), res.lower_bound(1)
(5, 4, 16, 16)
>>> res.exact.tolist()
[False, True]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import exact
from .errors import PartitionError
from .spec import Architecture, pooling_tree

__all__ = ["BatchBounds", "bounds_many", "read_parts_file"]

#: Largest bottom subtree folded into a lookup table (2^16 entries per table).
_MAX_BLOCK = 16
#: Per chunk: at most this many mask elements, and this many positions above the folded
#: levels (where ~15 working arrays of 8 bytes live): ~100 MB, far below 1 GiB for any P.
_CHUNK_ELEMENTS = 1 << 23
_CHUNK_POSITIONS = 1 << 19
#: Relative float tolerance, against the largest possible cost, below which a comparison is
#: re-decided exactly. The DP is a tree of sums of depth ~ levels * log2(window + 1), so its
#: float error is ~1e-14 of that scale, far below this.
_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class BatchBounds:
    """Bounds on the separation rank for ``P`` partitions (row ``i`` = ``masks[i]``).

    Attributes:
        log2_upper: float64 ``[P]``, log2 of the upper bound (the minimal cut).
        log2_lower: float64 ``[P]``, log2 of Levine et al.'s Theorem 2 lower bound.
        exact: bool ``[P]``, the bounds meet (decided exactly, on integers).
        dims: bond dimensions ``(M, r_0, ..., r_{L-1})``.
        counts: int64 ``[P, L + 1]`` (or ``None`` when all dimensions are powers of
            ``base``): how many input bonds and level-l deltas the minimal cut takes.
        base, exponent: when all dimensions are powers of ``base``, both bounds are
            ``base ** exponent[i]`` (``exponent`` int64 ``[P]``); else ``None``.
        lower_bases, lower_exponents: the bases p tried for the lower bound and int64
            ``[P, len(lower_bases)]`` min-cut exponents; lower bound ``max_p p ** E[i, p]``.
        has_lower: False for overlapping specs, which have no proved lower bound:
            ``lower_bound`` is then ``None``, ``log2_lower`` NaN and ``exact`` False.

    Exact integers come on demand, never through floats:

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=3, layers=[Layer(2, 2), Layer(5)])
    >>> res = bounds_many(arch, np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool))
    >>> res.upper_bound(1), res.lower_bound(1), res.cut_counts(1)
    (4, 4, (0, 2, 0))
    >>> res.to_records("exact", labels=["halves", "interleaved"])[0]["upper_bound"]
    2
    """

    log2_upper: np.ndarray
    log2_lower: np.ndarray
    exact: np.ndarray
    dims: tuple[int, ...]
    counts: np.ndarray | None
    base: int | None
    exponent: np.ndarray | None
    lower_bases: tuple[int, ...]
    lower_exponents: np.ndarray
    has_lower: bool = True

    def __len__(self) -> int:
        return int(self.log2_upper.shape[0])

    def upper_bound(self, i: int) -> int:
        """Exact upper bound (the minimal cut's value) of partition ``i``."""
        if self.exponent is not None:
            return int(self.base) ** int(self.exponent[i])
        return math.prod(int(d) ** int(c) for d, c in zip(self.dims, self.counts[i]))

    def lower_bound(self, i: int) -> int | None:
        """Exact lower bound of partition ``i``: ``max_p p ** mincut_p`` (at least 1);
        ``None`` without a proved lower bound (overlapping specs)."""
        if not self.has_lower:
            return None
        if self.exponent is not None:
            return self.upper_bound(i)
        row = self.lower_exponents[i]
        return max([1] + [p ** int(e) for p, e in zip(self.lower_bases, row)])

    def cut_counts(self, i: int) -> tuple[int, ...] | None:
        """Items the minimal cut takes per level ``(input bonds, level-0 deltas, ...)``.

        ``None`` when all dimensions are powers of one integer (only the exponent is kept).
        """
        if self.counts is None:
            return None
        return tuple(int(c) for c in self.counts[i])

    def to_records(
        self, values: str = "log2", labels: Sequence[Any] | None = None
    ) -> list[dict[str, Any]]:
        """One JSON-ready dict per partition.

        Keys: ``partition`` (``labels[i]`` or the row index), ``log2_upper_bound``,
        ``log2_lower_bound``, ``exact``; with ``values="exact"`` also ``upper_bound`` and
        ``lower_bound`` as exact ints.
        """
        if values not in ("log2", "exact"):
            raise ValueError(f"values={values!r}: expected 'log2' or 'exact'")
        if labels is not None and len(labels) != len(self):
            raise ValueError(f"{len(labels)} labels for {len(self)} partitions")
        up = np.round(self.log2_upper, 6).tolist()
        lo = np.round(self.log2_lower, 6).tolist() if self.has_lower else [None] * len(self)
        ex = self.exact.tolist()
        out = []
        for i in range(len(self)):
            rec: dict[str, Any] = {
                "partition": labels[i] if labels is not None else i,
                "log2_upper_bound": up[i],
                "log2_lower_bound": lo[i],
                "exact": ex[i],
            }
            if values == "exact":
                rec["upper_bound"] = self.upper_bound(i)
                rec["lower_bound"] = self.lower_bound(i)
            out.append(rec)
        return out


# -- public entry point ---------------------------------------------------------------------


def bounds_many(
    arch: Architecture,
    masks: np.ndarray,
    chunk: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchBounds:
    """Exact upper and lower bounds for many partitions (same values as :func:`cuts.bounds`).

    Args:
        arch: the architecture (all widths set).
        masks: bool ``[P, *grid_shape]`` or ``[P, N]``; True puts the input on side A.
            Integer arrays of 0/1 are accepted.
        chunk: partitions per chunk (default: ~8M mask elements, ~100 MB of work arrays).
        progress: called with the number of partitions done after each chunk.

    Raises :class:`~widthdesign.errors.PartitionError` for a malformed array or a row with
    an empty side.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4, 4), channels=2,
    ...                     layers=[Layer(4, (2, 2)), Layer(4)])
    >>> board = (np.indices((4, 4)).sum(0) % 2 == 0)
    >>> res = bounds_many(arch, np.stack([board, ~board]))
    >>> res.log2_upper.tolist(), res.exact.tolist()       # min(r_0, M^2)^(N/4)
    ([8.0, 8.0], [True, True])
    """
    dims = tuple(int(d) for d in arch.bond_dims())
    n = arch.num_inputs
    masks = _check_masks(masks, arch)
    total = masks.shape[0]
    plan = _plan(arch, dims)
    if chunk is None:
        slots = plan.sizes[0]  # tree positions: N, or the copies of an overlapping spec
        above = slots // plan.block_size
        chunk = max(1, min(_CHUNK_ELEMENTS // max(n, slots), _CHUNK_POSITIONS // above))
    elif not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk={chunk!r}: expected a positive integer")
    parts = []
    for lo in range(0, total, chunk):
        parts.append(_run_chunk(plan, masks[lo : lo + chunk], lo))
        if progress is not None:
            progress(min(lo + chunk, total))
    return _assemble(plan, parts, total)


def _check_masks(masks: Any, arch: Architecture) -> np.ndarray:
    arr = np.asarray(masks)
    n = arch.num_inputs
    shapes = {tuple(arch.shape), (n,)}
    if arr.ndim < 2 or tuple(arr.shape[1:]) not in shapes:
        expected = " or ".join(f"[P, {', '.join(map(str, s))}]" for s in sorted(shapes))
        raise PartitionError(f"Partition masks: shape {list(arr.shape)}; expected {expected}")
    if arr.dtype != bool:
        if arr.dtype.kind not in "iu":
            raise PartitionError(f"Partition masks: dtype {arr.dtype}; expected bool or 0/1 ints")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            row = int(np.flatnonzero(bad.reshape(arr.shape[0], -1).any(1))[0])
            raise PartitionError(f"Partition row {row}: values must be 0/1 or bool")
        arr = arr.astype(bool)
    return np.ascontiguousarray(arr.reshape(arr.shape[0], n))


# -- the plan: tree layout, tables, bases (cached per architecture and dims) ----------------


@dataclass(frozen=True, eq=False)
class _Plan:
    dims: tuple[int, ...]
    n: int
    shape: tuple[int, ...]
    grid: bool  # positions kept on the grid (row-major) instead of depth-first order
    perm: np.ndarray | None  # input held by each slot; None = identity
    fold_perm: np.ndarray | None  # grid codes: grid position of each level-fold slot
    levels: tuple[tuple, ...]  # per level: ("grid", pool), ("planar", k) or ("dfs", k, starts)
    sizes: tuple[int, ...]
    fold: int  # bottom levels folded into tables
    block: tuple[int, ...] | int  # folded block: grid shape, or number of slots (0 = none)
    block_size: int  # inputs per folded block (1 = none)
    base: int | None  # common base of all dims (then costs are exact exponents)
    exps: tuple[int, ...] | None  # dims as exponents of base
    fields: _Fields | None
    lower: tuple[tuple[int, tuple[int, ...]], ...]  # (p, dims rounded as exponents of p)
    primes: tuple[int, ...]  # a coprime base of dims and lower bases (not always primes)
    factors: np.ndarray  # [L + 1, Q] exponents of each dim over primes
    cache: dict  # tables and helpers built on first use
    overlapping: bool = False  # unrolled tree whose leaves repeat inputs: no lower bound


@dataclass(frozen=True, eq=False)
class _Fields:
    """Bit fields of the count vector inside uint64 words: level j at (word[j], shift[j])."""

    word: tuple[int, ...]
    shift: tuple[int, ...]
    width: tuple[int, ...]
    nwords: int

    def unit(self, j: int) -> tuple[int, np.uint64]:
        return self.word[j], np.uint64(1 << self.shift[j])

    def unpack(self, words: Sequence[np.ndarray]) -> np.ndarray:
        out = np.empty((words[0].shape[0], len(self.word)), dtype=np.int64)
        for j, (w, s, b) in enumerate(zip(self.word, self.shift, self.width)):
            out[:, j] = (words[w] >> np.uint64(s)) & np.uint64((1 << b) - 1)
        return out


@lru_cache(maxsize=32)
def _plan(arch: Architecture, dims: tuple[int, ...]) -> _Plan:
    tree = pooling_tree(arch)
    sizes = tuple(int(s) for s in tree.sizes)
    ks = [int(np.prod(p)) for p in arch.pools] if tree.grids is not None else tree.uniform
    fold, size = 0, 1
    for k in ks:
        if k is None or size * k > _MAX_BLOCK:
            break
        fold, size = fold + 1, size * k
    # Grid codes (no gather of the inputs at all) when the folded block's bits can be cut
    # out of row-major packed bytes: block width divides 8 and the rows are whole bytes.
    grid = False
    if tree.grids is not None and arch.order is None and len(arch.shape) >= 2 and fold:
        bshape = tuple(int(np.prod(c)) for c in zip(*arch.pools[:fold]))
        grid = 8 % bshape[-1] == 0 and arch.shape[-1] % 8 == 0
    perm, fold_order, levels = _layout(tree, fold)
    fold_perm = None
    if grid:
        levels = tuple(("grid", p) for p in arch.pools[:fold]) + levels[fold:]
        perm, block = None, bshape
        if not np.array_equal(fold_order, np.arange(fold_order.size)):
            fold_perm = fold_order
    else:
        block = size if fold else 0
    base = exact.common_base(dims)
    exps = tuple(_exact_log(d, base) for d in dims) if base is not None else None
    # level j holds at most sizes[j] items (bonds for j = 0, windows of level j - 1)
    fields = _make_fields([s.bit_length() for s in sizes]) if base is None else None
    # overlapping specs have no proved lower bound: no exponent DPs for one
    lower = _useful_bases(dims) if base is None and not arch.duplicated else ()
    primes, factors = _factor_matrix(dims, [p for p, _ in lower])
    return _Plan(
        dims=dims,
        n=arch.num_inputs,
        shape=tuple(arch.shape),
        grid=grid,
        perm=perm,
        fold_perm=fold_perm,
        levels=levels,
        sizes=sizes,
        fold=fold,
        block=block,
        block_size=size,
        base=base,
        exps=exps,
        fields=fields,
        lower=lower,
        primes=primes,
        factors=factors,
        cache={},
        overlapping=arch.duplicated,
    )


def _layout(tree, fold: int) -> tuple[np.ndarray | None, np.ndarray, tuple]:
    """Slot order of the positions of every level, built top down.

    Above the folded levels, when every window of a level has the same size k, the order is
    member-major ("planar"): slot ``m * n_next + q`` holds member m of the window in slot q,
    so a window sum is k - 1 adds of contiguous rows. Otherwise, and inside folded blocks,
    depth-first: every window is a contiguous run. Returns the input held by each level-0
    slot (None = identity), the level-``fold`` positions in slot order, and the levels.
    """
    planar = all(tree.uniform[level] is not None for level in range(fold, tree.depth))
    order = np.zeros(1, dtype=np.int64)  # the single top position
    fold_order = order
    levels = []
    for level in range(tree.depth - 1, -1, -1):
        starts = tree.starts[level]
        k = tree.uniform[level]
        if planar and level >= fold:
            members = starts[:-1][order][None, :] + np.arange(k)[:, None]
            order = tree.children[level][members.reshape(-1)]
            levels.append(("planar", int(k)))
        else:
            counts = np.diff(starts)[order]
            first = starts[:-1][order]
            run_start = np.repeat(np.cumsum(counts) - counts, counts)
            pick = np.repeat(first, counts) + np.arange(counts.sum()) - run_start
            order = tree.children[level][pick]
            if k is not None:
                levels.append(("dfs", int(k), None))
            else:
                levels.append(("dfs", None, np.concatenate([[0], np.cumsum(counts)[:-1]])))
        if level == fold:
            fold_order = order
    levels.reverse()
    perm = tree.leaves[order]
    if np.array_equal(perm, np.arange(perm.size)):
        perm = None
    return perm, fold_order, tuple(levels)


def _make_fields(widths: list[int]) -> _Fields:
    word, shift, nwords, used = [], [], 1, 0
    for b in widths:
        if used + b > 64:
            nwords, used = nwords + 1, 0
        word.append(nwords - 1)
        shift.append(used)
        used += b
    return _Fields(tuple(word), tuple(shift), tuple(widths), nwords)


def _exact_log(d: int, b: int) -> int:
    k = exact.ilog(d, b) if d > 1 else 0
    assert b**k == d
    return k


def _useful_bases(dims: tuple[int, ...]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Bases worth an exponent DP: p <= M (else every input bond is free and the bound is 1),
    and not dominated (another base's rounded dimensions all at least as large)."""
    m = dims[0]
    cands = []
    for p in exact.lower_bound_bases(dims):
        if p > m:
            continue
        e = tuple(exact.ilog(d, p) for d in dims)
        cands.append((p, e, tuple(p**x for x in e)))
    keep = []
    for i, (p, e, r) in enumerate(cands):
        dominated = any(
            all(a >= b for a, b in zip(r2, r)) and (r2 != r or j < i)
            for j, (_, _, r2) in enumerate(cands)
            if j != i
        )
        if not dominated:
            keep.append((p, e))
    return tuple(keep)


def _factor_matrix(
    dims: tuple[int, ...], extra: Sequence[int] = ()
) -> tuple[tuple[int, ...], np.ndarray]:
    """Exponents of ``dims`` (rows) over a coprime base of ``dims`` and ``extra``: equal
    exponent rows mean equal products (unique factorization over pairwise coprime factors),
    without factoring anything into primes (a 61-bit prime would take forever)."""
    base = coprime_base([*dims, *extra])
    mat = np.array([exponents_over(d, base) for d in dims], dtype=np.int64)
    return base, mat.reshape(len(dims), len(base))


def coprime_base(values: Sequence[int]) -> tuple[int, ...]:
    """Pairwise coprime ints > 1 of which every value is a product of powers, by gcd
    refinement (each split lowers the product of the set, so it ends).

    >>> coprime_base([12, 18]), coprime_base([2**61 - 1, 6, 4])
    ((2, 3), (2, 3, 2305843009213693951))
    """
    base = {int(v) for v in values if v > 1}
    while True:
        items = sorted(base)
        pair = next(
            ((x, y) for i, x in enumerate(items) for y in items[i + 1 :] if math.gcd(x, y) > 1),
            None,
        )
        if pair is None:
            return tuple(items)
        x, y = pair
        g = math.gcd(x, y)
        base = (base - {x, y}) | {x // g, y // g, g}
        base.discard(1)


def exponents_over(d: int, base: Sequence[int]) -> list[int]:
    """Exponents of ``d`` over a coprime base that factors it (see :func:`coprime_base`)."""
    out = []
    for q in base:
        e = 0
        while d % q == 0:
            d //= q
            e += 1
        out.append(e)
    if d != 1:
        raise ValueError(f"{d} does not factor over {base}")
    return out


# -- level steps ----------------------------------------------------------------------------


def _wsum(x: np.ndarray, level: tuple) -> np.ndarray:
    """Sum per pooling window. Strided slices added in turn: numpy's reduce over a short
    last axis is ~10x slower than a few whole-array adds."""
    if level[0] == "planar":
        k = level[1]
        rows = x.reshape(x.shape[0], k, -1)
        if k == 1:
            return rows[:, 0].copy()
        acc = rows[:, 0] + rows[:, 1]
        for i in range(2, k):
            acc += rows[:, i]
        return acc
    if level[0] == "dfs":
        _, k, starts = level
        if k is None:
            return np.add.reduceat(x, starts, axis=1, dtype=x.dtype)
        return _slice_sum(x, 1, k)
    # grid windows are separable: sum along one axis at a time (fewer adds than k - 1)
    out = x
    for axis, p in enumerate(level[1], start=1):
        out = _slice_sum(out, axis, p)
    return out.copy() if out is x else out  # callers may update the result in place


def _slice_sum(x: np.ndarray, axis: int, k: int) -> np.ndarray:
    if k == 1:
        return x.copy() if axis == 1 else x
    pre = (slice(None),) * axis
    acc = x[pre + (slice(0, None, k),)] + x[pre + (slice(1, None, k),)]
    for i in range(2, k):
        acc += x[pre + (slice(i, None, k),)]
    return acc


def _int_init(slot_a: np.ndarray, e0: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    e = dtype(e0)
    return np.where(slot_a, dtype(0), e), np.where(slot_a, e, dtype(0))


def _int_step(ca, cb, level, e):
    both = _wsum(np.minimum(ca, cb), level)
    both += e
    return np.minimum(_wsum(ca, level), both), np.minimum(_wsum(cb, level), both)


def _select(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``where(m, x, y)`` for uint64 by arithmetic (wraps mod 2^64): np.where is branchy
    and ~4x slower on irregular masks."""
    d = np.subtract(x, y)
    np.multiply(d, m, out=d)
    d += y
    return d


class _FloatDP:
    """log2 costs with their packed count vectors; exact re-decision of near-ties.

    Values are chosen with ``np.minimum`` (the float decision); where a near-tie is
    re-decided exactly the other way, the value is patched so it always belongs to the
    count vector carried with it.
    """

    def __init__(self, plan: _Plan):
        self.plan = plan
        self.f = plan.fields
        self.logs = np.array([math.log2(d) for d in plan.dims])
        tree_max = float(np.dot(self.logs, plan.sizes))
        self.tol = _TOL * (1.0 + tree_max)

    def init(self, slot_a: np.ndarray):
        w0, u0 = self.f.unit(0)
        lm = self.logs[0]
        va = np.where(slot_a, 0.0, lm)
        vb = np.where(slot_a, lm, 0.0)
        zeros = np.zeros(slot_a.shape, dtype=np.uint64)
        qa = [zeros] * self.f.nwords
        qb = list(qa)
        qa[w0] = np.where(slot_a, np.uint64(0), u0)
        qb[w0] = np.where(slot_a, u0, np.uint64(0))
        return va, vb, qa, qb

    def step(self, state, level, j):
        """Level ``j - 1`` windows: the deltas of dimension dims[j]."""
        va, vb, qa, qb = state
        pref, fix = self.less(va, qa, vb, qb, strict=False)
        mv = self.choose(pref, fix, va, vb)
        bv = _wsum(mv, level)
        bv += self.logs[j]
        bq = [_wsum(_select(pref, x, y), level) for x, y in zip(qa, qb)]
        w, u = self.f.unit(j)
        bq[w] += u
        out = []
        for v, q in ((va, qa), (vb, qb)):
            kv = _wsum(v, level)
            kq = [_wsum(x, level) for x in q]
            cut, fix = self.less(bv, bq, kv, kq, strict=True)
            out.append(
                (self.choose(cut, fix, bv, kv), [_select(cut, x, y) for x, y in zip(bq, kq)])
            )
        (va, qa), (vb, qb) = out
        return va, vb, qa, qb

    @staticmethod
    def choose(m, fix, x, y):
        v = np.minimum(x, y)
        if fix is not None:
            v[fix] = np.where(m[fix], x[fix], y[fix])
        return v

    def less(self, xv, xq, yv, yq, strict: bool):
        """``x < y`` (or ``<=``) on the exact values ``prod dims ** counts``; also the
        indices where that differs from the float decision (or None)."""
        d = np.subtract(xv, yv)
        res = d < 0 if strict else d <= 0
        np.abs(d, out=d)
        amb = d <= self.tol
        differ = xq[0] != yq[0]
        for x, y in zip(xq[1:], yq[1:]):
            differ |= x != y
        amb &= differ
        if not amb.any():
            return res, None
        idx = np.nonzero(amb)
        cx = self.f.unpack([x[idx] for x in xq])
        cy = self.f.unpack([y[idx] for y in yq])
        exact = self._exact_less(cx, cy, strict)
        changed = exact != res[idx]
        res[idx] = exact
        if not changed.any():
            return res, None
        return res, tuple(i[changed] for i in idx)

    def _exact_less(self, cx: np.ndarray, cy: np.ndarray, strict: bool) -> np.ndarray:
        # equal prime exponents <=> equal integers (unique factorization): an exact tie
        delta = (cx - cy) @ self.plan.factors
        out = np.full(delta.shape[0], not strict)
        for i in np.flatnonzero(delta.any(axis=1)).tolist():
            num = den = 1
            for q, e in zip(self.plan.primes, delta[i].tolist()):
                if e > 0:
                    num *= q**e
                elif e < 0:
                    den *= q ** (-e)
            out[i] = num < den
        return out


# -- folded bottom levels: lookup tables ----------------------------------------------------


def _table(plan: _Plan, mode: Any):
    """Costs at the top of a folded block for every bit pattern of its inputs, packed so
    that one ``np.take`` fetches a pair: int exponents as int32 pairs in an int64, low
    count fields of both sides in one uint64 when they fit."""
    key = ("table", mode)
    if key in plan.cache:
        return plan.cache[key]
    shape = plan.block if plan.grid else (plan.block,)
    s = math.prod(shape)
    codes = np.arange(1 << s, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(s)) & 1).astype(bool).reshape(-1, *shape)
    state = _initial(plan, mode, bits)
    for level in range(plan.fold):
        state = _step(plan, mode, state, level)
    flat = [
        x.reshape(-1) if isinstance(x, np.ndarray) else [y.reshape(-1) for y in x] for x in state
    ]
    if mode == "float":
        va, vb, qa, qb = flat
        f = plan.fields
        low = all(f.word[j] == 0 for j in range(plan.fold + 1))
        if low and f.shift[plan.fold] + f.width[plan.fold] <= 32:
            q = ("pair", qa[0] | (qb[0] << np.uint64(32)))
        else:
            q = ("words", qa, qb)
        table = (va, vb, q)
    else:
        ca, cb = flat
        table = (ca.astype(np.uint32).astype(np.int64) | (cb.astype(np.int64) << 32), ca.dtype)
    plan.cache[key] = table
    return table


def _lookup(plan: _Plan, mode: Any, codes: np.ndarray):
    table = _table(plan, mode)
    if mode == "float":
        va, vb = np.take(table[0], codes), np.take(table[1], codes)
        q = table[2]
        if q[0] == "pair":
            qp = np.take(q[1], codes)
            qa = [qp & np.uint64(0xFFFFFFFF)]
            qb = [qp >> np.uint64(32)]
            nwords = plan.fields.nwords
            if nwords > 1:
                zeros = np.zeros(codes.shape, dtype=np.uint64)
                qa, qb = qa + [zeros] * (nwords - 1), qb + [zeros] * (nwords - 1)
        else:
            qa = [np.take(x, codes) for x in q[1]]
            qb = [np.take(y, codes) for y in q[2]]
        return va, vb, qa, qb
    pairs = np.take(table[0], codes)
    # split the pair arithmetically: contiguous results (a view of the halves is strided)
    return pairs.astype(np.int32).astype(table[1]), (pairs >> 32).astype(table[1])


def _int_dtype(plan: _Plan, exps: Sequence[int]):
    big = sum(s * e for s, e in zip(plan.sizes, exps))
    return np.int32 if big < 2**31 else np.int64


def _mode_exps(plan: _Plan, mode: Any) -> tuple[int, ...]:
    if mode == "base":
        return plan.exps
    return dict(plan.lower)[mode]


def _initial(plan: _Plan, mode: Any, slot_a: np.ndarray):
    if mode == "float":
        return _float_dp(plan).init(slot_a)
    exps = _mode_exps(plan, mode)
    return _int_init(slot_a, exps[0], _int_dtype(plan, exps))


def _step(plan: _Plan, mode: Any, state, level: int):
    if mode == "float":
        return _float_dp(plan).step(state, plan.levels[level], level + 1)
    exps = _mode_exps(plan, mode)
    dtype = _int_dtype(plan, exps)
    return _int_step(state[0], state[1], plan.levels[level], dtype(exps[level + 1]))


def _float_dp(plan: _Plan) -> _FloatDP:
    dp = plan.cache.get("float_dp")
    if dp is None:
        dp = plan.cache["float_dp"] = _FloatDP(plan)
    return dp


# -- one chunk ------------------------------------------------------------------------------

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(packed: np.ndarray) -> np.ndarray:
    """Set bits per byte (np.bitwise_count needs numpy >= 2.0; the project allows 1.24)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(packed)
    return _POPCOUNT8[packed]


def _codes(plan: _Plan, masks: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Per chunk: (slots or None, table codes, number of inputs on side A per row)."""
    c = masks.shape[0]
    if plan.grid:
        # bits of a block: row-major inside the block, cut out of row-major packed rows
        packed = np.packbits(masks.reshape(c, *plan.shape), axis=-1, bitorder="little")
        size_a = _popcount(packed).reshape(c, -1).sum(axis=1, dtype=np.int64)
        bw = plan.block[-1]
        per_byte = 8 // bw
        fields = [(packed >> np.uint8(i * bw)) & np.uint8((1 << bw) - 1) for i in range(per_byte)]
        chunks = np.stack(fields, axis=-1).reshape(*packed.shape[:-1], -1).astype(np.uint16)
        split = [c]
        for g, b in zip(plan.shape[:-1], plan.block[:-1]):
            split += [g // b, b]
        split.append(chunks.shape[-1])
        chunks = chunks.reshape(split)
        codes = None
        for t, offs in enumerate(itertools.product(*[range(b) for b in plan.block[:-1]])):
            view = chunks[(slice(None),) + tuple(x for o in offs for x in (slice(None), o))]
            codes = (
                view << np.uint16(t * bw) if codes is None else codes | (view << np.uint16(t * bw))
            )
        codes = codes.reshape(c, -1)
        if plan.fold_perm is not None:
            codes = np.take(codes, plan.fold_perm, axis=1)
        return None, codes, size_a
    slots = masks if plan.perm is None else np.take(masks, plan.perm, axis=1)
    if not plan.block:
        return slots, None, np.count_nonzero(slots, axis=1)
    packed = np.packbits(slots.reshape(c, -1, plan.block), axis=-1, bitorder="little")
    size_a = _popcount(packed).reshape(c, -1).sum(axis=1, dtype=np.int64)
    if packed.shape[-1] == 1:
        return slots, packed[..., 0], size_a
    return slots, packed.view("<u2")[..., 0], size_a


def _run_chunk(plan: _Plan, masks: np.ndarray, offset: int) -> dict:
    c = masks.shape[0]
    slots, codes, size_a = _codes(plan, masks)
    # slots on side A: every input has at least one copy, so 0 or all slots = a side empty
    bad = np.flatnonzero((size_a == 0) | (size_a == plan.sizes[0]))
    if bad.size:
        row = int(bad[0])
        side = "A" if size_a[row] == 0 else "B"
        raise PartitionError(
            f"Partition row {offset + row}: side {side} is empty; expected 1..{plan.n - 1} inputs"
        )
    modes = ["base"] if plan.base is not None else ["float"] + [p for p, _ in plan.lower]
    out = {}
    for mode in modes:
        state = _lookup(plan, mode, codes) if codes is not None else _initial(plan, mode, slots)
        for level in range(plan.fold, len(plan.levels)):
            state = _step(plan, mode, state, level)
        if mode == "float":
            va, vb, qa, qb = (
                x.reshape(c) if isinstance(x, np.ndarray) else [y.reshape(c) for y in x]
                for x in state
            )
            top_a, _ = _float_dp(plan).less(va, qa, vb, qb, strict=False)
            out["counts"] = plan.fields.unpack([_select(top_a, x, y) for x, y in zip(qa, qb)])
        else:
            out[mode] = np.minimum(state[0], state[1]).reshape(c).astype(np.int64)
    return out


def _assemble(plan: _Plan, parts: list[dict], total: int) -> BatchBounds:
    def cat(key, shape):
        if not parts:
            return np.zeros(shape, dtype=np.int64)
        return np.concatenate([p[key] for p in parts])

    if plan.overlapping:
        return _without_lower(_assemble_upper(plan, parts, total, cat))
    return _assemble_upper(plan, parts, total, cat)


def _without_lower(res: BatchBounds) -> BatchBounds:
    from dataclasses import replace

    p = len(res)
    return replace(
        res,
        log2_lower=np.full(p, np.nan),
        exact=np.zeros(p, dtype=bool),
        lower_bases=(),
        lower_exponents=np.zeros((p, 0), dtype=np.int64),
        has_lower=False,
    )


def _assemble_upper(plan: _Plan, parts: list[dict], total: int, cat) -> BatchBounds:
    if plan.base is not None:
        e = cat("base", (0,))
        log2 = e * math.log2(plan.base)
        return BatchBounds(
            log2_upper=log2,
            log2_lower=log2.copy(),
            exact=np.ones(total, dtype=bool),
            dims=plan.dims,
            counts=None,
            base=plan.base,
            exponent=e,
            lower_bases=(plan.base,),
            lower_exponents=e[:, None].copy(),
        )
    k = len(plan.dims)
    counts = cat("counts", (0, k))
    logs = np.array([math.log2(d) for d in plan.dims])
    log2_upper = counts @ logs
    bases = tuple(p for p, _ in plan.lower)
    lower_e = (
        np.stack([cat(p, (0,)) for p in bases], axis=1) if bases else np.zeros((total, 0), np.int64)
    )
    log2_p = np.array([math.log2(p) for p in bases])
    log2_lower = (lower_e * log2_p).max(axis=1, initial=0.0)
    # exact: the upper bound equals some p ** E_p, compared on prime exponents (no big ints)
    upper_primes = counts @ plan.factors
    exact = ~upper_primes.any(axis=1)
    for j, p in enumerate(bases):
        fp = np.array(exponents_over(p, plan.primes), dtype=np.int64)
        exact |= (upper_primes == lower_e[:, j : j + 1] * fp).all(axis=1)
    return BatchBounds(
        log2_upper=log2_upper,
        log2_lower=log2_lower,
        exact=exact,
        dims=plan.dims,
        counts=counts,
        base=None,
        exponent=None,
        lower_bases=bases,
        lower_exponents=lower_e,
    )


# -- reading many partitions ----------------------------------------------------------------


def _not_an_index(line: str, digits: str, n: int) -> bool:
    """A 0/1 line of the wrong length that cannot be read as one input index either:
    separated digits, a leading zero, or a number past the last input."""
    separated = len(line.split()) > 1 or "," in line
    return separated or digits[0] == "0" or len(digits) > len(str(n - 1)) or int(digits) >= n


def read_parts_file(path: str, arch: Architecture) -> tuple[np.ndarray, list[Any]]:
    """Masks ``[P, N]`` and labels from a partitions file.

    ``.npy``: a bool (or 0/1) array ``[P, *grid]`` or ``[P, N]``; labels are row indices.
    Text: one partition per line, either a 0/1 string of length N (label: its row index)
    or any spec accepted by :func:`~widthdesign.partitions.parse_partition` (label: the
    spec); blank lines and ``#`` comments are skipped.
    """
    from pathlib import Path

    from .partitions import (
        MAX_TEXT_BYTES,
        parse_partition,
        read_masks,
        read_text_capped,
        zero_one_line,
    )

    n = arch.num_inputs
    if Path(path).suffix.lower() == ".npy":
        masks = read_masks(path, tuple(arch.shape))
        return masks, list(range(masks.shape[0]))
    if not Path(path).is_file():
        state = "not a regular file" if Path(path).exists() else "not found"
        raise PartitionError(f"Partition file {path!r}: {state}; expected a .npy or text file")
    text = read_text_capped(Path(path), MAX_TEXT_BYTES, "Partition file")
    rows, labels = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        compact = zero_one_line(line)
        if compact is not None and len(compact) == n:
            rows.append(np.frombuffer(compact.encode(), dtype=np.uint8) == ord("1"))
            labels.append(len(labels))
            continue
        if compact is not None and len(compact) > 1 and _not_an_index(line, compact, n):
            raise PartitionError(
                f"Partition file {path!r}, line {lineno}: {len(compact)} 0/1 values; "
                f"expected {n} (one per input)"
            )
        try:
            part = parse_partition(line, arch)
        except PartitionError as exc:
            raise PartitionError(f"Partition file {path!r}, line {lineno}: {exc}") from None
        rows.append(part.mask)
        labels.append(part.label)
    if not rows:
        raise PartitionError(f"Partition file {path!r}: no partitions; expected one per line")
    return np.stack(rows), labels
