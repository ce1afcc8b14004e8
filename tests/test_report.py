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


def test_baselines_below_the_floors_are_marked_in_the_figures():
    """The spec's widths (64, 64, 32, 32, 16, 16) score F above the proved optimum, but lie
    below the floor of 19: the widths and profile figures say so beside their numbers."""
    rec = wd.recommend(wd.load(LEVINE), 8736, "local")
    assert rec.baseline_misses["spec"] and not rec.baseline_misses["uniform"]
    for plot in (report.plot_widths, report.plot_interaction_profile):
        fig = plot(rec)
        texts = [t.get_text() for lg in fig.legends for t in lg.texts]
        marked = [t for t in texts if "not searched: below the floors" in t]
        assert any(t.startswith("spec") for t in marked), texts
        assert not any(t.startswith(("uniform", "recommended")) for t in marked), texts
        import matplotlib.pyplot as plt

        plt.close(fig)


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
    """With a recommendation: the scores of every design on the profile partitions, exactly
    the recommendation's numbers (scored against the same best values)."""
    fig = report.plot_interaction_profile(small_rec)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    labels = [line.get_label().split(" [")[0] for line in lines]
    assert labels == ["spec", "recommended", "uniform", "wide-base", "wide-tip"]
    designs = {"recommended": small_rec.design, **small_rec.baselines}
    names = optimize.profile_partitions(small_rec.arch)
    assert [s.partition for s in small_rec.design.profile] == names
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [n.split(":")[1] if ":" in n else n for n in names]
    for line, label in zip(lines, labels):
        d = designs[label]
        assert list(line.get_xdata()) == list(range(len(names)))
        assert list(line.get_ydata()) == [s.score for s in d.profile]
        assert f"breadth {100 * d.breadth:.1f} %" in line.get_label()
    # the recommended scores are the bounds over the best values
    rec_arch = small_rec.arch.with_widths(small_rec.design.widths)
    for s in small_rec.design.profile:
        assert s.score == pytest.approx(wd.bounds(rec_arch, s.partition).log2_upper_bound
                                        / s.best_log2_upper)  # fmt: skip
    assert "%" in ax.get_ylabel() and ax.get_ylim()[0] == 0


def test_interaction_profile_without_a_profile_is_in_bits():
    """A recommendation-like object without profile scores falls back to bits."""
    from types import SimpleNamespace as NS

    arch = wd.load(GRID)
    rec = NS(arch=arch, design=NS(widths=(4, 2), profile=()), baselines={})
    fig = report.plot_interaction_profile(rec)
    (line,) = fig.axes[0].get_lines()
    want = [wd.bounds(arch.with_widths([4, 2]), f"checkerboard:{k}").log2_upper_bound
            for k in (1, 2)]  # fmt: skip
    assert list(line.get_ydata()) == pytest.approx(want)
    assert "bits" in fig.axes[0].get_ylabel()


@pytest.fixture(scope="module")
def sweep_recs():
    arch = wd.Architecture(
        shape=(8,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2, 2), wd.Layer(2)], name="n8"
    )
    favor = ["left-right", "even-odd"]
    return optimize.budget_sweep(arch, [40, 20, 80], favor, choices=[1, 2, 4], min_width=1)


def test_budget_sweep_plots_log2_bounds(sweep_recs):
    """Bits of every favored partition per budget (F is normalized per budget), one panel
    per partition in a new figure."""
    fig = report.plot_budget_sweep(sweep_recs)
    ordered = sorted(sweep_recs, key=lambda r: r.budget)
    names = [s.partition for s in ordered[0].design.scores]
    lines = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    assert len(fig.axes) == len(names)
    for j, name in enumerate(names):
        rec_line, uni_line = lines[f"recommended: {name}"], lines[f"uniform: {name}"]
        assert list(rec_line.get_xdata()) == [20, 40, 80]
        assert list(rec_line.get_ydata()) == [r.design.scores[j].log2_upper_bound for r in ordered]
        want = [r.baselines["uniform"].scores[j].log2_upper_bound for r in ordered]
        assert list(uni_line.get_ydata()) == want
    assert all("bits" in ax.get_ylabel() for ax in fig.axes)
    # the spec's bounds at its own cost
    spec = ordered[0].baselines["spec"]
    stars = [tuple(c.get_offsets()[0]) for ax in fig.axes for c in ax.collections]
    assert stars == [(spec.cost, s.log2_upper_bound) for s in spec.scores]
    texts = " ".join(t.get_text() for lg in fig.legends for t in lg.texts).replace("\n", " ")
    assert "not F" in texts and "candidate widths {1, 2, 4}" in texts


