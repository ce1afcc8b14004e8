"""The batch engine agrees with the single-partition engine, exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from widthdesign import cuts
from widthdesign.batch import BatchBounds, bounds_many, read_parts_file
from widthdesign.cli import cli
from widthdesign.errors import PartitionError
from widthdesign.spec import Architecture, Layer, dumps

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_masks(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    masks = rng.random((count, n)) < rng.uniform(0.2, 0.8, (count, 1))
    for row in masks:  # both sides non-empty
        i, j = rng.choice(n, 2, replace=False)
        row[i], row[j] = True, False
    return masks


@st.composite
def architectures(draw) -> Architecture:
    kind = draw(st.sampled_from(["1d", "2d", "tree"]))
    channels = draw(st.integers(2, 4))
    width = st.integers(1, 9)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "tree":
        nodes: list = [int(i) for i in rng.permutation(draw(st.integers(2, 40)))]
        while len(nodes) > 1:
            sizes = []
            while sum(sizes) < len(nodes):
                sizes.append(int(rng.integers(2, 5)))
            if len(sizes) == 1 or draw(st.booleans()) and len(nodes) <= 4:
                sizes = [len(nodes)]
            else:
                sizes[-1] -= sum(sizes) - len(nodes)
                if sizes[-1] < 1:
                    sizes.pop()
            groups, at = [], 0
            for s in sizes:
                groups.append(nodes[at : at + s])
                at += s
            nodes = groups
        tree = nodes[0]
        depth = 0
        node = tree
        while isinstance(node, list):
            node, depth = node[0], depth + 1
        widths = [draw(width) for _ in range(depth)]
        return Architecture(shape=(), channels=channels, layers=widths, tree=tree)
    levels = draw(st.integers(1, 3))
    if kind == "1d":
        pools = [(draw(st.integers(2, 4)),) for _ in range(levels)]
    else:
        pools = [(draw(st.integers(1, 3)), draw(st.integers(1, 3))) for _ in range(levels)]
        pools[-1] = (max(pools[-1][0], 1), max(pools[-1][1], 2))
    shape = tuple(int(np.prod(axis)) for axis in zip(*pools))
    if np.prod(shape) > 64:
        pools = pools[-1:]  # the last window has 2+ positions (pools[0] may be 1x1: N = 1)
        shape = pools[0]
    n = int(np.prod(shape))
    order = tuple(int(i) for i in rng.permutation(n)) if draw(st.booleans()) else None
    layers = [Layer(draw(width), p) for p in pools[:-1]] + [Layer(draw(width))]
    return Architecture(shape=shape, channels=channels, layers=layers, order=order)


def assert_matches_single(arch: Architecture, masks: np.ndarray, res: BatchBounds) -> None:
    for i, mask in enumerate(masks):
        b = cuts.bounds(arch, mask)
        got = (res.upper_bound(i), res.lower_bound(i), bool(res.exact[i]))
        assert got == (b.upper_bound, b.lower_bound, b.exact), (arch, mask.tolist())
        assert res.log2_upper[i] == pytest.approx(b.log2_upper_bound, abs=1e-9)
        assert res.log2_lower[i] == pytest.approx(b.log2_lower_bound, abs=1e-9)


@SETTINGS
@given(arch=architectures(), seed=st.integers(0, 2**32 - 1))
def test_matches_dp_and_maxflow(arch, seed):
    rng = np.random.default_rng(seed)
    masks = random_masks(rng, 6, arch.num_inputs)
    res = bounds_many(arch, masks)
    assert len(res) == 6
    assert_matches_single(arch, masks, res)
    cut = cuts.min_cut(arch, masks[0], method="ortools")
    assert res.upper_bound(0) == cut.value
    if res.counts is not None:
        # the count vector is the certificate: same value as the max-flow cut
        assert (
            np.prod([d ** int(c) for d, c in zip(res.dims, res.counts[0])], dtype=object)
            == cut.value
        )


@settings(max_examples=20, deadline=None)
@given(arch=architectures(), seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 5))
def test_chunking_gives_identical_results(arch, seed, chunk):
    masks = random_masks(np.random.default_rng(seed), 11, arch.num_inputs)
    whole, parts = bounds_many(arch, masks), bounds_many(arch, masks, chunk=chunk)
    for name in ("log2_upper", "log2_lower", "exact", "lower_exponents"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(parts, name))
    assert [whole.upper_bound(i) for i in range(11)] == [parts.upper_bound(i) for i in range(11)]


@pytest.mark.parametrize("dims", [(2, 4, 8, 2), (3, 9, 3, 27), (4, 2, 16, 8), (1, 1, 1, 1)])
def test_powers_of_one_integer_are_exact_exponents(dims):
    arch = Architecture(
        shape=(8, 8),
        channels=dims[0],
        layers=[Layer(d, (2, 2)) for d in dims[1:-1]] + [Layer(dims[-1])],
    )
    masks = random_masks(np.random.default_rng(0), 20, 64)
    res = bounds_many(arch, masks)
    assert res.counts is None and res.exponent is not None
    assert res.exact.all()
    assert_matches_single(arch, masks, res)


def test_closed_forms_on_a_large_grid():
    # checkerboard with 2x2 windows: min(r_0, M^2)^(N/4); exact ints far beyond floats
    side = 64
    arch = Architecture(
        shape=(side, side),
        channels=4,
        layers=[Layer(w, (2, 2)) for w in (7, 5, 6, 3, 5)] + [Layer(9)],
    )
    board = np.indices((side, side)).sum(0) % 2 == 0
    res = bounds_many(arch, np.stack([board, ~board]))
    assert res.upper_bound(0) == 7 ** (side * side // 4) == res.upper_bound(1)
    assert res.cut_counts(0) == (0, side * side // 4, 0, 0, 0, 0, 0)
    assert res.lower_bound(0) == 4 ** (side * side // 4)  # 7 rounds down to 4
    assert not res.exact.any()


def test_exact_ties_between_different_cuts():
    # 6^2 = 4 * 3^2: different count vectors with equal values must not confuse the DP
    arch = Architecture(
        shape=(16,), channels=4, layers=[Layer(w, 2) for w in (3, 6, 6)] + [Layer(36)]
    )
    masks = random_masks(np.random.default_rng(3), 40, 16)
    assert_matches_single(arch, masks, bounds_many(arch, masks))


def test_records():
    arch = Architecture(shape=(4,), channels=3, layers=[Layer(2, 2), Layer(5)])
    res = bounds_many(arch, np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=np.uint8))
    recs = res.to_records("exact")
    assert recs[1] == {
        "partition": 1,
        "log2_upper_bound": 2.0,
        "log2_lower_bound": 2.0,
        "exact": True,
        "upper_bound": 4,
        "lower_bound": 4,
    }
    assert "upper_bound" not in res.to_records()[0]
    with pytest.raises(ValueError):
        res.to_records("floats")


@pytest.mark.parametrize(
    "masks, message",
    [
        (np.ones((2, 5), dtype=bool), "shape"),
        (np.ones(4, dtype=bool), "shape"),
        (np.full((2, 4), 0.5), "dtype"),
        (np.array([[1, 0, 2, 0]]), "row 0"),
        (
            np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 0]], dtype=bool),
            "row 2: side A is empty",
        ),
        (np.array([[1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool), "row 1: side B is empty"),
    ],
)
def test_bad_masks_raise(masks, message):
    arch = Architecture(shape=(4,), channels=2, layers=[Layer(2, 2), Layer(3)])
    with pytest.raises(PartitionError, match=message):
        bounds_many(arch, masks)


def test_grid_shaped_masks_and_empty_batch():
    arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(3, (2, 2)), Layer(5)])
    masks = random_masks(np.random.default_rng(1), 5, 16)
    flat, grid = bounds_many(arch, masks), bounds_many(arch, masks.reshape(5, 4, 4))
    np.testing.assert_array_equal(flat.log2_upper, grid.log2_upper)
    assert len(bounds_many(arch, np.zeros((0, 16), dtype=bool))) == 0


# -- CLI ------------------------------------------------------------------------------------

SPEC_ARCH = Architecture(shape=(4, 4), channels=2, layers=[Layer(3, (2, 2)), Layer(5)], name="grid")


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "arch.toml"
    path.write_text(dumps(SPEC_ARCH))
    return str(path)


def test_cli_npy_json_lines_exact(tmp_path, spec_file):
    masks = random_masks(np.random.default_rng(2), 7, 16)
    np.save(tmp_path / "m.npy", masks.reshape(7, 4, 4))
    out = CliRunner().invoke(
        cli,
        ["cut", spec_file, "--parts-file", str(tmp_path / "m.npy"), "--jsonl", "--values", "exact"],
    )
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 7
    as_array = CliRunner().invoke(
        cli,
        ["cut", spec_file, "--parts-file", str(tmp_path / "m.npy"), "--json", "--values", "exact"],
    )
    assert json.loads(as_array.output) == [json.loads(line) for line in lines]
    for i, line in enumerate(lines):
        rec = json.loads(line)
        b = cuts.bounds(SPEC_ARCH, masks[i])
        assert (rec["index"], rec["partition"]) == (i, f"row {i}")
        assert (rec["upper_bound"], rec["lower_bound"], rec["exact"]) == (
            b.upper_bound,
            b.lower_bound,
            b.exact,
        )


def test_cli_text_file_table(tmp_path, spec_file):
    path = tmp_path / "parts.txt"
    path.write_text("# comment\nleft-right\n1010101010101010\n\ncheckerboard\n0,1,4,5\n")
    masks, labels = read_parts_file(str(path), SPEC_ARCH)
    assert labels == ["left-right", 1, "checkerboard", "0,1,4,5"]
    out = CliRunner().invoke(cli, ["cut", spec_file, "--parts-file", str(path)])
    assert out.exit_code == 0, out.output
    assert "checkerboard" in out.output and "4 partitions" in out.output
    out = CliRunner().invoke(cli, ["cut", spec_file, "--parts-file", str(path), "--json"])
    recs = json.loads(out.output)
    assert [r["partition"] for r in recs] == ["left-right", "row 1", "checkerboard", "0,1,4,5"]
    assert [r["index"] for r in recs] == [0, 1, 2, 3] and recs[0]["upper_bound"] is None


@pytest.mark.parametrize(
    "content, args",
    [
        ("left-right\nnot-a-partition\n", []),
        ("0000000000000000\n", []),
        ("left-right\n", ["--part", "left-right"]),
    ],
)
def test_cli_bad_parts_file_is_one_error_line(tmp_path, spec_file, content, args):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    out = CliRunner().invoke(cli, ["cut", spec_file, "--parts-file", str(path), *args])
    assert out.exit_code == 1
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output


def test_cli_missing_npy(tmp_path, spec_file):
    out = CliRunner().invoke(cli, ["cut", spec_file, "--parts-file", str(tmp_path / "x.npy")])
    assert out.exit_code == 1 and out.output.startswith("Error: ")
