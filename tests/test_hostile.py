"""Hostile input: every bad value gives one ``Error:`` line (exit 1) or a correct answer, fast;
huge numbers stay exact; outputs are all written or none."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_force_cut, check_certificate
from strategies import hostile_partitions, huge_dims_arch, huge_ints

import widthdesign as wd
from widthdesign import batch, cuts, network, spec
from widthdesign.cli import cli
from widthdesign.errors import PartitionError, SpecError, WidthDesignError

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
GRID = str(EXAMPLES / "grid_4x4.toml")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def assert_one_error(result, *fragments):
    """Exit 1 and exactly one line ``Error: ...`` naming every fragment."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for f in fragments:
        assert f in lines[0], lines[0]


def tiny_spec(tmp_path, channels, widths, shape, pools, name="s.toml") -> str:
    lines = ["[input]", f"shape = {list(shape)}", f"channels = {channels}"]
    for w, p in zip(widths, pools):
        lines += ["[[layers]]", f"width = {w}"] + ([f"pool = {list(p)}"] if p else [])
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# -- wrong numbers ----------------------------------------------------------------------------


def test_channels_at_2_63_stay_exact():
    """The issue's example: channels = 2^63, widths 3, 3 on [4]: the cut is r0 = 3, not M^3."""
    arch = wd.Architecture(shape=(4,), channels=2**63, layers=[wd.Layer(3, 2), wd.Layer(3)])
    for method in sorted(wd.CUT_METHODS):
        b = wd.bounds(arch, "0", method=method)
        assert (b.upper_bound, b.cut.value) == (3, 3), method
    res = batch.bounds_many(arch, np.array([[1, 0, 0, 0]], dtype=bool))
    assert res.upper_bound(0) == 3


@settings(max_examples=60)
@given(huge_dims_arch())
def test_huge_dimensions_exact_against_brute_force(case):
    """Dimensions past 2^63 and past any float: every method and the batch engine give the
    brute-force minimum, with a valid certificate."""
    arch, mask = case
    g = wd.build_network(arch)
    side_a = {("input", int(i)) for i in np.flatnonzero(mask)}
    expected = brute_force_cut(g, side_a)
    for method in sorted(wd.CUT_METHODS):
        cut = wd.min_cut(arch, mask, method=method)
        assert cut.value == expected, method
        check_certificate(arch, mask, cut)
    b = wd.bounds(arch, mask)
    res = batch.bounds_many(arch, mask[None])
    assert res.upper_bound(0) == b.upper_bound == expected
    assert res.lower_bound(0) == b.lower_bound <= expected


@pytest.mark.parametrize("method", sorted(wd.CUT_METHODS))
@pytest.mark.parametrize("k", [24, 40, 52, 62, 100])
def test_near_ties_every_method(method, k):
    """M = 2^k + 1 against one width 2^k on [2]: the minimum is 2^k (the delta), a hair
    below M; log2 scaled by 2^24 cannot tell them apart."""
    arch = wd.Architecture(shape=(2,), channels=2**k + 1, layers=[wd.Layer(2**k)])
    cut = wd.min_cut(arch, [True, False], method=method)
    assert cut.value == 2**k
    # and the other way round: the bond is the cheaper one
    arch = wd.Architecture(shape=(2,), channels=2**k, layers=[wd.Layer(2**k + 1)])
    assert wd.min_cut(arch, [True, False], method=method).value == 2**k


@pytest.mark.parametrize("method", sorted(wd.CUT_METHODS))
def test_near_tie_products(method):
    """3^a vs 2^b near-ties of products (3^12 = 531441 vs 2^19 = 524288 ... and a tie of
    different products decided exactly)."""
    # 4 inputs, windows of 2: A = {0, 2}: M^2 vs r0^2 vs mixes; M = 2^19 + 1, r0 = 2^19
    arch = wd.Architecture(
        shape=(4,), channels=2**40 + 1, layers=[wd.Layer(2**40, 2), wd.Layer(2**80 + 1)]
    )
    mask = np.array([1, 0, 1, 0], dtype=bool)
    cut = wd.min_cut(arch, mask, method=method)
    assert cut.value == 2**80 == wd.min_cut(arch, mask, method="dp").value


def test_iroot_exact_at_any_size():
    for d in [10**400, 10**400 + 1, 2**1024 - 1, 3**1000, 2**61 - 1, 7, 1, 0]:
        for k in [1, 2, 3, 5, 64, 1000]:
            r = cuts.iroot(d, k)
            assert r**k <= d < (r + 1) ** k, (d, k)


