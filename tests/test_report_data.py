"""``report --data``: the data profile in a report, checked against a brute-force mass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner
from conftest import EXAMPLES
from test_data import brute_mass

import widthdesign as wd
from widthdesign.cli import cli

PAPER = str(EXAMPLES / "paper_1d_n16.toml")
PAIRS = str(EXAMPLES / "mirror_pairs_n16.csv")


def _table(summary: str, title: str) -> list[list[str]]:
    """The rows of one markdown table of summary.md (cells unescaped)."""
    block = summary.split(f"## {title}\n\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()[2:]  # header and rule
    return [[c.strip().replace("\\|", "|") for c in ln.strip("|").split(" | ")] for ln in lines]


def test_report_with_data_has_the_profile_figure_and_table(tmp_path):
    out = tmp_path / "rep"
    res = CliRunner().invoke(cli, ["report", PAPER, "--data", PAIRS, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "data-profile.png").stat().st_size > 1000
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "](data-profile.png)" in summary
    assert "| layer | block | nodes | crossing | mean \\|corr\\| |" in summary
    rows = _table(summary, "Data profile (crossing |corr| mass per layer)")
    arch = wd.load(PAPER)
    x = np.loadtxt(PAIRS, delimiter=",", skiprows=1)
    blocks = [2, 4, 8]  # paper_1d_n16: windows of 2, the top layer global
    assert [int(r[1]) for r in rows] == blocks
    for row, size in zip(rows, blocks):
        # brute force: every window's block of contiguous inputs against the rest
        mass = sum(brute_mass(x, range(s, s + size)) for s in range(0, 16, size))
        assert row[3] == f"{mass:.1f}"
        bound = wd.bounds(arch, ",".join(map(str, range(size)))).upper_bound
        assert float(row[7]) == round(float(np.log2(bound)), 2)


def test_report_with_data_and_budget_profiles_the_recommended_design(tmp_path):
    out = tmp_path / "rep"
    args = ["report", PAPER, "--data", PAIRS, "--budget", "300", "--favor", "left-right"]
    res = CliRunner().invoke(cli, [*args, "--sweep", "none", "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = (out / "summary.md").read_text(encoding="utf-8")
    rec = wd.recommend(wd.load(PAPER), 300, ["left-right"])
    top = _table(summary, "Data profile (crossing |corr| mass per layer)")[-1]
    block = ",".join(map(str, range(8)))
    assert float(top[7]) == round(float(np.log2(wd.bounds(rec.arch, block).upper_bound)), 2)


def test_report_with_bad_data_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3\n")
    out = tmp_path / "rep"
    res = CliRunner().invoke(cli, ["report", PAPER, "--data", str(bad), "--out", str(out)])
    assert res.exit_code == 1
    assert (
        res.output == f"Error: data = {bad}: expected rows of equal length (row 2 has 1, not 2)\n"
    )
    assert not Path(out).exists()
