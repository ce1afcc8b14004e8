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
default 2, and a top width of at least the number of classes Y), ``limits`` and ``fixed``
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

import decimal
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
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

#: Candidate widths when none are given: powers of two 1..1024 (before the floors).
DEFAULT_CHOICES: tuple[int, ...] = tuple(2**k for k in range(11))

#: Provisional defaults, to be calibrated by the training benchmark (docs/training.md).
DEFAULT_SLACK = 0.05
DEFAULT_MAX_RATIO: float | None = 2.0
DEFAULT_MIN_WIDTH = 2

#: ``--favor`` shorthands: name -> (partitions on a 1-D grid, partitions on 2-D and up).
SHORTHANDS = {
    "global": (("left-right",), ("left-right", "top-bottom")),
    "local": (("even-odd", "blocks:2"), ("checkerboard:1", "checkerboard:2")),
    "scale:k": (("blocks:k",), ("checkerboard:k",)),
}

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
_BIG = np.iinfo(np.int64).max // 4


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionScore:
    """Bounds and score of one partition for one design.

    ``score = log2_upper_bound / best_log2_upper``: the fraction of the best interaction any
    design under the same budget and constraints reaches for this partition alone.
    """

    partition: str
    weight: float
    upper_bound: int
    lower_bound: int
    log2_upper_bound: float
    best_log2_upper: float = 0.0
    score: float = 0.0
    counts: tuple[int, ...] = ()  # the min cut's items per level (M, r_0, ..., r_{L-1})

    def to_dict(self) -> dict:
        return {
            "partition": self.partition,
            "weight": self.weight,
            "upper_bound": self.upper_bound,
            "lower_bound": self.lower_bound,
            "log2_upper_bound": round(self.log2_upper_bound, 9),
            "best_log2_upper": round(self.best_log2_upper, 9),
            "score": round(self.score, 9),
        }


@dataclass(frozen=True)
class Design:
    """A width assignment with its cost, objective ``F``, breadth and per-partition scores."""

    widths: tuple[int, ...]
    cost: int
    objective: float
    scores: tuple[PartitionScore, ...]
    breadth: float = 0.0
    profile: tuple[PartitionScore, ...] = ()

    def to_dict(self, scores: bool = True) -> dict:
        data: dict[str, Any] = {
            "widths": list(self.widths),
            "cost": self.cost,
            "objective": round(self.objective, 9),
            "breadth": round(self.breadth, 9),
        }
        if scores:
            data["partitions"] = [s.to_dict() for s in self.scores]
            data["profile"] = [s.to_dict() for s in self.profile]
        return data


@dataclass(frozen=True)
class Recommendation:
    """The answer of :func:`recommend`.

    ``arch`` carries the recommended widths. ``baselines``: ``"uniform"`` (the widest uniform
    integer width within the budget), ``"wide-base"`` / ``"wide-tip"`` (widths 4r, 2r, r by
    thirds of the depth, largest r within the budget) and ``"spec"`` (the spec's own widths,
    whatever their cost), each scored against the same best values. ``optimal`` is True only
    when every stage was proved (``stages``). ``floors`` lists the floors that applied.
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
    slack: float = 0.0
    max_ratio: float | None = None
    min_width: int = 1
    floors: tuple[str, ...] = ()
    stages: dict[str, bool] = field(default_factory=dict)
    best_objective: float = 0.0
    candidates: tuple[tuple[int, ...], ...] = ()  # per layer, after floors, limits, fixed

    @property
    def widths(self) -> tuple[int, ...]:
        return self.design.widths

    def gains(self, baseline: str) -> dict[str, float]:
        """Score of the recommended design minus the baseline's, per favored partition."""
        base = self.baselines[baseline]
        return {s.partition: s.score - b.score for s, b in zip(self.design.scores, base.scores)}

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
            "best_objective": round(self.best_objective, 9),
            "objective_kind": self.objective_kind,
            "breadth": round(self.design.breadth, 9),
            "slack": self.slack,
            "max_ratio": self.max_ratio,
            "min_width": self.min_width,
            "floors": list(self.floors),
            "candidates": [list(c) for c in self.candidates],
            "optimal": self.optimal,
            "stages": dict(self.stages),
            "favor": [{"partition": p, "weight": w} for p, w in self.favor],
            "partitions": [s.to_dict() for s in self.design.scores],
            "profile": [s.to_dict() for s in self.design.profile],
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
    """Favored partitions with weights from ``P[=W]`` specs, shorthands, masks or pairs.

    ``spec``: a string, a :class:`Partition`, a bool mask (or a 2-D array of masks), a
    ``(partition, weight)`` pair, a mapping ``{partition: weight}`` or a list of those.
    Strings are partition specs with an optional weight (``"0,1,2,3=2.5"``) or the shorthands
    ``global`` (left-right and top-bottom; left-right in 1-D), ``local`` (checkerboard:1 and
    checkerboard:2; even-odd and blocks:2 in 1-D) and ``scale:k`` (checkerboard:k; blocks:k in
    1-D). A shorthand's weight goes to each of its partitions; the same partition (same side
    A) named twice gets the sum of its weights; distinct partitions with one label are
    numbered (``mask#1``, ``mask#2``).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(2, [2, 2]), Layer(2)])
    >>> [(p.label, w) for p, w in parse_favor(["global=2", "0,1=0.5"], arch)]
    [('left-right', 2.0), ('top-bottom', 2.0), ('0,1', 0.5)]
    >>> [p.label for p, _ in parse_favor("local", arch)]
    ['checkerboard:1', 'checkerboard:2']
    """
    merged: dict[bytes, list] = {}
    for item, weight in _favor_items(spec, arch.num_inputs):
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
            key = np.packbits(p.mask).tobytes()
            if key in merged:
                merged[key][1] += w
            else:
                merged[key] = [p, w]
    if not merged:
        raise PartitionError("favor: none given; expected at least one partition, e.g. global")
    out = [(p, float(w)) for p, w in merged.values()]
    _check_weight_range(out)
    return _distinct_labels(out)


