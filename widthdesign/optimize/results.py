"""Results of :func:`widthdesign.optimize.recommend`: designs, scores, recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import Architecture

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
    domain: str = ""  # the candidate grid in words
    baseline_misses: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def searched(self) -> str:
        """The domain of the proof in words: the candidate grid and the baselines in it.

        Every baseline that meets the budget, the floors and the ratio bound belongs to the
        domain (``baseline_misses`` empty), so none of them can beat a proved optimum.
        """
        inside = [n for n in self.baselines if not self.baseline_misses.get(n)]
        if not inside:
            return self.domain
        return f"{self.domain}, plus the baselines {', '.join(inside)}"

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
            "domain": self.searched,
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
                    "in_domain": not self.baseline_misses.get(name),
                    "misses": list(self.baseline_misses.get(name, ())),
                }
                for name, d in self.baselines.items()
            },
            "stats": dict(self.stats),
        }
