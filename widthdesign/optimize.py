"""Width design: choose layer widths under a compute budget to maximize favored separation ranks.

A user names the partitions (interactions) a task needs, with weights, and a compute budget;
:func:`recommend` returns the widths that provably maximize

- ``sum`` (default): ``sum_p w_p log2 U_p``, or
- ``maximin``: ``min_p w_p log2 U_p``,

where ``U_p`` is the min-cut upper bound on the separation rank for partition ``p``, subject to
``cost(widths) <= budget`` (:data:`widthdesign.spec.COST_MODELS`), each width from a candidate
set (default powers of two 1..1024), optional per-layer limits and fixed layers. Among equal
objectives the cheapest design wins, then the lexicographically smallest widths.

Solver: lazy cut generation on a CP-SAT master problem. For fixed widths ``d = (M, r_0, ...)``
``log U_p = min_c sum_k c_k log d_k`` over the count vectors ``c`` of the network's cuts
(how many input bonds and deltas of each level a cut takes). The master picks one width per
layer (one-hot booleans; the cost's products of consecutive widths linearized by pair
booleans) and defines ``z_p = min_c sum_k c_k log d_k`` over the count vectors generated so
far (a relaxation: fewer cuts, larger minimum); the tree dynamic program returns the exact
min cut of the chosen widths, whose count vector is added when the master overestimated it.
No overestimate: the master's optimum is proved. A second stage finds the cheapest design at
least as good (ties). See :func:`recommend` for exactness.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)])
>>> rec = recommend(arch, budget=40, favor="left-right", choices=[1, 2, 4])
>>> rec.design.widths, rec.design.cost, rec.design.scores[0].upper_bound, rec.optimal
((2, 4, 4), 32, 4, True)
>>> rec.baselines["uniform"].widths
(2, 2, 2)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from . import cuts
from .batch import bounds_many
from .errors import BudgetError, PartitionError
from .partitions import Partition, parse_partition
from .spec import COST_MODELS, Architecture, pooling_tree

__all__ = [
    "PartitionScore",
    "Design",
    "Recommendation",
    "recommend",
    "budget_sweep",
    "parse_favor",
    "cheapest_design",
    "OBJECTIVES",
    "DEFAULT_CHOICES",
    "SHORTHANDS",
]

#: Objective kinds: name -> description.
OBJECTIVES = {
    "sum": "maximize sum_p w_p log2(upper_bound_p)",
    "maximin": "maximize min_p w_p log2(upper_bound_p) (the smallest weighted log2 bound)",
}

#: Candidate widths when none are given: powers of two 1..1024.
DEFAULT_CHOICES: tuple[int, ...] = tuple(2**k for k in range(11))

#: ``--favor`` shorthands: name -> (partitions on a 1-D grid, partitions on 2-D and up).
SHORTHANDS = {
    "global": (("left-right",), ("left-right", "top-bottom")),
    "local": (("even-odd", "blocks:2"), ("checkerboard:1", "checkerboard:2")),
    "scale:k": (("blocks:k",), ("checkerboard:k",)),
}


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionScore:
    """Bounds on the separation rank of one favored partition for one design."""

    partition: str
    weight: float
    upper_bound: int
    lower_bound: int
    log2_upper_bound: float
    counts: tuple[int, ...] = ()  # the min cut's items per level (M, r_0, ..., r_{L-1})

    def to_dict(self) -> dict:
        return {
            "partition": self.partition,
            "weight": self.weight,
            "upper_bound": self.upper_bound,
            "lower_bound": self.lower_bound,
            "log2_upper_bound": round(self.log2_upper_bound, 9),
        }


@dataclass(frozen=True)
class Design:
    """A width assignment with its cost, objective value and per-partition scores."""

    widths: tuple[int, ...]
    cost: int
    objective: float
    scores: tuple[PartitionScore, ...]

    def to_dict(self, scores: bool = True) -> dict:
        data: dict[str, Any] = {
            "widths": list(self.widths),
            "cost": self.cost,
            "objective": round(self.objective, 9),
        }
        if scores:
            data["partitions"] = [s.to_dict() for s in self.scores]
        return data


@dataclass(frozen=True)
class Recommendation:
    """The answer of :func:`recommend`.

    ``arch`` carries the recommended widths; ``baselines`` holds ``"uniform"`` (the best
    uniform-width design under the same budget, when one fits) and ``"spec"`` (the spec's own
    widths, when it had them, whatever their cost). ``optimal`` is True only when optimality
    was proved. ``stats``: solver iterations, generated cuts, seconds, ``exact`` (integer
    log arithmetic) and ``tolerance`` (log2 units; 0 when exact).
    """

    arch: Architecture
    design: Design
    budget: int
    cost_model: str
    objective_kind: str
    optimal: bool
    favor: tuple[tuple[str, float], ...]
    baselines: dict[str, Design] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def widths(self) -> tuple[int, ...]:
        return self.design.widths

    def gains(self, baseline: str) -> dict[str, float]:
        """log2 upper bound of the recommended design minus the baseline's, per partition."""
        base = self.baselines[baseline]
        return {
            s.partition: s.log2_upper_bound - b.log2_upper_bound
            for s, b in zip(self.design.scores, base.scores)
        }

    @property
    def baseline(self) -> Design | None:
        """The main baseline: uniform widths when one fits the budget, else the spec's."""
        return self.baselines.get("uniform") or self.baselines.get("spec")

    def to_dict(self) -> dict:
        """JSON-ready dict; bounds as exact integers."""
        base = self.baseline
        return {
            "name": self.arch.name,
            "widths": list(self.design.widths),
            "cost": self.design.cost,
            "budget": self.budget,
            "cost_model": self.cost_model,
            "objective": round(self.design.objective, 9),
            "objective_kind": self.objective_kind,
            "optimal": self.optimal,
            "favor": [{"partition": p, "weight": w} for p, w in self.favor],
            "partitions": [s.to_dict() for s in self.design.scores],
            "baseline": None if base is None else base.to_dict(scores=False),
            "baselines": {
                name: {
                    **d.to_dict(),
                    "gains": {k: round(v, 9) for k, v in self.gains(name).items()},
                }
                for name, d in self.baselines.items()
            },
            "stats": dict(self.stats),
        }


