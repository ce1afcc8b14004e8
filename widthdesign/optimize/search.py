"""Exact branch and bound over the chain of layers, with lazily generated min cuts.

The engine of :mod:`widthdesign.optimize.stages`: exact values, the problem (partitions and
their generated cuts), the objectives (:class:`_Value`) and :class:`_Search`, a depth-first
branch and bound over partial designs in vectorized chunks. Memory is bounded: at most one
chunk of ``CHUNK`` partial designs per layer is open at a time (plus the winners kept), so it
grows with the depth and the candidates per layer, never with candidates^depth.

Bounds of a partial design (layers fixed up to some level, the others open), each valid for
every completion within the budget, the smallest taken:

- the relaxed objective with every open layer at the widest width it can still afford;
- per partition, the best value the cuts through one open layer allow (suffix tables);
- a Lagrangian bound: the objective and the constraints linearized at the best known
  design (averages of its active cuts, each above the min cut), plus ``mu`` times the budget
  left, maximized over completions by one chain dynamic program per stage.
"""

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
from .chain import _BIG, _Chain, prefix_counts

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


class _TooMany(Exception):
    """More tied designs than :data:`MAX_KEPT` to keep for the exact comparison."""


#: partial designs per vectorized chunk (rows x candidates of the next layer)
CHUNK = 1 << 15
#: complete designs kept for the exact comparison of one search (ties within tolerance)
MAX_KEPT = 1 << 20
#: values per suffix table (memory: values x candidates^2 per layer, in blocks)
SUFFIX_VALUES = 64
#: the heuristic's paired moves stay within this many candidates of the current widths
PAIR_WINDOW = 6
#: the Lagrangian bound's multipliers of the budget: the fitted one times 2^e
MU_GRID = (-2.0, -1.0, 1.0, 2.0)
#: cells of the budget-indexed tables (floats: 8 bytes each; 128 MB), pairs of candidates
#: of consecutive layers they tabulate, and cells times pairs (the work: about a second)
BUDGET_CELLS = 1 << 24
BUDGET_PAIRS = 1 << 14
BUDGET_WORK = 1 << 28
#: cells of the pairwise terms of the Lagrangian bound, all groups together (floats: 64 MB)
PAIR_CELLS = 1 << 23
#: candidate pairs of consecutive layers up to which the Lagrangian bound of every child is
#: tabulated and sorted, so that an expansion generates only the children it keeps (12 bytes
#: per pair)
SORTED_PAIRS = 1 << 22
#: elements per block of a min-plus product (int64: 32 MB)
BLOCK = 1 << 22