@settings(max_examples=40)
@given(st.one_of(huge_ints, st.integers(0, 10**30)), st.integers(1, 200))
def test_iroot_property(d, k):
    r = cuts.iroot(d, k)
    assert r**k <= d < (r + 1) ** k


def test_coprime_base_has_no_trial_division():
    """A 61-bit prime with a composite: the batch engine's factor base is instant."""
    base = batch.coprime_base([2**61 - 1, 12, 18, 2**61 - 1])
    assert base == (2, 3, 2**61 - 1)
    assert batch.exponents_over(12 * (2**61 - 1) ** 2, base) == [2, 1, 2]


def test_large_prime_width_parts_file(tmp_path):
    p = tiny_spec(tmp_path, 2**61 - 1, [2**61 - 1, 6, 5], (8,), [(2,), (2,), None])
    parts = tmp_path / "parts.txt"
    parts.write_text("0\n0,2\n0-3\n")
    result = run("cut", p, "--parts-file", parts, "--values", "exact", "--jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    arch = spec.load(p)
    for row, part in zip(rows, ["0", "0,2", "0-3"]):
        assert row["upper_bound"] == wd.bounds(arch, part).upper_bound


def test_huge_widths_on_the_cli(tmp_path):
    big = 10**400
    p = tiny_spec(tmp_path, big + 1, [3, big], (4,), [(2,), None])
    result = run("cut", p, "--part", "0", "--part", "0,1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["upper_bound"] for d in data] == [3, 3]
    parts = tmp_path / "parts.txt"
    parts.write_text("0\n0,2\n")
    result = run("cut", p, "--parts-file", parts, "--values", "exact", "--jsonl")
    assert [json.loads(x)["upper_bound"] for x in result.output.splitlines()] == [3, 9]


# -- partitions -------------------------------------------------------------------------------


@settings(max_examples=150)
@given(hostile_partitions)
def test_hostile_partition_strings(text):
    """A partition string is parsed exactly (every index listed once, in range) or refused
    with a PartitionError: never glued digits, never a MemoryError."""
    arch = spec.load(PAPER)
    try:
        part = wd.parse_partition(text, arch)
    except PartitionError:
        return
    items = [t.strip() for t in text.split(",")]
    if all(t.replace("-", "").strip().isdigit() for t in items if t):
        listed = set()
        for t in items:
            lo, _, hi = t.partition("-")
            listed |= set(range(int(lo), int(hi or lo) + 1))
        assert set(part.side_a) == listed
        assert not any(" " in t.strip() or "\t" in t.strip() for t in items if "-" not in t)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("1 0", "bad item '1 0'"),
        ("0-99999999999", "out of range"),
        ("0-9999999999999999999999", "out of range"),
        ("checkerboard:99999999999999999999", "side B is empty"),
        ("top-bottom", "use left-right"),
        ("0,0-3", "listed twice"),
    ],
)
def test_partition_errors_on_the_cli(text, fragment):
    assert_one_error(run("cut", PAPER, "--part", text), fragment)


def test_checkerboard_on_1d_is_blocks():
    """The 1-D rule: checkerboard:k is blocks:k (every axis of a 1-D grid is its one axis)."""
    arch = spec.load(PAPER)
    for k in (1, 2, 3, 5, 16, 10**30):
        if k < 16:
            a = wd.parse_partition(f"checkerboard:{k}", arch).side_a
            assert a == wd.parse_partition(f"blocks:{k}", arch).side_a
        else:
            with pytest.raises(PartitionError, match="side B is empty"):
                wd.parse_partition(f"checkerboard:{k}", arch)


def test_distinct_masks_keep_distinct_labels():
    m1 = np.zeros(16, dtype=bool)
    m1[:3] = True
    m2 = np.zeros(16, dtype=bool)
    m2[5:9] = True
    p1, p2 = wd.partition_from_mask(m1), wd.partition_from_mask(m2)
    assert p1.label != p2.label
    assert wd.partition_from_mask(m1.copy()).label == p1.label  # same mask, same label
    arch = spec.load(PAPER)
    # bare bool masks (numpy or lists) are accepted wherever partitions are
    assert wd.bounds(arch, m1).partition.side_a == (0, 1, 2)
    assert wd.bounds(arch, m2.tolist()).partition.side_a == (5, 6, 7, 8)
    with pytest.raises(PartitionError, match="expected 16"):
        wd.bounds(arch, np.ones(4, dtype=bool))


