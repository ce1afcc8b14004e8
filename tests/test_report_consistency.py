"""The figures of one report agree with each other and with summary.md: floors and candidate
widths per budget in the sweep, every budget ticked, notes that define only what is drawn,
titles that fit and name the recommended design for what it is, bits vs % said in both
kinds of interaction profile (issue 16)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from conftest import EXAMPLES
from matplotlib.backends.backend_agg import FigureCanvasAgg

import widthdesign as wd
from widthdesign import optimize, report
from widthdesign.report import page
from widthdesign.report.sweep import sweep_candidates_text, sweep_floor_text

LEVINE = EXAMPLES / "levine_64x64.toml"
PAPER = EXAMPLES / "paper_1d_n16.toml"
BUDGETS = (2184, 4368, 8736, 17472, 34944)  # the demo's auto sweep


@pytest.fixture(scope="module")
def levine_sweep():
    """The demo: recommend at 8736 for global, the auto sweep around it (floors 9..40)."""
    arch = wd.load(LEVINE)
    return arch, [optimize.recommend(arch, b, ["global"]) for b in BUDGETS]


def texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.findobj() if hasattr(t, "get_text")]
    return [t for t in out if t]


def fits(fig) -> list[str]:
    """The texts of ``fig`` that run past its edges once drawn (empty: every one fits)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    bad = []
    hidden = set()  # tick labels of ticks outside the view: matplotlib does not draw them
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = min(lo, hi), max(lo, hi)
            for tick in axis.get_major_ticks():
                if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    hidden.update(map(id, (tick.label1, tick.label2)))
    for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not t.get_text() or not t.get_visible() or id(t) in hidden:
            continue
        box = t.get_window_extent(renderer)
        if box.x0 < -1 or box.x1 > width + 1 or box.y0 < -1 or box.y1 > height + 1:
            bad.append(t.get_text())
    return bad


def test_sweep_states_each_budgets_floor_not_the_first(levine_sweep):
    """The demo's sweep said 'min width 9' (the smallest budget's) beside figures saying 19."""
    _, recs = levine_sweep
    floors = [r.min_width for r in recs]
    assert len(set(floors)) > 1  # the case this test is about
    fig = report.plot_budget_sweep(recs)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [f"{b}\nmin {w}" for b, w in zip(BUDGETS, floors)]  # all 5, with floors
    title = fig._suptitle.get_text()
    assert f"min width {min(floors)}..{max(floors)} per budget" in title
    assert not re.search(r"min width \d+(,|$)", title, re.MULTILINE)


def test_sweep_note_names_only_drawn_designs_and_candidates_per_budget(levine_sweep):
    _, recs = levine_sweep
    fig = report.plot_budget_sweep(recs)
    note = " ".join(fig.legends[0].texts[-1].get_text().split())
    assert "wide-base" not in note and "wide-tip" not in note
    assert "uniform = the best equal-width design within each budget" in note
    from widthdesign.report._common import _cands_text

    for r in recs:
        assert _cands_text(r.candidates) in note
        assert f"{r.budget}" in note
    assert sweep_candidates_text(recs) in note


def test_sweep_text_helpers():
    from types import SimpleNamespace as NS

    one = [NS(budget=b, min_width=2, candidates=[[2, 4, 8, 16]] * 2) for b in (10, 20)]
    assert sweep_floor_text(one) == "min width 2"
    assert sweep_candidates_text(one) == "powers of two 2..16"
    two = [*one, NS(budget=40, min_width=4, candidates=[[4, 8, 16, 32]] * 2)]
    assert sweep_floor_text(two) == "min width 2..4 per budget (x-axis)"
    assert sweep_candidates_text(two) == (
        "powers of two 2..16 (budgets 10, 20); powers of two 4..32 (budget 40)"
    )


def test_demo_report_figures_and_summary_agree(tmp_path, levine_sweep):
    """summary.md, widths.png, interaction.png at the asked budget; sweep.png and the sweep
    table per budget; no figure states a floor or candidate set another contradicts."""
    arch, recs = levine_sweep
    rec = recs[BUDGETS.index(8736)]
    out = tmp_path / "r"
    report.write_report(out, arch, recommendation=rec, sweep=recs)
    md = (out / "summary.md").read_text()
    from widthdesign.report._common import _cands_text

    assert f"| min width | {rec.min_width} |" in md
    assert f"| candidate widths | {_cands_text(rec.candidates)} |" in md
    for r in recs:
        row = f"| {r.budget} | {r.min_width} | {_cands_text(r.candidates)} | {list(r.design.widths)} |"
        assert row in md
    widths = " ".join(texts(report.plot_widths(rec)))
    profile = " ".join(texts(report.plot_interaction_profile(rec)))
    for text in (widths, profile):
        assert f"min width {rec.min_width}" in text
        assert not re.search(rf"min width (?!{rec.min_width}\b)\d+", text)
    assert f"candidate widths {_cands_text(rec.candidates)}" in " ".join(widths.split())


