"""``widthdesign report``: figures and tables in a folder."""

from __future__ import annotations

from typing import Any

import click

from .. import spec
from ._common import CliError, _note, parts_option, spec_argument
from ._design import _require_favor, _sweep, optimizer_options, report_options, write_report_files


@click.command()
@spec_argument
@parts_option
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=None,
    help="Compute budget: also recommend widths for --favor (as `recommend`) and plot the "
    "width profile and a budget sweep.",
)
@optimizer_options
@report_options
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Report folder (created; must be empty unless --force).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder, overwriting files; the figures an earlier report "
    "wrote there and this one does not are removed, other files kept.",
)
def report(
    arch: spec.Architecture,
    parts: tuple[str, ...],
    budget: int | None,
    favor: list[str],
    solve: dict[str, Any],
    sweep_text: str,
    out: str,
    fmt: str,
    force: bool,
) -> None:
    """Figures and tables of the min cuts (and of a width recommendation) in a folder.

    Writes, per partition, the tensor network with its min cut (collapsed per level beyond
    256 inputs) and the partition on the input grid; the interaction profile (bounds against
    checkerboard:k / blocks:k; with --budget, each design's scores per scale); with --budget
    and --favor the scores as percentages, the width profile and a budget sweep (the favored
    bounds per budget); then index.html (self-contained) and summary.md. Default partitions:
    left-right, plus top-bottom and checkerboard on 2-D grids or even-odd on 1-D (plus the
    favored ones). Prints the written files.

    \b
    Example:
      widthdesign report examples/grid_4x4.toml --out report-4x4
      widthdesign report examples/levine_64x64.toml --budget 8736 --favor global --out rep
    """
    from .. import report as rep

    rep.check_report_folder(out, force)  # fail before any long computation
    spec.check_output_folder(out, "--out")
    if budget is None:
        if favor:
            raise CliError("--favor: needs --budget (the compute budget to recommend under)")
        if not arch.has_widths:
            raise CliError(
                "spec has layers without a width; give --budget and --favor to recommend widths"
            )
        write_report_files(arch, out, parts, fmt=fmt, force=force)
        return
    _require_favor(favor)
    from .. import optimize

    _note(f"recommending widths under {solve['cost']} <= {budget}")
    rec = optimize.recommend(arch, budget, favor, **solve)
    sweep = _sweep(arch, rec, favor, solve, sweep_text)
    write_report_files(arch, out, parts, recommendation=rec, sweep=sweep, fmt=fmt, force=force)