# -- favored partitions ---------------------------------------------------------------------


def parse_favor(spec, arch: Architecture) -> list[tuple[Partition, float]]:
    """Favored partitions with weights from ``P[=W]`` specs, shorthands or pairs.

    ``spec``: a string, a :class:`Partition`, a ``(partition, weight)`` pair, a mapping
    ``{partition: weight}`` or a list of those. Strings are partition specs with an optional
    weight (``"0,1,2,3=2.5"``) or the shorthands ``global`` (left-right and top-bottom;
    left-right in 1-D), ``local`` (checkerboard:1 and checkerboard:2; even-odd and blocks:2 in
    1-D) and ``scale:k`` (checkerboard:k; blocks:k in 1-D). A shorthand's weight goes to each
    of its partitions; a partition named twice gets the sum of its weights.

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(2, [2, 2]), Layer(2)])
    >>> [(p.label, w) for p, w in parse_favor(["global=2", "0,1=0.5"], arch)]
    [('left-right', 2.0), ('top-bottom', 2.0), ('0,1', 0.5)]
    >>> [p.label for p, _ in parse_favor("local", arch)]
    ['checkerboard:1', 'checkerboard:2']
    """
    merged: dict[str, list] = {}
    for item, weight in _favor_items(spec):
        if isinstance(item, str):
            text = item.strip()
            if weight is None and "=" in text:
                text, _, wtext = text.rpartition("=")
                text = text.strip()
                weight = _parse_weight(wtext, item)
            parts = [parse_partition(s, arch) for s in _expand(text, arch)]
        else:
            parts = [cuts.as_partition(arch, item)]
        w = _check_weight(1.0 if weight is None else weight, item)
        for p in parts:
            if p.label in merged:
                merged[p.label][1] += w
            else:
                merged[p.label] = [p, w]
    if not merged:
        raise PartitionError("favor: none given; expected at least one partition, e.g. global")
    return [(p, float(w)) for p, w in merged.values()]


def _favor_items(spec) -> list[tuple[Any, Any]]:
    if isinstance(spec, (str, Partition)):
        return [(spec, None)]
    if isinstance(spec, Mapping):
        return [(k, v) for k, v in spec.items()]
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], (int, float, Fraction)):
        if isinstance(spec[0], (str, Partition)):
            return [(spec[0], spec[1])]
    out = []
    for item in spec:
        out.extend(_favor_items(item))
    return out