def test_budget_sweep_in_one_axes_merges_equal_curves():
    from matplotlib.figure import Figure

    arch = wd.load(GRID).with_widths([2, 2])
    recs = optimize.budget_sweep(arch, [400, 1600], "global", choices=[2, 4, 8, 16, 32])
    ax = Figure().add_subplot()
    report.plot_budget_sweep(recs, ax=ax)
    labels = [line.get_label() for line in ax.get_lines()]
    # left-right and top-bottom have equal bounds on a square grid: one curve each design
    assert labels == ["recommended: left-right = top-bottom", "uniform: left-right = top-bottom"]
    assert list(ax.get_lines()[0].get_ydata()) == [
        r.design.scores[1].log2_upper_bound for r in recs
    ]


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
    """No temporary file (``.NAME.XXXX.tmp``) or other hidden file but the report's manifest."""
    hidden = [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    return [p.name for p in hidden] in ([], [report.MANIFEST])


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
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, report.MANIFEST])
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
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, report.MANIFEST])
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


# -- cut map --------------------------------------------------------------------------------


def unit_edges(segs) -> set[tuple]:
    """Unit cell edges covered by axis-parallel segments (merged runs split back)."""
    out = set()
    for (x0, y0), (x1, y1) in segs:
        if x0 == x1:
            for y in range(round(min(y0, y1) + 0.5), round(max(y0, y1) + 0.5)):
                out.add(("v", round(x0 + 0.5), y))
        else:
            for x in range(round(min(x0, x1) + 0.5), round(max(x0, x1) + 0.5)):
                out.add(("h", round(y0 + 0.5), x))
    return out


def inputs_under(g, delta) -> set[int]:
    """Oracle: the inputs below a delta tensor, from the network graph (a tree): the inputs
    left with it when the bond to its parent (the node one level up) is removed."""
    import networkx as nx

    level = delta[1]
    up = [v for v in g.neighbors(delta) if v[0] == "output" or (v[0] == "conv" and v[1] > level)]
    h = g.copy()
    h.remove_edge(delta, up[0])
    return {v[1] for v in nx.node_connected_component(h, delta) if v[0] == "input"}


def expected_outline(index, windows: list[set[int]]) -> set[tuple]:
    """Unit edges, on the image of input indices ``index`` (-1: gap), of every window."""
    rows, cols = index.shape
    edges = set()
    for cells in windows:
        inside = np.isin(index, list(cells))
        for r in range(rows):
            for c in range(cols + 1):
                left = c > 0 and inside[r, c - 1]
                right = c < cols and inside[r, c]
                if left != right:
                    edges.add(("v", c, r))
        for r in range(rows + 1):
            for c in range(cols):
                up = r > 0 and inside[r - 1, c]
                down = r < rows and inside[r, c]
                if up != down:
                    edges.add(("h", r, c))
    return edges


CUTMAP_CASES = [
    (wd.load(GRID), "checkerboard"),
    (wd.load(GRID), "left-right"),
    (wd.load(PAPER), "even-odd"),
    (wd.load(PAPER), "blocks:4"),
    (wd.load(PAPER), "random:5"),
    (wd.load(LEVINE), "checkerboard:8"),
    (wd.load(EXAMPLES / "mirror_1d_n16.toml"), "left-right"),
    (wd.load(EXAMPLES / "mirror_tree_n8.json"), "0,1,2,3"),
    (
        wd.Architecture(shape=(2, 2, 4), channels=2, layers=[wd.Layer(2, (1, 2, 2)), wd.Layer(3)]),
        "random:1",
    ),
]


