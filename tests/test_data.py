"""The data side: loading with validation, |corr| masses against brute force, profile, CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

import widthdesign as wd
from widthdesign import data
from widthdesign.cli import cli
from widthdesign.spec import Architecture, Layer

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
MIRROR = str(EXAMPLES / "mirror_1d_n16.toml")
PAIRS = str(EXAMPLES / "mirror_pairs_n16.csv")


def arch_1d(n=8, window=2, width=2):
    depth = round(np.log(n) / np.log(window))
    return Architecture(
        shape=(n,), channels=2, layers=[Layer(width, window)] * (depth - 1) + [Layer(width)]
    )


def brute_mass(x, side_a):
    """Sum of |corr| over pairs split by side A: plain loops, np.corrcoef, constants 0."""
    n = x.shape[1]
    a = set(int(i) for i in side_a)
    total = 0.0
    for i in a:
        for j in range(n):
            if j in a:
                continue
            xi, xj = x[:, i], x[:, j]
            if np.ptp(xi) == 0 or np.ptp(xj) == 0:
                continue
            total += abs(np.corrcoef(xi, xj)[0, 1])
    return total


def blocks_of(arch, order=None):
    """Input blocks of every canonical node, per layer (from the pooling tree, not tree_slots)."""
    tree = wd.pooling_tree(arch)
    leaves = np.asarray(order) if order is not None else tree.leaves
    members = [[int(leaves[s])] for s in range(tree.sizes[0])]
    out = []
    for level in range(tree.depth):
        nxt = [[] for _ in range(tree.sizes[level + 1])]
        for pos, m in enumerate(members):
            nxt[tree.parents[level][pos]].extend(m)
        out.append(nxt)
        members = nxt
    return out


# -- loading and validation ---------------------------------------------------------------


def test_as_matrix_accepts_grid_and_flat_shapes():
    arch = Architecture(shape=(2, 2), channels=2, layers=[Layer(2)])
    x = np.arange(12.0).reshape(3, 2, 2)
    assert data.as_matrix(arch, x).tolist() == x.reshape(3, 4).tolist()
    assert data.as_matrix(arch, x.reshape(3, 4)).shape == (3, 4)
    assert data.as_matrix(arch, x.astype(np.float32)).dtype == np.float32
    assert data.as_matrix(arch, x.astype(np.int8)).dtype == np.float64


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((3, 5)), "data = shape [3, 5]: expected shape [n, 2, 2] or [n, 4]"),
        (np.zeros((1, 4)), "data = 1 sample(s): expected at least 2 samples (rows)"),
        (
            np.array([[0, 1, 2, 3], [0, 1, np.nan, 3.0]]),
            "data = nan at sample 1, input 2: expected finite values (no NaN or infinity)",
        ),
        (
            np.array([[0, np.inf, 2, 3], [0, 1, 2, 3.0]]),
            "data = inf at sample 0, input 1: expected finite values (no NaN or infinity)",
        ),
        (np.array([["a"] * 4] * 2), "data = dtype <U1: expected a numeric array"),
    ],
)
def test_as_matrix_refuses(x, message):
    arch = Architecture(shape=(2, 2), channels=2, layers=[Layer(2)])
    with pytest.raises(data.DataError) as err:
        data.as_matrix(arch, x)
    assert str(err.value) == message
    assert isinstance(err.value, wd.WidthDesignError)


def test_load_formats(tmp_path):
    x = np.arange(8.0).reshape(2, 4)
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "b.npz", x=x, y=np.zeros(2))
    np.savez(tmp_path / "c.npz", x)
    (tmp_path / "d.csv").write_text("a,b,c,d\n0,1,2,3\n4,5,6,7\n")
    (tmp_path / "e.csv").write_text("0,1,2,3\n\n4,5,6,7\n")
    for name in ("a.npy", "b.npz", "c.npz", "d.csv", "e.csv"):
        assert data.load_data(tmp_path / name).tolist() == x.tolist(), name


def test_constant_inputs_have_correlation_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    x[:, 2] = 3.0
    c = data.abs_correlation(x)
    assert (c[2] == 0).all() and (c[:, 2] == 0).all()
    assert data.profile(arch_1d(4), x).constant == 1


# -- masses against brute force -----------------------------------------------------------


SPECS = [
    arch_1d(8),
    arch_1d(9, window=3),
    arch_1d(16, window=4),
    Architecture(shape=(4, 4), channels=2, layers=[Layer(2, (2, 2)), Layer(2)]),
    Architecture(shape=(2, 4), channels=2, layers=[Layer(2, (1, 2)), Layer(2, (2, 1)), Layer(2)]),
    Architecture(shape=(2, 2, 2), channels=2, layers=[Layer(2, (2, 1, 2)), Layer(2)]),
    Architecture(
        shape=(8,),
        channels=2,
        layers=[Layer(2, 2)] * 2 + [Layer(2)],
        order=(3, 1, 4, 0, 5, 7, 2, 6),
    ),
    Architecture(shape=(), channels=2, layers=[2, 2], tree=[[4, 0, 2], [1, 5, 3]]),
]


@pytest.mark.parametrize("arch", SPECS, ids=lambda a: f"{a.shape}-{a.order is not None}")
@pytest.mark.parametrize("dense", [True, False])
def test_level_masses_match_brute_force(arch, dense):
    rng = np.random.default_rng(1)
    n = arch.num_inputs
    x = rng.normal(size=(40, n)) @ rng.normal(size=(n, n))
    x[:, n // 2] = 1.0  # one constant input
    dep = data.Dependence(x, dense=dense)
    masses = data.crossing_masses(arch, dep)
    for level, blocks in enumerate(blocks_of(arch)):
        dfs, bounds = data.tree_slots(arch)
        got = sorted(np.round(masses[level], 6).tolist())
        want = sorted(round(brute_mass(x, b), 6) for b in blocks)
        assert got == pytest.approx(want, abs=1e-4), level
        assert len(bounds[level]) == len(blocks) + 1


def test_random_expectation_is_the_mean_over_all_orders():
    """Exact oracle: the average crossing mass over all 4! orders of a 1-D N=4 spec."""
    arch = arch_1d(4)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 4)) @ rng.normal(size=(4, 4))
    dep = data.Dependence(x)
    _, bounds = data.tree_slots(arch)
    want = np.mean(
        [
            data.crossing_masses(arch, dep, order=p)[0].sum()
            for p in itertools.permutations(range(4))
        ]
    )
    assert data.random_masses(dep, bounds)[0].sum() == pytest.approx(want, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.permutations(range(8)))
def test_part_mass_matches_brute_force(seed, perm):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(12, 8))
    side = list(perm[: 1 + seed % 7])
    dep = data.Dependence(x, dense=bool(seed % 2))
    assert dep.part_mass(np.array(side)) == pytest.approx(brute_mass(x, side), abs=1e-4)


# -- profile ----------------------------------------------------------------------------------


def test_profile_of_the_bundled_mirror_data():
    """The mirror tree carries far less dependence across its partitions than the natural
    order: at every layer below random, while the natural order's top split is above it."""
    x = data.load_data(PAIRS)
    mirror = data.profile(wd.load(MIRROR), x)
    natural = data.profile(wd.load(PAPER), x, parts=["left-right"])
    assert all(lv.ratio < 0.7 for lv in mirror.levels)
    assert natural.levels[-1].ratio > 1.2
    assert [lv.block for lv in natural.levels] == [2, 4, 8]
    # capacities: exact min-cut bounds of one node, widths (3, 5, 7, 11), M = 2
    assert [lv.capacity for lv in natural.levels] == [3, 5, 7]
    assert natural.parts[0].capacity == 7 and natural.parts[0].size_a == 8
    assert natural.parts[0].mass == pytest.approx(natural.levels[-1].mass / 2)