def test_recommended_cut_figures_are_named_for_the_design(tmp_path, monkeypatch):
    """Not 'Levine 64x64 wide-base r=16 (recommended)': the spec's name describes its widths."""
    arch = wd.load(PAPER)
    rec = optimize.recommend(arch, 300, ["left-right"])
    real, names = report.plot_network, []

    def spy(b, a, *args, **kwargs):
        names.append(a.name)
        return real(b, a, *args, **kwargs)

    monkeypatch.setattr(report, "plot_network", spy)
    report.write_report(tmp_path / "r", arch, ["left-right"], recommendation=rec)
    assert names == [f"recommended widths {list(rec.design.widths)}"]
    assert "(recommended)" not in (tmp_path / "r" / "summary.md").read_text()


@pytest.mark.parametrize("part", ["checkerboard", "left-right"])
def test_titles_and_legends_fit_their_figures(levine_sweep, part):
    """'rank = 2^614' was cut off at the right edge of the collapsed network figure."""
    arch, recs = levine_sweep
    rec = recs[BUDGETS.index(8736)]
    widths = list(rec.design.widths)
    design = replace(arch.with_widths(widths), name=f"recommended widths {widths}")
    b = wd.bounds(design, part)
    for fig in (
        report.plot_network(b, design),
        report.plot_cut_map(b, design),
        report.plot_widths(rec),
        report.plot_interaction_profile(rec),
        report.plot_interaction_profile(arch),
        report.plot_budget_sweep(recs),
    ):
        assert fits(fig) == []


def test_small_network_titles_fit():
    arch = wd.load(PAPER)
    b = wd.bounds(arch, "left-right")
    assert fits(report.plot_network(b, arch)) == []


def test_cut_map_legend_gives_the_bits_per_level():
    """The cut map replaces the collapsed network figure: its legend adds up to the bound."""
    arch = wd.load(LEVINE)
    b = wd.bounds(arch, "checkerboard")
    legend = [t.get_text() for t in report.plot_cut_map(b, arch).legends[0].texts]
    assert any("1024 of 1024" in t and "= 6144 bits" in t for t in legend), legend
    assert b.log2_upper_bound == 6144


def test_profile_says_bits_or_percent_in_both_kinds(tmp_path, levine_sweep):
    """`report` draws the profile in bits, `recommend --report` in %: each says which."""
    arch, recs = levine_sweep
    rec = recs[BUDGETS.index(8736)]
    bits = report.plot_interaction_profile(arch)
    pct = report.plot_interaction_profile(rec)
    assert "bits" in bits.axes[0].get_ylabel() and "in bits" in bits.axes[0].get_title("left")
    assert "%" in pct.axes[0].get_ylabel() and "in %" in pct.axes[0].get_title("left")
    out_bits, out_pct = tmp_path / "bits", tmp_path / "pct"
    report.write_report(out_bits, arch, ["left-right"])
    report.write_report(out_pct, arch, ["left-right"], recommendation=rec)
    cap_bits = next(c for n, c in _captions(out_bits) if n == "interaction.png")
    cap_pct = next(c for n, c in _captions(out_pct) if n == "interaction.png")
    assert cap_bits.startswith("Interaction profile in bits (not %)") and "in % of" in cap_bits
    assert (
        cap_pct.startswith("Interaction profile in % (scores, not bits)") and "in bits" in cap_pct
    )


def _captions(folder) -> list[tuple[str, str]]:
    md = (folder / "summary.md").read_text().split("\n## Figures\n", 1)[1]
    return [(n, c) for c, n in re.findall(r"^- \[(.*)\]\(([^()]+)\)$", md, re.MULTILINE)]


def test_large_network_reports_leave_the_collapsed_network_out(tmp_path):
    assert page.MAX_DRAWN_INPUTS == 256
    written = report.write_report(tmp_path / "r", wd.load(LEVINE), ["left-right"])
    assert not [p for p in written if p.name.startswith("network-")]