@pytest.mark.parametrize("arch, part", CUTMAP_CASES)
def test_cut_map_outlines_the_cut_windows(arch, part):
    """Outlined windows == Cut.deltas (per level), crosses == cut input bonds, fill == mask."""
    b = wd.bounds(arch, part)
    cut = b.cut
    fig = report.plot_cut_map(b, arch)
    image, index, _ = report._partition_image(b.partition.mask, arch.shape)
    g = wd.build_network(arch)
    levels = {node[1] for node, _ in cut.deltas}
    drawn = {
        int(a.get_gid().split("-")[-1])
        for a in fig.findobj()
        if str(a.get_gid()).startswith("cut-windows-")
    }
    assert drawn == levels
    for level in levels:
        windows = [inputs_under(g, node) for node, _ in cut.deltas if node[1] == level]
        coll = one(fig, f"cut-windows-{level}")
        legend = " ".join(t.get_text() for lg in fig.legends for t in lg.texts)
        if "outline of their union" in legend and f"layer {level} windows cut" in legend:
            windows = [set().union(*windows)]
        seen = set(index[index >= 0].tolist())
        if len(arch.shape) <= 2:  # N-D shows a few slices only
            assert expected_outline(index, windows) == unit_edges(coll.get_segments())
        else:
            shown = [w & seen for w in windows]
            assert expected_outline(index, [w for w in shown if w]) == unit_edges(
                coll.get_segments()
            )
    crosses = by_gid(fig, "cut-inputs")
    want = sorted(u[1] for u, _, _ in cut.bonds)
    if want:
        got = sorted(int(index[int(round(y)), int(round(x))]) for x, y in crosses[0].get_offsets())
        assert got == want
    else:
        assert not crosses
    im = one(fig, "cutmap")
    rgba = im.to_rgba(im.get_array())
    for (r, c), i in np.ndenumerate(index):
        if i >= 0:
            want_c = report.cutmap.TINT_A if b.partition.mask[i] else report.cutmap.TINT_B
            assert tuple(np.round(rgba[r, c], 4)) == tuple(np.round(to_rgba(want_c), 4))


def test_cut_map_legend_names_every_line():
    arch = wd.load(LEVINE)
    b = wd.bounds(arch, "checkerboard:8")
    fig = report.plot_cut_map(b, arch)
    texts = [t.get_text() for lg in fig.legends for t in lg.texts]
    assert any("layer 3 windows cut: 16 of 16 (256 inputs each)" in t for t in texts)
    lines = [a for a in fig.findobj(LineCollection) if str(a.get_gid()).startswith("cut-windows")]
    assert len(texts) == 2 + len(lines)  # the two sides, then one entry per outlined level


def test_cut_map_large_grid_outlines_the_union():
    """256x256 with 2x2 windows: too small to outline one by one, so their union is."""
    arch = wd.Architecture(
        shape=(256, 256),
        channels=2,
        layers=[wd.Layer(2, (2, 2))] + [wd.Layer(4, (4, 4))] * 3 + [wd.Layer(4)],
    )
    mask = np.zeros((256, 256), bool)
    mask[:2, :2] = True  # one corner window on side A: the cut takes its delta or its inputs
    b = wd.bounds(arch, mask.ravel())
    fig = report.plot_cut_map(b, arch)
    assert b.cut.counts(arch.depth) == (0, 1, 0, 0, 0, 0)
    texts = " ".join(t.get_text() for lg in fig.legends for t in lg.texts)
    assert "layer 0 windows cut: 1 of 16384 (4 inputs each)" in texts
    assert "outline of their union" in texts
    assert unit_edges(one(fig, "cut-windows-0").get_segments()) == expected_outline(
        np.arange(256 * 256).reshape(256, 256), [{0, 1, 256, 257}]
    )


def test_partition_window_lines_are_in_the_legend():
    arch = wd.load(LEVINE)  # white lines every 8 cells: the layer-2 windows (8x8 inputs)
    fig = report.plot_partition(wd.bounds(arch, "left-right"), arch)
    levels = {a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith("windows-")}
    texts = " ".join(t.get_text() for lg in fig.legends for t in lg.texts)
    assert levels  # some are drawn, and each drawn level is named with its window size
    for gid in levels:
        level = int(gid.split("-")[1])
        side = 2 ** (level + 1)
        assert f"pooling windows of layer {level} ({side}x{side} inputs)" in texts


