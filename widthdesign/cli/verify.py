"""``widthdesign verify``: exact ranks of random networks next to the bounds."""

from __future__ import annotations

import click

from .. import cuts, spec
from ._common import (
    _json_mode,
    _note,
    _require_parts,
    bounds_record,
    echo_records,
    jsonl_options,
    parts_option,
    spec_argument,
    with_progress,
)
from .cut import bounds_table

# -- verify ---------------------------------------------------------------------------------


@click.command()
@spec_argument
@parts_option
@click.option("--shared", is_flag=True, help="One kernel per layer (weight sharing).")
@click.option(
    "--seeds",
    type=click.IntRange(min=1, max=1000),
    default=3,
    show_default=True,
    help="Random draws (1..1000).",
)
@jsonl_options
def verify(
    arch: spec.Architecture,
    parts: tuple[str, ...],
    shared: bool,
    seeds: int,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Exact rank of random networks over a prime field, next to the bounds.

    Builds the network with random weights mod a prime, forms its grid tensor and computes
    the rank of its matricization (max over --seeds draws): the generic rank with high
    probability. Needs M^N <= 4194304. In the table, "bounds meet" says whether the lower
    and upper bounds are equal; rank = upper means the min cut is reached by random weights.
    --json / --jsonl: the records of cut (same keys) plus rank and shared.

    Overlapping specs (stride below the window): input i is read k_i times, so the network
    is evaluated on C(M + k_i - 1, k_i) random templates per input (rows: template tuples of
    A, columns: of B; needs width x prod_i C(M + k_i - 1, k_i) <= 4194304); the lower bound
    is "-" (none is proved with overlaps).

    \b
    Example:
      widthdesign verify examples/paper_1d_n16.toml --part left-right --part 0,1
    """
    from ..verify import check_size, verify_rank

    check_size(arch)  # from the sizes alone, before any bound is computed

    def one(p):
        b = cuts.bounds(arch, p)
        rank = verify_rank(arch, b.partition, shared=shared, seeds=seeds, progress=_note)
        return b, rank

    machine = _json_mode(as_json, as_jsonl)
    results = with_progress("verify", _require_parts(parts), one)
    if machine:
        records = [
            {**bounds_record(i, b), "rank": rank, "shared": shared}
            for i, (b, rank) in enumerate(results)
        ]
        echo_records(records, as_jsonl)
        return
    ranks = [r for _, r in results]
    click.echo(bounds_table(arch, [b for b, _ in results], extra=ranks, exact="bounds meet"))
    reached = sum(r == b.upper_bound for (b, _), r in zip(results, ranks))
    kind = "shared " if shared else ""
    click.echo(
        f"rank: exact rank of random {kind}weights (max over {seeds} draws); "
        "bounds meet: lower = upper bound\n"
        f"rank = upper ({reached} of {len(ranks)} here): the min cut is reached by random weights"
    )
