"""Arrangements: exact small cases, properties, the symmetry data, the CLI, the models."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

import widthdesign as wd
from widthdesign import data
from widthdesign.arrange import Arrangement, ArrangeResult, split, tree_order
from widthdesign.cli import cli
from widthdesign.spec import Architecture, Layer

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
MIRROR = str(EXAMPLES / "mirror_1d_n16.toml")
PAIRS = str(EXAMPLES / "mirror_pairs_n16.csv")


def windows(arch, order):
    """Input sets of every window, per layer (but the last), for slot order ``order``."""
    tree = wd.pooling_tree(arch)
    members = [{int(order[s])} for s in range(tree.sizes[0])]
    out = []
    for level in range(tree.depth - 1):
        nxt = [set() for _ in range(tree.sizes[level + 1])]
        for pos, m in enumerate(members):
            nxt[tree.parents[level][pos]] |= m
        out.append(sorted(sorted(b) for b in nxt))
        members = nxt
    return out


# -- exact small cases --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["tree", "layout", "auto"])
def test_mirror_data_recovers_the_mirror_tree(method):
    """Hand-checkable: in mirror_pairs, i pairs with 15 - i, pairs of neighbouring pairs join,
    and so on; the best tree at every level is the mirror tree of mirror_1d_n16.toml."""
    x = data.load_data(PAIRS)
    arr = wd.arrange(wd.load(PAPER), x, method=method)
    want = windows(wd.load(MIRROR), wd.load(MIRROR).order)
    assert windows(wd.load(PAPER), arr.order) == want
    assert want[0][:2] == [[0, 15], [1, 14]] and want[1][0] == [0, 1, 14, 15]
    cut = arr.result.cut
    assert cut["arrangement"]["total"] < 0.5 * cut["given"]["total"]
    mirror_masses = [lv.mass for lv in data.profile(wd.load(MIRROR), x).levels]
    assert cut["arrangement"]["levels"] == pytest.approx(mirror_masses)


def test_symmetry_data_recovers_mirror_pairs():
    """The symmetry task's pixels pair with their mirror images in the first windows."""
    from widthdesign.train import make_symmetry

    d = make_symmetry(1500, 1, size=16, seed=0)
    arch = Architecture(shape=(16, 16), channels=2, layers=[Layer(2, (2, 2))] * 3 + [Layer(2)])
    x = d.x_train.reshape(len(d.x_train), -1)
    for method in ("tree", "auto"):
        order = np.asarray(wd.arrange(arch, x, method=method).order)
        win = order.reshape(8, 2, 8, 2).transpose(0, 2, 1, 3).reshape(-1, 4)
        r, c = np.divmod(win, 16)
        mirror = r * 16 + 15 - c
        hits = np.mean([bool(set(m) & set(w)) for w, m in zip(win.tolist(), mirror.tolist())])
        assert hits >= 0.9, (method, hits)


def test_split_gives_exact_sizes_and_a_minimum_cut():
    """Two triangles joined by one weak edge: the 3|3 split cuts only it; asked for 4|2 the
    sizes are exact and the cut is the minimum over all 4|2 splits (20, by enumeration)."""
    from scipy import sparse

    w = np.zeros((6, 6), dtype=np.int64)
    for a, b in [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5)]:  # two triangles
        w[a, b] = w[b, a] = 10
    w[2, 3] = w[3, 2] = 1
    g = sparse.csr_matrix(w)
    labels = split(g, [3, 3])
    assert sorted(sorted(np.flatnonzero(labels == j).tolist()) for j in (0, 1)) == [
        [0, 1, 2],
        [3, 4, 5],
    ]
    uneven = split(g, [4, 2])
    assert np.bincount(uneven).tolist() == [4, 2]
    cut = sum(w[a, b] for a in range(6) for b in range(a) if uneven[a] != uneven[b])
    import itertools

    best = min(
        sum(w[a, b] for a in side for b in range(6) if b not in side)
        for side in map(set, itertools.combinations(range(6), 4))
    )
    assert best == 20 and cut == best  # vertex 3 joins 0, 1, 2


# -- properties ----------------------------------------------------------------------------


