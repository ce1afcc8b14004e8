"""The width optimizer against exhaustive enumeration, its CLI and the paper's design rule."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

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


def brute_force(arch, budget, favor, model, choices, kind):
    """Best design by enumeration: exact objective (integer powers), then cost, then widths.

    Returns (widths, cost, exact key) or None when nothing fits.
    """
    fav = optimize.parse_favor(favor, arch)
    fracs = [Fraction(w).limit_denominator(1000) for _, w in fav]
    den = math.lcm(*(f.denominator for f in fracs))
    weights = [int(f * den) for f in fracs]
    best = None
    for widths in itertools.product(choices, repeat=arch.depth):
        c = wd.cost(arch, model, widths)
        if c > budget:
            continue
        dims = (arch.channels, *widths)
        ups = [cuts.dp_min_cut(arch, p.mask, dims).value for p, _ in fav]
        powers = [u**w for u, w in zip(ups, weights)]
        value = math.prod(powers) if kind == "sum" else min(powers)
        key = (value, -c, tuple(-x for x in widths))
        if best is None or key > best[2]:
            best = (widths, c, key)
    return best


def exact_objective(rec: optimize.Recommendation, design: optimize.Design) -> Fraction:
    """The objective as an exact comparable value (weights as fractions, bounds as ints)."""
    fr = [Fraction(s.weight).limit_denominator(1000) for s in design.scores]
    den = math.lcm(*(f.denominator for f in fr))
    powers = [s.upper_bound ** int(f * den) for s, f in zip(design.scores, fr)]
    return math.prod(powers) if rec.objective_kind == "sum" else min(powers)


ARCHS = {
    "1d-w2-n8": Architecture(
        shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)], classes=3
    ),
    "1d-w3-n9": Architecture(
        shape=(9,), channels=3, layers=[Layer(None, 3), Layer(None)], classes=2
    ),
    "1d-w2-n16": Architecture(shape=(16,), channels=2, layers=[Layer(None, 2)] * 3 + [Layer(None)]),
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
}

# (arch, favor, choices, cost model, objective, budget): both objectives, all three cost
# models, windows 2 and 3, 1-D and 2-D; exact (powers of one base) and rounded log modes
CASES = [
    ("1d-w2-n8", ["left-right"], [1, 2, 3, 4, 5, 6], "params", "sum", 40),
    ("1d-w2-n8", ["even-odd", "left-right=2"], [1, 2, 4, 8], "params", "maximin", 60),
    ("1d-w2-n8", ["local", "0,1,2=1.5"], [2, 3, 5, 6], "macs", "sum", 200),
    ("1d-w3-n9", ["left-right", "even-odd"], [1, 2, 3, 4, 6], "params-unshared", "sum", 90),
    ("1d-w3-n9", ["0,1,2=2", "local"], [1, 3, 9], "params", "maximin", 50),
    ("1d-w2-n16", ["global", "blocks:2=0.5"], [1, 2, 3, 4, 5, 6], "params", "sum", 70),
    ("1d-w2-n16", ["scale:4", "even-odd"], [2, 3, 4], "macs", "maximin", 250),
    ("1d-w3-n27", ["left-right", "blocks:3"], [1, 2, 3, 5], "params-unshared", "maximin", 150),
    ("1d-w3-n27", ["global=3", "local"], [1, 2, 4, 8], "macs", "sum", 400),
    ("2d-2x2-4x4", ["global"], [1, 2, 3, 4, 5, 6], "params", "sum", 60),
    ("2d-2x2-4x4", ["checkerboard", "top-bottom=2"], [2, 3, 4, 6], "macs", "maximin", 300),
    ("2d-3x3-6x6", ["left-right", "0,1,6"], [1, 2, 3, 5, 8], "params-unshared", "maximin", 700),
    ("2d-3x3-6x6", ["local", "global=2"], [1, 3, 9, 27], "params", "sum", 300),
    ("2d-mixed-4x4", ["global", "0,1,4"], [2, 4, 7, 8], "macs", "sum", 927),
    ("2d-mixed-4x4", ["checkerboard:2", "left-right"], [1, 2, 3, 4, 5], "params", "maximin", 45),
    ("2d-2x2-8x8", ["global", "local"], [1, 2, 3, 4, 6], "params-unshared", "sum", 500),
    ("2d-2x2-8x8", ["top-bottom", "checkerboard:2=2"], [2, 4, 8, 16], "macs", "maximin", 3000),
]


@pytest.mark.parametrize("name,favor,choices,model,kind,budget", CASES)
def test_recommend_matches_exhaustive_search(name, favor, choices, model, kind, budget):
    arch = ARCHS[name]
    rec = wd.recommend(arch, budget, favor, cost=model, choices=choices, objective=kind)
    widths, cost, key = brute_force(arch, budget, favor, model, choices, kind)
    assert rec.optimal
    assert exact_objective(rec, rec.design) == key[0]
    # the oracle breaks ties the same way (cheapest, then smallest widths): the same design
    assert (rec.design.widths, rec.design.cost) == (widths, cost)
    assert rec.design.cost <= budget
    assert rec.arch.widths == rec.design.widths


tiny_arch = st.sampled_from([ARCHS["1d-w2-n8"], ARCHS["1d-w3-n9"], ARCHS["2d-2x2-4x4"]])


@settings(max_examples=25, deadline=None)
@given(
    arch=tiny_arch,
    choices=st.lists(st.integers(1, 7), min_size=2, max_size=4, unique=True).map(sorted),
    model=st.sampled_from(sorted(wd.spec.COST_MODELS)),
    kind=st.sampled_from(["sum", "maximin"]),
    frac=st.floats(0.0, 1.0),
    favor=st.lists(
        st.sampled_from(["left-right", "0,1", "0,2,3=2", "1,2=0.5", "global=1.5"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
def test_property_optimal_and_monotone_in_budget(arch, choices, model, kind, frac, favor):
    lo, _ = optimize.cheapest_design(arch, model, choices)
    hi = wd.cost(arch, model, [choices[-1]] * arch.depth)
    budget = lo + int(frac * (hi - lo))
    rec = wd.recommend(arch, budget, favor, cost=model, choices=choices, objective=kind)
    assert rec.optimal and rec.design.cost <= budget
    best = exact_objective(rec, rec.design)
    # no feasible design is better
    prob = optimize._Problem(
        arch, optimize.parse_favor(favor, arch), model, kind, [tuple(choices)] * arch.depth, budget
    )
    ours = prob.evaluate(rec.design.widths)
    for widths in itertools.product(choices, repeat=arch.depth):
        if wd.cost(arch, model, widths) <= budget:
            assert optimize._cmp_logs(prob.evaluate(widths).value, ours.value) <= 0
    # more budget never hurts
    more = wd.recommend(arch, budget + 7, favor, cost=model, choices=choices, objective=kind)
    assert exact_objective(more, more.design) >= best


def test_exact_mode_and_rounded_mode_agree_on_ties():
    # M = 2 with powers of two: exact integer exponents; M = 3: scaled rounded logs
    for channels, exact in ((2, True), (3, False)):
        arch = Architecture(
            shape=(8,), channels=channels, layers=[Layer(None, 2)] * 2 + [Layer(None)]
        )
        rec = wd.recommend(arch, 60, ["left-right", "even-odd"], choices=[1, 2, 4, 8])
        assert rec.stats["exact"] is exact
        assert rec.stats["tolerance"] == 0.0 if exact else rec.stats["tolerance"] < 1e-6
        widths, cost, _ = brute_force(
            arch, 60, ["left-right", "even-odd"], "params", [1, 2, 4, 8], "sum"
        )
        assert rec.design.widths == widths


# -- problem options ------------------------------------------------------------------------


def test_fixed_layers_and_limits_are_respected():
    arch = ARCHS["1d-w2-n16"]
    rec = wd.recommend(
        arch,
        200,
        "left-right",
        choices=[1, 2, 4, 8, 16],
        fixed={0: 3},
        limits={3: (None, 4), 2: (2, 8)},
    )
    assert rec.design.widths[0] == 3
    assert rec.design.widths[3] <= 4 and 2 <= rec.design.widths[2] <= 8
    # the oracle over the same candidate sets
    best = None
    for widths in itertools.product([3], [1, 2, 4, 8, 16], [2, 4, 8], [1, 2, 4]):
        if wd.cost(arch, "params", widths) <= 200:
            u = cuts.dp_min_cut(
                arch, wd.parse_partition("left-right", arch).mask, (2, *widths)
            ).value
            key = (u, -wd.cost(arch, "params", widths), tuple(-w for w in widths))
            best = max(best, (key, widths)) if best else (key, widths)
    assert rec.design.widths == best[1]


def test_per_layer_choices():
    arch = ARCHS["1d-w2-n8"]
    rec = wd.recommend(arch, 1000, "left-right", choices=[[2], [3, 5], [7, 11]])
    assert rec.design.widths[0] == 2 and rec.design.widths[1] in (3, 5)


def test_budget_below_cheapest_names_the_cheapest_cost():
    arch = ARCHS["1d-w2-n8"]
    cheapest, widths = optimize.cheapest_design(arch, "params", [2, 4])
    assert widths == (2, 2, 2) and cheapest == wd.cost(arch, "params", widths)
    with pytest.raises(BudgetError, match=f"cheapest design: params cost {cheapest}"):
        wd.recommend(arch, cheapest - 1, "left-right", choices=[2, 4])


def test_bad_arguments_raise_typed_errors():
    arch = ARCHS["1d-w2-n8"]
    with pytest.raises(BudgetError):
        wd.recommend(arch, 100, "left-right", objective="max")
    with pytest.raises(BudgetError):
        wd.recommend(arch, 100, "left-right", limits={5: (1, 2)})
    with pytest.raises(BudgetError):
        wd.recommend(arch, 100, "left-right", choices=[2, 4], limits={0: (5, 6)})
    with pytest.raises(PartitionError):
        wd.recommend(arch, 100, "left-right=-1")
    with pytest.raises(PartitionError):
        wd.recommend(arch, 100, [])


def test_time_limit_returns_a_feasible_design():
    arch = wd.load(LEVINE)
    rec = wd.recommend(arch, 8736, "global", time_limit=1e-6)
    assert rec.design.cost <= 8736
    assert rec.optimal is False


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
    with pytest.raises(PartitionError):
        optimize.parse_favor("left-right=abc", one_d)
    with pytest.raises(PartitionError):
        optimize.parse_favor("scale:x", one_d)


def test_baselines_and_gains():
    arch = ARCHS["1d-w2-n16"].with_widths([2, 2, 2, 2])
    rec = wd.recommend(arch, 100, ["left-right", "even-odd"], choices=[1, 2, 4, 8])
    assert set(rec.baselines) == {"uniform", "spec"}
    assert rec.baselines["spec"].widths == (2, 2, 2, 2)
    uni = rec.baselines["uniform"]
    assert len(set(uni.widths)) == 1 and uni.cost <= 100
    # the best uniform design: enumerate
    ups = []
    for w in [1, 2, 4, 8]:
        if wd.cost(arch, "params", [w] * 4) <= 100:
            ups.append(
                (
                    sum(
                        wd.bounds(arch.with_widths([w] * 4), p).log2_upper_bound
                        for p in ("left-right", "even-odd")
                    ),
                    -w,
                )
            )
    assert uni.widths[0] == -max(ups)[1]
    gains = rec.gains("uniform")
    for s, b in zip(rec.design.scores, uni.scores):
        assert gains[s.partition] == pytest.approx(s.log2_upper_bound - b.log2_upper_bound)
    assert rec.design.objective >= uni.objective - 1e-9
    # the scores are the core's bounds
    for s in rec.design.scores:
        b = wd.bounds(rec.arch, s.partition)
        assert (s.upper_bound, s.lower_bound) == (b.upper_bound, b.lower_bound)


def test_budget_sweep_is_monotone():
    arch = ARCHS["2d-2x2-4x4"]
    recs = optimize.budget_sweep(arch, [20, 40, 80, 160], "global", choices=[1, 2, 4, 8, 16])
    objs = [r.design.objective for r in recs]
    assert objs == sorted(objs)
    assert all(r.design.cost <= r.budget for r in recs)


# -- the paper's design rule ----------------------------------------------------------------


@pytest.mark.parametrize("favor", ["global", "local"])
def test_design_rule_levine_64x64(favor):
    arch = wd.load(LEVINE)
    assert wd.cost(arch, "params") == 8736
    rec = wd.recommend(arch, 8736, favor)
    assert rec.optimal and rec.design.cost <= 8736
    first, last = rec.design.widths[0], rec.design.widths[-1]
    if favor == "global":
        assert last > first
    else:
        assert first > last
    assert rec.design.objective >= rec.baselines["spec"].objective
    assert rec.design.objective >= rec.baselines["uniform"].objective


# -- CLI ------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_json_keys():
    res = run("recommend", LEVINE, "--budget", "8736", "--favor", "global", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in (
        "widths",
        "cost",
        "budget",
        "objective",
        "optimal",
        "partitions",
        "baseline",
        "baselines",
    ):
        assert key in data
    assert data["budget"] == 8736 and data["optimal"] is True
    assert data["widths"][-1] > data["widths"][0]
    assert set(data["partitions"][0]) >= {
        "partition",
        "weight",
        "upper_bound",
        "lower_bound",
        "log2_upper_bound",
    }
    assert set(data["baseline"]) == {"widths", "cost", "objective"}
    assert set(data["baselines"]) == {"uniform", "spec"}


def res_args(spec_path):
    return [
        "recommend", str(spec_path), "--budget", "400", "--favor", "left-right=2", "--favor", "even-odd",
        "--choices", "1,2,3,4,5,6", "--objective", "maximin", "--limit", "0:2:", "--fix", "3:4",
        "--cost", "macs",
    ]  # fmt: skip


def test_cli_table_and_options(tmp_path):
    spec_path = tmp_path / "n16.toml"
    spec_path.write_text(
        "[input]\nshape = [16]\nchannels = 2\n" + "[[layers]]\npool = [2]\n" * 3 + "[[layers]]\n"
    )
    res = run(*res_args(spec_path))
    assert res.exit_code == 0, res.output
    assert (
        "recommended" in res.stdout and "uniform" in res.stdout and "gain vs uniform" in res.stdout
    )
    header = next(line for line in res.stdout.splitlines() if line.startswith("layer"))
    assert header.split() == ["layer", "recommended", "uniform"]  # no widths in SPEC: no spec
    data = json.loads(run(*res_args(spec_path), "--json").stdout)
    assert data["widths"][3] == 4 and data["widths"][0] >= 2 and data["cost"] <= 400


def test_cli_infeasible_budget_is_one_line_error():
    res = run("recommend", LEVINE, "--budget", "10", "--favor", "global")
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "cheapest design: params cost 25" in lines[0]


def test_cli_usage_errors():
    for args in (
        ["--budget", "100"],
        ["--budget", "100", "--favor", "nonsense"],
        ["--budget", "100", "--favor", "global", "--limit", "x:1:2"],
        ["--budget", "100", "--favor", "global", "--choices", "1,a"],
    ):
        res = run("recommend", LEVINE, *args)
        assert res.exit_code == 1, args
        assert res.stderr.startswith("Error: ") and len(res.stderr.strip().splitlines()) == 1


def test_cli_write_spec_refuses_to_overwrite(tmp_path):
    out = tmp_path / "rec.toml"
    args = [
        "recommend",
        LEVINE,
        "--budget",
        "8736",
        "--favor",
        "local",
        "--json",
        "--write-spec",
        str(out),
    ]
    res = run(*args)
    assert res.exit_code == 0, res.output
    written = wd.load(out)
    assert list(written.widths) == json.loads(res.stdout)["widths"]
    assert written.pools == wd.load(LEVINE).pools
    res = run(*args)
    assert res.exit_code == 1 and "Error: " in res.stderr
    assert run(*args, "--force").exit_code == 0
