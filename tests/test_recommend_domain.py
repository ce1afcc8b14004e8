"""Issue 16: the domain of the proof, bounded memory, the time limit, progress, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import widthdesign as wd
from widthdesign import optimize
from widthdesign.cli import cli
from widthdesign.cli import recommend as cli_recommend
from widthdesign.errors import BudgetError, PartitionError
from widthdesign.optimize import chain as chain_mod
from widthdesign.optimize import search
from widthdesign.spec import Architecture, Layer

ROOT = Path(__file__).resolve().parent.parent
LEVINE = str(ROOT / "examples" / "levine_64x64.toml")
SEQ256 = ROOT / "benchmarks" / "seq256.toml"
POWERS = [2**k for k in range(11)]


def in_domain(rec):
    return {n: b for n, b in rec.baselines.items() if not rec.baseline_misses[n]}


def assert_no_baseline_beats(rec):
    """No baseline of the domain scores above 100 % or beats the answer lexicographically:
    it is below the slack threshold, or no broader, or (as broad) no wider."""
    threshold = (1 - rec.slack) * rec.best_objective
    for name, base in in_domain(rec).items():
        assert all(s.score <= 1 + 1e-12 for s in base.scores + base.profile), name
        assert base.objective <= rec.best_objective + 1e-12, name
        if base.objective >= threshold - 1e-12:
            assert base.breadth <= rec.design.breadth + 1e-12, name


def test_proved_optimum_never_loses_to_a_baseline_it_shows():
    # the reproduced failure: powers of two proved F = 83.3 % beside uniform 39 x 6 at 88.1 %
    arch = wd.load(LEVINE)
    favor = ["global", "local"]
    rec = wd.recommend(arch, 8736, favor, objective="maximin", choices=POWERS)
    assert rec.optimal
    uniform = rec.baselines["uniform"]
    assert uniform.widths == (39,) * 6 and rec.baseline_misses["uniform"] == ()
    assert rec.design.objective >= uniform.objective - 1e-12
    assert rec.design.objective == pytest.approx(0.88090037, abs=1e-8)
    assert_no_baseline_beats(rec)
    assert rec.searched == "32, 64, 128, 256, 512, 1024, plus the baselines uniform"


def test_baselines_off_the_floors_are_named_and_not_searched():
    arch = wd.load(LEVINE)
    rec = wd.recommend(arch, 8736, "local")
    assert rec.baseline_misses["wide-base"] == ("r4 = 16 < min width 19", "r5 = 16 < min width 19")
    assert rec.baseline_misses["wide-tip"] == ("r0 = 16 < min width 19", "r1 = 16 < min width 19")
    # a baseline off the floors may score above the answer: the text says why
    text = cli_recommend.recommendation_text(rec)
    assert "searched: multiples of 8 from 24 to 1024, plus the baselines uniform" in text
    assert (
        "  wide-base: not searched, misses r4 = 16 < min width 19, r5 = 16 < min width 19" in text
    )
    assert "  uniform: meets the budget and floors, searched" in text
    assert "over 100 %: the design is outside" not in text


def test_no_design_in_the_domain_scores_above_100_percent_small_seq():
    # small-scale version of seq256 --budget 50000 --favor global (uniform 82 x 8 at 101.4 %)
    arch = Architecture(shape=(32,), channels=4, layers=[Layer(None, 2)] * 5, classes=3)
    budget = wd.cost(arch, "params", [9] * 5)
    rec = wd.recommend(arch, budget, "global", choices=[2, 4, 8, 16, 32])
    assert rec.optimal and rec.baselines["uniform"].widths == (9,) * 5
    assert rec.baseline_misses["uniform"] == ()
    assert_no_baseline_beats(rec)
    assert all(s.score <= 1 + 1e-12 for s in rec.design.scores + rec.design.profile)


@pytest.mark.parametrize("name,favor,budget,opts", [c for c in __import__(
    "tests.test_optimize", fromlist=["CASES"]).CASES][:12])  # fmt: skip
def test_chunked_depth_first_search_matches_the_oracle(monkeypatch, name, favor, budget, opts):
    """The bounded-memory code path at small scale: chunks of 2 rows, so every level of the
    depth-first stack is split many times; still the brute force's answer."""
    from tests.test_optimize import ARCHS, brute_force

    monkeypatch.setattr(search._Search, "CHUNK", 2)
    opts = {"min_width": 2, **opts}
    rec = wd.recommend(ARCHS[name], budget, favor, **opts)
    assert rec.optimal and rec.widths == brute_force(ARCHS[name], budget, favor, **opts)


def test_too_many_ties_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(search, "MAX_KEPT", 0)
    monkeypatch.setattr(optimize.stages, "MAX_KEPT", 0)
    arch = Architecture(shape=(8,), channels=2, layers=[Layer(None, 2)] * 2 + [Layer(None)])
    with pytest.raises(BudgetError, match="choices: more than 0 designs tie"):
        wd.recommend(arch, 200, "left-right", choices=[1, 2, 3, 4, 5, 6], max_ratio=None,
                     min_width=1)  # fmt: skip


def test_tables_past_the_memory_limit_are_a_clear_error(monkeypatch):
    monkeypatch.setattr(chain_mod, "MEMORY_LIMIT", 10_000)
    res = CliRunner().invoke(cli, ["recommend", str(SEQ256), "--budget", "50000", "--favor",
                                   "global", "--choices", "1..256"])  # fmt: skip
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: choices: ") and "--choices" in lines[0]