@pytest.mark.parametrize(
    "line, fragment",
    [("0 1 0 1", "4 0/1 values"), ("0110", "4 0/1 values"), ("01 10", "bad item")],
)
def test_truncated_zero_one_lines_are_errors(tmp_path, line, fragment):
    parts = tmp_path / "parts.txt"
    parts.write_text("0101010101010101\n" + line + "\n")
    assert_one_error(run("cut", PAPER, "--parts-file", parts), "line 2", fragment)


def test_spaced_zero_one_lines_are_read(tmp_path):
    parts = tmp_path / "parts.txt"
    parts.write_text(" ".join("1" * 8 + "0" * 8) + "\n" + ",".join("10" * 8) + "\n")
    masks, labels = batch.read_parts_file(str(parts), spec.load(PAPER))
    assert masks[0].tolist() == [True] * 8 + [False] * 8
    assert masks[1].tolist() == [True, False] * 8


# -- specs ------------------------------------------------------------------------------------


def test_spec_of_dev_zero_is_refused_fast():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    assert_one_error(run("inspect", "/dev/zero"), "/dev/zero", "at most 16777216 bytes")
    with pytest.raises(PartitionError, match="not a regular file"):
        wd.parse_partition("/dev/zero", spec.load(PAPER))
    assert_one_error(run("cut", PAPER, "--parts-file", "/dev/zero"), "not a regular file")


def test_reads_are_capped(tmp_path, monkeypatch):
    """Spec and text mask/partition files are read up to a cap (one byte past it)."""
    from widthdesign import partitions

    arch = spec.load(PAPER)
    monkeypatch.setattr(spec, "MAX_SPEC_BYTES", 64)
    monkeypatch.setattr(partitions, "MAX_TEXT_BYTES", 64)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 100 + "\n" + Path(PAPER).read_text())
    assert_one_error(run("inspect", big), "at most 64 bytes")
    parts = tmp_path / "parts.txt"
    parts.write_text("0\n" * 40)
    with pytest.raises(PartitionError, match="larger than 64 bytes"):
        batch.read_parts_file(str(parts), arch)
    with pytest.raises(PartitionError, match="larger than 64 bytes"):
        partitions.read_masks(str(parts), (16,))


@pytest.mark.parametrize("depth", [150, 200])
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_deep_trees_up_to_the_limit(tmp_path, fmt, depth):
    path = _deep_spec(tmp_path, fmt, depth)
    arch = spec.load(path)
    assert arch.depth == depth and arch.num_inputs == 1


@pytest.mark.parametrize("depth", [201, 500, 600, 1000, 20000])
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_deep_trees_past_the_limit(tmp_path, fmt, depth):
    path = _deep_spec(tmp_path, fmt, depth)
    assert_one_error(run("inspect", path), "200")
    with pytest.raises(SpecError):
        wd.Architecture(shape=(1,), channels=2, layers=[2] * 300, tree=_nested(300))


def _nested(depth):
    tree = 0
    for _ in range(depth):
        tree = [tree]
    return tree


def _deep_spec(tmp_path, fmt, depth) -> Path:
    tree = "[" * depth + "0" + "]" * depth
    path = tmp_path / f"deep.{fmt}"
    if fmt == "json":
        layers = ",".join(['{"width": 2}'] * depth)
        path.write_text(f'{{"input": {{"channels": 2}}, "tree": {tree}, "layers": [{layers}]}}')
    else:
        path.write_text(
            f"tree = {tree}\n[input]\nchannels = 2\n" + "[[layers]]\nwidth = 2\n" * depth
        )
    return path


