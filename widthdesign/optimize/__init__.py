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

import time
from collections.abc import Callable, Iterable

from ..errors import BudgetError
from ..spec import Architecture
from .chain import (
    DEFAULT_CHOICES,
    _candidates,  # noqa: F401 (the tests' oracle builds the same candidates)
    _Chain,  # noqa: F401
    _check_budget,
    _check_slack,
    _check_time,
    _ratio,
    baseline_designs,
    build_domain,
    cheapest_design,
    describe_candidates,
)
from .favor import SHORTHANDS, parse_favor, profile_partitions
from .results import Design, PartitionScore, Recommendation
from .stages import _Stages

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
    budget, slack, ratio = _check_budget(budget), _check_slack(slack), _ratio(max_ratio)
    deadline = None if time_limit is None else start + _check_time(time_limit)
    favored = parse_favor(favor, arch)
    dom = build_domain(arch, cost, budget, choices, limits, fixed, min_width, ratio)
    stages = _Stages(arch, dom.chain, favored, objective, slack, deadline, progress, start,
                     dom.searched_baselines)  # fmt: skip
    widths, done = stages.run()
    stats = {
        "seconds": round(time.monotonic() - start, 3),
        "rounds": stages.rounds,
        "cuts": sum(len(c) for c in stages.prob.cuts),
        "evaluations": stages.prob.evaluations,
        "nodes": stages.nodes,
        "cheapest": dom.chain.cheapest,
    }
    return Recommendation(
        arch=arch.with_widths(widths),
        design=stages.design(widths),
        budget=budget,
        cost_model=cost,
        objective_kind=objective,
        optimal=all(done.values()),
        favor=tuple((p.label, w) for p, w in favored),
        baselines={name: stages.design(w) for name, w in dom.baselines.items()},
        stats=stats,
        slack=slack,
        max_ratio=None if ratio is None else float(ratio),
        min_width=dom.min_width,
        floors=dom.floors,
        stages=done,
        best_objective=stages.best_f,
        candidates=tuple(tuple(c) for c in dom.candidates),
        domain=describe_candidates(dom.candidates),
        baseline_misses=dom.misses,
    )


def budget_sweep(arch: Architecture, budgets: Iterable[int], favor, **kw) -> list[Recommendation]:
    """One :func:`recommend` per budget (same keyword arguments).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(None, 2), Layer(None)])
    >>> [r.widths for r in budget_sweep(arch, [10, 40], "even-odd", choices=[1, 2, 4])]
    [(2, 2), (4, 4)]
    """
    return [recommend(arch, b, favor, **kw) for b in budgets]