def test_bundled_data_is_the_generator_output():
    assert np.allclose(data.load_data(PAIRS), data.mirror_pairs(), atol=5.1e-5)


# -- CLI ----------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_profile_json():
    result = run("profile", PAPER, PAIRS, "--part", "left-right", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    keys = {"samples", "inputs", "constant", "pair_mass", "pairs", "total", "levels", "parts"}
    assert set(out) == keys and out["pairs"] == "all pairs"
    assert (out["samples"], out["inputs"], out["constant"]) == (400, 16, 0)
    assert [lv["capacity"] for lv in out["levels"]] == [3, 5, 7]
    assert set(out["levels"][0]) == {
        "layer",
        "block",
        "nodes",
        "mass",
        "mean",
        "random",
        "ratio",
        "capacity",
        "capacity_log2",
        "mass_per_node",
    }
    assert out["parts"][0]["partition"] == "left-right"
    assert out["total"] == pytest.approx(sum(lv["mass"] for lv in out["levels"]))


def test_cli_profile_table_and_plot(tmp_path):
    png = tmp_path / "p.png"
    result = run("profile", MIRROR, PAIRS, "--plot", str(png))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("mirror 1-D N=16: 400 samples x 16 inputs;")
    assert lines[1].split()[:3] == ["layer", "block", "nodes"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = run("profile", MIRROR, PAIRS, "--plot", str(png))
    assert again.exit_code == 1
    assert again.stderr.strip().startswith("Error: --plot = ")


@pytest.fixture
def bad_files(tmp_path):
    files = {
        "nan.npy": np.array([[0.0] * 15 + [np.nan]] * 3),
        "shape.npy": np.zeros((3, 15)),
        "one.npy": np.zeros((1, 16)),
    }
    for name, x in files.items():
        np.save(tmp_path / name, x)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    (tmp_path / "words.csv").write_text("1,2\nx,5\n")
    (tmp_path / "data.txt").write_text("1 2\n")
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    return tmp_path


BAD = {
    "nan.npy": "data = nan at sample 0, input 15: expected finite values (no NaN or infinity)",
    "shape.npy": "data = shape [3, 15]: expected shape [n, 16]",
    "one.npy": "data = 1 sample(s): expected at least 2 samples (rows)",
    "empty.csv": "data = {p}: expected a CSV file with at least one row of numbers",
    "header.csv": "data = {p}: expected a CSV file with rows of numbers below its header",
    "ragged.csv": "data = {p}: expected rows of equal length (row 2 has 2, not 3)",
    "words.csv": "data = {p}: expected numbers only (could not convert string to float: 'x')",
    "data.txt": "data = {p}: expected a .npy, .npz or .csv file",
    "two.npz": "data = {p}: expected an .npz with one array or one named 'x' (found ['a', 'b'])",
    "missing.npy": "data = {p}: expected a readable file (No such file or directory)",
}


@pytest.mark.parametrize("command", ["profile", "arrange"])
@pytest.mark.parametrize("name", sorted(BAD))
def test_cli_bad_data(bad_files, command, name, monkeypatch):
    monkeypatch.chdir(bad_files)  # short paths in the messages
    path = name
    out = bad_files / "out.toml"
    extra = ["--write-spec", str(out)] if command == "arrange" else []
    result = CliRunner().invoke(cli, [command, PAPER, path, *extra])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: " + BAD[name].format(p=path) + "\n"
    assert not out.exists()  # nothing half-written


def test_cli_size_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path("big.npy")
    np.save(path, np.zeros((100, 16)))
    size = path.stat().st_size
    result = CliRunner().invoke(cli, ["profile", PAPER, str(path), "--max-data-bytes", "1000"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: data = {path}: expected a file of at most 1000 bytes (it has {size})\n"
    )
