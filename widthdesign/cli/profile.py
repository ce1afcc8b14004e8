"""``widthdesign profile``: the dependence a data set carries across the canonical partitions."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import click

from .. import data as _data
from .. import spec
from ._common import echo_json, json_option, parts_option, spec_argument, table


def data_argument(fn):
    return click.argument("data_path", metavar="DATA")(fn)


def max_bytes_option(fn):
    return click.option(
        "--max-data-bytes",
        type=click.IntRange(min=1),
        default=_data.MAX_DATA_BYTES,
        show_default=True,
        help="Refuse a DATA file larger than this (bytes), unread.",
    )(fn)


def read_data(arch: spec.Architecture, path: str, max_bytes: int):
    """DATA loaded and checked against the spec (one ``Error:`` line on any problem)."""
    return _data.as_matrix(arch, _data.load_data(path, max_bytes))


def note_if_large(label: str, x) -> None:
    """A progress note on stderr when the work takes more than a second or two."""
    if x.shape[0] * x.shape[1] ** 2 > 4e9 or x.shape[1] > 4096:
        click.echo(f"{label}: {x.shape[0]} samples x {x.shape[1]} inputs ...", err=True)


@click.command()
@spec_argument
@data_argument
@parts_option
@click.option(
    "--plot",
    metavar="OUT.png",
    help="Also draw the profile (crossing mass vs random, and capacity, per layer).",
)
@click.option("--force", is_flag=True, help="Overwrite the --plot file if it exists.")
@max_bytes_option
@json_option
def profile(
    arch: spec.Architecture,
    data_path: str,
    parts: tuple[str, ...],
    plot: str | None,
    force: bool,
    max_data_bytes: int,
    as_json: bool,
) -> None:
    """The interactions DATA carries across the spec's canonical partitions.

    DATA: .npy or .npz of shape [n, *input.shape] or [n, N], or CSV (n rows of N numbers,
    one optional header row): training samples, inputs in the spec's own (natural) order.

    For each layer, its windows' blocks of inputs vs the rest: the crossing |corr| mass
    (sum of |Pearson correlation| over the input pairs a block separates), its mean per
    crossing pair, the same for a uniformly random order (exact expectation), and the
    network's capacity for such a partition (log2 of the min-cut upper bound at the spec's
    widths). Constant inputs have correlation 0 by definition. --part adds any partition.

    \b
    Past 4096 inputs the masses are sums over a 32-nearest-neighbour |corr| graph (key
    pairs).

    \b
    Output: a table; --json one object with samples, inputs, constant, pair_mass, pairs, total,
    levels (layer, block, nodes, mass, mean, random, ratio, capacity, capacity_log2,
    mass_per_node) and parts (partition, size_a, mass, mean, random, capacity,
    capacity_log2).

    \b
    Example:
      widthdesign profile examples/paper_1d_n16.toml examples/mirror_pairs_n16.csv
      widthdesign profile SPEC train.npy --part left-right --plot profile.png
    """
    if plot is not None:
        spec.check_output_file(plot, force, what="--plot")
    x = read_data(arch, data_path, max_data_bytes)
    note_if_large("profile", x)
    prof = _data.profile(arch, x, parts)
    if plot is not None:
        from ..report.data_profile import plot_profile

        fig = plot_profile(prof, title=arch.name or None)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        spec.atomic_write_bytes(Path(plot), buf.getvalue())
    if as_json:
        echo_json(profile_record(prof))
    else:
        click.echo(profile_table(arch, prof))
    if plot is not None:
        click.echo(f"wrote {plot}", err=as_json)


def profile_table(arch: spec.Architecture, prof: _data.DataProfile) -> str:
    """The profile for people: a header line, the layers, the --part partitions."""
    out = []
    out.append(
        f"{arch.name or 'network'}: {prof.samples} samples x {prof.inputs} inputs"
        + (f" ({prof.constant} constant: |corr| 0)" if prof.constant else "")
        + f"; |corr| summed over {prof.pairs} {prof.pair_mass:.1f}"
    )
    header, rows = prof.level_table()
    out.append(table(rows, header))
    if prof.parts:
        rows = [
            [
                p.label,
                p.size_a,
                f"{p.mass:.1f}",
                f"{p.mean:.4f}",
                f"{p.random:.1f}",
                "?" if p.capacity_log2 is None else f"{p.capacity_log2:.2f}",
            ]
            for p in prof.parts
        ]
        header = ["partition", "|A|", "crossing", "mean |corr|", "random", "capacity log2"]
        out.append(table(rows, header))
    return "\n".join(out)


def profile_record(prof: _data.DataProfile) -> dict[str, Any]:
    return {
        "samples": prof.samples,
        "inputs": prof.inputs,
        "constant": prof.constant,
        "pair_mass": prof.pair_mass,
        "pairs": prof.pairs,
        "total": prof.total,
        "levels": [
            {
                "layer": lv.layer,
                "block": lv.block,
                "nodes": lv.nodes,
                "mass": lv.mass,
                "mean": lv.mean,
                "random": lv.random,
                "ratio": lv.ratio,
                "capacity": lv.capacity,
                "capacity_log2": lv.capacity_log2,
                "mass_per_node": list(lv.mass_per_node),
            }
            for lv in prof.levels
        ],
        "parts": [
            {
                "partition": p.label,
                "size_a": p.size_a,
                "mass": p.mass,
                "mean": p.mean,
                "random": p.random,
                "capacity": p.capacity,
                "capacity_log2": p.capacity_log2,
            }
            for p in prof.parts
        ],
    }
