"""``widthdesign recommend``: widths under a budget for the favored interactions."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import click

from .. import cuts, spec
from ._common import echo_json, end_line, json_option, partial_line, spec_argument, table
from ._design import _require_favor, _sweep, optimizer_options, report_options, write_report_files


class _SolveProgress:
    """Solver progress on stderr once a solve has run for more than a second: the stage, the
    best value found (incumbent) and the bound still open. On a terminal one line is
    rewritten; otherwise (a pipe, a log file) every update is its own line."""

    def __init__(self, delay: float = 1.0, *, stream=None):
        self.start, self.delay, self.shown = time.monotonic(), delay, False
        self.stream = stream
        self.tty = _isatty(stream)

    def __call__(self, info: dict) -> None:
        if time.monotonic() - self.start <= self.delay:
            return
        self.shown = True
        if self.tty:
            partial_line("\r" + progress_line(info) + "   ")
        else:
            click.echo(progress_line(info), err=True)

    def close(self) -> None:
        if self.shown and self.tty:
            end_line()


def _isatty(stream) -> bool:
    import sys

    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_line(info: dict) -> str:
    """One progress update of the solver.

    >>> progress_line({"stage": "breadth", "done": False, "round": 9, "seconds": 3.25,
    ...                "incumbent": 0.98325, "bound": 0.98352})
    'recommend: breadth: best 0.98325, bound 0.98352, 9 searches (3.2 s)'
    >>> progress_line({"stage": "objective", "done": True, "round": 2, "seconds": 1.0})
    'recommend: stage objective done, 2 searches (1.0 s)'
    """
    tail = f"{info['round']} searches ({info['seconds']:.1f} s)"
    if info.get("done", True):
        return f"recommend: stage {info['stage']} done, {tail}"
    best = info.get("incumbent")
    found = "" if best is None else f"best {best:.5g}, "
    bound = "" if info.get("bound") is None else f"bound {info['bound']:.5g}, "
    return f"recommend: {info['stage']}: {found}{bound}{tail}"


@click.command()
@spec_argument
@click.option(
    "--budget", type=click.IntRange(min=1), required=True, help="Compute budget (cost <= B)."
)
@optimizer_options
@json_option
@click.option(
    "--write-spec",
    "write_spec",
    metavar="OUT",
    default=None,
    help="Write the spec with the recommended widths to OUT (.toml or .json).",
)
@click.option(
    "--report",
    "report_dir",
    metavar="DIR",
    default=None,
    help="Also write a report (figures, index.html, summary.md) of the answer into DIR.",
)
@report_options
@click.option(
    "--force",
    is_flag=True,
    help="Let --write-spec overwrite an existing file and --report write into a non-empty folder "
    "(the figures an earlier report wrote there and this one does not are removed).",
)
def recommend(
    arch: spec.Architecture,
    budget: int,
    favor: list[str],
    solve: dict[str, Any],
    as_json: bool,
    write_spec: str | None,
    report_dir: str | None,
    sweep_text: str,
    fmt: str,
    force: bool,
) -> None:
    """Layer widths a practitioner would train, from the favored interactions and a budget.

    Each favored partition gets a score: log2 of its min-cut upper bound divided by the best
    log2 bound any design within the budget reaches for that partition alone (1 = as good as
    it can get). recommend maximizes the weighted mean score (or the smallest, --objective
    maximin); then, among designs within --slack of that optimum, the breadth (mean score
    over every scale of the grid, so no scale is starved); then the sum of log2 widths (no
    budget left unspent), the lowest cost, the smallest widths. Floors: --min-width (auto: half
    the widest uniform width), a top width of at least the number of classes, consecutive
    widths within --max-ratio (2).
    Exact branch and bound; "optimal (proved)" unless --time-limit cuts it short. Baselines:
    the widest uniform width within the budget, wide-base / wide-tip (4r, 2r, r by thirds),
    and the spec's widths when given.

    \b
    Example:
      widthdesign recommend examples/levine_64x64.toml --budget 8736 --favor global
      widthdesign recommend examples/levine_64x64.toml --budget 8736 --favor local \\
          --choices 8..512:8 --slack 0 --json
    """
    from pathlib import Path

    from .. import optimize
    from ..errors import SpecError

    _require_favor(favor)
    # refuse before solving, not after
    if write_spec is not None and not force and Path(write_spec).exists():
        raise SpecError("output file", write_spec, "a path that does not exist yet (or --force)")
    if write_spec is not None:
        spec.check_output_file(write_spec, force, "--write-spec", suffixes=spec.SPEC_SUFFIXES)
    if report_dir is not None:
        from .. import report as rep

        rep.check_report_folder(report_dir, force)
        spec.check_output_folder(report_dir, "--report")
    progress = _SolveProgress()
    try:
        rec = optimize.recommend(arch, budget, favor, progress=progress, **solve)
    finally:
        progress.close()
    # all outputs or none: remember what --write-spec replaces, restore it if the report fails
    previous = _snapshot(write_spec)
    if write_spec is not None:
        spec.dump(replace(rec.arch, name=recommended_name(rec, arch.name)), write_spec, force=force)
    if as_json:
        echo_json(rec.to_dict())
    else:
        click.echo(recommendation_text(rec))
    if write_spec is not None and not as_json:
        click.echo(f"wrote {write_spec}")
    if report_dir is not None:
        try:
            sweep = _sweep(arch, rec, favor, solve, sweep_text)
            # file names go to stderr with --json so that stdout stays one JSON document
            write_report_files(
                arch,
                report_dir,
                recommendation=rec,
                sweep=sweep,
                fmt=fmt,
                force=force,
                quiet=as_json,
            )
        except BaseException:
            _restore(write_spec, previous)
            raise


def _snapshot(path: str | None) -> bytes | None:
    """The bytes of an existing file (to restore it), else ``None``."""
    from pathlib import Path

    if path is None or not Path(path).is_file():
        return None
    return Path(path).read_bytes()


def _restore(path: str | None, previous: bytes | None) -> None:
    """Undo an output file: put back its old bytes, or remove it if it was new."""
    from pathlib import Path

    if path is None:
        return
    if previous is None:
        Path(path).unlink(missing_ok=True)
    else:
        spec.atomic_write_bytes(Path(path), previous)


def recommended_name(rec: Any, name: str | None) -> str:
    """The name of a written recommended spec: what it is, not the original's name.

    >>> from types import SimpleNamespace as NS
    >>> recommended_name(NS(favor=(("left-right", 1.0), ("even-odd", 2.0)), cost_model="params",
    ...                     budget=300), "paper r=16")
    'paper r=16, recommended widths for left-right, even-odd=2 (params budget 300)'
    """
    favor = ", ".join(p if w == 1 else f"{p}={w:g}" for p, w in rec.favor)
    base = name or "network"
    return f"{base}, recommended widths for {favor} ({rec.cost_model} budget {rec.budget})"


def recommendation_text(rec: Any) -> str:
    """The human-readable answer of ``recommend``: widths, costs, scores, baselines."""
    names = ["recommended"] + list(rec.baselines)
    designs = [rec.design] + list(rec.baselines.values())
    arch = rec.arch
    status = "optimal (proved)" if rec.optimal else "best found, NOT proved optimal"
    st = rec.stats
    ratio = "none" if rec.max_ratio is None else f"{rec.max_ratio:g}"
    lines = [
        f"{arch.name or 'network'}: M={arch.channels}, Y={arch.classes}, {arch.depth} layers; "
        f"{rec.cost_model} budget {rec.budget}",
        "favor: "
        + ", ".join(f"{p} (w={w:g})" for p, w in rec.favor)
        + f"; objective {rec.objective_kind} of scores; slack {rec.slack:g}, max ratio {ratio}",
        "floors: " + (", ".join(rec.floors) or "none"),
        f"searched: {rec.searched}" if rec.searched else "",
        f"{status}: {st.get('rounds')} searches, {st.get('cuts')} cuts, {st.get('seconds')} s",
        "",
    ]
    lines = [line for line in lines[:-1] if line] + [""]
    rows = [[f"r{i}"] + [d.widths[i] for d in designs] for i in range(arch.depth)]
    rows.append([f"cost ({rec.cost_model})"] + [d.cost for d in designs])
    rows.append(["objective F"] + [_pct(d.objective) for d in designs])
    rows.append(["breadth"] + [_pct(d.breadth) for d in designs])
    lines.append(table(rows, ["layer"] + names))
    lines.append("")
    header = ["partition", "weight", "upper", "lower", "best log2", "score"]
    header += [f"score {n}" for n in names[1:]]
    prow = []
    for i, s in enumerate(rec.design.scores):
        row = [
            s.partition,
            f"{s.weight:g}",
            cuts.format_int(s.upper_bound),
            cuts.format_int(s.lower_bound),
            f"{s.best_log2_upper:.4g}",
            _pct(s.score),
        ]
        row += [_pct(d.scores[i].score) for d in designs[1:]]
        prow.append(row)
    lines.append(table(prow, header))
    lines.append(
        "score = log2(upper bound) / best log2: the share of the best this interaction can get "
        "over the designs searched (within the budget, the floors and the ratio bound); a "
        "baseline not searched may score higher"
    )
    if not rec.optimal:
        lines.append(
            "not proved: the best values of the stages left open are the best found so far "
            f"(stages proved: {', '.join(k for k, v in rec.stages.items() if v) or 'none'})"
        )
    lines.extend(_baseline_notes(rec))
    return "\n".join(lines)


def _baseline_notes(rec: Any) -> list[str]:
    """Per baseline: searched (it meets the budget and floors), or what it misses (then it
    can score over 100 %: the best values are taken over the designs searched)."""
    misses = getattr(rec, "baseline_misses", {}) or {}
    out = []
    for name in rec.baselines:
        missed = misses.get(name, ())
        if missed:
            out.append(f"  {name}: not searched, misses {', '.join(missed)}")
        else:
            out.append(f"  {name}: meets the budget and floors, searched")
    return ["baselines:", *out] if out else []


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"
