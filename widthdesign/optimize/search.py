"""Exact branch and bound over the chain of layers, with lazily generated min cuts."""

from __future__ import annotations

import decimal
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .. import cuts
from ..spec import pooling_tree
from .chain import _BIG, _Chain

#: relative tolerance of the float screening; winners are then compared exactly
_TOL = 1e-9
#: a design must beat a known value by this much (relative) to be searched for: the search
#: can only overlook designs better than the optimum found by less than this (float sums of
#: equal values differ by ~1e-15, so exact ties are not enumerated)
_EPS = 1e-12
#: decimal digits of the exact comparisons of scores (ratios of logs of integers)
_DIGITS = 60
#: exact values closer than this are ties (only ratios of logs can come this close)
_TIE = Decimal(10) ** -40

# -- exact values ---------------------------------------------------------------------------

_CTX = decimal.Context(prec=_DIGITS)
_LN2 = _CTX.ln(Decimal(2))
_LOG_CACHE: dict[int, Decimal] = {}


def _dlog2(d: int) -> Decimal:
    """log2 of a positive int to 60 digits (exact integer when d is a power of two)."""
    hit = _LOG_CACHE.get(d)
    if hit is None:
        if d & (d - 1) == 0:
            hit = Decimal(d.bit_length() - 1)
        else:
            hit = _CTX.divide(_CTX.ln(Decimal(d)), _LN2)
        _LOG_CACHE[d] = hit
    return hit


def _exact_log(counts: Sequence[int], dims: Sequence[int]) -> Decimal:
    total = Decimal(0)
    for c, d in zip(counts, dims):
        if c:
            total = _CTX.add(total, _CTX.multiply(Decimal(c), _dlog2(int(d))))
    return total


def _cmp(a: Decimal, b: Decimal) -> int:
    """Compare exact values; closer than 1e-40 (relative) is a tie."""
    with decimal.localcontext(_CTX):  # the default context keeps only 28 digits
        diff = a - b
        if abs(diff) <= _TIE * max(Decimal(1), abs(a), abs(b)):
            return 0
    return 1 if diff > 0 else -1


# -- the problem ----------------------------------------------------------------------------


class _Timeout(Exception):
    pass


class _Problem:
    """Partitions (favored and profile), their generated cuts and exact evaluations."""

    def __init__(self, arch, chain: _Chain, masks: list[np.ndarray], deadline):
        self.arch, self.chain, self.deadline = arch, chain, deadline
        self.tree = pooling_tree(arch)
        self.slots = [m[self.tree.leaves] for m in masks]
        self.cuts: list[list[tuple[int, ...]]] = [[] for _ in masks]
        self.mats: list[np.ndarray] = [np.zeros((0, arch.depth + 1)) for _ in masks]
        self._dense: list[tuple[np.ndarray, np.ndarray]] = [None] * len(masks)
        self.counts_cache: dict[tuple, tuple[int, ...]] = {}
        self.log_m = math.log2(arch.channels)
        self.evaluations = 0

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Timeout

    def counts(self, p: int, widths: tuple[int, ...]) -> tuple[int, ...]:
        """Exact min cut count vector of partition p (tree DP), added to its cuts."""
        key = (p, widths)
        hit = self.counts_cache.get(key)
        if hit is None:
            self.evaluations += 1
            hit = _min_cut_counts(self.tree, self.slots[p], (self.arch.channels, *widths))
            self.counts_cache[key] = hit
            self.add_cut(p, hit)
        return hit

    def add_cut(self, p: int, counts: tuple[int, ...]) -> bool:
        if counts in self.cuts[p]:
            return False
        self.cuts[p].append(counts)
        self.mats[p] = mat = np.asarray(self.cuts[p], dtype=float)
        self._dense[p] = (np.ascontiguousarray(mat[:, 1:].T), mat[:, 0] * self.log_m)
        return True

    def seed(self, designs: Iterable[tuple[int, ...]], parts: Iterable[int]) -> None:
        parts = list(parts)
        for widths in designs:
            for p in parts:
                self.counts(p, widths)

    def _relaxed(self, p: int, x: np.ndarray) -> np.ndarray:
        weights, const = self._dense[p]
        # einsum: BLAS matmul of a tall, 8-column matrix is several times slower here
        return np.einsum("nk,kr->nr", x, weights, optimize=False) + const

    def logs(self, p: int, x: np.ndarray) -> np.ndarray:
        """Relaxed log2 bound (min over generated cuts) of partition p for log-width rows."""
        return self._relaxed(p, x).min(axis=1)

    def argmin(self, p: int, x: np.ndarray) -> np.ndarray:
        return self._relaxed(p, x).argmin(axis=1)

    def exact_log(self, p: int, widths: tuple[int, ...]) -> Decimal:
        return _exact_log(self.counts(p, widths), (self.arch.channels, *widths))