GEOMETRIES = [
    Architecture(shape=(8,), channels=2, layers=[Layer(2, 2)] * 2 + [Layer(2)]),
    Architecture(shape=(9,), channels=2, layers=[Layer(2, 3), Layer(2)]),
    Architecture(shape=(16,), channels=2, layers=[Layer(2, 4), Layer(2)]),
    Architecture(shape=(4, 4), channels=2, layers=[Layer(2, (2, 2)), Layer(2)]),
    Architecture(shape=(2, 6), channels=2, layers=[Layer(2, (1, 3)), Layer(2)]),
    Architecture(shape=(4, 2, 2), channels=2, layers=[Layer(2, (2, 1, 2)), Layer(2)]),
]


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(GEOMETRIES),
    st.sampled_from(["tree", "layout", "auto"]),
    st.integers(0, 2**16),
)
def test_arrangement_is_a_deterministic_permutation(arch, method, seed):
    rng = np.random.default_rng(seed)
    n = arch.num_inputs
    x = rng.normal(size=(30, n)) @ rng.normal(size=(n, n))
    if seed % 3 == 0:
        x[:, seed % n] = 0.5  # a constant input
    arr = wd.arrange(arch, x, seed=seed, method=method)
    assert sorted(arr.order) == list(range(n))
    again = wd.arrange(arch, x, seed=seed, method=method)
    assert again.order == arr.order and again.result.method == arr.result.method
    out = arr.apply(x)
    assert (out == x[:, list(arr.order)]).all()
    assert (arr.transform(x) == out).all()
    # the arranged spec reads input order[s] at slot s: its profile is the arrangement's cut
    prof = data.profile(arr.spec(), x)
    assert [lv.mass for lv in prof.levels] == pytest.approx(
        arr.result.cut["arrangement"]["levels"], rel=1e-6, abs=1e-6
    )
    assert arr.result.method in ("tree", "layout")


def test_grid_shaped_data_is_applied_in_its_shape():
    arch = GEOMETRIES[3]
    x = np.random.default_rng(0).normal(size=(20, 4, 4))
    arr = wd.arrange(arch, x)
    assert arr.apply(x).shape == (20, 4, 4)
    assert (arr.apply(x).reshape(20, 16) == x.reshape(20, 16)[:, list(arr.order)]).all()


def test_explicit_tree_specs_get_a_relabelled_tree():
    arch = Architecture(shape=(), channels=2, layers=[2, 2], tree=[[0, 1], [2, 3]])
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 200))
    x = np.stack([a, b, a + 0.1 * rng.normal(size=200), b + 0.1 * rng.normal(size=200)], 1)
    arr = wd.arrange(arch, x)
    assert arr.result.method == "tree"
    tree = arr.spec().tree
    assert sorted(sorted(t) for t in tree) == [[0, 2], [1, 3]]
    with pytest.raises(wd.SpecError, match="method = 'layout'"):
        wd.arrange(arch, x, method="layout")


def test_bad_arguments():
    arch = GEOMETRIES[0]
    x = np.random.default_rng(0).normal(size=(10, 8))
    with pytest.raises(wd.SpecError, match="method = 'best': expected one of auto, tree, layout"):
        wd.arrange(arch, x, method="best")
    with pytest.raises(wd.SpecError, match="neighbors = 0: expected a positive integer"):
        wd.arrange(arch, x, neighbors=0)
    with pytest.raises(wd.SpecError, match="arrangement = 'not fitted'"):
        Arrangement(arch).order  # noqa: B018


def test_sklearn_pipeline():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    x = data.mirror_pairs(200)
    y = (x[:, 0] > 0).astype(int)
    arr = Arrangement(wd.load(PAPER), random_state=3)
    assert clone(arr).get_params()["random_state"] == 3
    pipe = make_pipeline(arr, LogisticRegression()).fit(x, y)
    assert pipe.score(x, y) > 0.9
    fitted = pipe.steps[0][1]
    assert isinstance(fitted.result, ArrangeResult)
    assert (fitted.transform(x) == x[:, list(fitted.order)]).all()


def test_kahip_partitioner_when_installed():
    pytest.importorskip("kahip")
    x = data.load_data(PAIRS)
    dep = data.Dependence(x)
    order = tree_order(wd.load(PAPER), dep, partitioner="kahip")
    assert windows(wd.load(PAPER), order) == windows(wd.load(MIRROR), wd.load(MIRROR).order)


# -- CLI -----------------------------------------------------------------------------------


