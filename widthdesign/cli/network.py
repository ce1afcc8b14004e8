"""``widthdesign network``: export the tensor network."""

from __future__ import annotations

import click

from .. import spec
from ._common import CliError, spec_argument

# -- network --------------------------------------------------------------------------------


@click.command()
@spec_argument
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .graphml or .json (node-link).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def network(arch: spec.Architecture, out: str, force: bool) -> None:
    """Export the tensor network (nodes, bonds and their dimensions) as GraphML or JSON.

    Node ids are kind:layer:position (input:3, conv:0:3, delta:0:1, output); every edge has
    its bond dimension `dim` and `level` (0 for input bonds, l+1 for layer-l delta legs).

    \b
    Example:
      widthdesign network examples/grid_4x4.toml -o grid.graphml
    """
    from pathlib import Path

    from .. import network as builder

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".graphml", ".json"):
        raise CliError(f"--out = {out!r}: expected a file name ending in .graphml or .json")
    if path.exists() and not force:
        raise CliError(f"--out = {out!r}: file exists; expected a new path (or --force)")
    spec.check_output_file(path, force, "--out")  # missing folder, read-only, /proc...
    builder.check_network_size(arch, "network")
    g = builder.build_network(arch)
    (builder.write_graphml if suffix == ".graphml" else builder.write_json)(g, path)
    click.echo(f"wrote {path} ({g.number_of_nodes()} nodes, {g.number_of_edges()} bonds)")
