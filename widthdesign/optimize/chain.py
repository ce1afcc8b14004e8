"""Candidate widths, floors and the chain of layer costs: the feasible designs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from ..errors import BudgetError
from ..spec import COST_MODELS, Architecture, cost_coefficients

#: Candidate widths when none are given: powers of two 1..1024 (before the floors).
DEFAULT_CHOICES: tuple[int, ...] = tuple(2**k for k in range(11))


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