def test_cli_arrange_json_and_write_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths in the messages
    out = "arranged.toml"
    result = CliRunner().invoke(cli, ["arrange", PAPER, PAIRS, "--write-spec", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    assert set(rec) == {
        "order",
        "method",
        "reason",
        "cut",
        "scores",
        "constant",
        "pairs",
        "seconds",
        "spec",
    }
    assert set(rec["cut"]) == {"arrangement", "given", "random"}
    assert (
        set(rec["cut"]["given"]) == {"total", "levels"} and len(rec["cut"]["given"]["levels"]) == 3
    )
    assert rec["spec"] == str(out) and result.stderr == f"wrote {out}\n"
    written = wd.load(out)
    assert list(written.order) == rec["order"]
    assert written.widths == wd.load(PAPER).widths
    again = CliRunner().invoke(cli, ["arrange", PAPER, PAIRS, "--write-spec", str(out)])
    assert again.exit_code == 1
    assert again.stderr == (
        "Error: --write-spec = 'arranged.toml': expected a path that does not exist yet "
        "(or --force)\n"
    )
    assert wd.load(out).order == written.order  # untouched


def test_cli_arrange_table():
    result = CliRunner().invoke(cli, ["arrange", PAPER, PAIRS, "--method", "tree"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "paper 1-D N=16: 400 samples x 16 inputs"
    assert lines[1] == "method: tree (--method tree asked for)"
    assert lines[2].split() == [
        "order",
        "crossing",
        "total",
        "layer",
        "0",
        "layer",
        "1",
        "layer",
        "2",
    ]
    assert [line.split()[0] for line in lines[4:7]] == ["arrangement", "given", "random"]


def test_cli_arrange_bad_method():
    result = CliRunner().invoke(cli, ["arrange", PAPER, PAIRS, "--method", "best"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Invalid value for '--method': 'best' is not one of")


# -- models for any geometry -----------------------------------------------------------------


def test_model_with_order_equals_model_on_rearranged_data():
    torch = pytest.importorskip("torch")
    from widthdesign.train import build_model

    base = wd.load(EXAMPLES / "digits_32x32.toml").with_widths((4,) * 5)
    perm = tuple(int(i) for i in np.random.default_rng(0).permutation(1024))
    ordered = replace(base, order=perm)
    x = torch.rand(3, 1, 32, 32)
    plain, with_order = build_model(base, seed=1).eval(), build_model(ordered, seed=1).eval()
    want = plain(x.reshape(3, 1024)[:, list(perm)].reshape(3, 1, 32, 32))
    assert torch.allclose(with_order(x), want, atol=1e-6)


def test_one_dimensional_model_trains():
    pytest.importorskip("torch")
    from widthdesign.train import TaskData, build_model, param_count, train_and_eval

    arch = Architecture(shape=(8,), channels=3, layers=[Layer(4, 2)] * 2 + [Layer(4)], classes=2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1, 8)).astype(np.float32)
    y = (x[:, 0, 0] * x[:, 0, 7] > 0).astype(np.int64)
    res = train_and_eval(arch, (4, 4, 4), TaskData(x, y, x, y), epochs=2, batch=16)
    assert res["params"] == param_count(arch, (4, 4, 4))
    out = build_model(arch)(__import__("torch").from_numpy(x[:5]))
    assert tuple(out.shape) == (5, 2)


def test_reproduce_arrangement_tiny(tmp_path, capsys):
    """The validation script end to end with tiny settings (every cell, one seed)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from test_examples import SMALL_ARGS, example

    out = tmp_path / "runs.json"
    args = [*SMALL_ARGS["reproduce_arrangement.py"], "--n-test", "32", "--tabular-epochs", "1"]
    res = example("reproduce_arrangement.py").main([*args, "--json", str(out)])
    cells = {(r["task"], r["cell"]) for r in res["records"]}
    assert len(cells) == 18
    saved = json.loads(out.read_text())
    assert len(saved["runs"]) == 18
    assert "| symmetry | mirror |" in capsys.readouterr().out
    # a rerun with --resume trains nothing
    res2 = example("reproduce_arrangement.py").main([*args, "--resume", str(out), "--no-train"])
    assert len(res2["records"]) == 18


def test_auto_takes_the_tree_for_paired_inputs_only():
    """Mirror pairs (every input has a mutual strongest partner) -> tree; a smooth field
    (neighbourhoods, no pairs) -> layout; the reason says why."""
    from importlib import import_module

    paired_fraction = import_module("widthdesign.arrange").paired_fraction
    x = data.load_data(PAIRS)
    assert paired_fraction(data.Dependence(x)) == 1.0
    arr = wd.arrange(wd.load(PAPER), x)
    assert arr.result.method == "tree" and "100% of the inputs come in pairs" in arr.result.reason
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(400, 12, 12))
    smooth = sum(np.roll(np.roll(noise, a, 1), b, 2) for a in (-1, 0, 1) for b in (-1, 0, 1))
    arch = Architecture(
        shape=(12, 12), channels=2, layers=[Layer(2, (2, 2)), Layer(2, (2, 2)), Layer(2)]
    )
    dep = data.Dependence(smooth.reshape(400, -1))
    assert paired_fraction(dep) < 0.2
    res = wd.arrange(arch, smooth).result
    assert res.method == "layout" and res.reason.startswith("layout kept")
