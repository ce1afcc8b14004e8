"""The ``widthdesign`` command line: parse, call the Python API, format.

Every :class:`~widthdesign.errors.WidthDesignError` and every usage error becomes one line
``Error: ...`` on stderr with exit code 1; nothing else here knows about errors.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from . import cuts, spec
from .errors import WidthDesignError

# Bounds reach 10^1000 and beyond; print them whole (Python caps int->str at 4300 digits).
sys.set_int_max_str_digits(0)


class CliError(click.ClickException):
    """A one-line error: ``Error: message``, exit code 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D102 - click API
        click.echo(f"Error: {self.format_message()}", err=True)


class _Group(click.Group):
    """Turns library and usage errors into :class:`CliError` (one line, exit 1)."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _usage(exc) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WidthDesignError as exc:
            raise CliError(str(exc)) from None
        except click.UsageError as exc:
            raise _usage(exc) from None


def _usage(exc: click.UsageError) -> CliError:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
    return CliError(exc.format_message() + where)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="widthdesign")
def cli() -> None:
    """Design the layer widths of convolutional arithmetic circuits from min cuts.

    \b
    Example:
      widthdesign inspect examples/paper_1d_n16.toml
      widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="widthdesign")


# -- shared options -------------------------------------------------------------------------


def spec_argument(fn: Callable) -> Callable:
    """SPEC: a TOML or JSON architecture file, loaded into ``arch``."""

    @click.argument("spec_path", metavar="SPEC")
    @functools.wraps(fn)
    def wrapper(spec_path: str, **kwargs):
        return fn(arch=spec.load(spec_path), **kwargs)

    return wrapper


def parts_option(fn: Callable) -> Callable:
    return click.option(
        "--part",
        "-p",
        "parts",
        multiple=True,
        metavar="P",
        help="Partition: indices '0,3,5' or '0-3', left-right, top-bottom, even-odd, "
        "checkerboard[:k], blocks:k, random:SEED[:FRACTION], or a mask file. Repeatable.",
    )(fn)