def test_interaction_profile_equal_designs_stay_visible():
    arch = wd.load(GRID)
    fig = report.plot_interaction_profile({"spec": arch, "copy": arch.with_widths(arch.widths)})
    first, second = fig.axes[0].get_lines()
    assert list(first.get_ydata()) == list(second.get_ydata())
    assert second.get_label().endswith("(= spec)") and "(=" not in first.get_label()
    assert second.get_markersize() > first.get_markersize()  # hollow, larger: both seen
    assert second.get_markerfacecolor() == "none"
    assert (
        "bits" in fig.axes[0].get_ylabel()
        and "log2 upper bound (log" not in fig.axes[0].get_ylabel()
    )


def test_y_scale_convention_is_shared():
    """Linear from 0 below a factor of 16 between values, log2 from there, in every figure."""
    from matplotlib.figure import Figure

    from widthdesign.report._common import LOG_SPAN, _y_scale

    ax = Figure().add_subplot()
    assert not _y_scale(ax, [1.0, LOG_SPAN - 1.0], "x") and ax.get_ylim()[0] == 0
    ax = Figure().add_subplot()
    assert _y_scale(ax, [1.0, float(LOG_SPAN)], "x") and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "x (log scale)"
    arch = wd.load(LEVINE)  # 6144 bits for checkerboard next to 5 for blocks: log axis
    prof = report.plot_interaction_profile(arch).axes[0]
    assert prof.get_yscale() == "log"


def test_widths_and_sweep_say_what_the_baselines_are(small_rec):
    fig = report.plot_widths(small_rec)
    texts = " ".join(
        t.get_text() for lg in fig.legends + [fig.axes[0].get_legend()] if lg for t in lg.texts
    ).replace("\n", " ")  # the note is wrapped
    assert "uniform = the best equal-width design within the budget" in texts
    assert "spec = the spec's own widths" in texts
    assert "wide-base / wide-tip = 4r, 2r, r by thirds of the depth" in texts
    assert "candidate widths {2, 4}" in texts  # which candidates were searched (min width 2)
    fig = report.plot_budget_sweep([small_rec])
    texts = " ".join(t.get_text() for lg in fig.legends for t in lg.texts).replace("\n", " ")
    assert "uniform = the best equal-width design" in texts


def test_candidates_are_summarized():
    from widthdesign.report._common import _cands_text

    assert _cands_text([list(range(8, 513, 8))] * 6) == "8..512 step 8"
    default = [2**k for k in range(1, 11)]
    assert _cands_text([default] * 5 + [default[3:]]) == (
        "powers of two 2..1024, layer 5: powers of two 16..1024"
    )
    assert _cands_text([[2, 7, 16]] * 3) == "{2, 7, 16}"


def test_report_tables_show_scores_as_percentages(tmp_path):
    arch = wd.load(PAPER)
    powers = [2**k for k in range(11)]  # the candidates the text below describes
    rec = optimize.recommend(arch, 200, ["left-right", "even-odd"], min_width=2, choices=powers)
    report.write_report(tmp_path / "r", arch, ["left-right"], recommendation=rec)
    md = (tmp_path / "r" / "summary.md").read_text()
    pct = lambda x: f"{100 * x:.1f} %"  # noqa: E731
    assert f"| slack | {pct(rec.slack)} |" in md and "| max ratio | 2 |" in md
    assert f"| floors | {', '.join(rec.floors)} |" in md
    assert "| candidate widths | powers of two 2..1024 |" in md
    assert f"| best objective F* | {pct(rec.best_objective)} |" in md
    for stage in rec.stages:
        assert f"| stage {stage} | proved: " in md
    designs = {"recommended": rec.design, **rec.baselines}
    for label, d in designs.items():
        row = f"| {label} | {list(d.widths)} | {d.cost} | {pct(d.objective)} | {pct(d.breadth)} |"
        assert row in md
    for j, s in enumerate(rec.design.scores):
        cells = [f"{cuts.format_int(d.scores[j].upper_bound, digits=12)}, "
                 f"{pct(d.scores[j].score)}" for d in designs.values()]  # fmt: skip
        row = f"| {s.partition} | {s.weight:g} | {s.best_log2_upper:.4g} | " + " | ".join(cells)
        assert row + " |" in md
    for j, s in enumerate(rec.design.profile):
        cells = [f"{pct(d.profile[j].score)}" for d in designs.values()]
        assert all(c in md for c in cells) and f"| {s.partition} | {s.best_log2_upper:.4g} |" in md
    gains = rec.gains("uniform")
    assert f"{100 * gains['left-right']:+.1f}" in md