def _expand(text: str, arch: Architecture) -> list[str]:
    rank = len(arch.shape)
    name, _, arg = text.partition(":")
    if name in ("global", "local") and not arg:
        one_d, multi = SHORTHANDS[name]
        return list(one_d if rank == 1 else multi)
    if name == "scale":
        if not arg.isdigit() or int(arg) < 1:
            raise PartitionError(f"Partition {text!r}: scale {arg!r} is not a positive integer")
        return [f"blocks:{arg}" if rank == 1 else f"checkerboard:{arg}"]
    return [text]


def _parse_weight(text: str, item) -> float:
    try:
        return float(text)
    except ValueError:
        raise PartitionError(f"favor {item!r}: weight {text!r} is not a number") from None


def _check_weight(w, item) -> float:
    w = float(w)
    if not (math.isfinite(w) and w > 0):
        raise PartitionError(f"favor {item!r}: weight {w} must be a positive number")
    return w


# -- the problem ----------------------------------------------------------------------------


def cheapest_design(
    arch: Architecture, cost: str = "params", choices=None, limits=None, fixed=None
) -> tuple[int, tuple[int, ...]]:
    """The cheapest design's cost and widths under the candidate sets (exact chain DP).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(None, 2), Layer(None)])
    >>> cheapest_design(arch, choices=[2, 3])
    (10, (2, 2))
    """
    cands = _candidates(arch, choices, limits, fixed)
    table = _CostTable(arch, cost, cands)
    return table.cheapest, table.cheapest_widths


def _candidates(arch, choices, limits, fixed) -> list[tuple[int, ...]]:
    """Sorted candidate widths per layer after limits and fixed layers."""
    depth = arch.depth
    if choices is None:
        per_layer = [DEFAULT_CHOICES] * depth
    else:
        choices = list(choices)
        if choices and all(isinstance(c, (list, tuple)) for c in choices):
            if len(choices) != depth:
                raise BudgetError(f"choices: {len(choices)} lists given; expected {depth}")
            per_layer = [tuple(c) for c in choices]
        else:
            per_layer = [tuple(choices)] * depth
    out = []
    for layer, cs in enumerate(per_layer):
        for c in cs:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
                raise BudgetError(f"choices: {c!r} is not a positive integer width")
        out.append(sorted({int(c) for c in cs}))
        if not out[-1]:
            raise BudgetError(f"choices for layer {layer}: empty; expected positive integers")
    for layer, (lo, hi) in _layer_map(limits, depth, "limits").items():
        kept = [c for c in out[layer] if (lo is None or c >= lo) and (hi is None or c <= hi)]
        if not kept:
            raise BudgetError(
                f"limits for layer {layer}: no candidate width in [{lo}, {hi}] "
                f"(candidates {out[layer]})"
            )
        out[layer] = kept
    for layer, w in _layer_map(fixed, depth, "fixed").items():
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1:
            raise BudgetError(f"fixed width of layer {layer}: {w!r} is not a positive integer")
        out[layer] = [int(w)]
    return [tuple(c) for c in out]


def _layer_map(m, depth: int, what: str) -> dict:
    if not m:
        return {}
    items = m.items() if isinstance(m, Mapping) else m
    out = {}
    for layer, value in items:
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < depth:
            raise BudgetError(f"{what}: layer {layer!r} out of range; expected 0..{depth - 1}")
        out[int(layer)] = value
    return out


class _CostTable:
    """Exact chain DP over layers: cheapest prefix/suffix costs through each candidate."""

    def __init__(self, arch: Architecture, model: str, cands: list[tuple[int, ...]]):
        if model not in COST_MODELS:
            raise BudgetError(
                f"cost model {model!r} unknown; expected one of {', '.join(COST_MODELS)}"
            )
        sizes = pooling_tree(arch).sizes
        depth = arch.depth
        self.n = [1 if model == "params" else sizes[level] for level in range(depth)]
        self.m, self.y, self.cands = arch.channels, arch.classes, cands
        pre = [[self.n[0] * self.m * c for c in cands[0]]]
        for level in range(1, depth):
            n, prev = self.n[level], cands[level - 1]
            pre.append([min(p + n * a * b for p, a in zip(pre[-1], prev)) for b in cands[level]])
        suf = [[]] * depth
        suf[depth - 1] = [self.y * c for c in cands[depth - 1]]
        for level in range(depth - 2, -1, -1):
            n, nxt = self.n[level + 1], cands[level + 1]
            suf[level] = [
                min(n * a * b + s for b, s in zip(nxt, suf[level + 1])) for a in cands[level]
            ]
        self.pre, self.suf = pre, suf
        self.cheapest = min(p + s for p, s in zip(pre[0], suf[0]))
        self.cheapest_widths = self._cheapest_widths()

    def _cheapest_widths(self) -> tuple[int, ...]:
        # walk forward taking the smallest width that keeps the total at the optimum
        widths, spent, prev = [], 0, self.m
        for level, cs in enumerate(self.cands):
            for i, c in enumerate(cs):
                step = self.n[level] * prev * c
                if spent + step + self.suf[level][i] == self.cheapest:
                    widths.append(c)
                    spent += step
                    prev = c
                    break
        return tuple(widths)

    def cost(self, widths: Sequence[int]) -> int:
        total, prev = 0, self.m
        for n, w in zip(self.n, widths):
            total += n * prev * w
            prev = w
        return total + prev * self.y


