"""Scriptable output of the CLI: one record format for --json (an array) and --jsonl (lines),
with and without --parts-file; the wording of inspect and verify; --write-spec's name."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

import widthdesign as wd
from widthdesign.cli import cli
from widthdesign.cli._common import RECORD_KEYS

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
GRID = str(EXAMPLES / "grid_4x4.toml")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def parts_txt(tmp_path):
    path = tmp_path / "parts.txt"
    path.write_text("left-right\n1010101010101010\ncheckerboard\n")
    return path


def test_json_is_an_array_and_jsonl_lines_for_part_and_parts_file(parts_txt):
    for args in (
        ["-p", "left-right", "-p", "0,2,4,6,8,10,12,14", "-p", "checkerboard"],
        ["--parts-file", parts_txt],
    ):
        array = run("cut", GRID, *args, "--json")
        lines = run("cut", GRID, *args, "--jsonl")
        assert array.exit_code == lines.exit_code == 0, array.output + lines.output
        data = json.loads(array.output)
        assert isinstance(data, list) and len(data) == 3
        per_line = [json.loads(x) for x in lines.output.splitlines()]
        assert per_line == data
        for i, rec in enumerate(data):
            assert tuple(rec) == RECORD_KEYS  # the same keys, in the same order, everywhere
            assert rec["index"] == i and isinstance(rec["partition"], str)


def test_part_and_parts_file_agree_on_the_bounds(parts_txt):
    single = json.loads(run("cut", GRID, "-p", "left-right", "-p", "checkerboard", "--json").output)
    batch = json.loads(
        run("cut", GRID, "--parts-file", parts_txt, "--json", "--values", "exact").output
    )
    arch = wd.load(GRID)
    for rec in single + batch:
        label = rec["partition"]
        mask = "1010101010101010" if label == "row 1" else label
        b = wd.bounds(arch, np.array([c == "1" for c in mask]) if label == "row 1" else mask)
        assert (rec["upper_bound"], rec["lower_bound"], rec["exact"]) == (
            b.upper_bound,
            b.lower_bound,
            b.exact,
        )
        assert rec["log2_upper_bound"] == round(b.log2_upper_bound, 6)
    assert single[0]["cut"] is not None and batch[0]["cut"] is None
    assert [r["partition"] for r in batch] == ["left-right", "row 1", "checkerboard"]


def test_json_and_jsonl_together_is_one_error_line():
    result = CliRunner().invoke(cli, ["cut", GRID, "-p", "left-right", "--json", "--jsonl"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --json and --jsonl: give one or the other, not both"
    ]


def test_inspect_says_class_for_one(tmp_path):
    one = tmp_path / "one.toml"
    one.write_text(
        "[input]\nshape = [4]\nchannels = 2\n[[layers]]\nwidth = 2\npool = [2]\n"
        "[[layers]]\nwidth = 2\n"
    )
    assert (
        "Y=1 class" in run("inspect", one).output
        and "Y=1 classes" not in run("inspect", one).output
    )
    assert "Y=10 classes" in run("inspect", GRID).output


def test_verify_explains_its_columns():
    result = run("verify", PAPER, "-p", "left-right", "-p", "0,1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "bounds meet" in lines[1] and " exact " not in lines[1]
    assert lines[-2].startswith("rank: exact rank of random weights (max over 3 draws); ")
    assert lines[-1] == "rank = upper (2 of 2 here): the min cut is reached by random weights"
    data = json.loads(run("verify", PAPER, "-p", "left-right", "--json").output)
    assert tuple(data[0])[: len(RECORD_KEYS)] == RECORD_KEYS and data[0]["rank"] == 7


def test_write_spec_is_named_after_the_recommendation(tmp_path):
    out = tmp_path / "rec.toml"
    result = run(
        "recommend",
        PAPER,
        "--budget",
        200,
        "--favor",
        "left-right=2",
        "--favor",
        "even-odd",
        "--choices",
        "1,2,4",
        "--write-spec",
        out,
    )
    assert result.exit_code == 0, result.output
    arch = wd.load(out)
    assert arch.name == (
        "paper 1-D N=16, recommended widths for left-right=2, even-odd (params budget 200)"
    )
