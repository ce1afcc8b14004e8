"""The report folder: figures, ``index.html`` and ``summary.md``."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import cuts
from ..spec import Architecture, atomic_write_bytes, cost
from ._common import (
    DPI,
    FORMATS,
    MAX_DRAWN_INPUTS,
    ReportError,
    _as_designs,
    _cands_text,
    _cost_model,
    _favor_text,
    _fmt,
    _pct,
)
from .profile import interaction_scales

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.figure import Figure


def default_partitions(arch: Architecture) -> list[str]:
    """``left-right`` plus ``top-bottom`` and ``checkerboard`` (2-D and up) or ``even-odd``."""
    if len(arch.shape) >= 2:
        return ["left-right", "top-bottom", "checkerboard"]
    return ["left-right", "even-odd"]


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:limit] or "part"


def _render(fig: Figure, fmt: str) -> bytes:
    """Figure -> bytes with the Agg-based canvases (no pyplot, no display needed)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else None
    if fmt == "svg":
        metadata = {"Date": None}  # reproducible files: no timestamp
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None}
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
    return buf.getvalue()


def check_report_folder(out_dir: str | Path, force: bool = False) -> None:
    """Raise :class:`ReportError` unless ``out_dir`` is absent, empty, or ``force``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"report folder '{out_dir}' is a file; expected a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise ReportError(
            f"report folder '{out_dir}' exists and is not empty; "
            "choose a new folder or use --force to overwrite"
        )


def write_report(
    out_dir: str | Path,
    arch: Architecture,
    parts: Sequence[Any] | None = None,
    recommendation: Any = None,
    sweep: Sequence[Any] | None = None,
    fmt: str = "png",
    force: bool = False,
    data_profile: Any = None,
) -> list[Path]:
    """Write a report folder; return the written paths (figures, ``index.html``, ``summary.md``).

    Figures: per partition the network with its min cut and the partition on the grid, the
    interaction profile, and with a ``recommendation`` the width profile (and with a ``sweep``
    of recommendations the budget sweep; with a ``data_profile``, a
    :class:`~widthdesign.data.DataProfile`, the data's crossing mass per layer beside the
    network's capacity, figure and table). The cut figures use the recommended widths when a
    recommendation is given, else the spec's. ``index.html`` is self-contained (PNG as data
    URIs, SVG inline, PDF as a PNG preview plus a link); ``summary.md`` holds the tables.

    Everything is rendered in memory first, then each file is written under a temporary name
    and renamed, so a failure leaves no half-written file. Refuses (:class:`ReportError`) a
    non-empty existing folder unless ``force``. The folder's manifest (:data:`MANIFEST`, not
    in the returned list) records the files written and their SHA-256; written over an older
    report, the files it wrote that this one does not write again are removed (unless
    changed since), other files are left alone.
    """
    # the figures are looked up on the package so a caller (or a test) can swap one
    from .. import report as figs

    out = Path(out_dir)
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r} unknown; expected one of {', '.join(FORMATS)}")
    check_report_folder(out, force)
    parts = list(parts) if parts else default_partitions(arch)
    designs: dict[str, Architecture] = {}
    if recommendation is not None:
        designs = _as_designs(recommendation)
        # the cut figures show the recommended widths: name them for that, not by the spec's
        # name (which may describe the spec's own widths: "wide-base r=16")
        rec_widths = list(designs["recommended"].widths)
        primary = replace(designs["recommended"], name=f"recommended widths {rec_widths}")
    else:
        arch.require_widths()
        designs = {"spec": arch}
        primary = arch
    results = {label: [cuts.bounds(a, p) for p in parts] for label, a in designs.items()}
    primary_label = "recommended" if recommendation is not None else "spec"

    figures = _figures(figs, arch, primary, primary_label, results, recommendation, sweep, fmt)
    if data_profile is not None:
        figures.append(_data_figure(figs, data_profile, primary, fmt))
    blobs: list[tuple[str, bytes]] = []
    html_figs = []
    for name, caption, fig in figures:
        data = _render(fig, fmt)
        blobs.append((name, data))
        preview = data if fmt != "pdf" else _render(fig, "png")
        html_figs.append((name, caption, preview, "svg" if fmt == "svg" else "png"))
    tables = _tables(arch, parts, designs, results, recommendation, sweep)
    if data_profile is not None:
        tables.append(_data_rows(data_profile))
    blobs.append(("summary.md", _markdown(arch, tables, [(n, c) for n, c, _ in figures]).encode()))
    blobs.append(("index.html", _html(arch, tables, html_figs, fmt).encode()))

    out.mkdir(parents=True, exist_ok=True)
    return _write_files(out, blobs)


# -- the folder's manifest: what a report of ours wrote there ------------------------------

#: The manifest of a report folder: the files the last report wrote, with their SHA-256, so
#: that a report written over it (``force``) removes the earlier figures it does not write
#: again (a 64x64 report's cut maps beside a 1-D report's partitions) and nothing else.
MANIFEST = ".widthdesign-report.json"
#: The names a report writes (figures, pages): only such names are ever removed.
_OUR_NAME = re.compile(
    r"((network|partition|cutmap)-\d{2,}-[A-Za-z0-9-]+|interaction|widths|sweep|data-profile)\.(png|svg|pdf)"
    r"|summary\.md|index\.html"
)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _write_files(out: Path, blobs: list[tuple[str, bytes]]) -> list[Path]:
    """Write ``blobs`` into ``out`` and remove the stale files of an earlier report.

    Every file is written under a temporary name and renamed. The manifest is updated first
    to list the earlier files and the new ones, so an interrupted run leaves a manifest that
    still names every file of ours in the folder; then the new files, then the earlier files
    this report does not write again are removed (only those still holding the bytes we wrote:
    a file someone changed since is theirs), then the manifest lists the new files alone.
    """
    new = {name: _sha256(data) for name, data in blobs}
    stale = {n: h for n, h in _previous_files(out).items() if n not in new}
    _write_manifest(out, {**stale, **new})
    written = []
    for name, data in blobs:
        path = out / name
        atomic_write_bytes(path, data)
        written.append(path)
    for name, digest in stale.items():
        path = out / name
        if path.is_file() and not path.is_symlink():
            if digest is None or _sha256(path.read_bytes()) == digest:
                path.unlink()
    _write_manifest(out, new)
    return written


def _write_manifest(out: Path, files: dict[str, str | None]) -> None:
    import json

    data = {"widthdesign-report": 1, "files": dict(sorted(files.items()))}
    atomic_write_bytes(out / MANIFEST, (json.dumps(data, indent=1) + "\n").encode())


def _previous_files(out: Path) -> dict[str, str | None]:
    """``{name: sha256 or None}`` of the files an earlier report of ours wrote in ``out``.

    From the manifest; for a folder written before manifests existed, from its
    ``summary.md`` (its first line ``# Report: ...``, its figure list), without hashes. Only
    plain names of the kinds a report writes count; a manifest that does not parse names none.
    """
    import json

    manifest = out / MANIFEST
    found: dict[str, str | None] = {}
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            files = data["files"] if isinstance(data, dict) else {}
        except (OSError, ValueError, KeyError):
            files = {}
        if isinstance(files, dict):
            found = {
                n: h
                for n, h in files.items()
                if isinstance(n, str) and (h is None or isinstance(h, str))
            }
    else:
        found = _legacy_files(out / "summary.md")
    return {n: h for n, h in found.items() if _OUR_NAME.fullmatch(n)}


def _legacy_files(summary: Path) -> dict[str, None]:
    """The figures a ``summary.md`` of ours lists (reports written before the manifest)."""
    try:
        text = summary.read_text(encoding="utf-8") if summary.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith("# Report: ") or "\n## Figures\n" not in text:
        return {}
    figures = text.split("\n## Figures\n", 1)[1]
    names = re.findall(r"^- \[.*\]\(([^()/\\]+)\)$", figures, re.MULTILINE)
    return dict.fromkeys(["summary.md", "index.html", *names])


def _figures(figs, arch, primary, primary_label, results, rec, sweep, fmt) -> list[tuple]:
    """``(file name, caption, figure)`` of every figure of a report, in page order."""
    out: list[tuple[str, str, Any]] = []
    widths = f"{primary_label} widths {list(primary.widths)}"
    collapsed = primary.num_inputs > MAX_DRAWN_INPUTS
    for i, b in enumerate(results[primary_label]):
        slug = f"{i + 1:02d}-{_slug(b.partition.label)}"
        label = b.partition.label
        if collapsed and not primary.overlapping:  # no cut map of input copies (yet)
            # too many inputs to draw node by node; the collapsed network (one bar per level,
            # mostly one bar) says nothing the cut map's legend does not: the cut map alone
            caption = (
                f"Cut map for {label} ({widths}): the partition on the input grid with the "
                f"pooling windows the min cut takes outlined at their level; the legend counts "
                f"them, and the bits they take, per level ({primary.num_inputs} inputs: too many "
                f"to draw the network node by node)"
            )
            out.append((f"cutmap-{slug}.{fmt}", caption, figs.plot_cut_map(b, primary)))
        else:
            caption = f"Tensor network ({widths}) with the min cut for {label}"
            out.append((f"network-{slug}.{fmt}", caption, figs.plot_network(b, primary)))
            caption = f"Partition {label} on the input grid"
            out.append((f"partition-{slug}.{fmt}", caption, figs.plot_partition(b, primary)))
    family = interaction_scales(arch)[0][1].split(":")[0] if interaction_scales(arch) else "-"
    if rec is not None and getattr(rec.design, "profile", None):
        caption = (
            f"Interaction profile in % (scores, not bits): the score of each design (its log2 "
            f"upper bound as a % of the best any searched design within the budget reaches) for the "
            f"{family}:k partitions, short range (small k) to long range, then the halves; the "
            f"breadth is the mean score. (A report without a budget shows the bounds in bits.)"
        )
        profile_input = rec
    else:
        caption = (
            f"Interaction profile in bits (not %): log2 of the upper bound for the {family}:k "
            "partitions, from short range (small k) to long range. (With --budget, or from "
            "recommend --report, the profile shows each design's score in % of the best "
            "within the budget instead.)"
        )
        profile_input = rec if rec is not None else {"spec": arch}
    out.append((f"interaction.{fmt}", caption, figs.plot_interaction_profile(profile_input)))
    cands = _cands_text(rec.candidates) if getattr(rec, "candidates", None) else ""
    searched = f"; candidate widths: {cands}" if cands else ""
    if cands and getattr(rec, "searched", None):
        searched = f"; searched: {rec.searched}"  # the grid and the baselines in the domain
    if rec is not None:
        caption = (
            "Width profile: widths per layer of the recommended design and its baselines" + searched
        )
        out.append((f"widths.{fmt}", caption, figs.plot_widths(rec)))
    if sweep:
        from .sweep import sweep_candidates_text, sweep_floor_text

        cands = sweep_candidates_text(sweep)
        caption = (
            "Budget sweep: log2 upper bounds (bits) of the favored partitions for the recommended "
            "and uniform designs per budget (not the objective F, which is normalized per "
            f"budget); {sweep_floor_text(sweep)}"
            + (f"; candidate widths: {cands}" if cands else "")
        )
        out.append((f"sweep.{fmt}", caption, figs.plot_budget_sweep(sweep)))
    return out


# -- tables, Markdown and HTML --------------------------------------------------------------


Table = tuple[str, list[str], list[list[str]]]


def _data_figure(figs, prof, primary, fmt) -> tuple:
    caption = (
        f"Data profile: the crossing |corr| mass of each layer's canonical partitions (each "
        f"window's block of inputs vs the rest) for the data's order, as a fraction of a random "
        f"order's (1 = random; below 1 the pooling keeps dependent inputs together), beside the "
        f"network's capacity for such a partition (log2 min cut, {primary.name or 'spec'}); "
        f"{prof.samples} samples, sums over {prof.pairs}"
    )
    return (f"data-profile.{fmt}", caption, figs.plot_data_profile(prof, title="data profile"))


def _data_rows(prof) -> Table:
    header, rows = prof.level_table()
    return ("Data profile (crossing |corr| mass per layer)", header, rows)


def _tables(arch, parts, designs, results, rec, sweep) -> list[Table]:
    """``(title, header, rows)`` tables shared by ``summary.md`` and ``index.html``: with a
    recommendation its settings, designs and scores (as percentages) first."""
    tables = []
    if rec is not None:
        tables.append(_settings_rows(rec))
        tables.append(_widths_rows(arch, designs))
        tables.append(_objective_rows(rec))
        tables.append(_scores_rows(rec, "scores"))
        if getattr(rec.design, "profile", None):
            tables.append(_scores_rows(rec, "profile"))
        gains = _gains_rows(rec)
        if gains[2]:
            tables.append(gains)
        tables.append(_bounds_rows(arch, parts, designs, results))
    else:
        tables += [_bounds_rows(arch, parts, designs, results), _widths_rows(arch, designs)]
    if sweep:
        tables.append(_sweep_rows(sweep))
    return tables


def _bounds_rows(arch, parts, designs, results) -> Table:
    header = ["partition", "design", "upper bound", "lower bound", "exact", "log2 upper", "min cut"]
    rows = []
    for j in range(len(parts)):
        for label in designs:
            b = results[label][j]
            rows.append(
                [
                    b.partition.label,
                    label,
                    _fmt(b.upper_bound),
                    _fmt(b.lower_bound),
                    "yes" if b.exact else "no",
                    f"{b.log2_upper_bound:.4g}",
                    b.cut.formula(arch.depth, sep=" · "),
                ]
            )
    return ("Bounds per partition", header, rows)


def _widths_rows(arch, designs) -> Table:
    header = ["design"] + [f"r{i}" for i in range(arch.depth)] + ["params", "macs"]
    rows = []
    for label, a in designs.items():
        w = a.require_widths()
        rows.append([label, *map(str, w), _fmt(cost(a, "params")), _fmt(cost(a, "macs"))])
    return ("Widths and costs", header, rows)


#: What each stage of recommend maximizes (Recommendation.stages), for the proof column.
STAGES = {
    "best": "best log2 bound I_p of each favored partition alone",
    "objective": "objective F",
    "breadth": "breadth among designs with F ≥ (1 - slack) F*",
    "widths": "sum of log2 widths, then the lowest cost",
}


def _rec_first(rec) -> dict[str, Any]:
    """The recommended design, then its baselines in the order of ``recommend``'s table."""
    return {"recommended": rec.design, **dict(getattr(rec, "baselines", {}) or {})}


def _settings_rows(rec) -> Table:
    """What was asked and how it was solved: budget, favor, slack, ratio, floors, candidates
    and the proof status of every stage."""
    ratio = getattr(rec, "max_ratio", None)
    floors = list(getattr(rec, "floors", ()) or ())
    rows = [
        ["budget", f"{_cost_model(rec)} ≤ {_fmt(int(rec.budget))}"],
        ["favor", _favor_text(rec.favor)],
        ["objective", f"{rec.objective_kind} of scores (score = log2 upper bound / I_p)"],
        ["slack", _pct(getattr(rec, "slack", 0.0))],
        ["max ratio", "none" if ratio is None else f"{float(ratio):g}"],
        ["min width", str(getattr(rec, "min_width", 1))],
        ["floors", ", ".join(floors) or "none"],
    ]
    cands = getattr(rec, "candidates", None)
    if cands:
        rows.append(["candidate widths", _cands_text(cands)])
    if getattr(rec, "searched", None):
        rows.append(["searched", rec.searched])
    misses = getattr(rec, "baseline_misses", None) or {}
    for name in getattr(rec, "baselines", None) or {}:
        why = misses.get(name)
        text = "not searched, misses " + ", ".join(why) if why else "meets the floors, searched"
        rows.append([f"baseline {name}", text])
    rows.append(["best objective F*", _pct(getattr(rec, "best_objective", rec.design.objective))])
    stages = dict(getattr(rec, "stages", {}) or {})
    for name, done in stages.items():
        what = STAGES.get(name, name)
        rows.append([f"stage {name}", f"{'proved' if done else 'NOT proved'}: {what}"])
    rows.append(["optimal", "yes (every stage proved)" if rec.optimal else "no"])
    return ("Recommendation", ["setting", "value"], rows)


def _objective_rows(rec) -> Table:
    model = _cost_model(rec)
    rows = [
        [label, str(list(d.widths)), _fmt(int(d.cost)), _pct(d.objective), _pct(d.breadth)]
        for label, d in _rec_first(rec).items()
    ]
    title = (
        f"Objective F ({getattr(rec, 'objective_kind', 'sum')} of scores) and breadth under "
        f"budget {model} ≤ {_fmt(int(rec.budget))}"
    )
    return (title, ["design", "widths", model, "objective F", "breadth"], rows)


def _scores_rows(rec, which: str) -> Table:
    """Per partition (favored: ``scores``; the interaction profile: ``profile``), the best
    log2 bound I_p and, per design, its bound and score as a percentage of I_p."""
    ds = _rec_first(rec)
    header = ["partition"] + (["weight"] if which == "scores" else []) + ["best log2 (I_p)"]
    header += [f"{label}: bound, score" for label in ds]
    rows = []
    for j, s in enumerate(getattr(rec.design, which)):
        row = [s.partition] + ([f"{s.weight:g}"] if which == "scores" else [])
        row.append(f"{s.best_log2_upper:.4g}")
        for d in ds.values():
            x = getattr(d, which)[j]
            score = _pct(x.score) if x.best_log2_upper > 0 else "-"
            row.append(f"{_fmt(int(x.upper_bound))}, {score}")
        rows.append(row)
    if which == "scores":
        title = (
            "Favored partitions: upper bound and score (log2 upper bound as a % of I_p, the "
            "best any searched design within the budget reaches for that partition alone)"
        )
    else:
        title = (
            "Interaction profile: upper bound and score per scale (breadth = the mean score; "
            "- : no design separates it)"
        )
    return (title, header, rows)


def _gains_rows(rec) -> Table:
    """Score differences of the recommended design against each baseline, in percentage
    points: per favored partition (``rec.gains``), then F and breadth."""
    ds = _rec_first(rec)
    others = [x for x in ds if x != "recommended"]
    gains = {o: rec.gains(o) for o in others}
    rows = []
    for s in rec.design.scores:
        rows.append([s.partition] + [_points(gains[o][s.partition]) for o in others])
    rows.append(["objective F"] + [_points(rec.design.objective - ds[o].objective) for o in others])
    rows.append(["breadth"] + [_points(rec.design.breadth - ds[o].breadth) for o in others])
    header = ["score"] + [f"vs {o}" for o in others]
    return ("Gains of the recommended design (percentage points of score)", header, rows)


def _points(x: float) -> str:
    return f"{100 * float(x):+.1f}"


def _sweep_rows(sweep) -> Table:
    rows = []
    for r in sorted(sweep, key=lambda r: r.budget):
        uni = (r.baselines or {}).get("uniform")
        cands = getattr(r, "candidates", None)
        rows.append(
            [
                _fmt(int(r.budget)),
                str(getattr(r, "min_width", "-")),
                _cands_text(cands) if cands else "-",
                str(list(r.design.widths)),
                _bits(r.design),
                _pct(r.design.objective),
                "-" if uni is None else str(list(uni.widths)),
                "-" if uni is None else _bits(uni),
                "-" if uni is None else _pct(uni.objective),
            ]
        )
    header = [
        "budget",
        "min width",
        "candidate widths",
        "recommended",
        "log2 bounds",
        "F",
        "uniform",
        "log2 bounds",
        "F",
    ]
    title = (
        "Budget sweep (log2 bounds of the favored partitions in bits; F is normalized per "
        "budget, so it does not grow with the budget; the floors, and so the candidate widths, "
        "are those of each budget)"
    )
    return (title, header, rows)


def _bits(design) -> str:
    return ", ".join(f"{s.log2_upper_bound:.4g}" for s in design.scores)


def _arch_line(arch: Architecture) -> str:
    grid = "x".join(map(str, arch.shape))
    widths = list(arch.widths) if arch.has_widths else "not set"
    return (
        f"{arch.num_inputs} inputs on a {grid} grid, M = {arch.channels}, "
        f"{arch.depth} layers, spec widths {widths}, Y = {arch.classes}"
    )


def _markdown(arch: Architecture, tables, figures) -> str:
    lines = [f"# Report: {arch.name or 'network'}", "", _arch_line(arch), ""]
    for title, header, rows in tables:
        lines += [f"## {title}", ""]
        lines.append("| " + " | ".join(h.replace("|", "\\|") for h in header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Figures", ""]
    lines += [f"- [{caption}]({name})" for name, caption in figures]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; }
figure img, figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _html(arch: Architecture, tables, figures, fmt: str) -> str:
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Report: {esc(arch.name or 'network')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Report: {esc(arch.name or 'network')}</h1>",
        f"<p>{esc(_arch_line(arch))}</p>",
    ]
    for title, header, rows in tables:
        out.append(f"<h2>{esc(title)}</h2><table><tr>")
        out.append("".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
        out.append("</table>")
    out.append("<h2>Figures</h2>")
    for name, caption, data, kind in figures:
        out.append("<figure>")
        if kind == "svg":
            svg = data.decode("utf-8")
            out.append(svg[svg.find("<svg") :])  # drop the XML prolog and doctype
        else:
            b64 = base64.b64encode(data).decode("ascii")
            out.append(f'<img alt="{esc(caption)}" src="data:image/png;base64,{b64}">')
        link = f' (<a href="{esc(name)}">{esc(name)}</a>)' if fmt == "pdf" else ""
        out.append(f"<figcaption>{esc(caption)}{link}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
