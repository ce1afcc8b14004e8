"""The command line: exact JSON, tables, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from widthdesign.cli import cli

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
GRID = str(EXAMPLES / "grid_4x4.toml")


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_cut_json_closed_forms():
    """Widths (3, 5, 7, 11), M = 2, N = 16: left-right = min(11, 7, 5^2, 3^4, 2^8) = 7 and
    even-odd = min(2, 3)^8 = 256."""
    result = run("cut", PAPER, "--part", "left-right", "--part", "even-odd", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["partition"] for d in data] == ["left-right", "even-odd"]
    lr, eo = data
    assert lr["upper_bound"] == 7 and lr["lower_bound"] == 4 and lr["exact"] is False
    # one layer-2 delta (r_2 = 7) cut: either of the two windows of that level will do
    assert lr["cut"]["bonds"] == []
    assert lr["cut"]["deltas"] in ([["delta:2:0", 7]], [["delta:2:1", 7]])
    assert eo["upper_bound"] == eo["lower_bound"] == 256 and eo["exact"] is True
    assert eo["log2_upper_bound"] == 8.0
    assert len(eo["cut"]["bonds"]) == 8 and eo["cut"]["deltas"] == []
    assert set(lr) >= {
        "partition",
        "upper_bound",
        "lower_bound",
        "exact",
        "log2_upper_bound",
        "cut",
    }


def test_cut_table():
    result = run("cut", PAPER, "-p", "left-right", "-p", "blocks:2")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "paper 1-D N=16: M=2, widths [3, 5, 7, 11]"
    assert lines[1].split() == ["partition", "upper", "lower", "exact", "log2", "upper", "cut"]
    assert lines[3].split() == ["left-right", "7", "4", "no", "2.807", "r2"]
    assert lines[4].split() == ["blocks:2", "81", "16", "no", "6.340", "r0^4"]


def test_cut_huge_values_are_exact_in_json():
    result = run("cut", str(EXAMPLES / "levine_64x64.toml"), "-p", "checkerboard", "--json")
    data = json.loads(result.output)
    assert data[0]["upper_bound"] == 64**1024
    table = run("cut", str(EXAMPLES / "levine_64x64.toml"), "-p", "checkerboard").output
    assert "2^6144" in table


@pytest.mark.parametrize("method", ["dp", "ortools", "networkx"])
def test_cut_methods(method):
    result = run("cut", GRID, "-p", "checkerboard", "--method", method, "--json")
    assert json.loads(result.output)[0]["upper_bound"] == 16  # min(r_0, M^2)^(N/4) = 2^4


def test_verify_json():
    result = run("verify", PAPER, "-p", "left-right", "-p", "0,1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # 0,1 is one window: min(r_0, M^2) = 3
    assert [(d["partition"], d["rank"], d["upper_bound"]) for d in data] == [
        ("left-right", 7, 7),
        ("0,1", 3, 3),
    ]


def test_verify_shared_weights(tmp_path):
    """THEORY.md: N=8, windows 2, M=2, widths (4,4,4), A={0,1}: shared rank 3 < cut 4."""
    spec = tmp_path / "shared.toml"
    spec.write_text(
        "[input]\nshape = [8]\nchannels = 2\n"
        + "[[layers]]\nwidth = 4\npool = [2]\n" * 2
        + "[[layers]]\nwidth = 4\n"
    )
    shared = json.loads(run("verify", str(spec), "-p", "0,1", "--shared", "--json").output)
    assert (shared[0]["rank"], shared[0]["upper_bound"], shared[0]["shared"]) == (3, 4, True)
    plain = json.loads(run("verify", str(spec), "-p", "0,1", "--json").output)
    assert plain[0]["rank"] == 4


def test_inspect_json_and_table():
    data = json.loads(run("inspect", str(EXAMPLES / "levine_64x64.toml"), "--json").output)
    assert data["costs"] == {"params": 8736, "params-unshared": 7414944, "macs": 7414944}
    assert [lv["width"] for lv in data["layers"]] == [64, 64, 32, 32, 16, 16]
    assert [lv["positions"] for lv in data["layers"]] == [4096, 1024, 256, 64, 16, 4]
    text = run("inspect", GRID).output
    assert "costs: params = 52, params-unshared = 136, macs = 136" in text


def test_help_has_examples():
    for cmd in ("cut", "verify", "inspect"):
        out = run(cmd, "--help").output
        assert "Example:" in out and f"widthdesign {cmd}" in out


BAD = [
    (
        ["cut", "nope.toml", "-p", "left-right"],
        "Error: spec = 'nope.toml': expected a readable TOML or JSON file",
    ),
    (
        ["cut", PAPER, "-p", "0,99"],
        "Error: Partition '0,99': index 99 out of range; expected 0..15",
    ),
    (["cut", PAPER, "-p", "0-15"], "Error: Partition '0-15': side B is empty"),
    (["cut", PAPER, "-p", "sideways"], "Error: Partition 'sideways': unknown"),
    (["cut", PAPER], "Error: --part: none given"),
    (["cut", PAPER, "-p", "0", "--method", "magic"], "Error: Invalid value for '--method'"),
    (
        ["verify", str(EXAMPLES / "levine_64x64.toml"), "-p", "0"],
        "Error: verify needs M^N <= 4194304",
    ),
    (["verify", PAPER, "-p", "0", "--seeds", "0"], "Error: Invalid value for '--seeds'"),
    (["cut", PAPER, "-p", "top-bottom"], "Error: Partition 'top-bottom': needs a grid of rank 2"),
]


@pytest.mark.parametrize("args, start", BAD)
def test_bad_input_gives_one_error_line_and_exit_1(args, start):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), lines
    assert "Traceback" not in result.output


def test_bad_spec_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[input]\nshape = [6]\nchannels = 2\n[[layers]]\nwidth = 2\npool = [4]\n")
    result = CliRunner().invoke(cli, ["inspect", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: layers[0].pool = [4]: expected a window that divides the grid [6]"
    )


def test_network_export(tmp_path):
    out = tmp_path / "g.graphml"
    result = run("network", GRID, "-o", str(out))
    assert result.exit_code == 0
    assert result.output == f"wrote {out} (42 nodes, 41 bonds)\n"
    again = CliRunner().invoke(cli, ["network", GRID, "-o", str(out)])
    assert again.exit_code == 1 and "file exists" in again.stderr
    bad = CliRunner().invoke(cli, ["network", GRID, "-o", str(tmp_path / "g.png")])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: --out = ")
    assert run("network", GRID, "-o", str(tmp_path / "g.json")).exit_code == 0


def test_recommend_report_writes_files_and_keeps_json_clean(tmp_path):
    out = tmp_path / "rep"
    args = ["recommend", PAPER, "--budget", "200", "--favor", "left-right"]
    args += ["--choices", "1,2,4,8", "--report", str(out), "--sweep", "100,200", "--json"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # file names went to stderr
    assert data["optimal"] is True and data["cost"] <= 200
    names = sorted(p.name for p in out.iterdir())
    assert {"index.html", "summary.md", "widths.png", "sweep.png", "interaction.png"} <= set(names)
    assert not [n for n in names if n.endswith(".tmp")]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: report folder") and again.stdout == ""
    assert run(*args, "--force").exit_code == 0
