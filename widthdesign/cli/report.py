"""``widthdesign report``: figures and tables in a folder."""

from __future__ import annotations

from typing import Any

import click

from .. import spec
from ._common import CliError, _note, parts_option, spec_argument
from ._design import _require_favor, _sweep, optimizer_options, report_options, write_report_files
from .profile import max_bytes_option, note_if_large, read_data


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
@click.option(
    "--data",
    "data_path",
    metavar="DATA",
    default=None,
    help="Training samples (as for `widthdesign profile`): add the data profile, the data's "
    "crossing |corr| mass per layer beside the network's capacity (figure and table).",
)
@max_bytes_option
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
    data_path: str | None,
    max_data_bytes: int,
) -> None:
    """Figures and tables of the min cuts (and of a width recommendation) in a folder.

    Writes, per partition, the tensor network with its min cut (collapsed per level beyond
    256 inputs) and the partition on the input grid; the interaction profile (bounds against
    checkerboard:k / blocks:k; with --budget, each design's scores per scale); with --budget
    and --favor the scores as percentages, the width profile and a budget sweep (the favored
    bounds per budget); then index.html (self-contained) and summary.md. Default partitions:
    left-right, plus top-bottom and checkerboard on 2-D grids or even-odd on 1-D (plus the
    favored ones). With --data, the data profile of DATA for the design shown (see
    `widthdesign profile`). Prints the written files.

    \b
    Example:
      widthdesign report examples/grid_4x4.toml --out report-4x4
      widthdesign report examples/levine_64x64.toml --budget 8736 --favor global --out rep
      widthdesign report examples/paper_1d_n16.toml --data examples/mirror_pairs_n16.csv \\
          --out report-data
    """
    from .. import report as rep

    rep.check_report_folder(out, force)  # fail before any long computation
    spec.check_output_folder(out, "--out")
    x = None if data_path is None else read_data(arch, data_path, max_data_bytes)
    if budget is None:
        if favor:
            raise CliError("--favor: needs --budget (the compute budget to recommend under)")
        if not arch.has_widths:
            raise CliError(
                "spec has layers without a width; give --budget and --favor to recommend widths"
            )
        prof = _data_profile(arch, x)
        write_report_files(arch, out, parts, fmt=fmt, force=force, data_profile=prof)
        return
    _require_favor(favor)
    from .. import optimize

    _note(f"recommending widths under {solve['cost']} <= {budget}")
    rec = optimize.recommend(arch, budget, favor, **solve)
    sweep = _sweep(arch, rec, favor, solve, sweep_text)
    write_report_files(
        arch,
        out,
        parts,
        recommendation=rec,
        sweep=sweep,
        fmt=fmt,
        force=force,
        data_profile=_data_profile(rec.arch, x),
    )


def _data_profile(arch: spec.Architecture, x):
    """The data profile of ``x`` for the design the report shows (its capacities)."""
    if x is None:
        return None
    from .. import data

    note_if_large("profile", x)
    return data.profile(arch, x)