@lru_cache(maxsize=4096)
def _factor(n: int) -> tuple[tuple[int, int], ...]:
    out, q = [], 2
    while q * q <= n:
        e = 0
        while n % q == 0:
            n, e = n // q, e + 1
        if e:
            out.append((q, e))
        q += 1
    if n > 1:
        out.append((n, 1))
    return tuple(out)


def _log_vector(counts: Sequence[int], dims: Sequence[int], scale: int = 1) -> dict[int, int]:
    """Prime exponents of ``prod_k dims_k^(scale * counts_k)``: an exact log value."""
    vec: dict[int, int] = {}
    for c, d in zip(counts, dims):
        if c:
            for q, e in _factor(int(d)):
                vec[q] = vec.get(q, 0) + scale * c * e
    return vec


def _cmp_logs(a: dict[int, int], b: dict[int, int]) -> int:
    """Sign of sum_q a_q log q - sum_q b_q log q, exactly."""
    diff = {q: a.get(q, 0) - b.get(q, 0) for q in a.keys() | b.keys()}
    diff = {q: e for q, e in diff.items() if e}
    if not diff:
        return 0
    est = sum(e * math.log2(q) for q, e in diff.items())
    size = sum(abs(e) * math.log2(q) for q, e in diff.items())
    if abs(est) > 1e-9 * size + 1e-9:
        return 1 if est > 0 else -1
    num = math.prod(q**e for q, e in diff.items() if e > 0)
    den = math.prod(q ** (-e) for q, e in diff.items() if e < 0)
    return (num > den) - (num < den)


@dataclass
class _Eval:
    """An exactly evaluated design."""

    widths: tuple[int, ...]
    cost: int
    counts: tuple[tuple[int, ...], ...]  # exact min cut's count vector per partition
    uppers: tuple[int, ...]
    value: dict[int, int]  # exact objective as prime exponents (integer weights)
    objective: float


class _Problem:
    def __init__(self, arch, favor, model, objective, cands, budget):
        self.arch, self.model, self.kind, self.budget = arch, model, objective, budget
        self.tree = pooling_tree(arch)
        self.depth = arch.depth
        self.parts = [p for p, _ in favor]
        self.weights = [w for _, w in favor]
        fracs = [Fraction(w).limit_denominator(1000) for w in self.weights]
        den = math.lcm(*(f.denominator for f in fracs))
        # integer weights: exact comparisons compare prod_p U_p^(W_p)
        self.iweights = [int(f * den) for f in fracs]
        self.slots = [p.mask[self.tree.leaves] for p in self.parts]
        self.cands = cands
        self.costs = _CostTable(arch, model, cands)
        self.cache: dict[tuple[int, ...], _Eval] = {}

    def dims(self, widths) -> tuple[int, ...]:
        return (self.arch.channels, *widths)

    def evaluate(self, widths: Sequence[int]) -> _Eval:
        widths = tuple(int(w) for w in widths)
        hit = self.cache.get(widths)
        if hit is not None:
            return hit
        dims = self.dims(widths)
        counts = tuple(_min_cut_counts(self.tree, s, dims) for s in self.slots)
        uppers = tuple(math.prod(d**c for d, c in zip(dims, cs)) for cs in counts)
        logs = [sum(c * math.log2(d) for c, d in zip(cs, dims)) for cs in counts]
        vecs = [_log_vector(cs, dims, w) for cs, w in zip(counts, self.iweights)]
        if self.kind == "sum":
            value: dict[int, int] = {}
            for v in vecs:
                for q, e in v.items():
                    value[q] = value.get(q, 0) + e
            objective = sum(w * x for w, x in zip(self.weights, logs))
        else:
            value = vecs[0]
            for v in vecs[1:]:
                if _cmp_logs(v, value) < 0:
                    value = v
            objective = min(w * x for w, x in zip(self.weights, logs))
        ev = _Eval(widths, self.costs.cost(widths), counts, uppers, value, objective)
        self.cache[widths] = ev
        return ev

    def better(self, a: _Eval, b: _Eval | None) -> bool:
        """``a`` beats ``b``: larger objective, then cheaper, then smaller widths."""
        if b is None:
            return True
        c = _cmp_logs(a.value, b.value)
        if c:
            return c > 0
        return (a.cost, a.widths) < (b.cost, b.widths)

    def design(self, ev: _Eval) -> Design:
        lows = self._lower_bounds(ev.widths)
        scores = [
            PartitionScore(p.label, w, u, low, cuts.exact_log2(u), cs)
            for p, w, cs, u, low in zip(self.parts, self.weights, ev.counts, ev.uppers, lows)
        ]
        return Design(ev.widths, ev.cost, ev.objective, tuple(scores))

    def _lower_bounds(self, widths) -> list[int]:
        """Lower bounds of every favored partition, in one call of the batch engine."""
        res = bounds_many(self.arch.with_widths(widths), np.stack([p.mask for p in self.parts]))
        return [res.lower_bound(i) for i in range(len(self.parts))]