def _min_cut_counts(tree, slot_a: np.ndarray, dims: Sequence[int]) -> tuple[int, ...]:
    """Count vector (input bonds, deltas per level) of an exact min cut (tree DP)."""
    return cuts.side_counts(tree, slot_a, cuts.exact_sides(tree, slot_a, dims))


@dataclass
class _Value:
    """A stage's objective: a combination of relaxed log bounds, monotone in the widths.

    ``kind``: ``"sum"`` (``sum_i coef_i L_{p_i}``), ``"min"`` (``min_i coef_i L_{p_i}``) or
    ``"widths"`` (sum of log2 widths). ``exact`` gives the exact value of one design.
    """

    kind: str
    parts: tuple[int, ...] = ()
    coefs: tuple[float, ...] = ()
    exact_coefs: tuple[Decimal, ...] = ()
    caps: tuple[float, ...] = ()  # I_p: no feasible design exceeds it (tightens bounds)

    def __call__(self, prob: _Problem, x: np.ndarray, tight=None) -> np.ndarray:
        """Relaxed values of log-width rows; ``tight``: extra upper bounds per partition."""
        if self.kind == "widths":
            return x.sum(axis=1)
        caps = self.caps or (math.inf,) * len(self.parts)
        vals = []
        for p, c, cap in zip(self.parts, self.coefs, caps):
            v = np.minimum(prob.logs(p, x), cap * (1 + _TOL))
            if tight is not None and p in tight:
                v = np.minimum(v, tight[p])
            vals.append(c * v)
        if self.kind == "sum":
            return np.sum(vals, axis=0)
        return np.min(vals, axis=0)

    def exact(self, prob: _Problem, widths: tuple[int, ...]) -> Decimal:
        if self.kind == "widths":
            return _dlog2(math.prod(widths))
        with decimal.localcontext(_CTX):  # sum() would otherwise round to 28 digits
            vals = [c * prob.exact_log(p, widths) for p, c in zip(self.parts, self.exact_coefs)]
            return sum(vals, Decimal(0)) if self.kind == "sum" else min(vals)


# -- the search -----------------------------------------------------------------------------


