"""The stages of :func:`widthdesign.optimize.recommend`, in the order they run.

1. **Score bounds**: ``I_p``, the best exact log2 bound of each partition (favored and
   profile) over the domain, so that every score ``L_p / I_p`` is in [0, 1].
2. **Stage 1**: ``F*``, the best objective (weighted mean or maximin of the favored scores).
3. **Slack**: the designs with ``F >= (1 - slack) F*`` stay in the race.
4. **Breadth**: among them, the best mean score over the interaction profile.
5. **Tie-breaks**: the largest sum of log2 widths, then the lowest cost, then the
   lexicographically smallest widths.

The domain is the candidate grid plus the baselines that meet the budget and the floors
(``extra``). Every stage is an exact maximization (:meth:`_Stages.maximize`): the branch and
bound of :mod:`.search` screens with floats, the winners are compared exactly. Out of time
(``_Timeout``), :meth:`_Stages.fallback` returns the best design evaluated so far, with
every budget left spent, and scores it exactly against the best values known.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction

import numpy as np

from .. import cuts
from ..batch import bounds_many
from ..errors import BudgetError, PartitionError
from ..partitions import parse_partition
from .chain import _Chain
from .favor import profile_partitions
from .results import Design, PartitionScore
from .search import (
    _CTX,
    MAX_KEPT,
    _cmp,
    _DecKey,
    _exact_log,
    _Lagrange,
    _Problem,
    _Search,
    _Timeout,
    _TooMany,
    _Value,
)

#: seconds between two progress reports of a long stage
PROGRESS_EVERY = 1.0

STAGES = ("best", "objective", "breadth", "widths")


def _width_key(widths) -> int:
    """The product of the widths: the same order as the sum of their log2, exactly."""
    return math.prod(int(w) for w in widths)


class _Stages:
    """Runs the stages on one problem and scores designs against the best values."""

    def __init__(
        self,
        arch,
        chain: _Chain,
        favored,
        objective: str,
        slack: float,
        deadline: float | None,
        progress: Callable[[dict], None] | None,
        start: float,
        baselines=(),
    ):
        self.arch, self.chain, self.kind, self.slack = arch, chain, objective, slack
        self.progress, self.start = progress, start
        self.fav_parts = [p for p, _ in favored]
        self.weights = [w for _, w in favored]
        self.n_fav = len(self.fav_parts)
        # the profile's partitions share the problem's slots with equal favored ones
        self.profile = []
        for label in profile_partitions(arch):
            try:
                self.profile.append(parse_partition(label, arch))
            except PartitionError:
                continue
        masks = [p.mask for p in self.fav_parts]
        keys = [m.tobytes() for m in masks]
        self.profile_idx = []
        for part in self.profile:
            key = part.mask.tobytes()
            if key not in keys:
                keys.append(key)
                masks.append(part.mask)
            self.profile_idx.append(keys.index(key))
        self.prob = _Problem(arch, chain, masks, deadline)
        self.prob.heartbeat = self._heartbeat
        # the baselines of the domain (shown beside the answer): evaluated before any search,
        # so that an answer out of time is chosen with them too; those off the candidate
        # grid are compared exactly by every stage
        self.baselines = [tuple(int(x) for x in w) for w in baselines]
        self.extra = [w for w in self.baselines if not chain.feasible(w)]
        self.searches = {False: _Search(self.prob)}
        self.rounds = 0
        self.best: dict[int, Decimal] = {}
        self.f_value: _Value | None = None
        self.threshold: Decimal | None = None
        self.breadth_value: _Value | None = None
        self.best_f = 0.0
        self.stage, self.incumbent, self.bound = "best", None, None
        self._last_report = time.monotonic()

    @property
    def nodes(self) -> int:
        return sum(s.nodes for s in self.searches.values())

    # -- the pipeline -------------------------------------------------------------------------

    def run(self) -> tuple[tuple[int, ...], dict[str, bool]]:
        """The recommended widths and which stages finished (all: proved optimal)."""
        done = dict.fromkeys(STAGES, False)
        try:
            self.prob.seed(self._seeds(), range(len(self.prob.slots)))
            fav = list(range(self.n_fav))
            # 1. score bounds of the favored partitions
            for p in fav:
                if self._best_value(p) <= 0:
                    raise PartitionError(
                        f"favor {self.fav_parts[p].label!r}: no feasible design separates it "
                        "(best upper bound 1); raise the budget or widths"
                    )
            done["best"] = True
            self._report("best")
            # 2. stage 1: the best objective F*
            self._enter("objective")
            self.f_value = self._score_value(fav, self.weights, self.kind)
            f_star, winners = self.maximize(self.f_value, floor_designs=self._beam(self.f_value))
            self.best_f = float(f_star)
            done["objective"] = True
            self._report("objective")
            # 3. slack: every design within (1 - slack) F* competes on breadth
            self.threshold = _CTX.multiply(f_star, Decimal(repr(1 - self.slack)))
            cons = [(self.f_value, self.threshold)]
            # 4. breadth: the mean score over the profile (its score bounds first)
            self._enter("breadth")
            prof = [q for q in self.profile_idx if self._best_value(q) > 0]
            final = None
            if prof:
                # every design reaching the best breadth: the tie-breaks compare them directly
                self.breadth_value = self._score_value(prof, [1.0] * len(prof), "sum")
                floors = winners + self._beam(self.breadth_value, cons)
                _, final = self.maximize(
                    self.breadth_value, cons, floor_designs=floors, all_winners=True
                )
            done["breadth"] = True
            self._report("breadth")
            # 5. tie-breaks: the widest designs, then the cheapest, then the smallest widths
            self._enter("widths")
            if final is None:  # no profile: the widest designs within the slack, searched
                _, final = self.maximize(
                    _Value("widths"), cons, floor_designs=winners, all_winners=True
                )
            done["widths"] = True
            self._report("widths")
            return min(final, key=lambda w: (-_width_key(w), self.chain.cost(w), w)), done
        except _Timeout:
            return self.fallback(done), done
        except _TooMany:
            raise BudgetError(
                f"choices: more than {MAX_KEPT} designs tie within the float screening at the "
                f"{self.stage} stage; give fewer --choices (e.g. a step, 8..512:8)"
            ) from None

    def _seeds(self) -> list[tuple[int, ...]]:
        """Designs evaluated exactly before any search: their cuts start the relaxation."""
        chain = self.chain
        seeds = {chain.cheapest_widths(), *self.baselines}
        for q in range(min(chain.width, 16)):
            row = tuple(min(q * len(c) // 16, len(c) - 1) for c in chain.cands)
            seeds.add(tuple(int(chain.cands[k][i]) for k, i in enumerate(row)))
        return sorted(seeds)

    def _best_value(self, p: int) -> Decimal:
        """I_p: the largest exact log2 bound of partition p over the domain."""
        if p not in self.best:
            key = _Value("sum", (p,), (1.0,), (Decimal(1),))
            value, _ = self.maximize(key, floor_designs=self._beam(key))
            self.best[p] = Decimal(0) if value is None else value
        return self.best[p]

    def _score_value(self, parts: list[int], weights: list[float], kind: str) -> _Value:
        """F (or breadth) as a :class:`_Value`: weights folded with 1 / I_p."""
        tot = sum(Fraction(w) for w in weights)
        wmax = max(Fraction(w) for w in weights)
        coefs, exact = [], []
        for p, w in zip(parts, weights):
            scale = Fraction(w) / tot if kind == "sum" else wmax / Fraction(w)
            e = _CTX.divide(_CTX.divide(Decimal(scale.numerator), scale.denominator), self.best[p])
            coefs.append(float(e))
            exact.append(e)
        caps = tuple(float(self.best[p]) for p in parts)
        return _Value("sum" if kind == "sum" else "min", tuple(parts), tuple(coefs),
                      tuple(exact), caps)  # fmt: skip

    def _beam(self, key: _Value, cons=()) -> list[tuple[int, ...]]:
        return self.searches[False].beam(key, cons)

    # -- one exact maximization ---------------------------------------------------------------

    def maximize(self, key: _Value, cons_exact=(), floor_designs=(), all_winners=False):
        """The exact maximum of ``key`` over the domain's designs passing ``cons_exact``
        (``(value, exact threshold)`` pairs); with ``all_winners`` every design reaching it.

        Returns ``(best exact value, winning widths list)``; ``(None, [])`` when infeasible.
        """
        prob = self.prob
        parts = sorted(set(key.parts).union(*(set(v.parts) for v, _ in cons_exact)))
        cons = [(v, float(t)) for v, t in cons_exact]
        floor, exclude, known = -math.inf, set(), []
        for widths in dict.fromkeys([*floor_designs, *self.extra]):  # known: a valid floor
            in_domain = widths in self.extra or self.chain.feasible(widths)
            if in_domain and self._exact_ok(widths, cons_exact):
                known.append((key.exact(prob, widths), widths))
        known.sort(key=lambda vw: _DecKey(vw[0]), reverse=True)
        if known:
            floor = float(known[0][0])
        search = self._direction(key, cons, [w for _, w in known] or list(floor_designs))
        lagrange = None
        if known:  # linearized at the best known design
            x_star = np.log2(np.asarray(known[0][1], dtype=float))
            lagrange = _Lagrange(search, key, cons, x_star, floor)
        self.incumbent, self.bound = floor, None
        while True:
            self.rounds += 1
            strict = bool(known) and not all_winners
            idx, _ = search.run(key, cons, floor, frozenset(exclude), strict=strict,
                                early=not all_winners, lagrange=lagrange,
                                tick=self._tick)  # fmt: skip
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
            known.extend(exact)
            if known:
                floor = float(max(v for v, _ in known))
                self.incumbent = floor
            if new_cut or failed:  # the relaxation changed: search again
                exclude.update(failed)
                continue
            if strict:  # strictly better designs were found: the new floor; search again
                continue
            best = max((v for v, _ in known), key=_DecKey)
            return best, [w for v, w in known if _cmp(v, best) == 0]

    def _direction(self, key: _Value, cons, designs) -> _Search:
        """Bottom-up or top-down: fix first the layers that carry the objective's min cuts
        (the bound is loose on the layers left open)."""
        parts = list(zip(key.parts, key.coefs))
        for value, _ in cons:
            parts += list(zip(value.parts, value.coefs))
        if not parts or not designs:
            return self.searches[False]
        prob, depth = self.prob, self.chain.depth
        x = np.log2(np.asarray(designs[:1], dtype=float))
        mass = center = 0.0
        for p, coef in parts:
            row = prob.mats[p][prob.argmin(p, x)[0], 1:]
            contrib = abs(coef) * row * x[0]
            mass += contrib.sum()
            center += (contrib * np.arange(depth)).sum()
        reverse = bool(mass > 0 and center / mass > (depth - 1) / 2)
        if reverse not in self.searches:
            self.searches[reverse] = _Search(prob, self.chain.reversed())
        return self.searches[reverse]

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

    # -- out of time --------------------------------------------------------------------------

    def fallback(self, done: dict[str, bool]) -> tuple[int, ...]:
        """The design a finished run would choose among the designs evaluated so far (and a
        quick hill climb), every budget left spent (wider layers never lower a bound). Best
        values not proved yet are the best known ones, so scores stay within [0, 1] over the
        designs evaluated, the answer included."""
        self.prob.deadline = None
        pool = [w for w in self._evaluated() if w in self.extra or self.chain.feasible(w)]
        pool = pool or [self.chain.cheapest_widths()]
        proved = set(self.best)
        _, climbed = self._choose(pool, proved, climb=True)
        # chosen again with the climbed design among the rest, so that every design is
        # scored against the same best values as the one chosen
        best, _ = self._choose(pool + [w for w in climbed if w not in pool], proved)
        best = self._spend(best)
        self._known_best([*pool, *climbed, best], proved)
        self.best_f = float(self.f_value.exact(self.prob, best))
        return best

    def _choose(self, pool, proved, climb: bool = False):
        """The slack rule of a finished run over ``pool``: within ``(1 - slack)`` of the best
        F (proved, or the best in the pool), the broadest design. Returns it and the designs
        the hill climb found (with ``climb``)."""
        self._known_best(pool, proved)
        f_of = {w: self.f_value.exact(self.prob, w) for w in pool}
        best = max(pool, key=lambda w: _DecKey(f_of[w]))
        threshold = self.threshold
        if threshold is None:  # stage 1 unfinished: the best F known
            threshold = _CTX.multiply(f_of[best], Decimal(repr(1 - self.slack)))
        ok = [w for w in pool if _cmp(f_of[w], threshold) >= 0] or [best]
        prof = [q for q in dict.fromkeys(self.profile_idx) if self.best[q] > 0]
        climbed = []
        if prof:
            value = self._score_value(prof, [1.0] * len(prof), "sum")
            if climb:
                climbed = self._climbed(value, [(self.f_value, threshold)], ok)
            best = max(ok + climbed, key=lambda w: _DecKey(value.exact(self.prob, w)))
        return best, climbed

    def _known_best(self, designs, proved) -> None:
        """Best values not proved: the best over ``designs`` (at least 1 for a favored
        partition, whose score divides by it); F rescored with them."""
        fav = set(range(self.n_fav))
        for q in fav | set(self.profile_idx):
            if q not in proved:
                known = [self.prob.exact_log(q, w) for w in designs]
                self.best[q] = max(Decimal(1) if q in fav else Decimal(0), *known)
        if self.f_value is None or any(p not in proved for p in fav):
            self.f_value = self._score_value(sorted(fav), self.weights, self.kind)

    def _climbed(self, value: _Value, cons_exact, designs) -> list[tuple[int, ...]]:
        """A quick hill climb on ``value`` from the best design of the grid (a fraction of a
        second), kept only if it meets the constraints exactly."""
        search = self.searches[False]
        grid = [w for w in designs if self.chain.index(w) is not None]
        if not grid:
            return []
        start = max(grid, key=lambda w: _DecKey(value.exact(self.prob, w)))
        cons = [(v, float(t)) for v, t in cons_exact]
        found = search.widths(search.climb(value, cons, list(self.chain.index(start))))
        return [found] if self._exact_ok(found, cons_exact) else []

    def _evaluated(self) -> list[tuple[int, ...]]:
        """Designs whose favored bounds are all known exactly (no new tree DP needed)."""
        cache = self.prob.counts_cache
        designs = {w for p, w in cache if p == 0}
        return sorted(w for w in designs if all((p, w) in cache for p in range(self.n_fav)))

    def _spend(self, widths: tuple[int, ...]) -> tuple[int, ...]:
        """Raise layers to wider candidates while the design stays feasible (top first)."""
        if widths in self.extra:
            return widths
        chain, cur = self.chain, list(widths)
        changed = True
        while changed:
            changed = False
            for k in reversed(range(chain.depth)):
                wider = [int(c) for c in chain.cands[k] if c > cur[k]]
                for c in reversed(wider):
                    trial = cur[:k] + [c] + cur[k + 1 :]
                    if chain.feasible(trial):
                        cur, changed = trial, True
                        break
        return tuple(cur)

    # -- progress -----------------------------------------------------------------------------

    def _enter(self, stage: str) -> None:
        self.stage, self.incumbent, self.bound = stage, None, None

    def _tick(self, incumbent: float, bound: float) -> None:
        self.incumbent, self.bound = incumbent, bound
        self._heartbeat()

    def _heartbeat(self) -> None:
        """Called from every loop of the search: a report every PROGRESS_EVERY seconds."""
        now = time.monotonic()
        if self.progress is not None and now - self._last_report >= PROGRESS_EVERY:
            self._report(self.stage, done=False)

    def _report(self, stage: str, done: bool = True) -> None:
        self._last_report = time.monotonic()
        if self.progress is None:
            return
        info = {
            "stage": stage,
            "done": done,
            "round": self.rounds,
            "seconds": self._last_report - self.start,
        }
        if not done and self.incumbent is not None and math.isfinite(self.incumbent):
            info["incumbent"] = self.incumbent
            if self.bound is not None and math.isfinite(self.bound):
                info["bound"] = max(self.bound, self.incumbent)
        self.progress(info)

    # -- scores of any design -----------------------------------------------------------------

    def design(self, widths: tuple[int, ...]) -> Design:
        """Scores of any design (recommended or baseline) against the best values."""
        widths = tuple(int(w) for w in widths)
        arch = self.arch.with_widths(widths)
        dims = (self.arch.channels, *widths)
        n_fav = self.n_fav
        index = list(range(n_fav)) + self.profile_idx
        parts = self.fav_parts + self.profile
        res = bounds_many(arch, np.stack([p.mask for p in parts]))
        scores = []
        for j, (q, part) in enumerate(zip(index, parts)):
            counts = self.prob.counts(q, widths)
            upper = math.prod(d**c for d, c in zip(dims, counts))
            best = self.best.get(q)
            log = _exact_log(counts, dims)
            score = float(_CTX.divide(log, best)) if best else 0.0
            w = self.weights[q] if j < n_fav else 1.0
            scores.append(
                PartitionScore(
                    part.label,
                    w,
                    upper,
                    res.lower_bound(j),
                    cuts.exact_log2(upper),
                    0.0 if best is None else float(best),
                    score,
                    counts,
                )
            )
        fav, prof = tuple(scores[:n_fav]), tuple(scores[n_fav:])
        objective = 0.0 if self.f_value is None else float(self.f_value.exact(self.prob, widths))
        used = [s for s in prof if s.best_log2_upper > 0]
        breadth = sum(s.score for s in used) / len(used) if used else 0.0
        return Design(widths, self.chain.cost(widths), objective, fav, breadth, prof)
