"""``widthdesign arrange``: the input order (pooling geometry) a data set asks for."""

from __future__ import annotations

from typing import Any

import click

from .. import spec
from ..arrange import METHODS, PARTITIONERS, ArrangeResult
from ..arrange import arrange as arrange_data
from ._common import echo_json, json_option, spec_argument, table
from .profile import data_argument, max_bytes_option, note_if_large, read_data


@click.command()
@spec_argument
@data_argument
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="tree: recursive balanced min cuts of the |corr| graph; layout: spectral layout "
    "on the grid (neighbours dependent); auto: the layout unless the tree cuts clearly "
    "less (the output says why).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed (deterministic).")
@click.option(
    "--partitioner",
    type=click.Choice(PARTITIONERS),
    default="metis",
    show_default=True,
    help="Graph partitioner of the tree (kahip needs the kahip package).",
)
@click.option(
    "--neighbors",
    type=click.IntRange(min=1),
    help="Nearest neighbours per input in the partitioner's graph "
    "[default: all pairs up to 1024 inputs, else 32].",
)
@click.option(
    "--write-spec",
    metavar="OUT",
    help="Write the spec with input.order set (TOML or JSON by suffix).",
)
@click.option("--force", is_flag=True, help="Overwrite --write-spec's file if it exists.")
@max_bytes_option
@json_option
def arrange(
    arch: spec.Architecture,
    data_path: str,
    method: str,
    seed: int,
    partitioner: str,
    neighbors: int | None,
    write_spec: str | None,
    force: bool,
    max_data_bytes: int,
    as_json: bool,
) -> None:
    """The input order DATA asks for on the spec's grid and windows.

    DATA: training samples as for 'widthdesign profile' (inputs in the spec's natural
    order). The order follows the spec's convention (input.order: grid slot s holds input
    order[s]); a model built from the written spec (widthdesign.train.build_model) applies
    it to data in the natural order.

    \b
    Output: the method chosen and why, and the crossing |corr| mass summed over all
    canonical partitions (overall and per layer) for the arrangement, the spec's given
    order and a random order (exact expectation). --json: one object with order, method,
    reason, cut {arrangement, given, random: {total, levels}}, scores, constant, pairs
    (what the masses sum over: all pairs, or past 4096 inputs a 32-nearest-neighbour
    graph's edges), seconds and spec (the file written, or null).

    \b
    Example:
      widthdesign arrange examples/paper_1d_n16.toml examples/mirror_pairs_n16.csv
      widthdesign arrange SPEC train.npy --write-spec arranged.toml --json
    """
    if write_spec is not None:
        spec.check_output_file(write_spec, force, what="--write-spec")
    x = read_data(arch, data_path, max_data_bytes)
    note_if_large("arrange", x)
    arr = arrange_data(
        arch, x, seed=seed, method=method, partitioner=partitioner, neighbors=neighbors
    )
    res = arr.result
    if write_spec is not None:
        spec.dump(arr.spec(), write_spec, force=True)
        click.echo(f"wrote {write_spec}", err=as_json)
    if as_json:
        echo_json(arrange_record(res, write_spec))
        return
    click.echo(f"{arch.name or 'network'}: {x.shape[0]} samples x {x.shape[1]} inputs")
    click.echo(f"method: {res.method} ({res.reason})")
    layers = len(res.cut["random"]["levels"])
    rows = [
        [name, f"{c['total']:.1f}", *(f"{v:.1f}" for v in c["levels"])]
        for name, c in res.cut.items()
    ]
    click.echo(table(rows, ["order", "crossing total", *(f"layer {i}" for i in range(layers))]))
    shown = " ".join(map(str, res.order[:16]))
    click.echo(f"order: {shown}" + (" ..." if len(res.order) > 16 else ""))


def arrange_record(res: ArrangeResult, written: str | None) -> dict[str, Any]:
    return {
        "order": list(res.order),
        "method": res.method,
        "reason": res.reason,
        "cut": res.cut,
        "scores": res.scores,
        "constant": res.constant,
        "pairs": res.pairs,
        "seconds": round(res.seconds, 3),
        "spec": written,
    }