def test_json_duplicate_keys_refused(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(
        '{"input": {"channels": 2, "shape": [4], "channels": 3}, '
        '"layers": [{"width": 2, "pool": [2]}, {"width": 2}]}'
    )
    assert_one_error(run("inspect", path), "dup.json", "'channels' appears twice")


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_integer_literals_longer_than_the_limit_refused(tmp_path, fmt):
    """A 100000-digit literal would take minutes to convert; refused while parsing."""
    digits = "1" + "0" * 100000
    path = tmp_path / f"huge.{fmt}"
    if fmt == "toml":
        path.write_text(f"[input]\nshape = [4]\nchannels = {digits}\n[[layers]]\nwidth = 2\n")
    else:
        path.write_text(f'{{"input": {{"shape": [4], "channels": {digits}}}, "layers": [2]}}')
    assert_one_error(run("inspect", path), f"at most {spec.MAX_INT_DIGITS} digits")


def test_dimension_digits_limit_in_the_api():
    with pytest.raises(SpecError, match="4300 digits"):
        wd.Architecture(shape=(4,), channels=10**5000, layers=[wd.Layer(2)])
    wd.Architecture(shape=(4,), channels=10**4299, layers=[wd.Layer(3, 2), wd.Layer(2)])
    big = 10**1000  # exact far past floats (the 4300-digit limit takes seconds, see limits.md)
    arch = wd.Architecture(shape=(4,), channels=big + 1, layers=[wd.Layer(3, 2), wd.Layer(big)])
    assert wd.bounds(arch, "0").upper_bound == 3
    assert wd.bounds(arch, "0,2").upper_bound == 9


def test_toml_syntax_error_names_file_line_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[input]\nshape = [4]\nchannels = = 2\n")
    assert_one_error(run("inspect", path), "bad.toml", "line 3", "column 12")


@settings(max_examples=40)
@given(st.binary(max_size=200))
def test_random_bytes_as_a_spec(tmp_path_factory, data):
    """Any file is a spec or a SpecError (never another exception)."""
    path = tmp_path_factory.mktemp("b") / "x.toml"
    path.write_bytes(data)
    try:
        spec.load(path)
    except SpecError:
        pass


# -- options and output paths -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_time_limit_must_be_finite_and_positive(value):
    result = run(
        "recommend", PAPER, "--budget", "200", "--favor", "left-right", "--time-limit", value
    )
    assert_one_error(result, "--time-limit")


@pytest.mark.parametrize("seeds", ["0", "1001", "1" + "0" * 30])
def test_verify_seeds_bounded(seeds):
    assert_one_error(run("verify", PAPER, "-p", "0", "--seeds", seeds), "--seeds")


def test_verify_refuses_from_sizes_before_any_work(tmp_path):
    p = tiny_spec(tmp_path, 2, [4] * 12, (4096, 4096), [(2, 2)] * 12)
    assert_one_error(run("verify", p, "-p", "left-right"), "M^N")


def test_network_refuses_huge_graphs_from_sizes(tmp_path):
    p = tiny_spec(tmp_path, 2, [4] * 10, (1024, 1024), [(2, 2)] * 10)
    out = tmp_path / "net.json"
    assert_one_error(run("network", p, "-o", out), str(network.MAX_NETWORK_INPUTS))
    assert not out.exists()
    with pytest.raises(WidthDesignError, match="method ortools"):
        wd.bounds(spec.load(p), "left-right", method="ortools")


def _unwritable_paths(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    paths = [blocker / "below", tmp_path / "missing" / "deeper"]
    for pseudo in ("/proc", "/sys"):
        if Path(pseudo).is_dir():
            paths.append(Path(pseudo) / "widthdesign-test")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    if os.geteuid() != 0:  # root writes anywhere: a read-only folder only stops others
        paths.append(ro / "out")
    return paths


def test_network_output_paths_checked(tmp_path):
    for bad in _unwritable_paths(tmp_path):
        result = run("network", GRID, "-o", f"{bad}.json")
        assert_one_error(result, "--out")


def test_report_output_paths_checked(tmp_path):
    for bad in _unwritable_paths(tmp_path):
        if "missing" in str(bad):
            continue  # report folders are created with their parents
        assert_one_error(run("report", GRID, "--out", bad), "--out")


def test_recommend_writes_all_outputs_or_none(tmp_path):
    out = tmp_path / "out.toml"
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right", "--write-spec", out]
    assert_one_error(run(*args, "--report", blocker / "rep"), "--report")
    assert not out.exists()
    assert_one_error(run(*args[:-1], tmp_path / "missing" / "out.toml"), "--write-spec")


def test_restore_undoes_a_written_spec(tmp_path):
    from widthdesign.cli.recommend import _restore, _snapshot

    old = tmp_path / "old.toml"
    old.write_text("before")
    snap = _snapshot(str(old))
    old.write_text("after")
    _restore(str(old), snap)
    assert old.read_text() == "before"
    new = tmp_path / "new.toml"
    snap = _snapshot(str(new))
    new.write_text("after")
    _restore(str(new), snap)
    assert not new.exists()


# -- scale: one partition through the fast path -----------------------------------------------


def test_large_grid_single_partition_fast_path(tmp_path):
    """A 512x512 grid (2^18 inputs): the dp path gives the batch engine's exact values and a
    certificate whose counts multiply to the bound, without materializing node sets."""
    for widths, m in (([4] * 9, 2), ([3, 5, 6, 7, 9, 10, 11, 12, 13], 3)):
        arch = wd.Architecture(
            shape=(512, 512), channels=m, layers=[wd.Layer(w, (2, 2)) for w in widths]
        )
        for part in ("checkerboard", "left-right", "checkerboard:8"):
            b = wd.bounds(arch, part)
            res = batch.bounds_many(arch, b.partition.mask[None])
            assert b.upper_bound == res.upper_bound(0)
            assert b.lower_bound == res.lower_bound(0)
            assert isinstance(b.cut, cuts.TreeCut)
            counts = b.cut.counts(arch.depth)
            assert b.cut.value == math.prod(d**c for d, c in zip(arch.bond_dims(), counts))
            assert b.cut.value == b.upper_bound


def test_tree_cut_dict_matches_the_materialized_cut():
    arch = wd.Architecture(
        shape=(512, 512), channels=3, layers=[wd.Layer(w, (2, 2)) for w in [2, 5, 7] + [4] * 6]
    )
    for part in ("checkerboard:2", "left-right", "random:3"):
        cut = wd.bounds(arch, part).cut
        assert isinstance(cut, cuts.TreeCut)
        assert cut.to_dict() == cuts.Cut.to_dict(cut)  # the base class materializes
        assert cut.value == cuts.Cut(cut.bonds, cut.deltas, cut.side_a).value


def test_json_prints_huge_ints_exactly_and_fast():
    from widthdesign.cli._common import dumps_json

    x = 3**100000 + 1
    text = dumps_json({"a": [x, 2], "b": x - 2, "c": "@@bigint:0@@ stays"})
    import sys

    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        data = json.loads(text)
        assert data == {"a": [x, 2], "b": x - 2, "c": "@@bigint:0@@ stays"}
        assert cuts.int_to_decimal(x) == str(x)
    finally:
        sys.set_int_max_str_digits(old)


# -- messages that say what is wrong (issue 16) -----------------------------------------------


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("command", ["network", "report", "write-spec"])
def test_pseudo_filesystem_message_says_the_folder_exists(tmp_path, command):
    """/proc exists: the message must not say 'No such file or directory' about it."""
    if command == "network":
        args = ["network", GRID, "-o", "/proc/widthdesign-test.json"]
    elif command == "report":
        args = ["report", GRID, "--out", "/proc/widthdesign-test"]
    else:
        args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right"]
        args += ["--write-spec", "/proc/widthdesign-test.toml"]
    result = run(*args)
    assert_one_error(result, "cannot create a file in '/proc'", "does not accept new files")
    assert "No such file or directory" not in result.output


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((16,), "expected [16] or [P, 16]"),
        ((4, 4), "expected [4, 4], [16], [P, 4, 4] or [P, 16]"),
    ],
)
def test_mask_file_shape_message_names_each_shape_once(tmp_path, shape, expected):
    path = tmp_path / "m.npy"
    np.save(path, np.zeros((3, 5), dtype=bool))
    arch = tiny_spec(tmp_path, 2, [2, 2], shape, [(4,) if len(shape) == 1 else (2, 2), None])
    result = run("cut", arch, "--part", path)
    assert_one_error(result, "shape [3, 5]; " + expected)
    assert result.output.strip().endswith(expected)