def _distinct_labels(items: list[tuple[Partition, float]]) -> list[tuple[Partition, float]]:
    labels = [p.label for p, _ in items]
    dup = {x for x in labels if labels.count(x) > 1}
    seen: dict[str, int] = {}
    out = []
    for p, w in items:
        if p.label in dup:
            seen[p.label] = seen.get(p.label, 0) + 1
            p = Partition(f"{p.label}#{seen[p.label]}", p.side_a, p.num_inputs)
        out.append((p, w))
    return out


def _is_mask(x, n: int) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == bool and x.size == n and x.ndim >= 1
    if isinstance(x, (list, tuple)) and len(x) == n and n > 0:
        return all(isinstance(v, (bool, np.bool_)) for v in x)
    return False


def _favor_items(spec, n: int) -> list[tuple[Any, Any]]:
    if isinstance(spec, (str, Partition)) or _is_mask(spec, n):
        return [(spec, None)]
    if isinstance(spec, np.ndarray) and spec.dtype == bool and spec.ndim == 2:
        return [(row, None) for row in spec]
    if isinstance(spec, Mapping):
        return [(k, v) for k, v in spec.items()]
    if isinstance(spec, tuple) and len(spec) == 2 and _is_number(spec[1]):
        if isinstance(spec[0], (str, Partition)) or _is_mask(spec[0], n):
            return [(spec[0], spec[1])]
    if not isinstance(spec, Iterable):
        raise PartitionError(f"favor: {spec!r} is not a partition, mask or list of them")
    out = []
    for item in spec:
        out.extend(_favor_items(item, n))
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float, Fraction, np.integer, np.floating)) and not isinstance(
        x, bool
    )


def _expand(text: str, arch: Architecture) -> list[str]:
    rank = len(arch.shape)
    name, _, arg = text.partition(":")
    if name in ("global", "local") and not arg:
        one_d, multi = SHORTHANDS[name]
        return list(one_d if rank == 1 else multi)
    if name == "scale":
        if not arg.isdigit() or int(arg) < 1 or len(arg) > 9:
            raise PartitionError(f"Partition {text!r}: scale {arg!r} is not a positive integer")
        return [f"blocks:{arg}" if rank == 1 else f"checkerboard:{arg}"]
    return [text]


def _parse_weight(text: str, item) -> float:
    try:
        return float(text)
    except ValueError:
        raise PartitionError(f"favor {item!r}: weight {text!r} is not a number") from None


def _check_weight(w, item) -> float:
    try:
        w = float(w)
    except (TypeError, ValueError, OverflowError):
        raise PartitionError(f"favor {item!r}: weight {w!r} is not a number") from None
    if not (math.isfinite(w) and w > 0):
        raise PartitionError(f"favor {item!r}: weight {w} must be a positive finite number")
    return w


def _check_weight_range(items: list[tuple[Partition, float]]) -> None:
    """Weights enter ratios: refuse spreads that would underflow the scores (< 1e-12)."""
    hi = max(w for _, w in items)
    for p, w in items:
        if w < 1e-12 * hi:
            raise PartitionError(
                f"favor {p.label!r}: weight {w:g} is below 1e-12 of the largest ({hi:g}); "
                "expected weights within a factor 1e12 of each other"
            )


