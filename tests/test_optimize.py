"""The width optimizer (recommend v2) against exhaustive enumeration, its options and CLI."""

from __future__ import annotations

import itertools
import json
import math
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import widthdesign as wd
from widthdesign import cuts, optimize
from widthdesign.cli import cli
from widthdesign.errors import BudgetError, PartitionError
from widthdesign.spec import Architecture, Layer

ROOT = Path(__file__).resolve().parent.parent
LEVINE = str(ROOT / "examples" / "levine_64x64.toml")


# -- the oracle -----------------------------------------------------------------------------


def _log2(x: int) -> Decimal:
    return Decimal(x).ln() / Decimal(2).ln()


def brute_force(arch, budget, favor, cost="params", choices=None, objective="sum", limits=None,
                fixed=None, slack=0.05, max_ratio=2, min_width=2):  # fmt: skip
    """The lexicographic optimum by enumeration, written from the definition in the issue:
    exact bounds (core DP on Python ints), scores L/I with I the best over feasible designs,
    F, then breadth within the slack, then the product of widths, cost, smallest widths.

    The domain: the candidate grid (``optimize._candidates``: floors, limits, fixed, tested
    apart) plus every baseline (``optimize.baseline_designs``, tested apart) that meets the
    budget, the floors, the limits, the fixed widths and the ratio bound, checked here.
    Returns the widths, or None when no design is feasible.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        fav = optimize.parse_favor(favor, arch)
        cands, _ = optimize._candidates(arch, choices, limits, fixed, min_width)

        def smooth(w):
            return max_ratio is None or all(max(a, b) <= max_ratio * min(a, b)
                                            for a, b in zip(w, w[1:]))  # fmt: skip

        designs = [w for w in itertools.product(*cands)
                   if wd.cost(arch, cost, w) <= budget and smooth(w)]  # fmt: skip
        if not designs:
            return None
        designs += [w for w in baselines_in_domain(arch, budget, cost, choices, limits, fixed,
                                                    min_width, smooth) if w not in designs]  # fmt: skip
        profile = []
        for label in optimize.profile_partitions(arch):
            try:
                profile.append(wd.parse_partition(label, arch))
            except PartitionError:
                pass
        parts = [p for p, _ in fav] + profile
        logs = {
            w: [_log2(cuts.dp_min_cut(arch, p.mask, (arch.channels, *w)).value) for p in parts]
            for w in designs
        }
        best = [max(logs[w][q] for w in designs) for q in range(len(parts))]
        nf = len(fav)
        if any(best[q] == 0 for q in range(nf)):
            raise PartitionError("no feasible design separates a favored partition")
        weights = [Decimal(repr(w)) for _, w in fav]

        def f(w):
            s = [logs[w][q] / best[q] for q in range(nf)]
            if objective == "sum":
                return sum(a * b for a, b in zip(weights, s)) / sum(weights)
            return min(x / a for a, x in zip(weights, s)) * max(weights)

        used = [q for q in range(nf, len(parts)) if best[q] > 0]

        def breadth(w):
            return sum(logs[w][q] / best[q] for q in used) / len(used) if used else 0

        tie = Decimal(10) ** -30
        f_star = max(f(w) for w in designs)
        ok = [w for w in designs if f(w) >= f_star * (1 - Decimal(repr(slack))) - tie]
        b_star = max(breadth(w) for w in ok)
        ok = [w for w in ok if breadth(w) >= b_star - tie]
        top = max(math.prod(w) for w in ok)
        ok = [w for w in ok if math.prod(w) == top]
        return min(ok, key=lambda w: (wd.cost(arch, cost, w), w))


def baselines_in_domain(arch, budget, cost, choices, limits, fixed, min_width, smooth):
    """The baselines that meet the budget, the floors (min width; top >= classes unless the
    top layer is limited or fixed), the limits, the fixed widths, the ratio bound and lie in
    the range of the candidates given (before the floors) of every layer not fixed."""
    limits, fixed = dict(limits or {}), dict(fixed or {})
    top = arch.depth - 1
    given = optimize.DEFAULT_CHOICES if choices is None else choices
    per_layer = given if isinstance(given[0], (list, tuple)) else [given] * arch.depth

    def meets(w):
        for k, x in enumerate(w):
            lo, hi = limits.get(k, (None, None))
            if k not in fixed and not min(per_layer[k]) <= x <= max(per_layer[k]):
                return False
            if k in fixed and x != fixed[k]:
                return False
            if k in limits and ((lo is not None and x < lo) or (hi is not None and x > hi)):
                return False
            if k not in fixed and k not in limits and x < min_width:
                return False
        free_top = top not in limits and top not in fixed
        return not (free_top and w[top] < arch.classes)

    found = optimize.baseline_designs(arch, cost, budget, fixed=fixed).values()
    return [tuple(w) for w in found if wd.cost(arch, cost, w) <= budget and smooth(w) and meets(w)]


def assert_maximal(rec, arch, cands, ratio):
    """Raising any single layer to its next candidate breaks the budget or the ratio (for a
    design of the grid; a baseline of the domain off the grid has no next candidate)."""
    widths = rec.widths
    if any(w not in cs for w, cs in zip(widths, cands)):
        inside = [b.widths for n, b in rec.baselines.items() if not rec.baseline_misses[n]]
        assert widths in inside, widths
        return
    for k, w in enumerate(widths):
        wider = [c for c in cands[k] if c > w]
        if not wider:
            continue
        up = list(widths)
        up[k] = wider[0]
        fits = wd.cost(arch, rec.cost_model, up) <= rec.budget
        smooth = ratio is None or all(max(a, b) <= ratio * min(a, b) for a, b in zip(up, up[1:]))
        assert not (fits and smooth), (widths, k)


ARCHS = {
    "1d-w2-n8": Architecture(
        shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)], classes=3
    ),
    "1d-w3-n9": Architecture(
        shape=(9,), channels=3, layers=[Layer(None, 3), Layer(None)], classes=2
    ),
    "1d-w2-n16": Architecture(shape=(16,), channels=2, layers=[Layer(None, 2)] * 3 + [Layer(None)]),
    "1d-w2-n32": Architecture(
        shape=(32,), channels=2, layers=[Layer(None, 2)] * 4 + [Layer(None)], classes=2
    ),
    "1d-w3-n27": Architecture(
        shape=(27,), channels=2, layers=[Layer(None, 3)] * 2 + [Layer(None)], classes=2
    ),
    "2d-2x2-4x4": Architecture(
        shape=(4, 4), channels=2, layers=[Layer(None, (2, 2)), Layer(None)], classes=2
    ),
    "2d-3x3-6x6": Architecture(shape=(6, 6), channels=3, layers=[Layer(None, (3, 3)), Layer(None)]),
    "2d-mixed-4x4": Architecture(
        shape=(4, 4), channels=3, layers=[Layer(None, (2, 1)), Layer(None, (1, 2)), Layer(None)]
    ),
    "2d-2x2-8x8": Architecture(
        shape=(8, 8), channels=2, layers=[Layer(None, (2, 2))] * 2 + [Layer(None)], classes=3
    ),
    "2d-2x2-16x16": Architecture(
        shape=(16, 16), channels=2, layers=[Layer(None, (2, 2))] * 3 + [Layer(None)], classes=4
    ),
}

# (arch, favor, budget, options): both objectives, all three cost models, windows 2 and 3,
# 1-D and 2-D, slack, ratio bounds, floors, limits, fixed layers; powers of one base (exact
# rational scores) and mixed widths (ratios of logs of different primes)
CASES = [
    ("1d-w2-n8", ["left-right"], 40, dict(choices=[1, 2, 3, 4, 5, 6], max_ratio=None)),
    ("1d-w2-n8", ["even-odd", "left-right=2"], 60, dict(choices=[1, 2, 4, 8], objective="maximin")),
    ("1d-w2-n8", ["local", "0,1,2=1.5"], 200, dict(choices=[2, 3, 5, 6], cost="macs", slack=0.2)),
    (
        "1d-w3-n9",
        ["left-right", "even-odd"],
        90,
        dict(choices=[1, 2, 3, 4, 6], min_width=1, cost="params-unshared"),
    ),  # fmt: skip
    ("1d-w3-n9", ["0,1,2=2", "local"], 50, dict(choices=[1, 3, 9], objective="maximin", slack=0)),
    ("1d-w2-n16", ["global", "blocks:2=0.5"], 70, dict(choices=[1, 2, 3, 4, 5, 6], max_ratio=3)),
    ("1d-w2-n16", ["scale:4", "even-odd"], 250, dict(choices=[2, 3, 4], cost="macs")),
    ("1d-w2-n32", ["global"], 120, dict(choices=[2, 3, 4, 6, 8], slack=0.1)),
    ("1d-w2-n32", ["local", "left-right=3"], 150, dict(choices=[2, 4, 5, 8], max_ratio=1.5)),
    (
        "1d-w3-n27",
        ["left-right", "blocks:3"],
        150,
        dict(choices=[1, 2, 3, 5], objective="maximin"),
    ),  # fmt: skip
    ("1d-w3-n27", ["global=3", "local"], 400, dict(choices=[1, 2, 4, 8], cost="macs")),
    ("2d-2x2-4x4", ["global"], 60, dict(choices=[1, 2, 3, 4, 5, 6], slack=0)),
    (
        "2d-2x2-4x4",
        ["checkerboard", "top-bottom=2"],
        300,
        dict(choices=[2, 3, 4, 6], cost="macs"),
    ),  # fmt: skip
    (
        "2d-3x3-6x6",
        ["left-right", "0,1,6"],
        700,
        dict(choices=[1, 2, 3, 5, 8], cost="params-unshared"),
    ),  # fmt: skip
    ("2d-3x3-6x6", ["local", "global=2"], 300, dict(choices=[1, 3, 9, 27], max_ratio=None)),
    ("2d-mixed-4x4", ["global", "0,1,4"], 927, dict(choices=[2, 4, 7, 8], cost="macs")),
    (
        "2d-mixed-4x4",
        ["checkerboard:2", "left-right"],
        45,
        dict(choices=[1, 2, 3, 4, 5], min_width=1),
    ),  # fmt: skip
    (
        "2d-2x2-8x8",
        ["global", "local"],
        500,
        dict(choices=[1, 2, 3, 4, 6], cost="params-unshared"),
    ),  # fmt: skip
    (
        "2d-2x2-8x8",
        ["top-bottom", "checkerboard:2=2"],
        3000,
        dict(choices=[2, 4, 8, 16], cost="macs"),
    ),  # fmt: skip
    ("2d-2x2-16x16", ["global", "local"], 300, dict(choices=[2, 4, 6, 8], slack=0.05)),
    (
        "1d-w2-n16",
        ["left-right"],
        200,
        dict(choices=[1, 2, 4, 8, 16], fixed={0: 3}, limits={3: (None, 4), 2: (2, 8)}),
    ),  # fmt: skip
]


@pytest.mark.parametrize("name,favor,budget,opts", CASES)
def test_recommend_matches_exhaustive_search(name, favor, budget, opts):
    arch = ARCHS[name]
    opts = {"min_width": 2, **opts}  # the oracle's floors are explicit integers
    rec = wd.recommend(arch, budget, favor, **opts)
    assert rec.optimal and all(rec.stages.values())
    assert rec.widths == brute_force(arch, budget, favor, **opts)
    assert rec.design.cost <= budget and rec.arch.widths == rec.widths
    ratio = opts.get("max_ratio", optimize.DEFAULT_MAX_RATIO)
    cands, _ = optimize._candidates(arch, opts.get("choices"), opts.get("limits"),
                                    opts.get("fixed"), opts.get("min_width", 2))  # fmt: skip
    assert_maximal(rec, arch, cands, ratio)
    # no baseline of the domain beats the proved optimum or scores above 100 %
    for name, base in rec.baselines.items():
        if not rec.baseline_misses[name]:
            assert all(s.score <= 1 + 1e-12 for s in base.scores + base.profile), name
            assert base.objective <= rec.best_objective + 1e-12, name
    # scores are the exact bounds over the exact best values
    for s in rec.design.scores:
        b = wd.bounds(rec.arch, s.partition)
        assert (s.upper_bound, s.lower_bound) == (b.upper_bound, b.lower_bound)
        assert 0 <= s.score <= 1 + 1e-12
        assert s.score == pytest.approx(s.log2_upper_bound / s.best_log2_upper)


tiny_arch = st.sampled_from([ARCHS["1d-w2-n8"], ARCHS["1d-w3-n9"], ARCHS["2d-2x2-4x4"],
                             ARCHS["1d-w2-n16"]])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(
    arch=tiny_arch,
    choices=st.lists(st.integers(1, 9), min_size=2, max_size=4, unique=True).map(sorted),
    model=st.sampled_from(sorted(wd.spec.COST_MODELS)),
    kind=st.sampled_from(["sum", "maximin"]),
    frac=st.floats(0.0, 1.0),
    slack=st.sampled_from([0.0, 0.05, 0.3]),
    ratio=st.sampled_from([None, 1.5, 2, 3]),
    min_width=st.sampled_from([1, 2]),
    favor=st.lists(
        st.sampled_from(["left-right", "0,1", "0,2,3=2", "1,2=0.5", "global=1.5", "local"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
def test_property_matches_enumeration(arch, choices, model, kind, frac, slack, ratio, min_width,
                                      favor):  # fmt: skip
    opts = dict(cost=model, choices=choices, objective=kind, slack=slack, max_ratio=ratio,
                min_width=min_width)  # fmt: skip
    try:
        cands, _ = optimize._candidates(arch, choices, None, None, min_width)
    except BudgetError:
        return  # floors leave no candidate: tested apart
    lo = optimize._Chain(arch, model, cands, None, optimize._ratio(ratio)).cheapest
    hi = wd.cost(arch, model, [choices[-1]] * arch.depth)
    budget = lo + int(frac * max(0, hi - lo))
    try:
        want = brute_force(arch, budget, favor, **opts)
    except PartitionError:
        with pytest.raises(PartitionError):
            wd.recommend(arch, budget, favor, **opts)
        return
    if want is None:  # the ratio bound leaves nothing within this budget
        with pytest.raises(BudgetError):
            wd.recommend(arch, budget, favor, **opts)
        return
    rec = wd.recommend(arch, budget, favor, **opts)
    assert rec.optimal and rec.widths == want and rec.design.cost <= budget
    assert_maximal(rec, arch, cands, ratio)


# -- exactness ------------------------------------------------------------------------------


def test_no_false_proof_with_mixed_primes():
    # CP-SAT's presolve once proved (2, 7, 2) with bound 4 here; (2, 7, 7) costs 80 and
    # reaches 7
    arch = wd.loads(
        '{"input":{"shape":[48],"channels":5},"layers":[{"pool":[4]},{"pool":[4]},{"pool":[3]}]}',
        "json",
    )
    rec = wd.recommend(arch, 97, "0-35", choices=[2, 7, 16], max_ratio=None, slack=0)
    assert rec.widths == (2, 7, 7) and rec.design.scores[0].upper_bound == 7
    assert rec.design.scores[0].score == 1.0 and rec.optimal


def test_near_tie_bounds_are_decided_exactly():
    # left-right on 4 inputs: U = min(r0, r1, M^2). B = (2^28 + 2^20, 2^28) has the larger
    # widths but U = 2^28; A = (2^28 + 3, 2^28 + 3) reaches 2^28 + 3: scores one part in 10^9
    # apart, below the float screening's tolerance. With slack 0 only A is optimal; a float
    # comparison would let B win on the width sum.
    arch = Architecture(shape=(4,), channels=2**29, layers=[Layer(None, 2), Layer(None)])
    a, b = (2**28 + 3, 2**28 + 3), (2**28 + 2**20, 2**28)
    budget = wd.cost(arch, "params", b)
    assert wd.cost(arch, "params", a) <= budget < wd.cost(arch, "params", (b[0], a[1]))
    assert math.prod(b) > math.prod(a)
    rec = wd.recommend(arch, budget, "left-right", choices=[[a[0], b[0]], [b[1], a[1]]],
                       min_width=1, max_ratio=None, slack=0)  # fmt: skip
    assert rec.widths == a and rec.design.scores[0].upper_bound == 2**28 + 3
    assert rec.design.scores[0].score == 1.0


def test_huge_budget_is_clamped():
    arch = ARCHS["1d-w2-n8"]
    rec = wd.recommend(arch, 10**32, "left-right", choices=[2, 4, 8])
    assert rec.widths == (8, 8, 8) and rec.budget == 10**32


# -- floors, ratio, slack -------------------------------------------------------------------


def test_floors_by_default():
    arch = wd.load(LEVINE)
    for favor in ("local", "global"):
        rec = wd.recommend(arch, 8736, favor)
        assert min(rec.widths) >= 2 and rec.widths[-1] >= arch.classes
        assert rec.floors == (
            "min width 19 (auto: half the widest uniform width 39)",
            "top width >= 10 classes",
        )
        assert min(rec.widths) >= 19
        ws = rec.widths
        assert all(max(a, b) <= 2 * min(a, b) for a, b in zip(ws, ws[1:]))
        assert rec.design.cost > 8736 * 0.9  # the budget is spent


def test_limit_overrides_the_floors_and_min_width_one():
    arch = ARCHS["1d-w2-n8"]
    rec = wd.recommend(arch, 40, "even-odd", choices=[1, 2, 4], limits={2: (1, 1)},
                       max_ratio=None, min_width=2)  # fmt: skip
    assert rec.widths[2] == 1 and min(rec.widths[:2]) >= 2 and rec.floors == ("min width 2",)
    rec = wd.recommend(arch, 40, "even-odd", choices=[1, 2, 4], min_width=1, max_ratio=None)
    assert rec.floors == ("top width >= 3 classes",)


def test_floor_errors_name_layer_and_fix():
    arch = ARCHS["1d-w2-n8"]  # Y = 3
    with pytest.raises(BudgetError, match=r"layer 2 \(top\): no candidate width >= 3"):
        wd.recommend(arch, 1000, "left-right", choices=[1, 2], min_width=2)
    with pytest.raises(BudgetError, match=r"layer 0: no candidate width >= 5 \(--min-width\)"):
        wd.recommend(arch, 1000, "left-right", choices=[1, 2, 4], min_width=5)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(slack=1.0), "slack"),
        (dict(slack=-0.1), "slack"),
        (dict(slack=float("nan")), "slack"),
        (dict(min_width=0), "min_width"),
        (dict(max_ratio=0.5), "max_ratio"),
        (dict(max_ratio="abc"), "max_ratio"),
        (dict(time_limit=float("nan")), "time limit"),
        (dict(objective="max"), "objective"),
        (dict(limits={5: (1, 2)}), "limits"),
        (dict(choices=[2, 4], limits={0: (5, 6)}), "limits"),
        (dict(choices=[2, 10**400]), "too large"),
    ],
)
def test_bad_arguments_raise_budget_errors(kw, match):
    with pytest.raises(BudgetError, match=match):
        wd.recommend(ARCHS["1d-w2-n8"], 100, "left-right", **kw)


@pytest.mark.parametrize("favor", ["left-right=-1", [], "left-right=nan", "scale:x"])
def test_bad_favor_raises_partition_errors(favor):
    with pytest.raises(PartitionError):
        wd.recommend(ARCHS["1d-w2-n8"], 100, favor)


def test_weights_that_underflow_are_refused():
    with pytest.raises(PartitionError, match="1e-12"):
        wd.recommend(ARCHS["1d-w2-n8"], 100, ["left-right=1e-300", "even-odd"])
    rec = wd.recommend(ARCHS["1d-w2-n8"], 100, ["left-right=1e-6", "even-odd=1e3"])
    assert rec.optimal


def test_unseparable_favored_partition_is_a_clear_error():
    arch = Architecture(shape=(4,), channels=1, layers=[Layer(None, 2), Layer(None)])
    with pytest.raises(PartitionError, match="no feasible design separates"):
        wd.recommend(arch, 100, "even-odd", choices=[1], min_width=1)


def test_slack_trades_objective_for_breadth():
    arch = wd.load(LEVINE)
    exact = wd.recommend(arch, 8736, "local", slack=0)
    loose = wd.recommend(arch, 8736, "local", slack=0.2)
    assert exact.design.objective == pytest.approx(exact.best_objective)
    assert loose.design.objective >= 0.8 * loose.best_objective - 1e-12
    assert loose.design.breadth >= exact.design.breadth - 1e-12


# -- favored partitions ---------------------------------------------------------------------


def test_favor_shorthands():
    one_d = ARCHS["1d-w2-n16"]
    two_d = ARCHS["2d-2x2-8x8"]
    labels = lambda spec, arch: [(p.label, w) for p, w in optimize.parse_favor(spec, arch)]  # noqa: E731
    assert labels("global", one_d) == [("left-right", 1.0)]
    assert labels("global=2", two_d) == [("left-right", 2.0), ("top-bottom", 2.0)]
    assert labels("local", one_d) == [("even-odd", 1.0), ("blocks:2", 1.0)]
    assert labels("local", two_d) == [("checkerboard:1", 1.0), ("checkerboard:2", 1.0)]
    assert labels("scale:4", one_d) == [("blocks:4", 1.0)]
    assert labels("scale:2=0.5", two_d) == [("checkerboard:2", 0.5)]
    assert labels(["0,1,2,3=2.5", "left-right", "global"], one_d) == [
        ("0,1,2,3", 2.5),
        ("left-right", 2.0),
    ]
    assert labels({"left-right": 3}, one_d) == [("left-right", 3.0)]


def test_masks_stay_distinct_and_bare_masks_are_accepted():
    arch = ARCHS["1d-w2-n8"]
    m1 = np.arange(8) < 4
    m2 = np.arange(8) % 2 == 0
    items = [(wd.partition_from_mask(m1), 1.0), (wd.partition_from_mask(m2), 1.0)]
    fav = optimize.parse_favor(items, arch)
    assert len(fav) == 2 and fav[0][0].label != fav[1][0].label
    assert [p.side_a for p, _ in fav] == [(0, 1, 2, 3), (0, 2, 4, 6)]
    for spec in ([m1, m2], np.stack([m1, m2]), [m1.tolist(), m2.tolist()]):
        assert [p.side_a for p, _ in optimize.parse_favor(spec, arch)] == [
            (0, 1, 2, 3),
            (0, 2, 4, 6),
        ]
    # the same mask twice: one partition with the summed weight
    assert [w for _, w in optimize.parse_favor([(m1, 1.0), (m1, 2.0)], arch)] == [3.0]
    rec = wd.recommend(arch, 200, [m1, m2], choices=[2, 4, 8])
    assert len(rec.design.scores) == 2


# -- baselines ------------------------------------------------------------------------------


def test_baselines_uniform_is_the_widest_integer_width():
    arch = ARCHS["1d-w2-n16"].with_widths([2, 2, 2, 2])
    rec = wd.recommend(arch, 100, ["left-right", "even-odd"], choices=[2, 4, 8])
    uni = rec.baselines["uniform"]
    w = uni.widths[0]
    assert set(uni.widths) == {w} and uni.cost <= 100
    assert wd.cost(arch, "params", [w + 1] * 4) > 100
    assert set(rec.baselines) == {"uniform", "wide-base", "wide-tip", "spec"}
    r = rec.baselines["wide-base"].widths[-1]
    assert rec.baselines["wide-base"].widths == (4 * r, 4 * r, 2 * r, r)
    assert rec.baselines["wide-tip"].widths == (r, 2 * r, 4 * r, 4 * r)
    gains = rec.gains("uniform")
    for s, b in zip(rec.design.scores, uni.scores):
        assert gains[s.partition] == pytest.approx(s.score - b.score)


def test_design_rule_levine_64x64():
    arch = wd.load(LEVINE)
    glob = wd.recommend(arch, 8736, "global")
    local = wd.recommend(arch, 8736, "local")
    assert glob.optimal and local.optimal
    # the paper's rule: deep layers for long-range, early layers for short-range
    assert glob.widths[-1] >= glob.widths[0] and local.widths[0] >= local.widths[-1]
    for rec in (glob, local):
        assert min(rec.widths) >= rec.baselines["uniform"].widths[0] // 2  # the auto floor
        for name, base in rec.baselines.items():
            w = base.widths
            feasible = (
                all(x in cs for x, cs in zip(w, rec.candidates))
                and all(max(a, b) <= 2 * min(a, b) for a, b in zip(w, w[1:]))
                and base.cost <= rec.budget
            )
            if feasible:  # the optimum beats every baseline it could have chosen
                assert rec.design.objective >= base.objective - 1e-9, name


def test_budget_sweep_costs_within_budgets():
    arch = ARCHS["2d-2x2-4x4"]
    recs = optimize.budget_sweep(arch, [20, 40, 80, 160], "global", choices=[2, 4, 8, 16])
    assert all(r.design.cost <= r.budget and r.optimal for r in recs)


def test_time_limit_returns_a_feasible_design():
    arch = wd.load(LEVINE)
    rec = wd.recommend(arch, 8736, "global", time_limit=1e-6)
    assert rec.design.cost <= 8736 and rec.optimal is False
    assert not all(rec.stages.values())


# -- CLI ------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_json_keys():
    res = run("recommend", LEVINE, "--budget", "8736", "--favor", "global", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("widths", "cost", "budget", "objective", "best_objective", "breadth", "slack",
                "max_ratio", "min_width", "floors", "optimal", "stages", "partitions",
                "profile", "baseline", "baselines"):  # fmt: skip
        assert key in data, key
    assert data["optimal"] is True and set(data["stages"].values()) == {True}
    assert data["slack"] == optimize.DEFAULT_SLACK and data["max_ratio"] == 2.0
    assert set(data["partitions"][0]) >= {"partition", "upper_bound", "score", "best_log2_upper"}
    assert set(data["baselines"]) == {"uniform", "wide-base", "wide-tip", "spec"}
    # the default candidates give the favor room: F within the slack of F*, at most 1
    assert 0.95 * data["best_objective"] <= data["objective"] <= data["best_objective"] <= 1
    assert data["domain"] == "multiples of 8 from 24 to 1024, plus the baselines uniform"
    assert data["candidates"] == [list(range(24, 1025, 8))] * 6
    uniform, spec = data["baselines"]["uniform"], data["baselines"]["spec"]
    assert uniform["in_domain"] is True and uniform["misses"] == []
    assert spec["in_domain"] is False
    assert spec["misses"] == ["r4 = 16 < min width 19", "r5 = 16 < min width 19"]


def test_cli_table_and_options(tmp_path):
    spec_path = tmp_path / "n16.toml"
    spec_path.write_text(
        "[input]\nshape = [16]\nchannels = 2\n" + "[[layers]]\npool = [2]\n" * 3 + "[[layers]]\n"
    )
    args = ["recommend", str(spec_path), "--budget", "400", "--favor", "left-right=2",
            "--favor", "even-odd", "--choices", "2..6", "--objective", "maximin",
            "--limit", "0:2:", "--fix", "3:4", "--cost", "macs", "--slack", "0",
            "--max-ratio", "none", "--min-width", "2"]  # fmt: skip
    res = run(*args)
    assert res.exit_code == 0, res.output
    assert "score uniform" in res.stdout and "breadth" in res.stdout
    header = next(line for line in res.stdout.splitlines() if line.startswith("layer"))
    assert header.split() == ["layer", "recommended", "uniform", "wide-base", "wide-tip"]
    data = json.loads(run(*args, "--json").stdout)
    assert data["widths"][3] == 4 and data["cost"] <= 400 and data["max_ratio"] is None
    assert data["slack"] == 0.0


def test_cli_choices_range():
    res = run("recommend", LEVINE, "--budget", "8736", "--favor", "global", "--choices",
              "8..512:8", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert all(w % 8 == 0 for w in json.loads(res.stdout)["widths"])


@pytest.mark.parametrize(
    "args",
    [
        ["--budget", "100"],
        ["--budget", "100", "--favor", "nonsense"],
        ["--budget", "100", "--favor", "global", "--limit", "x:1:2"],
        ["--budget", "100", "--favor", "global", "--choices", "1,a"],
        ["--budget", "100", "--favor", "global", "--choices", "9..3"],
        ["--budget", "8736", "--favor", "global", "--slack", "1.5"],
        ["--budget", "8736", "--favor", "global", "--max-ratio", "0.5"],
        ["--budget", "8736", "--favor", "global", "--min-width", "0"],
        ["--budget", "8736", "--favor", "global", "--min-width", "half"],
        ["--budget", "8736", "--favor", "global", "--min-width", "2000"],
        ["--budget", "8736", "--favor", "left-right=1e-300", "--favor", "top-bottom"],
        ["--budget", "10", "--favor", "global"],
    ],
)
def test_cli_bad_input_is_one_line_error(args):
    res = run("recommend", LEVINE, *args)
    assert res.exit_code == 1, args
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr


def test_cli_write_spec_refuses_to_overwrite(tmp_path):
    out = tmp_path / "rec.toml"
    args = ["recommend", LEVINE, "--budget", "8736", "--favor", "local", "--json",
            "--write-spec", str(out)]  # fmt: skip
    res = run(*args)
    assert res.exit_code == 0, res.output
    written = wd.load(out)
    assert list(written.widths) == json.loads(res.stdout)["widths"]
    assert written.pools == wd.load(LEVINE).pools
    res = run(*args)
    assert res.exit_code == 1 and "Error: " in res.stderr
    assert run(*args, "--force").exit_code == 0


def test_min_width_auto_is_half_the_widest_uniform_width():
    arch = wd.load(LEVINE)
    rec = wd.recommend(arch, 8736, "local", min_width="auto")
    uniform = rec.baselines["uniform"].widths[0]
    assert uniform == 39 and rec.min_width == 19  # the floor it resolved to
    assert min(rec.widths) >= uniform // 2
    assert rec.floors[0] == "min width 19 (auto: half the widest uniform width 39)"
    # the same floor given by hand gives the same design
    assert wd.recommend(arch, 8736, "local", min_width=19).widths == rec.widths
    res = run("recommend", LEVINE, "--budget", "8736", "--favor", "local", "--min-width", "auto",
              "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["min_width"] == 19
    assert json.loads(res.stdout)["widths"] == list(rec.widths)


def test_exact_values_keep_60_digits():
    # Python's default decimal context has 28 digits: a sum or a difference taken in it would
    # merge values that differ past the 28th digit, far above the documented 1e-40 ties
    from decimal import Decimal

    from widthdesign.optimize import search

    class Logs:  # exact log2 bounds of two partitions, 1e-35 apart in relative terms
        def exact_log(self, p, widths):
            return [Decimal(1), Decimal("1e-35")][p]

    one = search._Value("sum", (0, 1), (1.0, 1.0), (Decimal(1), Decimal(1)))
    assert one.exact(Logs(), (2,)) == Decimal("1.00000000000000000000000000000000001")
    assert search._cmp(one.exact(Logs(), (2,)), Decimal(1)) == 1
    assert search._cmp(Decimal(1) + Decimal("1e-45"), Decimal(1)) == 0