@pytest.mark.parametrize(
    "field, text, expected",
    [
        ("width", "-4", "layers[0].width = -4: expected a positive integer"),
        ("width", "0", "layers[0].width = 0: expected a positive integer"),
        ("width", "2.5", "layers[0].width = 2.5: expected a positive integer"),
        ("channels", "-1", "input.channels = -1: expected a positive integer (M)"),
        ("classes", "0", "output.classes = 0: expected a positive integer (Y)"),
    ],
)
def test_negative_dimension_message_has_no_digit_limit(tmp_path, field, text, expected):
    """A small bad value is told what a dimension is, not the 4300-digit limit."""
    values = {"width": "2", "channels": "2", "classes": "1", field: text}
    path = tmp_path / "s.toml"
    path.write_text(
        f"[input]\nshape = [4]\nchannels = {values['channels']}\n"
        f"[[layers]]\nwidth = {values['width']}\npool = [2]\n[[layers]]\nwidth = 2\n"
        f"[output]\nclasses = {values['classes']}\n"
    )
    result = run("inspect", path)
    assert_one_error(result, expected)
    assert result.output.strip().endswith(expected) and "digits" not in result.output


@pytest.mark.parametrize("name", ["out.yaml", "out", "out.TOML.bak", "out.txt"])
def test_write_spec_refuses_unknown_extensions(tmp_path, monkeypatch, name):
    """--write-spec out.yaml once wrote TOML under a YAML name; refused before solving."""
    monkeypatch.chdir(tmp_path)
    args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right", "--write-spec", name]
    result = run(*args)
    expected = f"Error: --write-spec = {name!r}: expected a file name ending in .toml or .json"
    assert_one_error(result)
    assert result.output == expected + "\n"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SpecError, match=r"ending in \.toml or \.json"):
        spec.dump(spec.load(PAPER), name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.toml", "OUT.JSON"])
def test_write_spec_accepts_toml_and_json(tmp_path, name):
    out = tmp_path / name
    args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right", "--write-spec", out]
    assert run(*args).exit_code == 0
    assert spec.load(out).has_widths


# -- Ctrl-C -----------------------------------------------------------------------------------


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "where, args",
    [
        ("widthdesign.cuts.bounds", ["cut", PAPER, "--part", "left-right"]),
        ("widthdesign.spec.load", ["inspect", PAPER]),
        (
            "widthdesign.optimize.recommend",
            ["recommend", PAPER, "--budget", "200", "--favor", "left-right"],
        ),
    ],
)
def test_ctrl_c_is_one_error_line_with_exit_130(monkeypatch, where, args):
    module, name = where.rsplit(".", 1)
    import importlib

    monkeypatch.setattr(importlib.import_module(module), name, _interrupt)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 130, result.output
    assert result.output == "Error: interrupted\n"
    assert "Aborted" not in result.output


