"""The domain of :func:`~widthdesign.optimize.recommend`: candidate widths, floors,
baselines and the chain of layer costs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import BudgetError
from ..spec import COST_MODELS, Architecture, cost_coefficients
from ..spec import cost as cost_of

#: Candidate widths when none are given (before the floors): every width 1..15, then the
#: multiples of 8 up to 1024, the widths practitioners pick; small networks keep their small
#: widths, and the favor has room to tilt (powers of two left one design on the examples).
DEFAULT_CHOICES: tuple[int, ...] = (*range(1, 16), *range(16, 1025, 8))


_BIG = np.iinfo(np.int64).max // 4


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


def prefix_counts(table: np.ndarray, rows: np.ndarray, limit: np.ndarray, above: bool = False):
    """Per query q, how many leading entries of ``table[rows[q]]`` are ``<= limit[q]`` (rows
    nondecreasing) or, with ``above``, ``>= limit[q]`` (rows nonincreasing): one vectorized
    binary search, O(log C) gathers per query instead of a comparison with every entry."""
    width = table.shape[1]
    flat, base = table.ravel(), np.asarray(rows, dtype=np.int64) * width
    lo = np.zeros(len(base), dtype=np.int64)
    hi = np.full(len(base), width, dtype=np.int64)
    for _ in range(width.bit_length()):
        mid = (lo + hi) // 2
        entry = flat[base + np.minimum(mid, width - 1)]
        ok = (lo < hi) & ((entry >= limit) if above else (entry <= limit))
        lo = np.where(ok, mid + 1, lo)
        hi = np.where(ok, hi, np.minimum(hi, mid))
    return lo


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
        self.arch, self.model = arch, model
        self.depth = depth = arch.depth
        n = [int(c) for c in cost_coefficients(arch, model)]  # matrices per layer
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
        """Lower bounds on the cost after layer l of any design whose layer k takes candidate
        j or a wider one, nondecreasing in j (the widest affordable candidate is then a
        binary search). ``next[l][i]``: for k = l + 1, exact given candidate i at layer l;
        ``reach[l][k]``: for k > l + 1, the same minimized over layer l's candidates (a
        vector-matrix min-plus chain: memory and time C^2 per pair of layers, not C^3)."""
        depth = self.depth
        self.next_reach, self.reach = [], []
        for level in range(depth):
            rows: list[np.ndarray | None] = [None] * depth
            if level + 1 < depth:
                through = np.minimum(self.step[level + 1] + self.suf[level + 1][None, :], _BIG)
                self.next_reach.append(np.minimum.accumulate(through[:, ::-1], axis=1)[:, ::-1])
                feasible = self.keep[level]
                masked = np.where(feasible[:, None], self.step[level + 1], _BIG)
                dist = masked.min(axis=0)  # cheapest edge into each candidate of level + 1
                for k in range(level + 2, depth):
                    dist = np.minimum((dist[:, None] + self.step[k]).min(axis=0), _BIG)
                    through_k = np.minimum(dist + self.suf[k], _BIG)
                    rows[k] = np.minimum.accumulate(through_k[::-1])[::-1]
            else:
                self.next_reach.append(None)
            self.reach.append(rows)

    def widest(self, level: int, last: np.ndarray, left: np.ndarray, k: int) -> np.ndarray:
        """Index of the widest candidate of layer k > level that partial designs ending with
        candidate ``last`` at ``level`` may afford with ``left`` budget (an upper bound)."""
        if k > level + 1:
            pos = np.searchsorted(self.reach[level][k], left, side="right") - 1
            return np.maximum(pos, 0)
        # per row, how many entries are <= left (each row is nondecreasing)
        return np.maximum(prefix_counts(self.next_reach[level], last, left) - 1, 0)

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


def design_misses(
    arch: Architecture,
    widths: Sequence[int],
    cost: str,
    budget: int,
    min_width: int,
    limits=None,
    fixed=None,
    ratio: Fraction | None = None,
    span: Sequence[tuple[int, int]] | None = None,
) -> tuple[str, ...]:
    """What a design (e.g. a baseline) misses of the budget, floors, limits, fixed layers,
    ratio bound and the range of the candidate widths (``span``: per layer the narrowest and
    widest candidate before the floors); empty when it meets them all (then it belongs to the
    searched domain).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)],
    ...                     classes=3)
    >>> for miss in design_misses(arch, (8, 2, 2), "params", 40, 4, ratio=Fraction(2)):
    ...     print(miss)
    cost 42 > budget 40
    r1 = 2 < min width 4
    r2 = 2 < min width 4
    r2 = 2 < 3 classes
    r0/r1 = 4 > max ratio 2
    >>> design_misses(arch, (4, 4, 4), "params", 60, 4, ratio=Fraction(2), span=[(1, 8)] * 3)
    ()
    """
    depth = arch.depth
    limited = _layer_map(limits, depth, "limits")
    pinned = _layer_map(fixed, depth, "fixed")
    out = []
    c = cost_of(arch, cost, widths)
    if c > budget:
        out.append(f"cost {c} > budget {budget}")
    for k, w in enumerate(widths):
        if span is not None and k not in pinned and not span[k][0] <= w <= span[k][1]:
            lo, hi = span[k]
            out.append(f"r{k} = {w} outside the candidates {lo}..{hi}")
        if k in pinned:
            if w != pinned[k]:
                out.append(f"r{k} = {w} != fixed {pinned[k]}")
        elif k in limited:
            lo, hi = limited[k]
            if (lo is not None and w < lo) or (hi is not None and w > hi):
                out.append(f"r{k} = {w} outside limit [{lo}, {hi}]")
        elif w < min_width:
            out.append(f"r{k} = {w} < min width {min_width}")
    top = depth - 1
    if arch.classes > 1 and top not in limited and top not in pinned and widths[top] < arch.classes:
        out.append(f"r{top} = {widths[top]} < {arch.classes} classes")
    if ratio is not None:
        for k, (a, b) in enumerate(zip(widths, widths[1:])):
            if max(a, b) * ratio.denominator > ratio.numerator * min(a, b):
                out.append(f"r{k}/r{k + 1} = {Fraction(max(a, b), min(a, b))} > max ratio {ratio}")
    return tuple(out)


def describe_widths(ws: Sequence[int]) -> str:
    """A short text for a sorted candidate set: arithmetic runs and single widths.

    >>> describe_widths([24, 32, 40, 48])
    'multiples of 8 from 24 to 48'
    >>> describe_widths([5, 6, 7, 8, 16, 24, 1024])
    '5..8, 16, 24, 1024'
    >>> describe_widths([5, 6, 7, 8, *range(16, 1025, 8)])
    '5..8, multiples of 8 from 16 to 1024'
    >>> describe_widths([2, 4, 8, 16])
    '2, 4, 8, 16'
    """
    ws = sorted(set(int(w) for w in ws))
    parts, i = [], 0
    while i < len(ws):
        j = i + 1
        if j < len(ws):
            step = ws[j] - ws[i]
            while j + 1 < len(ws) and ws[j + 1] - ws[j] == step:
                j += 1
        if j - i >= 3:  # a run of at least four widths
            lo, hi = ws[i], ws[j]
            if step == 1:
                parts.append(f"{lo}..{hi}")
            elif lo % step == 0:
                parts.append(f"multiples of {step} from {lo} to {hi}")
            else:
                parts.append(f"{lo}..{hi} step {step}")
            i = j + 1
        else:
            parts.append(str(ws[i]))
            i += 1
    return ", ".join(parts)


def describe_candidates(cands: Sequence[Sequence[int]]) -> str:
    """The per-layer candidate sets, layers with equal sets grouped (``r0-r4: ...``).

    >>> describe_candidates([[24, 32, 40, 48]] * 3 + [[32, 40, 48]])
    'r0-r2: multiples of 8 from 24 to 48; r3: 32, 40, 48'
    """
    groups: list[list] = []
    for k, cs in enumerate(cands):
        text = describe_widths(cs)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(k)
        else:
            groups.append([[k], text])
    if len(groups) == 1:
        return groups[0][1]
    names = [f"r{g[0][0]}" if len(g[0]) == 1 else f"r{g[0][0]}-r{g[0][-1]}" for g in groups]
    return "; ".join(f"{n}: {t}" for n, (_, t) in zip(names, groups))


# -- the domain of one recommendation -------------------------------------------------------

#: bytes of the chain's tables allowed (about 64 bytes per pair of consecutive candidates)
MEMORY_LIMIT = 1 << 30
_BYTES_PER_PAIR = 64


@dataclass(frozen=True)
class Domain:
    """What :func:`recommend` searches: the chain of candidates within the budget and the
    ratio bound, plus the baselines that meet the budget, the floors and the ratio bound."""

    chain: _Chain
    candidates: list[tuple[int, ...]]
    floors: tuple[str, ...]
    min_width: int
    baselines: dict[str, tuple[int, ...]]
    misses: dict[str, tuple[str, ...]]

    @property
    def searched_baselines(self) -> list[tuple[int, ...]]:
        """The baselines that meet the budget, the floors and the ratio bound: in the
        domain, so that no baseline shown beside a proved optimum can beat it."""
        return sorted({w for n, w in self.baselines.items() if not self.misses[n]})


def build_domain(arch, cost, budget, choices, limits, fixed, min_width, ratio) -> Domain:
    """Floors, candidates, the chain, the baselines and which of them belong to the domain.

    Raises:
        BudgetError: floors that leave no candidate, tables past :data:`MEMORY_LIMIT`, or a
            budget below the cheapest design.
    """
    min_width, auto_note = _auto_min_width(arch, cost, budget, fixed, min_width, choices)
    cands, floors = _candidates(arch, choices, limits, fixed, min_width)
    if auto_note:
        floors = tuple(f + auto_note if f.startswith("min width") else f for f in floors)
    _check_memory(cands)
    chain = _Chain(arch, cost, cands, None, ratio)
    if chain.cheapest > budget:
        raise BudgetError(
            f"budget {budget} is below the cheapest design: {cost} cost {chain.cheapest} "
            f"with widths {list(chain.cheapest_widths())}"
            + (f" (floors: {', '.join(floors)})" if floors else "")
        )
    chain = _Chain(arch, cost, cands, budget, ratio)
    base = baseline_designs(arch, cost, budget, fixed=fixed)
    raw, _ = _candidates(arch, choices, None, None, 1, top_floor=False)
    span = [(min(c), max(c)) for c in raw]
    misses = {
        name: design_misses(arch, w, cost, budget, min_width, limits, fixed, ratio, span)
        for name, w in base.items()
    }
    return Domain(chain, cands, floors, min_width, base, misses)


def _check_memory(cands) -> None:
    pairs = sum(len(a) * len(b) for a, b in zip(cands, cands[1:]))
    need = _BYTES_PER_PAIR * pairs
    if need > MEMORY_LIMIT:
        widest = max(len(c) for c in cands)
        raise BudgetError(
            f"choices: {widest} candidate widths per layer need about {need / 2**30:.1f} GB "
            f"of tables (the limit is {MEMORY_LIMIT / 2**30:g} GB); give fewer --choices, "
            "e.g. a step (8..1024:8)"
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