class _Search:
    """Branch and bound over the chain, breadth first and vectorized over partial designs."""

    CHUNK = 1 << 15

    def __init__(self, prob: _Problem, chain: _Chain | None = None):
        self.prob = prob
        self.chain = prob.chain if chain is None else chain
        self.nodes = 0
        self._tables: dict[int, tuple] = {}

    def orig(self, a: np.ndarray) -> np.ndarray:
        """Columns (layers) in the network's order, bottom to top."""
        return a[:, ::-1] if self.chain.reverse else a

    def _bound_rows(self, idx: np.ndarray, spent: np.ndarray, level: int) -> np.ndarray:
        """Log widths of each partial design completed by the widest affordable widths."""
        chain = self.chain
        n = len(idx)
        x = np.empty((n, chain.depth))
        for k in range(level + 1):
            x[:, k] = chain.logs[k][idx[:, k]]
        if level + 1 < chain.depth:
            left = chain.budget - spent
            for k in range(level + 1, chain.depth):
                x[:, k] = chain.logs[k][chain.widest(level, idx[:, level], left, k)]
        return self.orig(x)

    def _expand(self, idx: np.ndarray, spent: np.ndarray, level: int):
        chain = self.chain
        step = chain.step[level][idx[:, -1]]  # (n, C_level)
        total = spent[:, None] + step
        ok = (step < _BIG) & (total + chain.suf[level][None, :] <= chain.budget)
        ok &= chain.keep[level][None, :]
        rows, cols = np.nonzero(ok)
        return np.column_stack([idx[rows], cols]), total[rows, cols]

    def _passes(self, x, key: _Value, cons, need: float, tight=None) -> np.ndarray:
        keep = np.ones(len(x), dtype=bool)
        for value, threshold in cons:
            keep &= value(self.prob, x, tight) >= threshold - _TOL * max(1.0, abs(threshold))
        if need > -math.inf:
            keep &= key(self.prob, x, tight) >= need
        return keep

    # -- tight suffix bounds ---------------------------------------------------------------
    def _suffix_table(self, p: int):
        """Per partition: the best suffix value reachable within a budget, tabulated.

        For a partial design fixed up to level l, a cut whose only width is that of one later
        layer k (``c log2 r_k + e``) bounds log2 U_p by its value; all of them together bound
        it by the largest v such that some completion gives every such cut at least v. That
        completion's cheapest cost, ``cost[l][i, t]`` for the t-th candidate value, comes from
        one backward chain DP with per-layer width floors, for all values at once.
        """
        prob, chain = self.prob, self.chain
        mat = prob.mats[p]
        hit = self._tables.get(p)
        if hit is not None and hit[0] == len(mat):
            return hit[1]
        layers = mat[:, 1:][:, ::-1] if chain.reverse else mat[:, 1:]
        single = (layers > 0).sum(axis=1) == 1
        rows = []
        for r in np.flatnonzero(single):
            k = int(np.flatnonzero(layers[r])[0])
            rows.append((k, layers[r, k], mat[r, 0] * prob.log_m))
        table = None
        if rows:
            values = np.unique(np.concatenate([c * chain.logs[k] + e for k, c, e in rows]))
            allowed = [np.ones((len(values), len(cs)), dtype=bool) for cs in chain.cands]
            for k, c, e in rows:
                allowed[k] &= (c * chain.logs[k][None, :] + e) >= values[:, None] - 1e-9
            depth = chain.depth
            suf = [None] * depth
            suf[-1] = np.where(allowed[-1], chain.last[None, :], _BIG)
            for k in range(depth - 2, -1, -1):
                nxt = (chain.step[k + 1][None, :, :] + suf[k + 1][:, None, :]).min(axis=2)
                suf[k] = np.where(allowed[k], np.minimum(nxt, _BIG), _BIG)
            cost = [None] * depth
            for lv in range(depth - 1):
                c = (chain.step[lv + 1][None, :, :] + suf[lv + 1][:, None, :]).min(axis=2)
                cost[lv] = np.minimum(c, _BIG).T.copy()  # (C_lv, V), nondecreasing in V
            table = (values, cost)
        self._tables[p] = (len(mat), table)
        return table

    def _tight(self, parts, idx: np.ndarray, spent: np.ndarray, level: int):
        """Upper bounds on log2 U_p of any completion of each partial design."""
        chain = self.chain
        if level >= chain.depth - 1:
            return None
        out = {}
        left = chain.budget - spent
        last = idx[:, level]
        for p in parts:
            table = self._suffix_table(p)
            if table is None:
                continue
            values, cost = table
            bound = np.full(len(idx), -np.inf)
            order = np.argsort(last, kind="stable")
            uniq, starts = np.unique(last[order], return_index=True)
            ends = list(starts[1:]) + [len(order)]
            for i, lo, hi in zip(uniq.tolist(), starts.tolist(), ends):
                sel = order[lo:hi]
                n_ok = np.searchsorted(cost[level][i], left[sel], side="right")
                bound[sel] = np.where(n_ok > 0, values[np.maximum(n_ok - 1, 0)], -np.inf)
            out[p] = bound + 1e-9 * np.maximum(1.0, np.abs(bound))
        return out

    def run(
        self,
        key: _Value,
        cons=(),
        floor: float = -math.inf,
        exclude=frozenset(),
        strict: bool = False,
        early: bool = False,
    ):
        """Feasible designs (index rows) whose relaxed key is within tolerance of the largest
        and which pass every relaxed constraint; with their relaxed keys.

        ``floor``: the true key of a known design. ``strict``: only designs beating it by more
        than the tolerance are wanted (a value-only stage), so its ties are pruned early.
        ``early``: a value-only stage; once the layers left open enter no generated cut of
        the key or the constraints, one cheapest completion per partial design is enough.
        """
        chain = self.chain
        final = self._last_used(key, cons) if early else chain.depth - 1
        parts = sorted(set(key.parts).union(*(set(v.parts) for v, _ in cons)))

        def margin(v: float) -> float:
            return _TOL * max(1.0, abs(v))

        if floor == -math.inf:
            need = -math.inf
        elif strict:
            need = floor + _EPS * max(1.0, abs(floor))
        else:
            need = floor - margin(floor)
        idx = np.flatnonzero(chain.keep[0])[:, None]
        spent = chain.first[idx[:, 0]]
        for level in range(chain.depth):
            if level:
                idx, spent = self._expand_chunked(idx, spent, level)
            kept_idx, kept_spent = [], []
            for lo in range(0, len(idx), self.CHUNK):
                self.prob.check_time()
                part, sp = idx[lo : lo + self.CHUNK], spent[lo : lo + self.CHUNK]
                x = self._bound_rows(part, sp, level)
                tight = self._tight(parts, part, sp, level)
                keep = self._passes(x, key, cons, need, tight)
                if level == final and keep.any():
                    # complete designs: their relaxed keys raise the bar (any that is not
                    # exact is caught by the caller, which then adds its cut and reruns);
                    # near-ties stay for the exact comparison
                    top = float(key(self.prob, x[keep]).max())
                    need = max(need, top - margin(top))
                kept_idx.append(part[keep])
                kept_spent.append(sp[keep])
            idx = np.concatenate(kept_idx) if kept_idx else idx[:0]
            spent = np.concatenate(kept_spent) if kept_spent else spent[:0]
            self.nodes += len(idx)
            if level == final:
                idx, spent = self._complete(idx, spent, level)
                break
        if exclude and len(idx):
            drop = np.array([tuple(r) in exclude for r in idx.tolist()])
            idx, spent = idx[~drop], spent[~drop]
        if not len(idx):
            return idx, np.zeros(0)
        x = self._bound_rows(idx, spent, chain.depth - 1)
        vals = key(self.prob, x)
        top = vals.max()
        sel = vals >= max(need, top - margin(top))
        return idx[sel], vals[sel]

    def _last_used(self, key: _Value, cons) -> int:
        """The last layer (chain order) that a generated cut of the key or constraints uses."""
        if key.kind == "widths":
            return self.chain.depth - 1
        parts = set(key.parts).union(*(set(v.parts) for v, _ in cons))
        used = np.zeros(self.chain.depth, dtype=bool)
        for p in parts:
            used |= (self.prob.mats[p][:, 1:] > 0).any(axis=0)
        if self.chain.reverse:
            used = used[::-1]
        return int(np.flatnonzero(used).max()) if used.any() else 0

    def _complete(self, idx: np.ndarray, spent: np.ndarray, level: int):
        """Complete partial designs with their cheapest completion (smallest widths first)."""
        chain = self.chain
        for k in range(level + 1, chain.depth):
            total = chain.step[k][idx[:, -1]] + chain.suf[k][None, :]
            j = np.argmin(total, axis=1)
            spent = spent + chain.step[k][idx[:, -1], j]
            idx = np.column_stack([idx, j])
        return idx, spent

    def _expand_chunked(self, idx, spent, level):
        outs = []
        for lo in range(0, len(idx), self.CHUNK):
            self.prob.check_time()
            outs.append(self._expand(idx[lo : lo + self.CHUNK], spent[lo : lo + self.CHUNK], level))
        if not outs:
            return np.zeros((0, level + 1), dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def beam(self, key: _Value, cons=(), width: int = 256) -> list[tuple[int, ...]]:
        """Quick heuristic designs: the ``width`` best partial designs by bound per level
        (cheaper first among equal bounds), then improved by single and paired moves."""
        chain = self.chain
        idx = np.flatnonzero(chain.keep[0])[:, None]
        spent = chain.first[idx[:, 0]]
        for level in range(chain.depth):
            if level:
                idx, spent = self._expand_chunked(idx, spent, level)
            if not len(idx):
                return []
            x = self._bound_rows(idx, spent, level)
            parts = sorted(set(key.parts).union(*(set(v.parts) for v, _ in cons)))
            tight = self._tight(parts, idx, spent, level)
            score = key(self.prob, x, tight)
            for value, threshold in cons:
                ok = value(self.prob, x, tight) >= float(threshold)
                score = np.where(ok, score, score - 1e6)
            order = np.lexsort((spent, -score))[:width]
            idx, spent = idx[order], spent[order]
        return [self._settle(key, cons, r) for r in idx[:4].tolist()]

    def _settle(self, key: _Value, cons, row) -> tuple[int, ...]:
        """Climb, then add the exact cuts of the result; climb again while they change it."""
        parts = set(key.parts).union(*(set(v.parts) for v, _ in cons))
        for _ in range(16):
            row = self.climb(key, cons, row)
            widths = self.widths(row)
            before = sum(len(self.prob.cuts[p]) for p in parts)
            for p in parts:
                self.prob.counts(p, widths)
            if sum(len(self.prob.cuts[p]) for p in parts) == before:
                break
        return widths

    def _feasible(self, rows: np.ndarray) -> np.ndarray:
        """Which index rows are feasible designs (budget and ratio), vectorized."""
        chain = self.chain
        cost = chain.first[rows[:, 0]].copy()
        for k in range(1, chain.depth):
            cost = np.minimum(cost + chain.step[k][rows[:, k - 1], rows[:, k]], _BIG)
        cost = np.minimum(cost + chain.last[rows[:, -1]], _BIG)
        return cost <= chain.budget, cost

    def climb(self, key: _Value, cons, row) -> list[int]:
        """Hill climbing from ``row``: the best move of one or two layers while it helps."""
        chain, prob = self.chain, self.prob
        cur = np.asarray(row)
        sizes = [len(c) for c in chain.cands]
        singles = [(k, j) for k in range(chain.depth) for j in range(sizes[k])]
        for _ in range(64):
            moves = [cur.copy()]
            for k, j in singles:
                r = cur.copy()
                r[k] = j
                moves.append(r)
            base = np.array(moves)
            pairs = []
            for k in range(chain.depth):
                for k2 in range(k + 1, chain.depth):
                    grid = np.repeat(base[None, 0], sizes[k] * sizes[k2], axis=0)
                    grid[:, k] = np.repeat(np.arange(sizes[k]), sizes[k2])
                    grid[:, k2] = np.tile(np.arange(sizes[k2]), sizes[k])
                    pairs.append(grid)
            rows = np.concatenate([base, *pairs])
            ok, cost = self._feasible(rows)
            rows, cost = rows[ok], cost[ok]
            x = self.orig(np.column_stack([chain.logs[k][rows[:, k]] for k in range(chain.depth)]))
            val = key(prob, x)
            for value, threshold in cons:
                val = np.where(value(prob, x) >= float(threshold), val, -np.inf)
            best = np.lexsort((cost, -val))[0]
            if not np.any(np.all(rows == cur, axis=1)):
                cur = rows[best]
                continue
            here = val[np.all(rows == cur, axis=1)][0]
            if not np.isfinite(val[best]) or (
                np.isfinite(here) and val[best] <= here + _TOL * max(1.0, abs(here))
            ):
                break
            cur = rows[best]
        return cur.tolist()

    def widths(self, row) -> tuple[int, ...]:
        """A design (widths bottom to top) from an index row in the chain's order."""
        out = tuple(int(self.chain.cands[k][i]) for k, i in enumerate(row))
        return out[::-1] if self.chain.reverse else out


class _Stages:
    """The lexicographic stages, each an exact maximization over the feasible designs."""

    def __init__(self, prob: _Problem):
        self.prob = prob
        self.search = _Search(prob)
        self._searches = {False: self.search}
        self.rounds = 0

    @property
    def nodes(self) -> int:
        return sum(s.nodes for s in self._searches.values())

    def _direction(self, key: _Value, cons, designs) -> _Search:
        """Bottom-up or top-down: fix first the layers that carry the objective's min cuts
        (the bound is loose on the layers left open)."""
        parts = list(zip(key.parts, key.coefs))
        for value, _ in cons:
            parts += list(zip(value.parts, value.coefs))
        if not parts or not designs:
            return self.search
        prob, depth = self.prob, self.prob.chain.depth
        x = np.log2(np.asarray(designs[:1], dtype=float))
        mass = center = 0.0
        for p, coef in parts:
            row = prob.mats[p][prob.argmin(p, x)[0], 1:]
            contrib = abs(coef) * row * x[0]
            mass += contrib.sum()
            center += (contrib * np.arange(depth)).sum()
        reverse = mass > 0 and center / mass > (depth - 1) / 2
        if reverse not in self._searches:
            self._searches[reverse] = _Search(prob, prob.chain.reversed())
        return self._searches[reverse]

    def _signature(self, idx: np.ndarray, parts: Iterable[int], search: _Search) -> np.ndarray:
        """Rows that share a signature (min cut vector and the widths it uses) share exact
        values: one representative each is enough to find the exact maximum."""
        chain = search.chain
        x = search.orig(np.column_stack([chain.logs[k][idx[:, k]] for k in range(chain.depth)]))
        idx = search.orig(idx)
        cols = []
        for p in parts:
            am = self.prob.argmin(p, x)
            used = self.prob.mats[p][am, 1:] > 0
            cols.append(am[:, None])
            cols.append(np.where(used, idx, -1))
        if not cols:
            return np.arange(len(idx))
        sig = np.column_stack(cols)
        _, first = np.unique(sig, axis=0, return_index=True)
        return np.sort(first)

    def _exact_ok(self, widths, cons_exact) -> bool:
        return all(_cmp(value.exact(self.prob, widths), thr) >= 0 for value, thr in cons_exact)

    def maximize(self, key: _Value, cons_exact=(), floor_designs=(), all_winners=False):
        """The exact maximum of ``key`` over feasible designs passing ``cons_exact``
        (``(value, exact threshold)`` pairs); with ``all_winners`` every design reaching it.

        Returns ``(best exact value, winning widths list)``; ``(None, [])`` when infeasible.
        """
        prob = self.prob
        parts = sorted(set(key.parts).union(*(set(v.parts) for v, _ in cons_exact)))
        cons = [(v, float(t)) for v, t in cons_exact]
        floor, exclude, known = -math.inf, set(), []
        for widths in floor_designs:  # true values of known designs: a valid floor
            if self.prob.chain.feasible(widths) and self._exact_ok(widths, cons_exact):
                known.append((key.exact(prob, widths), widths))
        if known:
            floor = float(max(v for v, _ in known))
        known.sort(key=lambda vw: _DecKey(vw[0]), reverse=True)
        search = self._direction(key, cons, [w for _, w in known] or list(floor_designs))
        while True:
            self.rounds += 1
            strict = bool(known) and not all_winners
            idx, _ = search.run(
                key, cons, floor, frozenset(exclude), strict=strict, early=not all_winners
            )
            if not len(idx):
                if not known:
                    return None, []
                best = max((v for v, _ in known), key=_DecKey)
                return best, [w for v, w in known if _cmp(v, best) == 0]
            reps = idx if all_winners else idx[self._signature(idx, parts, search)]
            new_cut, failed, exact = False, [], []
            for row in reps.tolist():
                widths = search.widths(row)
                before = [len(prob.cuts[p]) for p in parts]
                for p in parts:
                    prob.counts(p, widths)
                if [len(prob.cuts[p]) for p in parts] != before:
                    new_cut = True
                    continue
                if not self._exact_ok(widths, cons_exact):
                    failed.append(tuple(row))
                    continue
                exact.append((key.exact(prob, widths), widths))
            if new_cut or failed:
                exclude.update(failed)
                known.extend(exact)
                if known:
                    floor = float(max(v for v, _ in known))
                continue
            if strict:
                # strictly better designs were found: they are the new floor; search again
                known.extend(exact)
                floor = float(max(v for v, _ in known))
                continue
            known.extend(exact)
            best = max((v for v, _ in known), key=_DecKey)
            return best, [w for v, w in known if _cmp(v, best) == 0]


class _DecKey:
    """Sort key for exact values with the tie tolerance."""

    __slots__ = ("v",)

    def __init__(self, v: Decimal):
        self.v = v

    def __lt__(self, other: _DecKey) -> bool:
        return _cmp(self.v, other.v) < 0
