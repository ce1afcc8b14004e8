"""widthdesign.train: digit tasks, models whose size matches the cost model, real training."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES

import widthdesign as wd
from widthdesign import train

pytest.importorskip("sklearn")

SMALL = """
[input]
shape = [8, 8]
channels = 4
[[layers]]
width = 6
pool = [2, 2]
[[layers]]
width = 6
pool = [2, 2]
[[layers]]
width = 8
pool = [2, 2]
[output]
classes = 10
"""


def test_import_does_not_pull_torch():
    code = "import sys, widthdesign; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("task, size", [("local", 8), ("global", 24)])
def test_task_is_deterministic_and_shaped(task, size):
    a = train.make_task(task, n_train=50, n_test=20, seed=3)
    b = train.make_task(task, n_train=50, n_test=20, seed=3)
    c = train.make_task(task, n_train=50, n_test=20, seed=4)
    for x, y in zip(
        (a.x_train, a.y_train, a.x_test, a.y_test), (b.x_train, b.y_train, b.x_test, b.y_test)
    ):
        assert np.array_equal(x, y)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (50, 1, 32, 32) and a.x_test.shape == (20, 1, 32, 32)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert set(a.y_train.tolist()) <= set(range(10))
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    # every digit lies inside a size x size box of the canvas
    for img in a.x_train[:, 0]:
        rows, cols = np.nonzero(img)
        assert rows.max() - rows.min() < size and cols.max() - cols.min() < size


def test_placement_covers_every_position_and_keeps_the_digit():
    images = np.array([[[1, 2], [3, 4]]], np.float32)
    x, idx = train.place_digits(images, 400, 5, np.random.default_rng(1))
    corners = set()
    for img in x[:, 0]:
        r, c = (int(v.min()) for v in np.nonzero(img))
        assert np.array_equal(img[r : r + 2, c : c + 2], images[0])
        assert img.sum() == images.sum()
        corners.add((r, c))
    assert corners == {(r, c) for r in range(4) for c in range(4)}  # uniform over 16 corners
    with pytest.raises(wd.SpecError, match="digit"):
        train.place_digits(images, 1, 1, np.random.default_rng(0))


def test_train_and_test_digits_are_disjoint():
    # canvas = digit size: each canvas is one digit, so the split is visible directly
    data = train.make_task("local", n_train=6000, n_test=3000, canvas=8, seed=0)
    tr = {img.tobytes() for img in data.x_train}
    te = {img.tobytes() for img in data.x_test}
    assert len(tr) <= train.N_TRAIN_DIGITS and len(te) <= train.N_DIGITS - train.N_TRAIN_DIGITS
    assert len(tr) > 1150 and len(te) > 570
    assert len(tr & te) <= 2  # load_digits holds a few identical images, nothing more


@pytest.mark.parametrize("flavor", train.FLAVORS)
@pytest.mark.parametrize("widths", [(8, 8, 8, 8, 8), (32, 32, 16, 16, 8), (1, 2, 3, 4, 5)])
def test_parameter_count_matches_the_cost_model(flavor, widths):
    torch = pytest.importorskip("torch")
    arch = wd.load(EXAMPLES / "digits_32x32.toml")
    model = train.build_model(arch, widths, flavor)
    n = sum(p.numel() for p in model.parameters())
    assert n == train.param_count(arch, widths, flavor)
    # the 1x1 convs and the classifier's weights are exactly widthdesign's params cost
    core = sum(
        p.numel()
        for name, p in model.named_parameters()
        if name.startswith("convs.") or name == "head.weight"
    )
    assert core == wd.cost(arch, "params", widths)
    out = model(torch.zeros(3, 1, 32, 32))
    assert out.shape == (3, 10)


def test_bad_widths_and_specs_are_refused():
    arch = wd.load(EXAMPLES / "digits_32x32.toml")
    with pytest.raises(wd.SpecError, match="widths"):
        train.param_count(arch, (8, 8))
    with pytest.raises(wd.SpecError, match="widths"):
        train.param_count(arch, (8, 8, 0, 8, 8))
    with pytest.raises(wd.SpecError, match="task"):
        train.make_task("middle")
    three_d = wd.loads(  # 1-D and 2-D grids train (tests/test_arrange.py); 3-D does not
        "[input]\nshape=[2, 2, 2]\nchannels=2\n[[layers]]\nwidth=2\npool=[2, 2, 2]"
    )
    with pytest.raises(wd.SpecError, match="1-D or 2-D grid"):
        train.param_count(three_d, (2,))


@pytest.mark.parametrize("flavor", train.FLAVORS)
def test_a_tiny_training_run_learns(flavor):
    pytest.importorskip("torch")
    arch = wd.loads(SMALL)
    data = train.make_task("local", n_train=600, n_test=300, canvas=8, seed=0)
    res = train.train_and_eval(arch, (6, 6, 8), data, flavor, epochs=5, batch=32, seed=0)
    assert res["last_loss"] < res["first_loss"] - 0.005
    if flavor == "relu":  # the ConvAC learns far more slowly (docs/training.md): loss only
        assert res["accuracy"] > 0.25  # chance is 0.1
    assert res["params"] == train.param_count(arch, (6, 6, 8), flavor)
    assert res["seconds"] > 0


def _script():
    spec = importlib.util.spec_from_file_location(
        "reproduce_training", EXAMPLES / "reproduce_training.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reproduce_training_tiny_run(tmp_path, capsys):
    pytest.importorskip("torch")
    mod = _script()
    out = tmp_path / "runs.json"
    argv = ["--r", "2", "--tasks", "local", "--designs", "uniform", "wide-base", "wide-tip"]
    argv += ["--seeds", "2", "--epochs", "1", "--n-train", "64", "--n-test", "32"]
    argv += ["--workers", "1", "--grid-r", "--json", str(out)]
    assert mod.main(argv) == 0
    table = capsys.readouterr().out
    assert "| local | 2 | wide-tip | 2,4,4,8,8 |" in table
    body = json.loads(out.read_text())
    runs = body["runs"]
    assert len(runs) == 3 * 2 and {r["seed"] for r in runs} == {0, 1}
    arch = wd.load(EXAMPLES / "digits_32x32.toml")
    budget = wd.cost(arch, "params", (8, 8, 4, 4, 2))
    for r in runs:
        assert r["cost"] == wd.cost(arch, "params", r["widths"])
        assert r["params"] == train.param_count(arch, r["widths"])
        assert 0.0 <= r["accuracy"] <= 1.0
    uniform = next(r for r in runs if r["design"] == "uniform")
    u = uniform["widths"][0]
    assert uniform["cost"] <= budget < wd.cost(arch, "params", (u + 1,) * 5)
    # a second run with --resume reuses every training
    assert mod.main([*argv, "--resume", str(out)]) == 0
    assert json.loads(out.read_text())["runs"] == runs


def test_reproduce_training_grid_tables(tmp_path, capsys):
    pytest.importorskip("torch")
    mod = _script()
    argv = ["--r", "4", "--tasks", "local", "--designs", "uniform", "--grid-r", "4"]
    argv += ["--slack", "0.25", "--max-ratio", "2", "--step", "4", "--seeds", "1"]
    argv += ["--epochs", "1", "--n-train", "64", "--n-test", "32", "--workers", "1"]
    assert mod.main([*argv, "--json", str(tmp_path / "g.json")]) == 0
    out = capsys.readouterr().out
    arch = wd.load(EXAMPLES / "digits_32x32.toml")
    budget = wd.cost(arch, "params", (16, 16, 8, 8, 4))
    rec = wd.recommend(arch, budget, "local", slack=0.25, max_ratio=2, min_width=2)
    widths = ",".join(map(str, rec.widths))
    assert f"| 4 | local | 0.25/2 | {widths} |" in out  # the grid table
    assert "| 0.25/2 | " in out.split("Paired difference")[1]  # the settings table
    step = wd.recommend(arch, budget, "local", choices=range(4, 33, 4), min_width=2)
    assert f"| local | 4 | local step4 | {','.join(map(str, step.widths))} |" in out
    runs = json.loads((tmp_path / "g.json").read_text())["runs"]
    # r = 4 is a --cross-r budget: the step designs train on both tasks, the grid on its own
    assert {r["design"] for r in runs} == {
        "uniform",
        "local s=0.25 q=2",
        "local step4",
        "global step4",
    }


LOCAL_GLOBAL = ("local", "global")


def test_docs_tables_are_the_recorded_runs(capsys):
    """docs/training.md shows the tables of docs/img/training-runs.json, nothing else."""
    runs = EXAMPLES.parent / "docs" / "img" / "training-runs.json"
    argv = ["--prototype", "--probes", "--step", "4", "--grid-r", "4", "8", "16"]
    # the designs as recorded: that run's recommend (powers of two, a floor of 2, no baselines
    # in the domain) is not today's
    assert _script().main([*argv, "--resume", str(runs), "--no-train", "--recorded"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    page = (EXAMPLES.parent / "docs" / "training.md").read_text(encoding="utf-8")
    assert len(rows) > 60
    missing = [row for row in rows if row not in page]
    assert not missing, f"docs/training.md lacks {missing[:3]}: paste the --no-train output"


def test_docs_tables_of_the_current_defaults(capsys):
    """The table of the current defaults' run (docs/img/training-runs-v3.json) is on the page,
    and its recommendations are today's: recomputed, not only as recorded."""
    runs = EXAMPLES.parent / "docs" / "img" / "training-runs-v3.json"
    assert _script().main(["--grid-r", "--resume", str(runs), "--no-train"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    page = (EXAMPLES.parent / "docs" / "training.md").read_text(encoding="utf-8")
    assert len(rows) > 25 and not [row for row in rows if row not in page]
    records = json.loads(runs.read_text())
    assert {t["spec"] for t in records["trainings"]} == {"examples/digits_32x32.toml"}


def test_docs_tables_of_the_current_grid(capsys):
    """The slack x max-ratio grid at r = 8 with today's candidates
    (docs/img/training-runs-grid-v3.json) is on the page, its designs recomputed."""
    runs = EXAMPLES.parent / "docs" / "img" / "training-runs-grid-v3.json"
    argv = ["--r", "8", "--designs", "uniform", "--grid-r", "8", "--cross-r"]
    assert _script().main([*argv, "--resume", str(runs), "--no-train"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    page = (EXAMPLES.parent / "docs" / "training.md").read_text(encoding="utf-8")
    assert len(rows) > 40 and not [row for row in rows if row not in page]
