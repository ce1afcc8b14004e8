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
    _cost_model,
    _designs,
    _favor_text,
    _fmt,
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
) -> list[Path]:
    """Write a report folder; return the written paths (figures, ``index.html``, ``summary.md``).

    Figures: per partition the network with its min cut and the partition on the grid, the
    interaction profile, and with a ``recommendation`` the width profile (and with a ``sweep``
    of recommendations the budget sweep). The cut figures use the recommended widths when a
    recommendation is given, else the spec's. ``index.html`` is self-contained (PNG as data
    URIs, SVG inline, PDF as a PNG preview plus a link); ``summary.md`` holds the tables.

    Everything is rendered in memory first, then each file is written under a temporary name
    and renamed, so a failure leaves no half-written file. Refuses (:class:`ReportError`) a
    non-empty existing folder unless ``force``.
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
        # the cut figures show the recommended widths: say so in their titles
        primary = replace(designs["recommended"], name=f"{arch.name or 'network'} (recommended)")
    else:
        arch.require_widths()
        designs = {"spec": arch}
        primary = arch
    results = {label: [cuts.bounds(a, p) for p in parts] for label, a in designs.items()}
    primary_label = "recommended" if recommendation is not None else "spec"

    figures = _figures(figs, arch, primary, primary_label, results, recommendation, sweep, fmt)
    blobs: list[tuple[str, bytes]] = []
    html_figs = []
    for name, caption, fig in figures:
        data = _render(fig, fmt)
        blobs.append((name, data))
        preview = data if fmt != "pdf" else _render(fig, "png")
        html_figs.append((name, caption, preview, "svg" if fmt == "svg" else "png"))
    tables = _tables(arch, parts, designs, results, recommendation, sweep)
    blobs.append(("summary.md", _markdown(arch, tables, [(n, c) for n, c, _ in figures]).encode()))
    blobs.append(("index.html", _html(arch, tables, html_figs, fmt).encode()))

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in blobs:
        path = out / name
        atomic_write_bytes(path, data)
        written.append(path)
    return written


def _figures(figs, arch, primary, primary_label, results, rec, sweep, fmt) -> list[tuple]:
    """``(file name, caption, figure)`` of every figure of a report, in page order."""
    out: list[tuple[str, str, Any]] = []
    widths = f"{primary_label} widths {list(primary.widths)}"
    collapsed = primary.num_inputs > MAX_DRAWN_INPUTS
    for i, b in enumerate(results[primary_label]):
        slug = f"{i + 1:02d}-{_slug(b.partition.label)}"
        label = b.partition.label
        if collapsed:
            caption = (
                f"Min cut for {label}, per level ({widths}): the bits of the upper bound each "
                f"level of the network contributes, and how many of its bonds or windows the cut "
                f"takes ({primary.num_inputs} inputs: too many to draw node by node; the cut "
                f"map below shows where they are)"
            )
        else:
            caption = f"Tensor network ({widths}) with the min cut for {label}"
        out.append((f"network-{slug}.{fmt}", caption, figs.plot_network(b, primary)))
        if collapsed:
            caption = (
                f"Cut map for {label} ({widths}): the partition on the input grid with the "
                f"pooling windows the min cut takes outlined at their level"
            )
            out.append((f"cutmap-{slug}.{fmt}", caption, figs.plot_cut_map(b, primary)))
        else:
            caption = f"Partition {label} on the input grid"
            out.append((f"partition-{slug}.{fmt}", caption, figs.plot_partition(b, primary)))
    profile_input = rec if rec is not None else {"spec": arch}
    family = interaction_scales(arch)[0][1].split(":")[0] if interaction_scales(arch) else "-"
    caption = (
        f"Interaction profile: bits of the upper bound (log2) for the {family}:k partitions, "
        "from short range (small k) to long range"
    )
    out.append((f"interaction.{fmt}", caption, figs.plot_interaction_profile(profile_input)))
    if rec is not None:
        caption = "Width profile: widths per layer of the recommended design and its baselines"
        out.append((f"widths.{fmt}", caption, figs.plot_widths(rec)))
    if sweep:
        caption = "Budget sweep: objective of the recommended and uniform designs per budget"
        out.append((f"sweep.{fmt}", caption, figs.plot_budget_sweep(sweep)))
    return out


# -- tables, Markdown and HTML --------------------------------------------------------------


Table = tuple[str, list[str], list[list[str]]]


def _tables(arch, parts, designs, results, rec, sweep) -> list[Table]:
    """``(title, header, rows)`` tables shared by ``summary.md`` and ``index.html``."""
    tables = [_bounds_rows(arch, parts, designs, results), _widths_rows(arch, designs)]
    if rec is not None:
        tables.append(_objective_rows(rec))
        gains = _gains_rows(rec, parts, designs, results)
        if gains[2]:
            tables.append(gains)
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


def _objective_rows(rec) -> Table:
    model = _cost_model(rec)
    rows = [
        [label, _fmt(int(d.cost)), f"{float(d.objective):.4g}"]
        for label, d in _designs(rec).items()
    ]
    title = (
        f"Objective ({getattr(rec, 'objective_kind', 'sum')}) under budget "
        f"{model} ≤ {_fmt(int(rec.budget))}"
        + (f", favor {_favor_text(rec.favor)}" if getattr(rec, "favor", None) else "")
    )
    return (title, ["design", model, "objective"], rows)


def _gains_rows(rec, parts, designs, results) -> Table:
    ds = _designs(rec)
    rows = []
    for other in [x for x in designs if x != "recommended"]:
        for j in range(len(parts)):
            new = results["recommended"][j].log2_upper_bound
            old = results[other][j].log2_upper_bound
            rows.append([_part_label(results, j), other, f"{new - old:+.4g}"])
        diff = float(rec.design.objective) - float(ds[other].objective)
        rows.append(["objective", other, f"{diff:+.4g}"])
    return ("Gains of the recommended design (log2 bits)", ["quantity", "vs", "gain"], rows)


def _sweep_rows(sweep) -> Table:
    rows = []
    for r in sorted(sweep, key=lambda r: r.budget):
        uni = (r.baselines or {}).get("uniform")
        rows.append(
            [
                _fmt(int(r.budget)),
                str(list(r.design.widths)),
                f"{float(r.design.objective):.4g}",
                "-" if uni is None else str(list(uni.widths)),
                "-" if uni is None else f"{float(uni.objective):.4g}",
            ]
        )
    header = ["budget", "recommended", "its objective", "uniform", "its objective"]
    return ("Budget sweep", header, rows)


def _part_label(results: dict, j: int) -> str:
    return next(iter(results.values()))[j].partition.label


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
        lines.append("| " + " | ".join(header) + " |")
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