def _min_cut_counts(tree, slot_a: np.ndarray, dims: Sequence[int]) -> tuple[int, ...]:
    """Count vector (input bonds, deltas per level) of an exact min cut (tree DP)."""
    top_a, top_b, trace = cuts.tree_dp(tree, slot_a, list(dims))
    sides = cuts.trace_sides(tree, trace, bool(top_a <= top_b))
    counts = [int(np.count_nonzero(sides[0] != slot_a))]
    counts += [int(np.count_nonzero(cuts.cut_windows(tree, sides, lv))) for lv in range(tree.depth)]
    return tuple(counts)


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
    time_limit: float | None = None,
    progress: Callable[[dict], None] | None = None,
    workers: int = 1,
) -> Recommendation:
    """The widths maximizing the favored partitions' bounds under a compute budget.

    Args:
        arch: the architecture (its widths, if any, are only a baseline).
        budget: the largest allowed ``cost`` (an integer).
        favor: favored partitions with weights (see :func:`parse_favor`).
        cost: a cost model of :data:`widthdesign.spec.COST_MODELS`.
        choices: candidate widths, one list for every layer or a list per layer
            (default :data:`DEFAULT_CHOICES`).
        objective: ``"sum"`` or ``"maximin"`` (:data:`OBJECTIVES`).
        limits: ``{layer: (min or None, max or None)}`` or pairs, restricting candidates.
        fixed: ``{layer: width}`` or pairs: layers whose width is given.
        time_limit: seconds; when reached, the best design found is returned with
            ``optimal=False``.
        progress: called with a dict (``stage``, ``iteration``, ``cuts``, ``best``,
            ``bound``, ``seconds``) after each master solve.
        workers: CP-SAT search workers (1: deterministic, one core).

    Exactness: when M and every candidate width are powers of one integer b the master works
    with exact integer exponents of b and its optimum is the exact optimum. Otherwise its
    log coefficients are log2 scaled by 2^k (k up to 40) and rounded up, which keeps the
    master a relaxation; the answer is then repaired exactly (designs are compared by exact
    prime-exponent arithmetic, ties resolved by cost). Only a design whose objective exceeds
    the answer's by less than ``stats["tolerance"]`` log2 units could be missed.

    Raises:
        BudgetError: the budget is below the cheapest design (the message names its cost),
            or the candidate sets are empty.
    """
    start = time.monotonic()
    if objective not in OBJECTIVES:
        raise BudgetError(
            f"objective {objective!r} unknown; expected one of {', '.join(OBJECTIVES)}"
        )
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise BudgetError(f"budget {budget!r}: expected a positive integer")
    budget = int(budget)
    favored = parse_favor(favor, arch)
    cands = _candidates(arch, choices, limits, fixed)
    prob = _Problem(arch, favored, cost, objective, cands, budget)
    if prob.costs.cheapest > budget:
        raise BudgetError(
            f"budget {budget} is below the cheapest design: {cost} cost {prob.costs.cheapest} "
            f"with widths {list(prob.costs.cheapest_widths)}"
        )
    deadline = None if time_limit is None else start + float(time_limit)
    solver = _Master(prob, deadline, progress, workers, start)
    best, optimal = solver.run()
    baselines: dict[str, Design] = {}
    uniform = _best_uniform(prob)
    if uniform is not None:
        baselines["uniform"] = prob.design(uniform)
    if arch.has_widths:
        baselines["spec"] = prob.design(prob.evaluate(arch.require_widths()))
    stats = {
        "iterations": solver.iterations,
        "cuts": solver.num_cuts,
        "seconds": round(time.monotonic() - start, 3),
        "exact": solver.exact,
        "tolerance": solver.tolerance,
        "cheapest": prob.costs.cheapest,
    }
    return Recommendation(
        arch=arch.with_widths(best.widths),
        design=prob.design(best),
        budget=budget,
        cost_model=cost,
        objective_kind=objective,
        optimal=optimal,
        favor=tuple((p.label, w) for p, w in favored),
        baselines=baselines,
        stats=stats,
    )