def test_time_limit_returns_a_maximal_design_scored_exactly():
    # the reproduced failure: "0 searches", breadth 0.0 % and 4.7k parameters unspent (with
    # --favor global, which is now proved in about 3 s; 0-99 takes about 10 s)
    arch = wd.load(SEQ256)
    rec = wd.recommend(arch, 50000, "0-99", choices=list(range(1, 257)), time_limit=0.5)
    assert rec.optimal is False and rec.design.cost <= 50000
    # the slack rule holds over what was evaluated: the uniform baseline (in the domain) was
    # chosen over although it was as good on F and broader, before the fallback applied it
    assert_no_baseline_beats(rec)
    assert rec.design.breadth > 0 and rec.design.objective > 0
    assert all(0 < s.score <= 1 + 1e-12 for s in rec.design.scores)
    assert all(0 <= s.score <= 1 + 1e-12 for s in rec.design.profile)
    assert_maximal(rec)
    # the scores are the exact bounds of the design over the best values reported
    for s in rec.design.scores + rec.design.profile:
        if s.best_log2_upper:
            assert s.score == pytest.approx(s.log2_upper_bound / s.best_log2_upper)


def assert_maximal(rec):
    """No layer can take its next candidate within the budget and the ratio bound."""
    for k, w in enumerate(rec.widths):
        wider = [c for c in rec.candidates[k] if c > w]
        if not wider:
            continue
        up = list(rec.widths)
        up[k] = wider[0]
        fits = wd.cost(rec.arch, rec.cost_model, up) <= rec.budget
        ratio = rec.max_ratio
        smooth = ratio is None or all(max(a, b) <= ratio * min(a, b) for a, b in zip(up, up[1:]))
        assert not (fits and smooth), (rec.widths, k)


def test_defaults_let_the_favor_tilt_the_answer():
    arch = wd.load(LEVINE)
    glob, local = (wd.recommend(arch, 8736, f) for f in ("global", "local"))
    assert glob.optimal and local.optimal
    assert glob.widths == (48, 24, 32, 32, 40, 80)
    assert local.widths == (80, 40, 24, 24, 32, 56)
    # the theory's tilt: global widens the deep layers, local the early ones
    assert glob.widths[-1] > glob.widths[0] and local.widths[0] > local.widths[-1]
    for rec in (glob, local):
        assert rec.design.cost >= 0.98 * 8736  # the budget is spent
        assert min(rec.widths) >= 19  # no dead layer
        assert_no_baseline_beats(rec)
    assert optimize.DEFAULT_CHOICES[:15] == tuple(range(1, 16))
    assert optimize.DEFAULT_CHOICES[15:] == tuple(range(16, 1025, 8))


def test_progress_is_one_line_per_update_off_a_terminal(monkeypatch):
    monkeypatch.setattr(cli_recommend._SolveProgress.__init__, "__defaults__", (-1.0,))
    res = CliRunner().invoke(cli, ["recommend", LEVINE, "--budget", "8736", "--favor", "local",
                                   "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    assert lines and "\r" not in res.stderr
    assert all(line.startswith("recommend: ") for line in lines)
    assert lines[-1].startswith("recommend: stage widths done")
    assert json.loads(res.stdout)["optimal"] is True


def test_progress_line_names_stage_incumbent_and_bound():
    line = cli_recommend.progress_line(
        {
            "stage": "breadth",
            "done": False,
            "round": 3,
            "seconds": 2.0,
            "incumbent": 0.5,
            "bound": 0.75,
        }  # fmt: skip
    )
    assert line == "recommend: breadth: best 0.5, bound 0.75, 3 searches (2.0 s)"


def test_long_stages_report_progress_with_bounds(monkeypatch):
    # reports every 0.05 s: the search reports while it runs, however fast this machine is
    monkeypatch.setattr(optimize.stages, "PROGRESS_EVERY", 0.05)
    arch = wd.load(SEQ256)
    seen = []
    wd.recommend(arch, 50000, "global", choices=list(range(1, 129)), time_limit=3,
                 progress=seen.append)  # fmt: skip
    running = [i for i in seen if not i["done"]]
    assert running, seen
    assert all(i["bound"] >= i["incumbent"] for i in running if "bound" in i)
    gaps = [b["seconds"] - a["seconds"] for a, b in zip(seen, seen[1:])]
    assert max(gaps, default=0) < 2.5  # reports at least every 2 s (no timed assertion
    # on the solve itself; this one holds by construction: a report per second)


@pytest.mark.parametrize(
    "favor,message",
    [("nowhere", "favor 'nowhere': unknown; expected"),
     ("0,99999", "favor '0,99999': index 99999 out of range; expected 0..4095"),
     ("scale:0", "favor 'scale:0': scale '0' is not a positive integer")],
)  # fmt: skip
def test_favor_errors_name_the_option(favor, message):
    res = CliRunner().invoke(cli, ["recommend", LEVINE, "--budget", "8736", "--favor", favor])
    assert res.exit_code == 1 and res.stderr.startswith("Error: " + message), res.stderr


def test_scale_shorthand_errors_name_what_was_typed():
    arch = wd.load(LEVINE)
    with pytest.raises(PartitionError, match=r"favor 'scale:64' \(checkerboard:64\)"):
        wd.recommend(arch, 8736, "scale:64")


def test_describe_candidates_and_domain_in_json():
    res = CliRunner().invoke(cli, ["recommend", LEVINE, "--budget", "8736", "--favor", "global",
                                   "--choices", "8..512:8", "--json"])  # fmt: skip
    data = json.loads(res.stdout)
    assert data["domain"] == "multiples of 8 from 24 to 512, plus the baselines uniform"
    assert data["baselines"]["uniform"]["in_domain"] is True
    assert data["baselines"]["wide-tip"]["misses"] == ["r0 = 16 < min width 19",
                                                       "r1 = 16 < min width 19"]  # fmt: skip
