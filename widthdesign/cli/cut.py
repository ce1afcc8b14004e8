"""``widthdesign cut``: exact bounds with the min cut, one partition or a file of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
import numpy as np

from .. import cuts, spec
from ._common import (
    CliError,
    Progress,
    _json_mode,
    _require_parts,
    batch_label,
    batch_records,
    bounds_record,
    echo_records,
    jsonl_options,
    method_option,
    parts_option,
    spec_argument,
    table,
    with_progress,
)

# -- cut ------------------------------------------------------------------------------------


@click.command()
@spec_argument
@parts_option
@click.option(
    "--parts-file",
    metavar="FILE",
    help="Many partitions at once (vectorized batch engine; not with --part): a .npy bool "
    "array [P, *grid] or [P, N], or text with one partition per line (a 0/1 string of "
    "length N or any --part spec).",
)
@click.option(
    "--values",
    type=click.Choice(["log2", "exact"]),
    default="log2",
    show_default=True,
    help="With --parts-file: log2 bounds only, or also the exact integers.",
)
@method_option
@jsonl_options
def cut(
    arch: spec.Architecture,
    parts: tuple[str, ...],
    parts_file: str | None,
    values: str,
    method: str,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Exact bounds on the separation rank for each partition, with the min cut.

    The upper bound is the minimal cut of the tensor network (a pooling window's delta
    tensor counts once); the lower bound is Levine et al.'s Theorem 2 (bond dimensions
    rounded down to powers of one integer p); EXACT when they meet.

    With --parts-file the bounds of every partition in FILE come from the batch engine
    (same values, no cut certificate).

    Overlapping specs (stride below the window): the upper bound is the min cut of the
    unrolled tree (every input copied once per path that reads it); no lower bound is
    proved there, so lower_bound is null and exact false; the cut's "copies" list each cut
    bond with its layer, position and path.

    \b
    Output: a table; --json one JSON array, --jsonl one JSON object per line (for
    streams), with or without --parts-file. Every object has the same keys: index
    (0-based, in --part or FILE order), partition (its label, a string; "row I" for 0/1
    rows of FILE), upper_bound, lower_bound (exact integers), exact, log2_upper_bound,
    log2_lower_bound, lower_base, side_a, cut; with --parts-file, cut, lower_base and
    side_a are null, and so are upper_bound and lower_bound unless --values exact.

    \b
    Example:
      widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd
      widthdesign cut examples/grid_4x4.toml -p checkerboard -p 0,1,4,5 --json
      widthdesign cut examples/levine_64x64.toml --parts-file masks.npy --jsonl
    """
    machine = _json_mode(as_json, as_jsonl)
    if parts_file is not None:
        if parts:
            raise CliError("--part and --parts-file: give one or the other, not both")
        _cut_batch(arch, parts_file, values, machine, as_jsonl)
        return
    results = with_progress(
        "cut", _require_parts(parts), lambda p: cuts.bounds(arch, p, method=method)
    )
    if machine:
        echo_records([bounds_record(i, r) for i, r in enumerate(results)], as_jsonl)
        return
    click.echo(bounds_table(arch, results))
    if arch.duplicated:
        click.echo(certificate_text(results))


#: Positions the certificate lines name per layer before they summarize (--json has all).
CERTIFICATE_ITEMS = 16


def certificate_text(results: Sequence[cuts.Bounds]) -> str:
    """Overlapping specs: which bonds each cut takes, in the network's terms (layer and
    window position, x2 when several copies of one are cut; --json has every copy's path)."""
    lines = ["no lower bound is proved for overlapping windows (lower: -); the cut, per copy:"]
    for r in results:
        groups: dict[int, dict[str, int]] = {}
        for item in r.certificate or ():
            where = str(item["input"]) if item["layer"] < 0 else _coord(item["position"])
            slot = groups.setdefault(item["layer"], {})
            slot[where] = slot.get(where, 0) + 1
        parts = []
        for layer in sorted(groups):
            what = "M at inputs" if layer < 0 else f"r{layer} at layer-{layer} windows"
            names = [w if c == 1 else f"{w} x{c}" for w, c in groups[layer].items()]
            more = len(names) - CERTIFICATE_ITEMS
            items = ", ".join(names[:CERTIFICATE_ITEMS]) + (
                f", ... {more} more" if more > 0 else ""
            )
            parts.append(f"{what} {items}")
        lines.append(f"  {r.partition.label}: " + ("; ".join(parts) or "nothing (value 1)"))
    return "\n".join(lines)


def _coord(position: Sequence[int]) -> str:
    return "(" + ",".join(map(str, position)) + ")"


def _cut_batch(arch: spec.Architecture, path: str, values: str, machine: bool, jsonl: bool) -> None:
    from ..batch import bounds_many, read_parts_file

    masks, labels = read_parts_file(path, arch)
    progress = Progress("cut", masks.shape[0])
    res = bounds_many(arch, masks, progress=progress.update)
    progress.close()
    if machine:
        echo_records(batch_records(res, labels, values), jsonl)
        return
    click.echo(batch_table(arch, res, labels, values))


#: Rows a batch table shows before it summarizes the rest.
BATCH_TABLE_ROWS = 20


def batch_table(arch: spec.Architecture, res, labels: Sequence[Any], values: str) -> str:
    """Bounds of a batch as a table; huge batches show the first rows and a summary."""
    header = ["partition", "log2 upper", "log2 lower", "exact"]
    if values == "exact":
        header += ["upper", "lower"]
    total = len(res)
    shown = total if total <= 2 * BATCH_TABLE_ROWS else BATCH_TABLE_ROWS
    rows = []
    for i in range(shown):
        row = [
            batch_label(labels[i]),
            f"{res.log2_upper[i]:.3f}",
            f"{res.log2_lower[i]:.3f}" if res.has_lower else "-",
            "yes" if res.exact[i] else "no",
        ]
        if values == "exact":
            row += [cuts.format_int(res.upper_bound(i)), cuts.format_int(res.lower_bound(i))]
        rows.append(row)
    title = f"{arch.name or 'network'}: M={arch.channels}, widths {list(arch.widths)}"
    lines = [title, table(rows, header)]
    if shown < total:
        lines.append(f"... {total - shown} more rows (use --json for all)")
    if total:
        up = res.log2_upper
        lines.append(
            f"{total} partitions, {int(res.exact.sum())} exact; log2 upper min "
            f"{up.min():.3f}, median {float(np.median(up)):.3f}, max {up.max():.3f}"
        )
    return "\n".join(lines)


def bounds_table(
    arch: spec.Architecture, results: Sequence[cuts.Bounds], extra=None, exact: str = "exact"
) -> str:
    """Bounds per partition; ``extra`` adds a rank column, ``exact`` names the column that
    says whether the bounds meet."""
    header = ["partition", "upper", "lower", exact, "log2 upper", "cut"]
    rows = []
    for i, r in enumerate(results):
        row = [
            r.partition.label,
            cuts.format_int(r.upper_bound),
            cuts.format_int(r.lower_bound),
            "yes" if r.exact else "no",
            f"{r.log2_upper_bound:.3f}",
            r.cut.formula(arch.depth),
        ]
        if extra is not None:
            row.insert(3, extra[i])
        rows.append(row)
    if extra is not None:
        header.insert(3, "rank")
    title = f"{arch.name or 'network'}: M={arch.channels}, widths {list(arch.widths)}"
    return title + "\n" + table(rows, header)