def test_collapsed_axis_ends_near_the_data():
    arch = wd.load(LEVINE)
    b = wd.bounds(arch, "checkerboard")
    ax = report.plot_network(b, arch).axes[0]
    assert ax.get_xlim()[1] <= 1.15 * b.log2_upper_bound


def test_report_of_a_large_grid_has_cut_maps(tmp_path):
    arch = wd.load(LEVINE)
    written = report.write_report(tmp_path / "r", arch, ["checkerboard:8"])
    names = sorted(p.name for p in written)
    # the collapsed network (a bar per level, mostly one bar) is left out: the cut map's
    # legend gives the same counts and bits per level
    assert names == ["cutmap-01-checkerboard-8.png", "index.html", "interaction.png", "summary.md"]
    assert not [n for n in names if n.startswith(("partition-", "network-"))]
    md = (tmp_path / "r" / "summary.md").read_text()
    assert (
        "Cut map for checkerboard:8" in md
        and "the legend counts them, and the bits they take, per level" in md
    )


def test_interaction_profile_marks_zero_bits_on_a_log_axis():
    """Width 1 at the top makes long-range bounds 1 (0 bits): shown on the axis floor."""
    arch = wd.load(LEVINE)
    thin = arch.with_widths([128, 32, 1, 1, 1, 1])
    fig = report.plot_interaction_profile({"spec": arch, "thin": thin})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    ks, values, _ = report.interaction_profile(thin)
    want = [k for k, v in zip(ks, values) if v <= 0]
    assert want  # the case this test is about
    marks = one(fig, "zero-bits")
    assert [round(x) for x, _ in marks.get_offsets()] == want
    assert all(y == pytest.approx(ax.get_ylim()[0]) for _, y in marks.get_offsets())
    assert "0 bits (bound 1), below the axis" in [t.get_text() for t in ax.get_legend().texts]


def test_width_bars_stand_on_a_log_axis():
    """Widths 2 next to 256 get a log axis; the bars (from 0) still have their full height."""
    from types import SimpleNamespace as NS

    rec = NS(
        design=NS(widths=(2, 256), cost=10, objective=1.0),
        baselines={"uniform": NS(widths=(16, 16), cost=9, objective=0.5)},
    )
    fig = report.plot_widths(rec)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    bottom = ax.get_window_extent().y0
    for container in ax.containers:
        for patch in container.patches:
            box = patch.get_window_extent()
            # a finite rectangle from below the axis floor (clipped there): a masked 0 would
            # make it infinite, and Agg would not draw it
            assert math.isfinite(box.y0) and box.y0 <= bottom and box.y1 > bottom + 5


def test_budget_sweep_with_many_partitions_shares_one_axes():
    """Beyond MAX_PANELS distinct curves, one axes holds them all, one colour per partition."""
    from types import SimpleNamespace as NS

    from widthdesign.report.sweep import MAX_PANELS

    n = MAX_PANELS + 1

    def design(budget, shift):
        scores = tuple(NS(partition=f"p{j}", log2_upper_bound=float(j + budget / 100 + shift))
                       for j in range(n))  # fmt: skip
        return NS(widths=(2, 2), cost=budget, objective=1.0, scores=scores)

    recs = [
        NS(budget=b, design=design(b, 1), baselines={"uniform": design(b, 0)}, favor=())
        for b in (100, 200)
    ]
    fig = report.plot_budget_sweep(recs)
    assert len(fig.axes) == 1
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert len(lines) == 2 * n
    assert list(lines["recommended: p3"].get_ydata()) == [5.0, 6.0]
    assert list(lines["uniform: p3"].get_ydata()) == [4.0, 5.0]
    assert lines["recommended: p0"].get_color() != lines["recommended: p1"].get_color()