# -- interaction profile --------------------------------------------------------------------


def profile_partitions(arch: Architecture) -> list[str]:
    """The interaction profile whose mean score is the breadth: every scale of the grid.

    ``blocks:k`` (1-D) or ``checkerboard:k`` (2-D and up) for k = 1, 2, 4, ... up to half
    the smallest side, then ``left-right`` and, from 2-D on, ``top-bottom``.

    >>> from widthdesign.spec import Architecture, Layer
    >>> profile_partitions(Architecture(shape=(8, 8), channels=2, layers=[Layer(2, [2, 2])] * 3))
    ['checkerboard:1', 'checkerboard:2', 'left-right', 'top-bottom']
    """
    side = min(arch.shape)
    family = "blocks" if len(arch.shape) == 1 else "checkerboard"
    out = [f"{family}:{2**i}" for i in range(max(1, side.bit_length())) if 2**i <= side // 4]
    out.append("left-right")
    if len(arch.shape) > 1:
        out.append("top-bottom")
    return out


# -- candidates, floors and the cost chain --------------------------------------------------


def cheapest_design(
    arch: Architecture,
    cost: str = "params",
    choices=None,
    limits=None,
    fixed=None,
    min_width: int = 1,
    max_ratio=None,
) -> tuple[int, tuple[int, ...]]:
    """The cheapest design's cost and widths under the candidate sets (exact chain DP).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4,), channels=2, layers=[Layer(None, 2), Layer(None)])
    >>> cheapest_design(arch, choices=[2, 3])
    (10, (2, 2))
    """
    cands, _ = _candidates(arch, choices, limits, fixed, min_width, top_floor=False)
    chain = _Chain(arch, cost, cands, None, _ratio(max_ratio))
    return chain.cheapest, chain.cheapest_widths()


def _ratio(value) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ("none", "inf", "off"):
        return None
    try:
        r = Fraction(str(value).strip()) if isinstance(value, str) else Fraction(value)
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        raise BudgetError(f"max_ratio {value!r}: expected a number >= 1 or none") from None
    if r < 1 or r > 10**9:
        raise BudgetError(f"max_ratio {value!r}: expected a number in [1, 1e9] or none")
    return r


def _width_list(cs, what: str) -> list[int]:
    out = []
    for c in cs:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
            raise BudgetError(f"{what}: {c!r} is not a positive integer width")
        if c > 2**31:
            raise BudgetError(f"{what}: width {c} is too large; expected at most 2^31")
        out.append(int(c))
    return sorted(set(out))


def _candidates(
    arch, choices, limits, fixed, min_width: int = 1, top_floor: bool = True
) -> tuple[list[tuple[int, ...]], tuple[str, ...]]:
    """Sorted candidate widths per layer after floors, limits and fixed layers; the floors."""
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
        out.append(_width_list(cs, "choices"))
        if not out[-1]:
            raise BudgetError(f"choices for layer {layer}: empty; expected positive integers")
    limited = _layer_map(limits, depth, "limits")
    pinned = _layer_map(fixed, depth, "fixed")
    floors = []
    if isinstance(min_width, bool) or not isinstance(min_width, (int, np.integer)):
        raise BudgetError(f"min_width {min_width!r}: expected a positive integer")
    if min_width < 1:
        raise BudgetError(f"min_width {min_width}: expected a positive integer (>= 1)")
    if min_width > 1:
        for layer in range(depth):
            if layer not in limited and layer not in pinned:
                out[layer] = _floor(out[layer], min_width, layer, "--min-width")
        floors.append(f"min width {min_width}")
    top = depth - 1
    if top_floor and arch.classes > 1 and top not in limited and top not in pinned:
        floor = min((c for c in out[top] if c >= arch.classes), default=None)
        if floor is None:
            raise BudgetError(
                f"layer {top} (top): no candidate width >= {arch.classes} classes "
                f"(candidates {out[top]}); add wider --choices or --limit {top}:LO-HI"
            )
        out[top] = [c for c in out[top] if c >= floor]
        floors.append(f"top width >= {arch.classes} classes")
    for layer, (lo, hi) in limited.items():
        kept = [c for c in out[layer] if (lo is None or c >= lo) and (hi is None or c <= hi)]
        if not kept:
            raise BudgetError(
                f"limits for layer {layer}: no candidate width in [{lo}, {hi}] "
                f"(candidates {out[layer]})"
            )
        out[layer] = kept
    for layer, w in pinned.items():
        out[layer] = _width_list([w], f"fixed width of layer {layer}")
    return [tuple(c) for c in out], tuple(floors)


def _floor(cs: list[int], w: int, layer: int, flag: str) -> list[int]:
    kept = [c for c in cs if c >= w]
    if not kept:
        raise BudgetError(
            f"layer {layer}: no candidate width >= {w} ({flag}); candidates {cs}; "
            f"lower {flag} or add wider --choices"
        )
    return kept


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


class _Chain:
    """The feasible designs: candidates per layer, chain cost, ratio bound, budget.

    Tables (int64, ``_BIG`` = impossible): ``pre[l][i]`` cheapest cost of layers 0..l ending
    with candidate i; ``suf[l][i]`` cheapest cost after layer l given candidate i (output
    included); ``reach[l][i, k, j]`` cheapest cost after layer l given i through candidate j
    of layer k > l, which bounds the widest width each later layer can still afford.
    """

    def __init__(self, arch: Architecture, model: str, cands, budget, ratio, reverse=False):
        if model not in COST_MODELS:
            raise BudgetError(
                f"cost model {model!r} unknown; expected one of {', '.join(COST_MODELS)}"
            )
        sizes = pooling_tree(arch).sizes
        self.arch, self.model = arch, model
        self.depth = depth = arch.depth
        n = [1 if model == "params" else int(sizes[level]) for level in range(depth)]
        m, y = int(arch.channels), int(arch.classes)
        top = max(n) * max(m, max(max(c) for c in cands)) ** 2 * (depth + 1)
        if top * max(y, 1) >= _BIG:
            raise BudgetError(
                f"cost model {model!r}: costs of these widths exceed 2^60; use smaller widths"
            )
        # cost = head * w_0 + sum_l coef_l w_{l-1} w_l + tail * w_{L-1}, in the chain's order;
        # the reversed chain (top layer first) lets the search fix the top layers first
        self.reverse = reverse
        if reverse:
            cands = list(cands)[::-1]
            self.head, self.tail = y, n[0] * m
            self.coef = [0] + [n[depth - j] for j in range(1, depth)]
        else:
            self.head, self.tail = n[0] * m, y
            self.coef = [0] + n[1:]
        self.cands = [np.asarray(c, dtype=np.int64) for c in cands]
        self.logs = [np.log2(c.astype(float)) for c in self.cands]
        self.width = max(len(c) for c in cands)
        self.ratio = ratio
        self.first = self.head * self.cands[0]
        self.step = [None] + [self._step(level) for level in range(1, depth)]
        self.last = self.tail * self.cands[-1]
        self._tables()
        self.budget = self.cheapest if budget is None else min(int(budget), _BIG)
        self.keep = [
            (p + s <= self.budget) & (p < _BIG) for p, s in zip(self.pre, self.suf, strict=True)
        ]
        self._reach_tables()

    def reversed(self) -> _Chain:
        """The same designs with the layers in the other order."""
        cands = [c.tolist() for c in self.cands]
        if self.reverse:
            cands = cands[::-1]
        return _Chain(self.arch, self.model, cands, self.budget, self.ratio, not self.reverse)

    def _step(self, level: int) -> np.ndarray:
        a = self.cands[level - 1][:, None]
        b = self.cands[level][None, :]
        cost = self.coef[level] * a * b
        if self.ratio is not None:
            num, den = self.ratio.numerator, self.ratio.denominator
            ok = (np.maximum(a, b) * den <= num * np.minimum(a, b)) & (cost >= 0)
            cost = np.where(ok, cost, _BIG)
        return cost

    def _tables(self) -> None:
        pre = [self.first.copy()]
        for level in range(1, self.depth):
            pre.append(np.minimum((pre[-1][:, None] + self.step[level]).min(axis=0), _BIG))
        suf = [None] * self.depth
        suf[-1] = self.last.copy()
        for level in range(self.depth - 2, -1, -1):
            nxt = self.step[level + 1] + suf[level + 1][None, :]
            suf[level] = np.minimum(nxt.min(axis=1), _BIG)
        self.pre, self.suf = pre, suf
        self.cheapest = int((pre[0] + suf[0]).min())

    def _reach_tables(self) -> None:
        """``reach[l][i][k]``: for each candidate j of layer k, the cheapest cost after layer
        l (given candidate i) of any design whose layer k takes candidate j or a wider one;
        nondecreasing in j, so the widest affordable candidate is a binary search."""
        depth = self.depth
        self.reach = []
        for level in range(depth):
            c = len(self.cands[level])
            rows: list[list[np.ndarray]] = [[None] * depth for _ in range(c)]
            dist = np.full((c, c), _BIG, dtype=np.int64)
            np.fill_diagonal(dist, 0)
            for k in range(level + 1, depth):
                dist = np.minimum((dist[:, :, None] + self.step[k][None, :, :]).min(axis=1), _BIG)
                through = np.minimum(dist + self.suf[k][None, :], _BIG)
                wider = np.minimum.accumulate(through[:, ::-1], axis=1)[:, ::-1]
                for i in range(c):
                    rows[i][k] = wider[i]
            self.reach.append(rows)

    def widest(self, level: int, last: np.ndarray, left: np.ndarray, k: int) -> np.ndarray:
        """Index of the widest candidate of layer k > level that partial designs ending with
        candidate ``last`` at ``level`` can afford with ``left`` budget."""
        out = np.zeros(len(last), dtype=np.int64)
        order = np.argsort(last, kind="stable")
        values, starts = np.unique(last[order], return_index=True)
        bounds = list(starts[1:]) + [len(order)]
        for i, lo, hi in zip(values.tolist(), starts.tolist(), bounds):
            sel = order[lo:hi]
            pos = np.searchsorted(self.reach[level][i][k], left[sel], side="right") - 1
            out[sel] = np.maximum(pos, 0)
        return out

    def cheapest_widths(self) -> tuple[int, ...]:
        """The cheapest design, lexicographically smallest among equals."""
        widths, spent, prev = [], 0, None
        for level in range(self.depth):
            for i in range(len(self.cands[level])):
                step = self.first[i] if level == 0 else self.step[level][prev, i]
                if step < _BIG and spent + step + self.suf[level][i] == self.cheapest:
                    widths.append(int(self.cands[level][i]))
                    spent += int(step)
                    prev = i
                    break
        return tuple(widths)

    def cost(self, widths: Sequence[int]) -> int:
        """Exact cost of a design given in the chain's order."""
        w = [int(x) for x in widths]
        inner = sum(c * a * b for c, a, b in zip(self.coef[1:], w, w[1:]))
        return self.head * w[0] + inner + self.tail * w[-1]

    def ratio_ok(self, widths: Sequence[int]) -> bool:
        if self.ratio is None:
            return True
        return all(
            max(a, b) * self.ratio.denominator <= self.ratio.numerator * min(a, b)
            for a, b in zip(widths, widths[1:])
        )

    def feasible(self, widths: Sequence[int]) -> bool:
        """A design of the candidates within the budget and the ratio bound."""
        ok = self.index(widths) is not None and self.ratio_ok(widths)
        return ok and self.cost(widths) <= self.budget

    def index(self, widths: Sequence[int]) -> tuple[int, ...] | None:
        out = []
        for level, w in enumerate(widths):
            pos = np.flatnonzero(self.cands[level] == w)
            if not len(pos):
                return None
            out.append(int(pos[0]))
        return tuple(out)


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
    top_a, top_b, trace = cuts.tree_dp(tree, slot_a, [int(d) for d in dims])
    sides = cuts.trace_sides(tree, trace, bool(top_a <= top_b))
    counts = [int(np.count_nonzero(sides[0] != slot_a))]
    counts += [int(np.count_nonzero(cuts.cut_windows(tree, sides, lv))) for lv in range(tree.depth)]
    return tuple(counts)


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
        vals = [
            _CTX.multiply(c, prob.exact_log(p, widths))
            for p, c in zip(self.parts, self.exact_coefs)
        ]
        return _CTX.add(Decimal(0), sum(vals, Decimal(0))) if self.kind == "sum" else min(vals)


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
    min_width: int = DEFAULT_MIN_WIDTH,
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
            (provisional default, see docs/training.md).
        max_ratio: bound on the ratio of consecutive widths (both directions); ``None``:
            unbounded (provisional default 2).
        min_width: the smallest width of any layer without a limit (default 2); the top
            layer also takes at least the number of classes.
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
    cands, floors = _candidates(arch, choices, limits, fixed, min_width)
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
        min_width=int(min_width),
        floors=floors,
        stages=stages,
        best_objective=solver.best_f,
        candidates=tuple(tuple(c) for c in cands),
    )


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
            e = _CTX.divide(Decimal(scale.numerator) / Decimal(scale.denominator), best)
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
        objective = float(self.f_value.exact(self.prob, widths)) if hasattr(self, "f_value") else 0
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
    from .spec import cost as cost_of

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
