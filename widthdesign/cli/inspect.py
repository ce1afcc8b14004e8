"""``widthdesign inspect``: levels, widths and costs of a spec."""

from __future__ import annotations

import click

from .. import spec
from ._common import echo_json, json_option, spec_argument, table

# -- inspect --------------------------------------------------------------------------------


@click.command()
@spec_argument
@json_option
def inspect(arch: spec.Architecture, as_json: bool) -> None:
    """Levels, grid shapes, widths and compute costs of an architecture.

    Overlapping specs (a stride below the window) also show the stride, the kind of layer
    (conv: 1x1 or window) and the copies: positions of the unrolled tree, each network
    position counted once per path that reads it (the tensor network's size).
    --json: name, shape, inputs, channels, classes, layers (one object per layer: layer,
    grid, positions, pool, stride, conv, width, windows, copies), costs.

    \b
    Example:
      widthdesign inspect examples/levine_64x64.toml
      widthdesign inspect examples/overlap_2d_8x8.toml --json
    """
    levels = list(spec.iter_levels(arch))
    costs = {m: spec.cost(arch, m) for m in spec.COST_MODELS} if arch.has_widths else None
    if as_json:
        echo_json(
            {
                "name": arch.name,
                "shape": list(arch.shape),
                "inputs": arch.num_inputs,
                "channels": arch.channels,
                "classes": arch.classes,
                "layers": levels,
                "costs": costs,
            }
        )
        return
    click.echo(
        f"{arch.name or 'network'}: {arch.num_inputs} inputs on grid {list(arch.shape)}, "
        f"M={arch.channels} channels, Y={arch.classes} {_plural(arch.classes, 'class', 'classes')}"
        + (", explicit pooling tree" if arch.tree is not None else "")
    )
    rows = [
        [
            lv["layer"],
            "-" if lv["grid"] is None else "x".join(map(str, lv["grid"])),
            "-" if lv["pool"] is None else _fmt_pool(lv["pool"]),
            lv["positions"],
            "?" if lv["width"] is None else lv["width"],
            lv["windows"],
        ]
        for lv in levels
    ]
    header = ["layer", "grid in", "pool", "positions", "width", "windows out"]
    if arch.overlapping or any(lv["conv"] != "1x1" for lv in levels):
        # overlapping specs: the stride, the kind of layer and the unrolled tree's size
        for row, lv in zip(rows, levels):
            row[3:3] = [_fmt_pool(lv["stride"]), lv["conv"]]
            row.append(lv["copies"])
        header[3:3] = ["stride", "conv"]
        header.append("copies")
    click.echo(table(rows, header))
    if costs:
        click.echo("costs: " + ", ".join(f"{k} = {v}" for k, v in costs.items()))


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _fmt_pool(pool) -> str:
    return "x".join(map(str, pool)) if isinstance(pool, list) else str(pool)