def test_ctrl_c_while_writing_a_report_leaves_no_file(tmp_path, monkeypatch):
    """Interrupted while the report's files are written: no temporary or half-written file;
    the files already renamed into place are whole (and listed in the report's manifest)."""
    out = tmp_path / "rep"
    real = spec.atomic_write_bytes
    calls = []

    def write(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(path, data)

    from widthdesign.report import page

    monkeypatch.setattr(page, "atomic_write_bytes", write)
    result = CliRunner().invoke(cli, ["report", GRID, "-p", "left-right", "--out", str(out)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (130, "Error: interrupted")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    for p in out.iterdir():
        if p.suffix == ".png":
            assert p.read_bytes()[:4] == b"\x89PNG"


def test_ctrl_c_during_the_report_undoes_the_written_spec(tmp_path, monkeypatch):
    """recommend --write-spec --report: interrupted while writing the report, the new spec
    file is removed again (all outputs or none), and the error is the one line, exit 130."""
    from widthdesign.cli import recommend as cli_recommend

    monkeypatch.setattr(cli_recommend, "write_report_files", _interrupt)
    out = tmp_path / "out.toml"
    args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right", "--sweep", "none"]
    result = CliRunner().invoke(
        cli, [*args, "--write-spec", str(out), "--report", str(tmp_path / "r")]
    )
    assert result.exit_code == 130 and result.stderr.splitlines()[-1] == "Error: interrupted"
    assert not out.exists()


def test_ctrl_c_after_a_progress_line_starts_a_new_line(monkeypatch):
    """cut's progress rewrites one line in place ("\\r", no newline): an interrupt then
    prints its error on a line of its own, not glued to the progress."""
    from widthdesign.cli import _common

    monkeypatch.setattr(_common.Progress, "__init__", _progress_now)
    calls = []

    def bounds(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    import widthdesign.cuts

    real = widthdesign.cuts.bounds
    monkeypatch.setattr(widthdesign.cuts, "bounds", bounds)
    args = ["cut", PAPER, "--part", "left-right", "--part", "even-odd"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 130
    assert result.stderr.endswith("\nError: interrupted\n"), repr(result.stderr)
    assert "\r" in result.stderr  # the progress line was shown


def _progress_now(self, label, total, delay=1.0):
    self.label, self.total, self.delay = label, total, -1.0
    self.start, self.shown = 0.0, False
