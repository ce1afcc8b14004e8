"""Reports: what the figures hand to matplotlib (not pixels), and the files a report writes."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage

import widthdesign as wd
from widthdesign import cuts, optimize, report
from widthdesign.cli import cli

GRID = EXAMPLES / "grid_4x4.toml"
PAPER = EXAMPLES / "paper_1d_n16.toml"
LEVINE = EXAMPLES / "levine_64x64.toml"


def by_gid(fig, gid):
    """The artists of ``fig`` with ``gid``."""
    return [a for a in fig.findobj() if a.get_gid() == gid]


def one(fig, gid):
    found = by_gid(fig, gid)
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def point(xy) -> tuple[float, float]:
    return (round(float(xy[0]), 6), round(float(xy[1]), 6))


def segments(coll: LineCollection) -> set[frozenset]:
    return {frozenset((point(s[0]), point(s[-1]))) for s in coll.get_segments()}


@pytest.fixture(scope="module")
def small_rec():
    """A recommendation on a 1-D N=8 network whose spec has widths (so 'spec' is a baseline)."""
    arch = wd.Architecture(
        shape=(8,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2, 2), wd.Layer(2)], name="n8"
    )
    return optimize.recommend(arch, 40, "left-right", choices=[1, 2, 4])


# -- import hygiene -------------------------------------------------------------------------


def test_import_does_not_load_matplotlib():
    code = (
        "import sys, widthdesign, widthdesign.report, widthdesign.cli; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- network --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, part",
    [
        (GRID, "left-right"),
        (GRID, "checkerboard"),
        (PAPER, "even-odd"),  # input bonds cut: min(M, r0)^(N/2) with M = 2 < r0 = 3
        (PAPER, "random:3"),
        (EXAMPLES / "mirror_tree_n8.json", "0,1"),
    ],
)
def test_network_cut_drawn_is_the_cut(path, part):
    arch = wd.load(path)
    b = wd.bounds(arch, part)
    cut = b.cut
    fig = report.plot_network(b, arch)
    pos = report.network_layout(arch)

    bonds = one(fig, "cut-bonds")
    assert segments(bonds) == {frozenset((point(pos[u]), point(pos[v]))) for u, v, _ in cut.bonds}
    assert len(bonds.get_segments()) == len(cut.bonds)
    deltas = one(fig, "cut-deltas")
    assert sorted(map(point, deltas.get_offsets())) == sorted(point(pos[n]) for n, _ in cut.deltas)
    cut_rgba = to_rgba(report.CUT)
    if cut.bonds:
        assert all(tuple(c) == cut_rgba for c in bonds.get_colors())
    if cut.deltas:
        assert all(tuple(c) == cut_rgba for c in deltas.get_edgecolors())
    # every crossing leg drawn in the cut colour starts at a cut delta and crosses sides
    delta_points = {point(pos[n]) for n, _ in cut.deltas}
    side_a_points = {point(pos[n]) for n in cut.side_a}
    for seg in one(fig, "cut-delta-legs").get_segments():
        a, z = point(seg[0]), point(seg[-1])
        assert a in delta_points
        assert (a in side_a_points) != (z in side_a_points)
    # no grey bond collection holds a cut bond, and none is drawn in the cut colour
    cut_segs = segments(bonds)
    for coll in fig.findobj(LineCollection):
        if str(coll.get_gid()).startswith("bonds-"):
            assert not segments(coll) & cut_segs
            assert all(tuple(c) != cut_rgba for c in coll.get_colors())
    # nodes are coloured by the cut's sides
    g = wd.build_network(arch)
    for kind in ("input", "conv", "delta", "output"):
        for side, colour in (("A", report.SIDE_A), ("B", report.SIDE_B)):
            want = sorted(
                point(pos[v])
                for v, d in g.nodes(data=True)
                if d["kind"] == kind and (v in cut.side_a) == (side == "A")
            )
            found = by_gid(fig, f"nodes-{kind}-{side}")
            got = sorted(point(xy) for c in found for xy in c.get_offsets())
            assert got == want, (kind, side)
            for c in found:
                assert all(tuple(f) == to_rgba(colour) for f in c.get_facecolors())


def test_network_line_width_grows_with_bond_dimension():
    arch = wd.load(PAPER)  # dims (2, 3, 5, 7, 11)
    fig = report.plot_network(wd.bounds(arch, "left-right"), arch)
    widths = [one(fig, f"bonds-{level}").get_linewidths()[0] for level in range(arch.depth + 1)]
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_network_collapsed_for_large_networks():
    arch = wd.load(LEVINE)
    for part in ("left-right", "checkerboard"):
        b = wd.bounds(arch, part)
        fig = report.plot_network(b, arch)
        assert not by_gid(fig, "cut-bonds")  # not drawn node by node
        bars = by_gid(fig, "cut-levels")  # one bar per level, inputs first
        counts = b.cut.counts(arch.depth)
        dims = arch.bond_dims()
        heights = [p.get_width() for p in bars]
        assert heights == pytest.approx([c * math.log2(d) for c, d in zip(counts, dims)])
        assert sum(heights) == pytest.approx(b.log2_upper_bound)
        for patch, c in zip(bars, counts):
            assert (patch.get_facecolor() == to_rgba(report.CUT)) == bool(c)


# -- partition ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arch, part",
    [
        (wd.load(GRID), "checkerboard"),
        (wd.load(GRID), "random:7"),
        (wd.load(PAPER), "blocks:2"),
        (
            wd.Architecture(
                shape=(2, 2, 4), channels=2, layers=[wd.Layer(2, (1, 2, 2)), wd.Layer(2)]
            ),
            "random:1",
        ),
    ],
)
def test_partition_colours_match_mask(arch, part):
    b = wd.bounds(arch, part)
    fig = report.plot_partition(b, arch)
    im = one(fig, "partition")
    assert isinstance(im, AxesImage)
    rgba = im.to_rgba(im.get_array())
    image, index, _ = report._partition_image(b.partition.mask, arch.shape)
    mask = b.partition.mask
    seen = set()
    for (r, c), i in np.ndenumerate(index):
        if i < 0:
            continue  # gap between N-D slices
        seen.add(int(i))
        want = report.SIDE_A if mask[i] else report.SIDE_B
        assert tuple(np.round(rgba[r, c], 4)) == tuple(np.round(to_rgba(want), 4))
    assert seen <= set(range(arch.num_inputs))
    if len(arch.shape) <= 2:
        assert seen == set(range(arch.num_inputs))
    title = fig.axes[0].get_title("center") + fig.axes[0].get_title("left")
    assert cuts.format_int(b.upper_bound, digits=12) in title


def test_partition_marks_cut_input_bonds():
    arch = wd.load(PAPER)
    b = wd.bounds(arch, "even-odd")
    fig = report.plot_partition(b, arch)
    xs = sorted(int(round(x)) for x, _ in one(fig, "cut-inputs").get_offsets())
    assert xs == sorted(u[1] for u, _, _ in b.cut.bonds)


# -- designs --------------------------------------------------------------------------------


def test_width_bars_are_the_widths(small_rec):
    fig = report.plot_widths(small_rec)
    ax = fig.axes[0]
    designs = {"recommended": small_rec.design, **small_rec.baselines}
    assert {"recommended", "uniform", "spec"} <= set(designs)
    found = {c.get_label(): c for c in ax.containers}
    assert set(found) == set(designs)
    for label, d in designs.items():
        assert [p.get_height() for p in found[label].patches] == list(d.widths)
    legend = " ".join(
        t.get_text() for lg in fig.legends + [ax.get_legend()] if lg for t in lg.texts
    )
    for d in designs.values():
        assert f"params = {d.cost}" in legend


def test_interaction_profile_is_log2_bounds():
    arch = wd.load(GRID)
    other = arch.with_widths([4, 2])
    fig = report.plot_interaction_profile({"spec": arch, "wide base": other})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    for line, a in zip(lines, (arch, other)):
        ks = [1, 2]  # up to half the side of a 4x4 grid
        assert list(line.get_xdata()) == ks
        want = [wd.bounds(a, f"checkerboard:{k}").log2_upper_bound for k in ks]
        assert list(line.get_ydata()) == pytest.approx(want)


def test_interaction_profile_matches_single_bounds():
    arch = wd.load(PAPER)
    ks, values, specs = report.interaction_profile(arch)
    assert ks == [1, 2, 4, 8]
    assert specs == ["blocks:1", "blocks:2", "blocks:4", "blocks:8"]
    assert values.tolist() == pytest.approx([wd.bounds(arch, s).log2_upper_bound for s in specs])


def test_interaction_profile_of_a_recommendation(small_rec):
    fig = report.plot_interaction_profile(small_rec)
    labels = [line.get_label().split(" [")[0] for line in fig.axes[0].get_lines()]
    assert labels == ["spec", "recommended", "uniform"]
    rec_line = fig.axes[0].get_lines()[1]
    rec_arch = small_rec.arch.with_widths(small_rec.design.widths)
    want = [wd.bounds(rec_arch, s).log2_upper_bound for _, s in report.interaction_scales(rec_arch)]
    assert list(rec_line.get_ydata()) == pytest.approx(want)


def test_budget_sweep_plots_objectives():
    arch = wd.Architecture(
        shape=(8,), channels=2, layers=[wd.Layer(None, 2)] * 2 + [wd.Layer(None)]
    )
    recs = optimize.budget_sweep(arch, [40, 20, 80], "left-right", choices=[1, 2, 4])
    fig = report.plot_budget_sweep(recs)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["recommended"].get_xdata()) == [20, 40, 80]
    ordered = sorted(recs, key=lambda r: r.budget)
    assert list(lines["recommended"].get_ydata()) == [r.design.objective for r in ordered]
    assert list(lines["uniform"].get_ydata()) == [r.baselines["uniform"].objective for r in ordered]


def test_plot_into_given_axes():
    from matplotlib.figure import Figure

    arch = wd.load(GRID)
    b = wd.bounds(arch, "left-right")
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert report.plot_network(b, arch, ax=axes[0]) is fig
    assert report.plot_partition(b, arch, ax=axes[1]) is fig
    assert by_gid(fig, "cut-deltas") and by_gid(fig, "partition")


# -- report folders -------------------------------------------------------------------------


def no_temp_files(folder):
    return not [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_write_report_api(tmp_path, small_rec):
    out = tmp_path / "rep"
    sweep = [small_rec]
    spec_arch = wd.Architecture(
        shape=(8,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2, 2), wd.Layer(2)], name="n8"
    )
    written = report.write_report(
        out, spec_arch, ["left-right"], recommendation=small_rec, sweep=sweep
    )
    names = {p.name for p in written}
    assert {"index.html", "summary.md", "widths.png", "sweep.png", "interaction.png"} <= names
    assert all(p.exists() and p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    html = (out / "index.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(
        [n for n in names if n.endswith(".png")]
    )
    md = (out / "summary.md").read_text()
    assert "| left-right | recommended |" in md and "Gains" in md
    assert no_temp_files(out)


def test_write_report_failure_leaves_nothing(tmp_path, monkeypatch):
    arch = wd.load(GRID)

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report, "plot_interaction_profile", boom)
    out = tmp_path / "rep"
    with pytest.raises(RuntimeError):
        report.write_report(out, arch, ["left-right"])
    assert not out.exists() or not any(out.iterdir())


def test_write_report_refuses_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(report.ReportError, match=str(tmp_path)):
        report.write_report(tmp_path, wd.load(GRID), ["left-right"])
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def written_files(result):
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_cli_report_default_partitions(tmp_path):
    out = tmp_path / "r"
    result = run("report", GRID, "--out", out)
    assert result.exit_code == 0, result.output
    files = written_files(result)
    names = sorted(p.split("/")[-1] for p in files)
    assert names == sorted(
        [
            f"network-0{i}-{p}.png"
            for i, p in enumerate(["left-right", "top-bottom", "checkerboard"], 1)
        ]
        + [
            f"partition-0{i}-{p}.png"
            for i, p in enumerate(["left-right", "top-bottom", "checkerboard"], 1)
        ]
        + ["interaction.png", "index.html", "summary.md"]
    )
    assert sorted(p.name for p in out.iterdir()) == names
    assert all(
        (out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names if n.endswith(".png")
    )
    assert no_temp_files(out)


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_cli_report_formats(tmp_path, fmt, magic):
    out = tmp_path / fmt
    result = run("report", PAPER, "-p", "left-right", "--out", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    figs = [p for p in written_files(result) if p.endswith(f".{fmt}")]
    assert len(figs) == 3  # network, partition, interaction profile
    for p in figs:
        assert (out / p.split("/")[-1]).read_bytes()[:5].startswith(magic[:4])
    html = (out / "index.html").read_text()
    if fmt == "svg":
        assert html.count("<svg") == 3 and "<img" not in html
    else:
        assert html.count("data:image/png;base64,") == 3 and ".pdf" in html


def test_cli_report_with_budget(tmp_path):
    out = tmp_path / "b"
    spec_file = tmp_path / "n8.toml"
    spec_file.write_text(
        "[input]\nshape = [8]\nchannels = 2\n[[layers]]\npool = [2]\n[[layers]]\npool = [2]\n"
        "[[layers]]\n[output]\nclasses = 1\n"
    )
    result = run(
        "report",
        spec_file,
        "--budget",
        40,
        "--favor",
        "left-right",
        "--choices",
        "1,2,4",
        "--sweep",
        "20,40,80",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    names = {p.split("/")[-1] for p in written_files(result)}
    assert {"widths.png", "sweep.png", "interaction.png", "index.html", "summary.md"} <= names
    assert "network-01-left-right.png" in names and "partition-02-even-odd.png" in names
    assert no_temp_files(out)


def test_cli_report_refuses_non_empty_folder_without_force(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "old.txt").write_text("x")
    result = run("report", GRID, "-p", "left-right", "--out", out)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and str(out) in lines[0]
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    result = run("report", GRID, "-p", "left-right", "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and (out / "old.txt").exists()
    assert no_temp_files(out)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--favor", "global"], "--budget"),
        (["--budget", "100"], "--favor"),
        (["--format", "gif"], "gif"),
    ],
)
def test_cli_report_usage_errors(tmp_path, args, needle):
    result = run("report", GRID, "--out", tmp_path / "x", *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0]
    assert not (tmp_path / "x").exists()