def _min_plus(step: np.ndarray, suf: np.ndarray) -> np.ndarray:
    """``out[v, i] = min_j step[i, j] + suf[v, j]`` in blocks of ``BLOCK`` elements."""
    n_v, (n_i, n_j) = len(suf), step.shape
    out = np.empty((n_v, n_i), dtype=np.int64)
    rows = max(1, BLOCK // max(1, n_i * n_j))
    for lo in range(0, n_v, rows):
        part = step[None, :, :] + suf[lo : lo + rows, None, :]
        out[lo : lo + rows] = np.minimum(part.min(axis=2), _BIG)
    return out


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
        self.heartbeat = None  # progress callback of the stages

    def check_time(self) -> None:
        """Called from every loop: out of time raises, and a long stage reports progress."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Timeout
        if self.heartbeat is not None:
            self.heartbeat()

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

    def pieces(self, prob: _Problem) -> list[tuple[np.ndarray, np.ndarray]]:
        """The value as a sum of minima of affine functions of the log widths (network
        order): ``sum_g min_rows(A_g x + b_g)`` over the generated cuts (and the caps)."""
        depth = prob.arch.depth
        if self.kind == "widths":
            return [(np.ones((1, depth)), np.zeros(1))]
        caps = self.caps or (math.inf,) * len(self.parts)
        groups = []
        for p, c, cap in zip(self.parts, self.coefs, caps):
            mat = prob.mats[p]
            a, b = c * mat[:, 1:], c * mat[:, 0] * prob.log_m
            if math.isfinite(cap):
                a = np.vstack([a, np.zeros((1, depth))])
                b = np.append(b, c * cap * (1 + _TOL))
            groups.append((a, b))
        if self.kind == "min":  # min over terms of min over rows: one minimum
            return [(np.vstack([g[0] for g in groups]), np.concatenate([g[1] for g in groups]))]
        return groups

    def exact(self, prob: _Problem, widths: tuple[int, ...]) -> Decimal:
        if self.kind == "widths":
            return _dlog2(math.prod(widths))
        with decimal.localcontext(_CTX):  # sum() would otherwise round to 28 digits
            vals = [c * prob.exact_log(p, widths) for p, c in zip(self.parts, self.exact_coefs)]
            return sum(vals, Decimal(0)) if self.kind == "sum" else min(vals)


# -- the Lagrangian bound -------------------------------------------------------------------


class _Lagrange:
    """``key(d) <= g . x(d) + h + mu (budget - cost(d))`` for every design ``d`` meeting the
    constraints: each minimum of the key and of the constraints (see :meth:`_Value.pieces`)
    is at most any convex combination ``lambda`` of its rows, the constraints enter with
    multipliers ``nu >= 0``. The rows of a minimum that use only two consecutive layers (of
    the chain) also enter whole, as a pairwise term ``phi_k(r_{k-1}, r_k)`` (their minimum,
    tabulated): a minimum is at most any convex combination of the minima of subsets of its
    rows, and the chain DP maximizes a sum of pairwise terms exactly. For the profiles of
    1-D networks (every cut through one layer) the bound is then the Lagrangian dual of the
    budget alone. ``W[l][i]`` is the largest ``g . x + phi - mu cost`` of the layers after l
    over completions from candidate i, so a partial design is bounded in O(1) per row.
    The multipliers come from a bundle method on the bound of the empty design (the
    Lagrangian dual), started at the rows active at the best known design; any values on
    their simplices are valid, so the fit only sharpens the bound."""

    ITERATIONS = 40

    def __init__(self, search: _Search, key: _Value, cons, x_star: np.ndarray, floor: float):
        prob, chain = search.prob, search.chain
        self.chain = chain
        self.floor = floor
        self.order = slice(None, None, -1) if chain.reverse else slice(None)
        # groups: (A in chain order, b, owner) with owner -1 for the key, j for constraint j
        self.groups = [(a[:, self.order], b, -1) for a, b in key.pieces(prob)]
        self.thr = []
        for j, (value, thr) in enumerate(cons):
            self.groups += [(a[:, self.order], b, j) for a, b in value.pieces(prob)]
            # a design at the threshold within the screening tolerance still counts
            self.thr.append(float(thr) - 2 * _TOL * max(1.0, abs(float(thr))))
        budget = float(chain.budget)
        self.use_mu = chain.budget < 2**40  # mu * budget must not cancel digits
        self.budget = budget if self.use_mu else 0.0
        self.cost = [
            None if st is None else np.where(st < _BIG, st, np.inf).astype(float)
            for st in chain.step
        ]
        self.first = np.where(chain.keep[0], chain.first.astype(float), np.inf)
        self.last = chain.last.astype(float)
        x = np.asarray(x_star, dtype=float)[self.order]
        self.pairs = self._pair_terms()
        self.lam = []
        for (a, b, _), terms in zip(self.groups, self.pairs):
            v = a @ x + b  # the rows active at the best known design, each in its pair term
            act = v <= v.min() + _TOL * max(1.0, abs(v.min()))
            lam = np.concatenate([act / act.sum(), np.zeros(len(terms))])
            for t, (_, rows, _) in enumerate(terms):
                moved = lam[rows].sum()
                lam[rows] = 0.0
                lam[len(b) + t] += moved
            self.lam.append(lam)
        self._check_time = prob.check_time
        self._need, self.allowed, self.vdp = None, None, None
        self._fit(prob.check_time)

    def _pair_terms(self) -> list[list[tuple[int, np.ndarray, np.ndarray]]]:
        """Per group, its pairwise terms ``(k, rows, phi)``: the rows using no layer but
        k - 1 and k (at least two, one of them not constant; none a subset of another
        term's), ``phi[i, j]`` their minimum at candidates i of layer k - 1 and j of k."""
        chain = self.chain
        depth, cells = chain.depth, 0
        out = []
        for a, b, _ in self.groups:
            used = a != 0
            sets = []
            for k in range(1, depth):
                other = np.ones(depth, dtype=bool)
                other[k - 1 : k + 1] = False
                rows = np.flatnonzero(~used[:, other].any(axis=1))
                if len(rows) >= 2 and used[rows].any():
                    sets.append((k, rows))
            terms = []
            for k, rows in sets:
                if any(set(rows) < set(r2) for _, r2 in sets):
                    continue  # a larger set's minimum is smaller: the tighter term
                size = len(chain.logs[k - 1]) * len(chain.logs[k])
                if cells + size > PAIR_CELLS:
                    break
                cells += size
                lo, hi = chain.logs[k - 1][:, None], chain.logs[k][None, :]
                phi = np.min([a[r, k - 1] * lo + a[r, k] * hi + b[r] for r in rows], axis=0)
                terms.append((k, rows, phi))
            out.append(terms)
        return out

    def _linear(self, z: list[np.ndarray], nu: np.ndarray):
        """g, h (without the budget term) and the pairwise tables ``phi[k]`` of weights
        ``z`` (per group its rows' then its pair terms'; each key group's on its simplex,
        each constraint group's summing to its ``nu``)."""
        g, h = np.zeros(self.chain.depth), 0.0
        phi: list[np.ndarray | None] = [None] * self.chain.depth
        for (a, b, _), terms, zg in zip(self.groups, self.pairs, z):
            n = len(b)
            g += zg[:n] @ a
            h += float(zg[:n] @ b)
            for (k, _, table), weight in zip(terms, zg[n:]):
                if weight > 0:
                    phi[k] = weight * table if phi[k] is None else phi[k] + weight * table
        if len(self.thr):
            h -= float(nu @ np.asarray(self.thr))
        return g, h, phi

    def _tables(self, g: np.ndarray, mu: float, phi):
        chain = self.chain
        depth = chain.depth
        gain = [g[k] * chain.logs[k] for k in range(depth)]
        w, arg = [None] * depth, [None] * depth
        w[-1] = np.where(chain.keep[-1], -mu * self.last, -np.inf)
        for k in range(depth - 2, -1, -1):
            cost = self.cost[k + 1]
            step = -mu * cost if mu > 0 else np.where(np.isfinite(cost), 0.0, -np.inf)
            tot = step + (gain[k + 1] + w[k + 1])[None, :]
            if phi[k + 1] is not None:
                tot = tot + phi[k + 1]
            arg[k] = tot.argmax(axis=1)
            w[k] = np.where(chain.keep[k], tot[np.arange(len(tot)), arg[k]], -np.inf)
        first = mu * self.first if mu > 0 else np.where(np.isfinite(self.first), 0.0, np.inf)
        head = gain[0] - first + w[0]
        path = [int(head.argmax())]
        for k in range(depth - 1):
            path.append(int(arg[k][path[-1]]))
        return float(head[path[0]]), w, path

    def _fit(self, check_time) -> None:
        """Minimize the bound of the empty design over the multipliers: a bundle method
        (cutting planes of the dual function, each from the DP's best design, with a trust
        region around the best point), a small linear program per step."""
        from scipy.optimize import linprog

        chain, groups = self.chain, self.groups
        n_c = len(self.thr)
        sizes = [len(b) + len(t) for (_, b, _), t in zip(groups, self.pairs)]
        offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        n_z = int(offs[-1])
        n = n_z + n_c + 2  # z, nu, mu_s (mu = mu_s / budget), t
        scale = max(1.0, abs(self.floor)) if math.isfinite(self.floor) else 1.0
        hi = np.concatenate([np.ones(n_z), np.full(n_c, 100 * scale),
                             [100 * scale if self.use_mu else 0.0]])  # fmt: skip

        def split(theta):
            z = [theta[offs[k] : offs[k + 1]] for k in range(len(groups))]
            return z, theta[n_z : n_z + n_c], float(theta[n_z + n_c])

        def value(theta):
            z, nu, mu_s = split(theta)
            mu = mu_s / self.budget if self.use_mu else 0.0
            g, h, phi = self._linear(z, nu)
            top, w, path = self._tables(g, mu, phi)
            return top + h + mu * self.budget, (g, h, w, mu, phi), path

        theta = np.concatenate([*self.lam, np.zeros(n_c), [0.0]])
        root, extra, path = value(theta)
        best = (root, theta, extra)
        rows, rhs = [], []
        eq = np.zeros((len(groups), n))
        for k, (_, _, owner) in enumerate(groups):
            eq[k, offs[k] : offs[k + 1]] = 1.0
            if owner >= 0:
                eq[k, n_z + owner] = -1.0
        beq = np.array([1.0 if owner < 0 else 0.0 for _, _, owner in groups])
        radius = 0.5
        for _ in range(self.ITERATIONS):
            check_time()
            if not math.isfinite(best[0]):
                break
            # the cut of the DP's best design x: phi(theta) >= L(x, theta), linear in theta
            x = np.array([chain.logs[k][j] for k, j in enumerate(path)])
            widths = [int(chain.cands[k][j]) for k, j in enumerate(path)]
            row = np.zeros(n)
            for k, ((a, b, _), terms) in enumerate(zip(groups, self.pairs)):
                pair = [t[2][path[t[0] - 1], path[t[0]]] for t in terms]
                row[offs[k] : offs[k + 1]] = np.concatenate([a @ x + b, pair])
            row[n_z : n_z + n_c] = -np.asarray(self.thr)
            if self.use_mu:
                row[n_z + n_c] = (self.budget - chain.cost(widths)) / self.budget
            row[-1] = -1.0
            rows.append(row)
            rhs.append(0.0)
            center = best[1]
            lo_b = np.maximum(0.0, center - radius * hi)
            hi_b = np.minimum(hi, center + radius * hi)
            floor = self.floor if math.isfinite(self.floor) else None
            bounds = [*zip(lo_b, hi_b), (floor, None)]
            c = np.zeros(n)
            c[-1] = 1.0
            res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), A_eq=eq, b_eq=beq,
                          bounds=bounds, method="highs")  # fmt: skip
            if res.status != 0:
                break
            model = float(res.x[-1])
            theta = np.clip(res.x[:-1], 0.0, hi)
            # back on the simplices (the LP's rounding must not make the bound invalid)
            z, nu, mu_s = split(theta)
            for k, (_, _, owner) in enumerate(groups):
                zk = np.maximum(z[k], 0.0)
                total = 1.0 if owner < 0 else nu[owner]
                zk = zk / zk.sum() * total if zk.sum() > 0 else np.full(len(zk), total / len(zk))
                theta[offs[k] : offs[k + 1]] = zk
            root, extra, path = value(theta)
            if root < best[0] - 1e-12 * scale:
                best = (root, theta, extra)
                radius = min(1.0, radius * 2)
            else:
                radius /= 2
            if best[0] - model <= 1e-9 * scale or radius < 1e-6:
                break
        root, _, (g, h, w, mu, phi) = best
        self.phi = phi
        self.root, self.g, h, w, self.mu = root, g, h + mu * self.budget, w, mu
        self.h = h - self.mu * self.budget  # without the budget term (added per mu below)
        # a partial design's budget left differs from the empty design's: the bound takes
        # the best of a grid of mu around the fitted one (every mu >= 0 is valid)
        self.mus = [self.mu]
        self.ws = [w]
        if self.use_mu and self.mu > 0:
            for e in MU_GRID:
                self.mus.append(self.mu * 2.0**e)
                self.ws.append(self._tables(self.g, self.mus[-1], self.phi)[1])
        self.children = self._child_tables()

    def _child_tables(self):
        """Per level l, ``T[i, j]``: the bound of a child j at level l + 1 of a partial
        design ending with candidate i, minus the parent's ``h + g . x + phi + mu left``
        (at the fitted mu), each row sorted in decreasing order with its columns."""
        chain = self.chain
        pairs = sum(len(a) * len(b) for a, b in zip(chain.cands, chain.cands[1:]))
        if pairs > SORTED_PAIRS:
            return None
        mu, w = self.mus[0], self.ws[0]
        out = []
        for k in range(chain.depth - 1):
            cost = self.cost[k + 1]
            step = -mu * cost if mu > 0 else np.where(np.isfinite(cost), 0.0, -np.inf)
            tot = step + (self.g[k + 1] * chain.logs[k + 1] + w[k + 1])[None, :]
            if self.phi[k + 1] is not None:
                tot = tot + self.phi[k + 1]
            order = np.argsort(-tot, axis=1, kind="stable").astype(np.int32)
            out.append((np.take_along_axis(tot, order, axis=1), order))
        return out

    def counts(self, idx: np.ndarray, spent: np.ndarray, level: int, need: float):
        """Per partial design at ``level``: how many of its children at ``level + 1`` have a
        bound (at the fitted mu) that reaches ``need``, within the rounding and before the
        budget check; a binary search in the sorted rows."""
        vals, _ = self.children[level]
        parent = self._prefix(idx, level) + self.mus[0] * (self.budget - spent)
        # looser than the bound of push (its rounding): only ever more children
        thr = need - parent - 4e-9 * max(1.0, abs(need)) - 1e-9 * np.abs(parent)
        return prefix_counts(vals, idx[:, level], thr, above=True)

    def expand(self, idx: np.ndarray, spent: np.ndarray, level: int, need: float):
        """The children at ``level + 1`` (within the budget) of partial designs at ``level``
        whose bound at the fitted mu reaches ``need``: the others are never generated."""
        chain = self.chain
        counts = self.counts(idx, spent, level, need)
        _, order = self.children[level]
        last = idx[:, level]
        rep = np.repeat(np.arange(len(idx)), counts)
        start = np.cumsum(counts) - counts
        cols = order[last[rep], np.arange(len(rep)) - start[rep]].astype(np.int64)
        step = chain.step[level + 1][last[rep], cols]
        total = spent[rep] + step
        ok = (step < _BIG) & (total + chain.suf[level + 1][cols] <= chain.budget)
        ok &= chain.keep[level + 1][cols]
        return np.column_stack([idx[rep[ok]], cols[ok]]), total[ok]

    def _prefix(self, idx: np.ndarray, level: int) -> np.ndarray:
        """``h + g . x + phi`` of the layers fixed up to ``level`` of each partial design."""
        chain = self.chain
        base = np.full(len(idx), self.h)
        for k in range(level + 1):
            base += self.g[k] * chain.logs[k][idx[:, k]]
            if k and self.phi[k] is not None:
                base += self.phi[k][idx[:, k - 1], idx[:, k]]
        return base

    def bound(self, idx: np.ndarray, spent: np.ndarray, level: int) -> np.ndarray:
        """The bound of partial designs (chain order) fixed up to ``level``."""
        base = self._prefix(idx, level)
        left = self.budget - spent
        val = np.full(len(idx), np.inf)
        for mu, w in zip(self.mus, self.ws):
            np.minimum(val, base + mu * left + w[level][idx[:, level]], out=val)
        return _inflate(val)

    # -- variable fixing and the budget-indexed bound ------------------------------------------

    def prepare(self, need: float) -> None:
        """For a search that keeps only keys >= ``need``: drop every candidate whose best
        design through it is bounded below ``need`` (for some mu of the grid), then tabulate
        ``V[l][i][c]``, the largest ``g . x`` of the layers after l over completions from
        candidate i costing at most c (costs floored to multiples of ``delta``: a relaxation),
        so a partial design's bound uses its exact budget left, not a multiplier."""
        if self._need is not None and self._need <= need <= self._need + 1e-6 * max(1.0, abs(need)):
            return  # tables for a lower bar stay valid for a higher one
        chain = self.chain
        depth = chain.depth
        gain = [self.g[k] * chain.logs[k] for k in range(depth)]
        allowed = [np.asarray(k, dtype=bool).copy() for k in chain.keep]
        for mu, w in zip(self.mus, self.ws):
            fwd = gain[0] - (
                mu * self.first if mu > 0 else np.where(np.isfinite(self.first), 0.0, np.inf)
            )
            for k in range(depth):
                if k:
                    cost = self.cost[k]
                    step = -mu * cost if mu > 0 else np.where(np.isfinite(cost), 0.0, -np.inf)
                    if self.phi[k] is not None:
                        step = step + self.phi[k]
                    fwd = (fwd[:, None] + step).max(axis=0) + gain[k]
                best = fwd + w[k] + self.h + mu * self.budget
                allowed[k] &= _inflate(best) >= need
        self.allowed = allowed
        self._need = need
        self.vdp = self._budget_tables(gain, allowed)

    def _budget_tables(self, gain, allowed):
        chain = self.chain
        depth = chain.depth
        sizes = [int(a.sum()) for a in allowed]
        pairs = sum(a * b for a, b in zip(sizes, sizes[1:]))
        if min(sizes) == 0 or pairs > BUDGET_PAIRS:
            return None  # nothing left (pruned anyway), or too many pairs to tabulate
        budget = int(chain.budget)
        k_max = max(256, min(BUDGET_CELLS // max(sizes) // depth, BUDGET_WORK // pairs))
        delta = max(1, -(-(budget + 1) // k_max))
        n_c = budget // delta + 1
        rows = [np.full(len(a), -1, dtype=np.int64) for a in allowed]
        for k, a in enumerate(allowed):
            rows[k][a] = np.arange(int(a.sum()))
        tables = [None] * depth
        cells = np.arange(n_c)
        last = chain.last[allowed[-1]] // delta
        tables[-1] = np.where(cells[None, :] >= last[:, None], 0.0, -np.inf)
        for k in range(depth - 2, -1, -1):
            cur = np.flatnonzero(allowed[k])
            nxt = np.flatnonzero(allowed[k + 1])
            out = np.full((len(cur), n_c), -np.inf)
            step = chain.step[k + 1]
            phi = self.phi[k + 1]
            for r, i in enumerate(cur):
                self._check_time()
                for s_, j in enumerate(nxt):
                    st = step[i, j]
                    if st >= _BIG:
                        continue
                    sh = int(st // delta)
                    if sh >= n_c:
                        continue
                    gain_j = gain[k + 1][j] if phi is None else gain[k + 1][j] + phi[i, j]
                    np.maximum(out[r, sh:], gain_j + tables[k + 1][s_, : n_c - sh],
                               out=out[r, sh:])  # fmt: skip
            tables[k] = out
        return rows, tables, delta, n_c

    def budget_bound(self, idx: np.ndarray, spent: np.ndarray, level: int) -> np.ndarray:
        """The bound with the budget left (``-inf`` for dropped candidates; ``inf`` when the
        tables were too large to build)."""
        chain = self.chain
        ok = np.ones(len(idx), dtype=bool)
        for k in range(level + 1):
            ok &= self.allowed[k][idx[:, k]]
        out = np.where(ok, np.inf, -np.inf)
        if self.vdp is None or not ok.any():
            return out
        rows, tables, delta, n_c = self.vdp
        sel = np.flatnonzero(ok)
        val = self._prefix(idx[sel], level)
        left = np.clip((chain.budget - spent[sel]) // delta, 0, n_c - 1).astype(np.int64)
        val += tables[level][rows[level][idx[sel, level]], left]
        out[sel] = _inflate(val)
        return out


def _inflate(val: np.ndarray) -> np.ndarray:
    """Float bounds raised by a relative 1e-9 (their rounding); infinities kept."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(val), val + 1e-9 * np.maximum(1.0, np.abs(val)), val)


# -- the search -----------------------------------------------------------------------------


class _Search:
    """Branch and bound over the chain, breadth first and vectorized over partial designs."""

    CHUNK = CHUNK

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
            # at most SUFFIX_VALUES values (the smallest and the largest among them): the
            # bound is then the first value not affordable, still above the best affordable
            sub = len(values) > SUFFIX_VALUES
            if sub:
                pick = np.unique(np.linspace(0, len(values) - 1, SUFFIX_VALUES).round())
                values = values[pick.astype(np.int64)]
            allowed = [np.ones((len(values), len(cs)), dtype=bool) for cs in chain.cands]
            for k, c, e in rows:
                allowed[k] &= (c * chain.logs[k][None, :] + e) >= values[:, None] - 1e-9
            depth = chain.depth
            suf = [None] * depth
            suf[-1] = np.where(allowed[-1], chain.last[None, :], _BIG)
            cost = [None] * depth
            for k in range(depth - 2, -1, -1):
                nxt = _min_plus(chain.step[k + 1], suf[k + 1])
                cost[k] = nxt.T.copy()  # (C_k, V), nondecreasing in V
                suf[k] = np.where(allowed[k], nxt, _BIG)
            table = (values, cost, sub)
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
            values, cost, sub = table
            # the values affordable (cost nondecreasing in the value): at most 64 per row
            n_ok = (cost[level][last] <= left[:, None]).sum(axis=1)
            at = np.minimum(n_ok, len(values) - 1) if sub else np.maximum(n_ok - 1, 0)
            bound = np.where(n_ok > 0, values[at], -np.inf)
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
        lagrange: _Lagrange | None = None,
        tick=None,
    ):
        """Feasible designs (index rows) whose relaxed key is within tolerance of the largest
        and which pass every relaxed constraint; with their relaxed keys.

        Depth first over chunks of partial designs, the most promising first: a stack holds
        per layer the partial designs still open (sorted by bound), so memory stays within
        ``depth * CHUNK`` rows plus the designs kept.

        ``floor``: the true key of a known design. ``strict``: only designs beating it by more
        than the tolerance are wanted (a value-only stage), so its ties are pruned early.
        ``early``: a value-only stage; once the layers left open enter no generated cut of
        the key or the constraints, one cheapest completion per partial design is enough.
        ``tick(incumbent, bound)``: called between chunks (progress).
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
        if lagrange is not None:
            lagrange.prepare(need)
        kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        n_kept = 0
        # [level, rows, spent, bounds, children per row] per open chunk, rows sorted by bound
        # (desc); the children counts only with the sorted child tables
        stack: list[list] = []

        def push(level: int, idx: np.ndarray, spent: np.ndarray) -> None:
            nonlocal need, n_kept
            if not len(idx):
                return
            if lagrange is not None:  # the cheap bound first: the others only for survivors
                lag = lagrange.bound(idx, spent, level)
                if lagrange.allowed is not None:
                    lag = np.minimum(lag, lagrange.budget_bound(idx, spent, level))
                pre = lag >= need
                idx, spent, lag = idx[pre], spent[pre], lag[pre]
                if not len(idx):
                    return
            x = self._bound_rows(idx, spent, level)
            tight = self._tight(parts, idx, spent, level)
            keep = self._passes(x, key, cons, -math.inf, tight)
            bound = key(self.prob, x, tight)
            if lagrange is not None:
                bound = np.minimum(bound, lag)
            keep &= bound >= need
            idx, spent, bound = idx[keep], spent[keep], bound[keep]
            self.nodes += len(idx)
            if not len(idx):
                return
            if level == final:
                # complete designs: their relaxed keys raise the bar (any that is not exact
                # is caught by the caller, which then adds its cut and reruns); near-ties
                # stay for the exact comparison
                idx, spent = self._complete(idx, spent, level)
                vals = key(self.prob, self._bound_rows(idx, spent, chain.depth - 1))
                top = float(vals.max())
                need = max(need, top - margin(top))
                kept.append((idx, spent, vals))
                n_kept += len(idx)
                if n_kept > MAX_KEPT:
                    self._trim(kept, need)
                    n_kept = sum(len(k[0]) for k in kept)
                    if n_kept > MAX_KEPT:
                        raise _TooMany
                return
            order = np.argsort(-bound, kind="stable")
            idx, spent, bound = idx[order], spent[order], bound[order]
            counts = None
            if lagrange is not None and lagrange.children is not None:
                # children per row (at today's bar: an upper bound later), for the chunks
                counts = lagrange.counts(idx, spent, level, need)
            stack.append([level, idx, spent, bound, counts])

        first = np.flatnonzero(chain.keep[0])[:, None]
        push(0, first, chain.first[first[:, 0]])
        while stack:
            self.prob.check_time()
            level, idx, spent, bound = (top := stack[-1])[:4]
            live = bound >= need  # the bar rose since they were pushed
            if not live[0]:
                stack.pop()
                continue
            width = len(chain.cands[level + 1])
            take = max(1, min(len(idx), self.CHUNK // max(1, width)))
            counts = top[4]
            if counts is not None:  # as many parents (at most CHUNK) as give CHUNK children
                grown = np.cumsum(counts[: self.CHUNK])
                take = max(1, int(np.searchsorted(grown, self.CHUNK, side="right")))
            part, sp = idx[:take][live[:take]], spent[:take][live[:take]]
            if take == len(idx):
                stack.pop()
            else:
                top[1], top[2], top[3] = idx[take:], spent[take:], bound[take:]
                if counts is not None:
                    top[4] = counts[take:]
            if tick is not None:
                tick(need, max(float(e[3][0]) for e in stack) if stack else need)
            if counts is not None:
                child, child_spent = lagrange.expand(part, sp, level, need)
            else:
                child, child_spent = self._expand(part, sp, level + 1)
            push(level + 1, child, child_spent)
        if not kept:
            return np.zeros((0, chain.depth), dtype=np.int64), np.zeros(0)
        idx = np.concatenate([k[0] for k in kept])
        vals = np.concatenate([k[2] for k in kept])
        if exclude:
            drop = np.array([tuple(r) in exclude for r in idx.tolist()])
            idx, vals = idx[~drop], vals[~drop]
        if not len(idx):
            return idx, vals
        top = vals.max()
        sel = vals >= max(need, top - margin(top))
        return idx[sel], vals[sel]

    @staticmethod
    def _trim(kept: list, need: float) -> None:
        for k, (idx, spent, vals) in enumerate(kept):
            sel = vals >= need
            kept[k] = (idx[sel], spent[sel], vals[sel])

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
        layer = np.repeat(np.arange(chain.depth), sizes)
        move_to = np.concatenate([np.arange(n) for n in sizes])
        for _ in range(64):
            # the current design, then every single move (one layer to another candidate)
            base = np.repeat(cur[None, :], len(layer) + 1, axis=0)
            base[1 + np.arange(len(layer)), layer] = move_to
            pairs = []
            for k in range(chain.depth):
                for k2 in range(k + 1, chain.depth):
                    # paired moves near the current widths: C^2 rows per pair would not scale
                    a = np.arange(
                        max(0, cur[k] - PAIR_WINDOW), min(sizes[k], cur[k] + PAIR_WINDOW + 1)
                    )
                    b = np.arange(
                        max(0, cur[k2] - PAIR_WINDOW), min(sizes[k2], cur[k2] + PAIR_WINDOW + 1)
                    )
                    grid = np.repeat(base[None, 0], len(a) * len(b), axis=0)
                    grid[:, k] = np.repeat(a, len(b))
                    grid[:, k2] = np.tile(b, len(a))
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


class _DecKey:
    """Sort key for exact values with the tie tolerance."""

    __slots__ = ("v",)

    def __init__(self, v: Decimal):
        self.v = v

    def __lt__(self, other: _DecKey) -> bool:
        return _cmp(self.v, other.v) < 0