def json_option(fn: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def method_option(fn: Callable) -> Callable:
    return click.option(
        "--method",
        type=click.Choice(sorted(cuts.CUT_METHODS)),
        default="dp",
        show_default=True,
        help="Min-cut strategy (dp: tree dynamic program; ortools/networkx: max-flow).",
    )(fn)


# -- output helpers -------------------------------------------------------------------------


def dumps_json(data: Any) -> str:
    """Indented JSON whose innermost lists (of numbers or strings) stay on one line."""
    text = json.dumps(data, indent=2)
    return _INNER_LIST.sub(
        lambda m: re.sub(r"\s+", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]"), text
    )


_INNER_LIST = re.compile(r"\[[^\[\]{}]*\]")


def echo_json(data: Any) -> None:
    click.echo(dumps_json(data))


def fmt_int(x: int, digits: int = 18) -> str:
    """An exact int when short, else ``2^k`` or ``~1.23e456`` (tables only; JSON is exact)."""
    s = str(x)
    if len(s) <= digits:
        return s
    if x & (x - 1) == 0:
        return f"2^{x.bit_length() - 1}"
    log10 = cuts._log2(x) * 0.30102999566398120
    return f"~{10 ** (log10 % 1):.3f}e{int(log10)}"


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cut_formula(cut: cuts.Cut, depth: int) -> str:
    """``M^3 r0^2 r2``: which bond dimensions the cut multiplies, per level."""
    names = ["M"] + [f"r{i}" for i in range(depth)]
    terms = [n if c == 1 else f"{n}^{c}" for n, c in zip(names, cut.counts(depth)) if c]
    return " ".join(terms) or "1"


class Progress:
    """Counts items on stderr, only once a loop has run for more than a second."""

    def __init__(self, label: str, total: int, delay: float = 1.0):
        self.label, self.total, self.delay = label, total, delay
        self.start = time.monotonic()
        self.shown = False

    def update(self, done: int) -> None:
        if time.monotonic() - self.start > self.delay:
            self.shown = True
            click.echo(f"\r{self.label}: {done}/{self.total}", err=True, nl=False)

    def close(self) -> None:
        if self.shown and self.total > 1:
            click.echo(f"\r{self.label}: {self.total}/{self.total} done", err=True)
        elif self.shown:
            click.echo("", err=True)


def with_progress(label: str, items: Sequence, fn: Callable) -> list:
    progress = Progress(label, len(items))
    out = []
    for i, item in enumerate(items):
        out.append(fn(item))
        progress.update(i + 1)
    progress.close()
    return out


def _note(message: str) -> None:
    """A progress line on stderr."""
    click.echo(f"{message} ...", err=True)


def _require_parts(parts: Iterable[str]) -> list[str]:
    parts = list(parts)
    if not parts:
        raise CliError(
            "--part: none given; expected at least one partition, e.g. --part left-right"
        )
    return parts


# -- cut ------------------------------------------------------------------------------------


@cli.command()
@spec_argument
@parts_option
@method_option
@json_option
def cut(arch: spec.Architecture, parts: tuple[str, ...], method: str, as_json: bool) -> None:
    """Exact bounds on the separation rank for each partition, with the min cut.

    The upper bound is the minimal cut of the tensor network (a pooling window's delta
    tensor counts once); the lower bound is Levine et al.'s Theorem 2 (bond dimensions
    rounded down to powers of one integer p); EXACT when they meet.

    \b
    Example:
      widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd
      widthdesign cut examples/grid_4x4.toml -p checkerboard -p 0,1,4,5 --json
    """
    results = with_progress(
        "cut", _require_parts(parts), lambda p: cuts.bounds(arch, p, method=method)
    )
    if as_json:
        echo_json([r.to_dict() for r in results])
        return
    click.echo(bounds_table(arch, results))


def bounds_table(arch: spec.Architecture, results: Sequence[cuts.Bounds], extra=None) -> str:
    header = ["partition", "upper", "lower", "exact", "log2 upper", "cut"]
    rows = []
    for i, r in enumerate(results):
        row = [
            r.partition.label,
            fmt_int(r.upper_bound),
            fmt_int(r.lower_bound),
            "yes" if r.exact else "no",
            f"{r.log2_upper_bound:.3f}",
            cut_formula(r.cut, arch.depth),
        ]
        if extra is not None:
            row.insert(3, extra[i])
        rows.append(row)
    if extra is not None:
        header.insert(3, "rank")
    title = f"{arch.name or 'network'}: M={arch.channels}, widths {list(arch.widths)}"
    return title + "\n" + table(rows, header)


# -- verify ---------------------------------------------------------------------------------


@cli.command()
@spec_argument
@parts_option
@click.option("--shared", is_flag=True, help="One kernel per layer (weight sharing).")
@click.option(
    "--seeds", type=click.IntRange(min=1), default=3, show_default=True, help="Random draws."
)
@json_option
def verify(
    arch: spec.Architecture, parts: tuple[str, ...], shared: bool, seeds: int, as_json: bool
) -> None:
    """Exact rank of random networks over a prime field, next to the bounds.

    Builds the network with random weights mod a prime, forms its grid tensor and computes
    the rank of its matricization (max over --seeds draws): the generic rank with high
    probability. Needs M^N <= 4194304.

    \b
    Example:
      widthdesign verify examples/paper_1d_n16.toml --part left-right --part 0,1
    """
    from .verify import verify_rank

    def one(p):
        b = cuts.bounds(arch, p)
        rank = verify_rank(arch, b.partition, shared=shared, seeds=seeds, progress=_note)
        return b, rank

    results = with_progress("verify", _require_parts(parts), one)
    if as_json:
        echo_json([{**b.to_dict(), "rank": rank, "shared": shared} for b, rank in results])
        return
    click.echo(bounds_table(arch, [b for b, _ in results], extra=[r for _, r in results]))


# -- inspect --------------------------------------------------------------------------------


@cli.command()
@spec_argument
@json_option
def inspect(arch: spec.Architecture, as_json: bool) -> None:
    """Levels, grid shapes, widths and compute costs of an architecture.

    \b
    Example:
      widthdesign inspect examples/levine_64x64.toml
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
        f"M={arch.channels} channels, Y={arch.classes} classes"
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
    click.echo(table(rows, ["layer", "grid in", "pool", "positions", "width", "windows out"]))
    if costs:
        click.echo("costs: " + ", ".join(f"{k} = {v}" for k, v in costs.items()))


def _fmt_pool(pool) -> str:
    return "x".join(map(str, pool)) if isinstance(pool, list) else str(pool)


# -- network --------------------------------------------------------------------------------


@cli.command()
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

    from . import network as builder

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".graphml", ".json"):
        raise CliError(f"--out = {out!r}: expected a file name ending in .graphml or .json")
    if path.exists() and not force:
        raise CliError(f"--out = {out!r}: file exists; expected a new path (or --force)")
    if not path.parent.is_dir():
        raise CliError(f"--out = {out!r}: folder {str(path.parent)!r} does not exist")
    g = builder.build_network(arch)
    (builder.write_graphml if suffix == ".graphml" else builder.write_json)(g, path)
    click.echo(f"wrote {path} ({g.number_of_nodes()} nodes, {g.number_of_edges()} bonds)")


if __name__ == "__main__":  # pragma: no cover
    main()