def budget_sweep(arch: Architecture, budgets: Iterable[int], favor, **kw) -> list[Recommendation]:
    """One :func:`recommend` per budget (same keyword arguments).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(None, 2), Layer(None)])
    >>> [r.design.objective for r in budget_sweep(arch, [10, 40], "even-odd", choices=[1, 2, 4])]
    [2.0, 2.0]
    """
    return [recommend(arch, b, favor, **kw) for b in budgets]


def _best_uniform(prob: _Problem) -> _Eval | None:
    """Best design whose free layers all share one width (fixed layers keep theirs)."""
    free = [layer for layer, cs in enumerate(prob.cands) if len(cs) > 1] or list(range(prob.depth))
    common = set(prob.cands[free[0]]).intersection(*(prob.cands[layer] for layer in free))
    best = None
    for w in sorted(common):
        widths = [w if layer in free else prob.cands[layer][0] for layer in range(prob.depth)]
        if prob.costs.cost(widths) > prob.budget:
            continue
        ev = prob.evaluate(widths)
        if prob.better(ev, best):
            best = ev
    return best


class _Master:
    """The CP-SAT master problem with lazily generated min-cut count vectors."""

    #: no-good cuts allowed while repairing rounding (only near-ties create them)
    MAX_NOGOODS = 200

    def __init__(self, prob: _Problem, deadline, progress, workers: int, start: float):
        from ortools.sat.python import cp_model  # lazy: keeps `import widthdesign` fast

        self.cp = cp_model
        self.prob, self.deadline, self.progress = prob, deadline, progress
        self.workers, self.start = workers, start
        self.iterations = self.num_cuts = 0
        self.best: _Eval | None = None
        self._prune()
        self._coefficients()
        self._build()

    # -- model ------------------------------------------------------------------------------
    def _prune(self) -> None:
        """Drop candidates and consecutive pairs that no design within budget can use."""
        t, b = self.prob.costs, self.prob.budget
        self.keep = [
            [i for i in range(len(cs)) if t.pre[level][i] + t.suf[level][i] <= b]
            for level, cs in enumerate(self.prob.cands)
        ]

    def _coefficients(self) -> None:
        prob = self.prob
        values = {prob.arch.channels} | {c for cs in prob.cands for c in cs}
        base = cuts.common_base(values)
        self.exact = base is not None
        if self.exact:
            self.scale = 1

            def unit(d: int) -> int:
                return cuts.ilog(d, base)
        else:
            # keep |objective| < 2^50 so CP-SAT's floating-point relaxations stay exact
            top = sum(
                w * min(p.mask.sum(), (~p.mask).sum()) * math.log2(prob.arch.channels)
                for p, w in zip(prob.parts, prob.iweights)
            )
            top = max(top, sum(prob.iweights) * prob.depth * 10.0) + 1.0
            self.scale = 2 ** max(10, min(40, 50 - math.ceil(math.log2(top))))

            def unit(d: int) -> int:
                if d & (d - 1) == 0:
                    return self.scale * (d.bit_length() - 1)
                return math.ceil(self.scale * math.log2(d))  # up: the master stays a relaxation

        self.unit = unit
        # master units -> log2 units of the objective (weights were scaled to integers)
        den = prob.iweights[0] / prob.weights[0]
        self.to_log2 = (math.log2(base) if self.exact else 1.0 / self.scale) / den
        self.m_unit = unit(prob.arch.channels)
        self.units = [[unit(c) for c in cs] for cs in prob.cands]

    def _build(self) -> None:
        """Seed count vectors from designs at every scale (also the first incumbents)."""
        prob = self.prob
        self.cuts: list[list[tuple[int, ...]]] = [[] for _ in prob.parts]
        self.nogoods: list[tuple[int, ...]] = []
        # tolerance of the rounded master, in log2 units of the (unscaled) objective
        self.tolerance = 0.0
        if not self.exact:
            items = 1 + sum(prob.tree.sizes)
            scale_w = sum(prob.iweights) if prob.kind == "sum" else max(prob.iweights)
            self.tolerance = float(2 * scale_w * items * self.to_log2)
        cands = prob.cands
        k = max(len(cs) for cs in cands)
        seeds = [tuple(cs[min(i * len(cs) // k, len(cs) - 1)] for cs in cands) for i in range(k)]
        seeds.append(prob.costs.cheapest_widths)
        for widths in seeds:
            ev = prob.evaluate(widths)
            self._add_cuts(ev)
            if ev.cost <= prob.budget and prob.better(ev, self.best):
                self.best = ev

    def _model(self, stage: str, threshold: int | None):
        """A fresh CP-SAT model: one-hot widths, linearized cost, z_p = min over count vectors.

        ``z_p`` is *defined* as the minimum (not bounded by it): epigraph variables with
        slack let CP-SAT improve the objective one unit per solution, millions of steps with
        scaled logs.
        """
        prob, cp = self.prob, self.cp
        model = cp.CpModel()
        cands, keep, t = prob.cands, self.keep, prob.costs
        x = []
        for level, cs in enumerate(cands):
            row = {i: model.new_bool_var(f"x{level}_{cs[i]}") for i in keep[level]}
            model.add_exactly_one(row.values())
            x.append(row)
        # cost: sum_l n_l r_{l-1} r_l + Y r_{L-1}; products of consecutive one-hot choices are
        # pair booleans whose marginals are the two layers' choices (a tight linearization)
        terms = [t.n[0] * t.m * cands[0][i] * v for i, v in x[0].items()]
        for level in range(1, prob.depth):
            n, prev, cur = t.n[level], cands[level - 1], cands[level]
            ys: dict[tuple[int, int], Any] = {}
            for i in x[level - 1]:
                for j in x[level]:
                    through = t.pre[level - 1][i] + n * prev[i] * cur[j] + t.suf[level][j]
                    if through <= prob.budget:
                        ys[i, j] = model.new_bool_var(f"y{level}_{i}_{j}")
            for i, v in x[level - 1].items():
                model.add(sum(y for (a, _), y in ys.items() if a == i) == v)
            for j, v in x[level].items():
                model.add(sum(y for (_, b), y in ys.items() if b == j) == v)
            terms.extend(n * prev[i] * cur[j] * y for (i, j), y in ys.items())
        last = prob.depth - 1
        terms.extend(t.y * cands[last][i] * v for i, v in x[last].items())
        cost_expr = sum(terms)
        model.add(cost_expr <= prob.budget)
        zs = []
        for p, vectors in enumerate(self.cuts):
            exprs = [self._cut_expr(x, cs) for cs in vectors]
            hi = max(self._cut_bound(cs) for cs in vectors)
            z = model.new_int_var(0, hi, f"z{p}")
            model.add_min_equality(z, exprs)
            zs.append(z)
        w = prob.iweights
        if prob.kind == "sum":
            phi = sum(wp * z for wp, z in zip(w, zs))
        else:
            hi = max(wp * self._cut_bound(self.cuts[p][0]) for p, wp in enumerate(w))
            phi = model.new_int_var(0, hi, "t")
            model.add_min_equality(phi, [wp * z for wp, z in zip(w, zs)])
        for widths in self.nogoods:
            model.add_bool_or(
                [~x[level][cands[level].index(wd)] for level, wd in enumerate(widths)]
            )
        if stage == "maximize":
            model.maximize(phi)
        else:
            model.add(phi >= threshold)
            model.minimize(self._tiebreak_objective(x, cost_expr))
        if self.best is not None:
            for level, wd in enumerate(self.best.widths):
                i = cands[level].index(wd)
                for j, v in x[level].items():
                    model.add_hint(v, j == i)
        return model, x, zs

    def _cut_expr(self, x, counts: Sequence[int]):
        expr = counts[0] * self.m_unit
        for level, c in enumerate(counts[1:]):
            if c:
                expr += sum(c * self.units[level][i] * v for i, v in x[level].items())
        return expr

    def _cut_bound(self, counts: Sequence[int]) -> int:
        return counts[0] * self.m_unit + sum(
            c * max(self.units[level]) for level, c in enumerate(counts[1:])
        )

    def _cut_value(self, counts: Sequence[int], widths: Sequence[int]) -> int:
        val = counts[0] * self.m_unit
        for c, w in zip(counts[1:], widths):
            val += c * self.unit(w)
        return val

    def _add_cuts(self, ev: _Eval, zvals: Sequence[int] | None = None) -> bool:
        """Add the design's min-cut count vectors; True when one was violated by ``zvals``."""
        violated = False
        for p, cs in enumerate(ev.counts):
            if zvals is not None and zvals[p] > self._cut_value(cs, ev.widths):
                violated = True
            if cs not in self.cuts[p]:
                self.cuts[p].append(cs)
                self.num_cuts += 1
        return violated

    def _threshold(self, ev: _Eval) -> int:
        """Smallest master objective any design at least as good as ``ev`` can reach."""
        prob = self.prob
        if self.exact:
            vals = [self._cut_value(cs, ev.widths) * w for cs, w in zip(ev.counts, prob.iweights)]
            return sum(vals) if prob.kind == "sum" else min(vals)
        logs = [
            w * sum(c * math.log2(d) for c, d in zip(cs, prob.dims(ev.widths)))
            for cs, w in zip(ev.counts, prob.iweights)
        ]
        # the master gives a design z_p >= scale * log2 U_p (coefficients rounded up), so one
        # at least as good as ev reaches scale * (its objective); margins absorb float error
        val = self.scale * (sum(logs) if prob.kind == "sum" else min(logs))
        return math.floor(val - 2 - 1e-12 * abs(val))

    # -- solving ----------------------------------------------------------------------------
    def _tiebreak_objective(self, x, cost_expr):
        """cost * R + rank, rank = lexicographic index of the widths (when it fits int64)."""
        radix, rank = 1, 0
        for level in range(self.prob.depth - 1, -1, -1):
            rank += radix * sum(i * v for i, v in x[level].items())
            radix *= len(self.prob.cands[level])
        if self.prob.budget * radix + radix < 2**62:
            return cost_expr * radix + rank
        return cost_expr

    def _step(self, stage: str, threshold: int | None = None):
        """One master solve: (solved, proved, evaluated design, a cut was violated)."""
        model, x, zs = self._model(stage, threshold)
        solver = self.cp.CpSolver()
        solver.parameters.num_workers = self.workers
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                return False, False, None, False
            solver.parameters.max_time_in_seconds = left
        status = solver.solve(model)
        self.iterations += 1
        if status not in (self.cp.OPTIMAL, self.cp.FEASIBLE):
            return False, False, None, False
        widths = tuple(
            next(self.prob.cands[level][i] for i, v in row.items() if solver.value(v))
            for level, row in enumerate(x)
        )
        ev = self.prob.evaluate(widths)
        if self.prob.better(ev, self.best):
            self.best = ev
        violated = self._add_cuts(ev, [solver.value(z) for z in zs])
        bound = solver.best_objective_bound * self.to_log2 if stage == "maximize" else None
        self._report(stage, bound)
        return True, status == self.cp.OPTIMAL, ev, violated

    def _report(self, stage: str, bound=None) -> None:
        if self.progress is None:
            return
        self.progress(
            {
                "stage": stage,
                "iteration": self.iterations,
                "cuts": self.num_cuts,
                "best": None if self.best is None else self.best.objective,
                "bound": bound,
                "seconds": time.monotonic() - self.start,
            }
        )

    def run(self) -> tuple[_Eval, bool]:
        # stage 1: maximize the objective until the master's optimum has no violated cut
        while True:
            ok, proved, ev, violated = self._step("maximize")
            if not ok or not proved:
                return self.best, False
            if not violated:
                break
        # stage 2: cheapest (then lexicographically smallest) design at least as good as the
        # incumbent; in exact mode this only resolves ties, in rounded mode it also repairs
        # the rounding by exact comparisons
        ref = self.best
        threshold = self._threshold(ref)
        while True:
            ok, proved, ev, violated = self._step("cheapest", threshold)
            if not ok or not proved:
                return self.best, False
            if violated:
                continue
            c = _cmp_logs(ev.value, ref.value)
            if c > 0:
                ref = ev
                threshold = self._threshold(ref)
            elif c == 0:
                return self.best, True
            else:
                if len(self.nogoods) >= self.MAX_NOGOODS:
                    return self.best, False
                self.nogoods.append(ev.widths)
