"""Width design: choose layer widths under a compute budget, as a practitioner would train them.

For a favored partition p (an interaction the task needs), ``L_p(d) = log2 U_p(d)`` is the
log of the min-cut upper bound of design ``d`` and ``I_p`` the largest ``L_p`` any feasible
design reaches (p favored alone). The **score** ``s_p = L_p / I_p`` in [0, 1] says how much
of the best reachable interaction the design keeps. :func:`recommend` maximizes, in order
(lexicographically):

1. ``F``: ``sum`` (default) ``sum_p w_p s_p / sum_p w_p``, or ``maximin``
   ``min_p (s_p / w_p) * max_q w_q`` (equal weights: the smallest score);
2. among designs with ``F >= (1 - slack) F*``: the **breadth**, the mean score over the
   interaction profile (every scale of the grid: ``blocks:k`` / ``checkerboard:k``, plus
   ``left-right`` and ``top-bottom``), so other scales are not starved;
3. the sum of log2 widths (no layer narrower than the budget allows), then the lowest cost,
   then the lexicographically smallest widths.

Feasible designs take one width per layer from the candidates, after the floors (``min_width``,
default ``"auto"``: half the widest uniform width within the budget, at least 2; and a top
width of at least the number of classes Y), ``limits`` and ``fixed``
layers, with ``cost <= budget`` and consecutive widths within a factor ``max_ratio``. Every
returned design is maximal: raising any single layer to its next candidate breaks the budget,
the ratio bound or a limit (stage 3 guarantees it, since every bound is monotone in widths).

Solver: every stage is an exact branch and bound over the chain of layers. The cost is a chain
(``sum_l n_l r_{l-1} r_l + Y r_{L-1}``) whose cheapest completion through any later candidate
is tabulated, so a partial design is bounded by giving every later layer the widest candidate
it can still afford; every objective is monotone in the widths, so this bound is valid. For
fixed widths ``L_p = min_c c . log d`` over the count vectors c of the network's cuts; the
search uses the vectors generated so far (a relaxation: fewer cuts, larger minimum) and the
tree dynamic program adds the exact min cut of every design that could win, until none is
missing. Floats only screen; the winners are compared exactly (see :func:`recommend`).

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)])
>>> rec = recommend(arch, budget=40, favor="left-right", choices=[1, 2, 4], max_ratio=None)
>>> rec.widths, rec.design.cost, rec.design.scores[0].upper_bound, rec.optimal
((2, 4, 4), 32, 4, True)
>>> rec.design.scores[0].score
1.0
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
from ..spec import Architecture
from ..spec import cost as cost_of
from .chain import (
    DEFAULT_CHOICES,
    _candidates,
    _Chain,
    _layer_map,
    _ratio,
    cheapest_design,
)
from .favor import SHORTHANDS, parse_favor, profile_partitions
from .results import Design, PartitionScore, Recommendation
from .search import _CTX, _DecKey, _exact_log, _Problem, _Stages, _Timeout, _Value

__all__ = [
    "PartitionScore",
    "Design",
    "Recommendation",
    "recommend",
    "budget_sweep",
    "parse_favor",
    "cheapest_design",
    "profile_partitions",
    "baseline_designs",
    "OBJECTIVES",
    "DEFAULT_CHOICES",
    "DEFAULT_SLACK",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MIN_WIDTH",
    "SHORTHANDS",
]

#: Objective kinds: name -> description.
OBJECTIVES = {
    "sum": "maximize the weighted mean score sum_p w_p s_p / sum_p w_p, s_p = log2 U_p / I_p",
    "maximin": "maximize the smallest weighted score min_p (s_p / w_p) * max_q w_q",
}


#: Defaults checked by the training benchmark (docs/training.md): max ratio 2 never lost more
#: than 6.5 points to uniform widths; looser ratios gave width-2 bottlenecks (down to -25).
DEFAULT_SLACK = 0.05
DEFAULT_MAX_RATIO: float | None = 2.0
DEFAULT_MIN_WIDTH: int | str = "auto"


# -- the solver -----------------------------------------------------------------------------


def recommend(
    arch: Architecture,
    budget: int,
    favor,
    cost: str = "params",
    choices=None,
    objective: str = "sum",
    limits=None,
    fixed=None,
    slack: float = DEFAULT_SLACK,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
    min_width: int | str = DEFAULT_MIN_WIDTH,
    time_limit: float | None = None,
    progress: Callable[[dict], None] | None = None,
) -> Recommendation:
    """The widths a practitioner would train: best normalized scores, then breadth.

    Args:
        arch: the architecture (its widths, if any, are only a baseline).
        budget: the largest allowed ``cost`` (a positive integer).
        favor: favored partitions with weights (see :func:`parse_favor`).
        cost: a cost model of :data:`widthdesign.spec.COST_MODELS`.
        choices: candidate widths, one list for every layer or a list per layer
            (default :data:`DEFAULT_CHOICES`).
        objective: ``"sum"`` or ``"maximin"`` of the scores (:data:`OBJECTIVES`).
        limits: ``{layer: (min or None, max or None)}`` or pairs; a limited layer ignores
            the floors.
        fixed: ``{layer: width}`` or pairs: layers whose width is given.
        slack: a fraction in [0, 1): designs within ``(1 - slack) F*`` compete on breadth
            (default 0.05, checked by the training benchmark, docs/training.md).
        max_ratio: bound on the ratio of consecutive widths (both directions); ``None``:
            unbounded (default 2: looser bounds trained worst, docs/training.md).
        min_width: the smallest width of any layer without a limit, or ``"auto"``
            (default): half the widest uniform width within the budget, at least 2 (the
            training benchmark's bottleneck floor, docs/training.md); the top layer also
            takes at least the number of classes.
        time_limit: seconds; when reached, the best design found is returned with
            ``optimal=False``.
        progress: called with a dict (``stage``, ``round``, ``seconds``) after each stage.

    Exactness: bounds are exact integers; the search screens with floats and compares the
    winners exactly (log2 to 60 digits: values within 1e-40 are ties). ``optimal`` is True
    when every stage finished.

    Raises:
        BudgetError: bad budget, slack, ratio or floors; the budget below the cheapest design.
        PartitionError: a favored partition no feasible design can separate (``I_p = 0``).
    """
    start = time.monotonic()
    if objective not in OBJECTIVES:
        raise BudgetError(
            f"objective {objective!r} unknown; expected one of {', '.join(OBJECTIVES)}"
        )
    budget = _check_budget(budget)
    slack = _check_slack(slack)
    ratio = _ratio(max_ratio)
    favored = parse_favor(favor, arch)
    min_width, auto_note = _auto_min_width(arch, cost, budget, fixed, min_width, choices)
    cands, floors = _candidates(arch, choices, limits, fixed, min_width)
    if auto_note:
        floors = tuple(f + auto_note if f.startswith("min width") else f for f in floors)
    chain = _Chain(arch, cost, cands, None, ratio)
    if chain.cheapest > budget:
        raise BudgetError(
            f"budget {budget} is below the cheapest design: {cost} cost {chain.cheapest} "
            f"with widths {list(chain.cheapest_widths())}"
            + (f" (floors: {', '.join(floors)})" if floors else "")
        )
    chain = _Chain(arch, cost, cands, budget, ratio)
    deadline = None if time_limit is None else start + _check_time(time_limit)
    solver = _Solver(arch, chain, favored, objective, slack, deadline, progress, start)
    best_widths, stages = solver.run()
    design = solver.design(best_widths)
    baselines = {
        name: solver.design(w)
        for name, w in baseline_designs(arch, cost, budget, fixed=fixed).items()
    }
    stats = {
        "seconds": round(time.monotonic() - start, 3),
        "rounds": solver.stages.rounds,
        "cuts": sum(len(c) for c in solver.prob.cuts),
        "evaluations": solver.prob.evaluations,
        "nodes": solver.stages.nodes,
        "cheapest": chain.cheapest,
    }
    return Recommendation(
        arch=arch.with_widths(best_widths),
        design=design,
        budget=budget,
        cost_model=cost,
        objective_kind=objective,
        optimal=all(stages.values()),
        favor=tuple((p.label, w) for p, w in favored),
        baselines=baselines,
        stats=stats,
        slack=slack,
        max_ratio=None if ratio is None else float(ratio),
        min_width=min_width,
        floors=floors,
        stages=stages,
        best_objective=solver.best_f,
        candidates=tuple(tuple(c) for c in cands),
    )


def _auto_min_width(arch, cost, budget, fixed, min_width, choices) -> tuple[int, str]:
    """``min_width="auto"``: half the widest uniform width within the budget (at least 2).

    The training benchmark (docs/training.md) found the narrowest layer to decide accuracy;
    this floor would have excluded every catastrophic design of its run.
    """
    if not (isinstance(min_width, str) and min_width.strip().lower() == "auto"):
        return min_width, ""
    r = _largest_r(arch, cost, budget, [1] * arch.depth, _layer_map(fixed, arch.depth, "fixed"))
    if r is None:  # not even width 1 fits: the cheapest-design error follows
        return 2, ""
    widest = min(max(cs) for cs in _candidates(arch, choices, None, None, 1, False)[0])
    floor = max(2, min(r // 2, widest))  # a budget past every candidate: the widest one
    return floor, f" (auto: half the widest uniform width {r})" if floor == r // 2 else ""


def _check_budget(budget) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise BudgetError(f"budget {budget!r}: expected a positive integer")
    return int(budget)


def _check_slack(slack) -> float:
    try:
        s = float(slack)
    except (TypeError, ValueError):
        raise BudgetError(f"slack {slack!r}: expected a fraction in [0, 1)") from None
    if not (0 <= s < 1):
        raise BudgetError(f"slack {slack!r}: expected a fraction in [0, 1)")
    return s


def _check_time(t) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise BudgetError(f"time limit {t!r}: expected a positive number of seconds") from None
    if not (math.isfinite(t) and t > 0):
        raise BudgetError(f"time limit {t!r}: expected a positive number of seconds")
    return t


class _Solver:
    """Runs the stages of :func:`recommend` and scores designs against the best values."""

    def __init__(self, arch, chain, favored, objective, slack, deadline, progress, start):
        self.arch, self.chain, self.kind, self.slack = arch, chain, objective, slack
        self.progress, self.start = progress, start
        self.fav_parts = [p for p, _ in favored]
        self.weights = [w for _, w in favored]
        labels = profile_partitions(arch)
        self.profile = []
        for label in labels:
            try:
                self.profile.append(parse_partition(label, arch))
            except PartitionError:
                continue
        masks = [p.mask for p in self.fav_parts]
        keys = [m.tobytes() for m in masks]
        self.profile_idx = []  # problem index of each profile partition (shared with favor)
        for part in self.profile:
            key = part.mask.tobytes()
            if key not in keys:
                keys.append(key)
                masks.append(part.mask)
            self.profile_idx.append(keys.index(key))
        self.prob = _Problem(arch, chain, masks, deadline)
        self.stages = _Stages(self.prob)
        self.n_fav = len(self.fav_parts)
        self.best: dict[int, Decimal] = {}
        self.f_value: _Value | None = None  # F, once the best values are known
        self.best_f = 0.0

    def _report(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(
                {
                    "stage": stage,
                    "round": self.stages.rounds,
                    "seconds": time.monotonic() - self.start,
                }
            )

    def _seeds(self) -> list[tuple[int, ...]]:
        chain = self.chain
        seeds = {chain.cheapest_widths()}
        for q in range(chain.width):
            row = tuple(min(q * len(c) // chain.width, len(c) - 1) for c in chain.cands)
            seeds.add(tuple(int(chain.cands[k][i]) for k, i in enumerate(row)))
        return sorted(seeds)

    def _best_value(self, p: int) -> Decimal:
        """I_p: the largest exact log2 bound of partition p over feasible designs."""
        if p not in self.best:
            key = _Value("sum", (p,), (1.0,), (Decimal(1),))
            floors = self.stages.search.beam(key)
            value, _ = self.stages.maximize(key, floor_designs=floors)
            self.best[p] = Decimal(0) if value is None else value
        return self.best[p]

    def _score_value(self, parts: list[int], weights: list[float], kind: str) -> _Value:
        """F (or breadth) as a :class:`_Value`: weights folded with 1 / I_p."""
        tot = sum(Fraction(w) for w in weights)
        wmax = max(Fraction(w) for w in weights)
        coefs, exact = [], []
        for p, w in zip(parts, weights):
            scale = Fraction(w) / tot if kind == "sum" else wmax / Fraction(w)
            best = self.best[p]
            e = _CTX.divide(_CTX.divide(Decimal(scale.numerator), scale.denominator), best)
            coefs.append(float(e))
            exact.append(e)
        caps = tuple(float(self.best[p]) for p in parts)
        kind = "sum" if kind == "sum" else "min"
        return _Value(kind, tuple(parts), tuple(coefs), tuple(exact), caps)

    def run(self) -> tuple[tuple[int, ...], dict[str, bool]]:
        stages = {"best": False, "objective": False, "breadth": False, "widths": False}
        self.prob.seed(self._seeds(), range(len(self.prob.slots)))
        fav = list(range(self.n_fav))
        try:
            for p in fav:
                if self._best_value(p) <= 0:
                    raise PartitionError(
                        f"favor {self.fav_parts[p].label!r}: no feasible design separates it "
                        "(best upper bound 1); raise the budget or widths"
                    )
            stages["best"] = True
            self._report("best")
            f_value = self._score_value(fav, self.weights, self.kind)
            f_star, winners = self.stages.maximize(
                f_value, floor_designs=self.stages.search.beam(f_value)
            )
            self.f_value, self.best_f = f_value, float(f_star)
            stages["objective"] = True
            self._report("objective")
            threshold = _CTX.multiply(f_star, Decimal(repr(1 - self.slack)))
            cons = [(f_value, threshold)]
            prof = self._profile_parts()
            if prof:
                breadth = self._score_value(prof, [1.0] * len(prof), "sum")
                floors = winners + self.stages.search.beam(breadth, cons)
                b_star, b_winners = self.stages.maximize(breadth, cons, floor_designs=floors)
                cons.append((breadth, b_star))
                winners = b_winners
            stages["breadth"] = True
            self._report("breadth")
            widths_key = _Value("widths")
            _, final = self.stages.maximize(
                widths_key, cons, floor_designs=winners, all_winners=True
            )
            stages["widths"] = True
            self._report("widths")
            return min(final, key=lambda w: (self.chain.cost(w), w)), stages
        except _Timeout:
            return self._fallback(), stages

    def _profile_parts(self) -> list[int]:
        return [q for q in self.profile_idx if self._best_value(q) > 0]

    def _fallback(self) -> tuple[int, ...]:
        """Out of time: the best design of a quick beam search on the favored scores."""
        self.prob.deadline = None
        fav = list(range(self.n_fav))
        for p in fav:
            if p not in self.best:
                beam = self.stages.search.beam(_Value("sum", (p,), (1.0,), (Decimal(1),)))
                self.best[p] = max((self.prob.exact_log(p, w) for w in beam), default=Decimal(1))
                self.best[p] = max(self.best[p], Decimal(1))
        f_value = self._score_value(fav, self.weights, self.kind)
        designs = self.stages.search.beam(f_value) or [self.chain.cheapest_widths()]
        best = max(designs, key=lambda w: _DecKey(f_value.exact(self.prob, w)))
        self.f_value, self.best_f = f_value, float(f_value.exact(self.prob, best))
        return best

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


# -- baselines ------------------------------------------------------------------------------


def baseline_designs(
    arch: Architecture, cost: str, budget: int, fixed=None
) -> dict[str, tuple[int, ...]]:
    """Designs a user would try at the same budget: ``uniform`` (the widest uniform integer
    width within the budget), ``wide-base`` and ``wide-tip`` (4r, 2r, r by thirds of the
    depth, bottom to top or top to bottom, largest r within the budget) and ``spec``.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)])
    >>> baseline_designs(arch, "params", 100)
    {'uniform': (6, 6, 6), 'wide-base': (8, 4, 2), 'wide-tip': (2, 4, 8)}
    """
    depth = arch.depth
    pinned = _layer_map(fixed, depth, "fixed")
    # thirds of the depth: L = 6 gives 4,4,2,2,1,1 and L = 5 gives 4,4,2,2,1
    thirds = [(4, 2, 1)[min(2, 3 * level // depth)] for level in range(depth)]
    shapes = {
        "uniform": [1] * depth,
        "wide-base": thirds,
        "wide-tip": thirds[::-1],
    }
    out: dict[str, tuple[int, ...]] = {}
    for name, mult in shapes.items():
        r = _largest_r(arch, cost, budget, mult, pinned)
        if r is not None:
            out[name] = tuple(pinned.get(k, m * r) for k, m in enumerate(mult))
    if arch.has_widths:
        out["spec"] = tuple(arch.require_widths())
    return out


def _largest_r(arch, cost, budget, mult, pinned) -> int | None:
    """The largest r >= 1 with cost(mult * r) <= budget (cost grows with r), or None."""

    def fits(r: int) -> bool:
        widths = [pinned.get(k, m * r) for k, m in enumerate(mult)]
        return cost_of(arch, cost, widths) <= budget

    if not fits(1):
        return None
    lo, hi = 1, 2
    while fits(hi) and hi < 2**31:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def budget_sweep(arch: Architecture, budgets: Iterable[int], favor, **kw) -> list[Recommendation]:
    """One :func:`recommend` per budget (same keyword arguments).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(None, 2), Layer(None)])
    >>> [r.widths for r in budget_sweep(arch, [10, 40], "even-odd", choices=[1, 2, 4])]
    [(2, 2), (4, 4)]
    """
    return [recommend(arch, b, favor, **kw) for b in budgets]
