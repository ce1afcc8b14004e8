"""The ``widthdesign`` command line: parse, call the Python API, format.

Every :class:`~widthdesign.errors.WidthDesignError` and every usage error becomes one line
``Error: ...`` on stderr with exit code 1; nothing else here knows about errors.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import click
import numpy as np

from . import cuts, spec
from .errors import BudgetError, WidthDesignError
from .optimize import DEFAULT_MAX_RATIO, DEFAULT_MIN_WIDTH, DEFAULT_SLACK, OBJECTIVES

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


def jsonl_options(fn: Callable) -> Callable:
    """--json (one JSON array) and --jsonl (one JSON object per line, for streams)."""
    fn = click.option(
        "--jsonl",
        "as_jsonl",
        is_flag=True,
        help="Print one JSON object per line (JSON Lines, for streams) instead of a table.",
    )(fn)
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON array of objects (one per partition) instead of a table.",
    )(fn)


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
    tag = os.urandom(6).hex()  # placeholders no label can forge
    data, big = _stash_big_ints(data, tag)
    text = json.dumps(data, indent=2)
    text = _INNER_LIST.sub(
        lambda m: re.sub(r"\s+", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]"), text
    )
    return _unstash_big_ints(text, big, tag)


#: Ints of more bits than this are printed by cuts.int_to_decimal (json's str() of an int is
#: quadratic: minutes for the 2.5-million-digit bound of a 4096x4096 checkerboard).
_BIG_INT_BITS = 20000


def _stash_big_ints(data: Any, tag: str, big: list | None = None) -> tuple[Any, list]:
    """``data`` with huge ints replaced by placeholder strings, and the ints."""
    big = [] if big is None else big
    if isinstance(data, int) and not isinstance(data, bool) and data.bit_length() > _BIG_INT_BITS:
        big.append(data)
        return f"@@bigint-{tag}:{len(big) - 1}@@", big
    if isinstance(data, dict):
        return {k: _stash_big_ints(v, tag, big)[0] for k, v in data.items()}, big
    if isinstance(data, list):
        return [_stash_big_ints(v, tag, big)[0] for v in data], big
    return data, big


def _unstash_big_ints(text: str, big: list, tag: str) -> str:
    if not big:
        return text
    pattern = rf'"@@bigint-{tag}:(\d+)@@"'
    return re.sub(pattern, lambda m: cuts.int_to_decimal(big[int(m.group(1))]), text)


_INNER_LIST = re.compile(r"\[[^\[\]{}]*\]")


def echo_json(data: Any) -> None:
    click.echo(dumps_json(data))


#: Keys of every partition record of ``cut`` and ``verify`` (--json, --jsonl), in order.
RECORD_KEYS = (
    "index",
    "partition",
    "upper_bound",
    "lower_bound",
    "exact",
    "log2_upper_bound",
    "log2_lower_bound",
    "lower_base",
    "side_a",
    "cut",
)


def bounds_record(index: int, b: cuts.Bounds) -> dict[str, Any]:
    """The record of one partition's bounds: :data:`RECORD_KEYS`, ``partition`` its label."""
    data = b.to_dict()
    return {"index": index, **{k: data[k] for k in RECORD_KEYS[1:]}}


def batch_records(res: Any, labels: Sequence[Any], values: str) -> list[dict[str, Any]]:
    """Records of a batch with the keys of :func:`bounds_record`: what the batch engine does
    not compute is ``null`` (``cut``, ``lower_base``, ``side_a``, and the exact bounds unless
    ``values == "exact"``); ``partition`` is the label of the file's line (``row I`` for
    0/1 rows and .npy rows)."""
    out = []
    for i, rec in enumerate(res.to_records(values, labels=list(range(len(labels))))):
        full = {
            "index": i,
            "partition": batch_label(labels[i]),
            "upper_bound": None,
            "lower_bound": None,
        }
        full.update({k: v for k, v in rec.items() if k != "partition"})
        out.append({k: full.get(k) for k in RECORD_KEYS})
    return out


def batch_label(label: Any) -> str:
    """A partition label of a parts file as a string: its spec, or ``row I`` for a 0/1 row."""
    return label if isinstance(label, str) else f"row {label}"


def echo_records(records: Sequence[dict[str, Any]], jsonl: bool) -> None:
    """One JSON array (indented), or with ``jsonl`` one compact object per line."""
    if not jsonl:
        echo_json(list(records))
        return
    for rec in records:
        click.echo(json.dumps(rec, separators=(",", ":")))


def _json_mode(as_json: bool, as_jsonl: bool) -> bool:
    """True for machine output; refuses both flags at once."""
    if as_json and as_jsonl:
        raise CliError("--json and --jsonl: give one or the other, not both")
    return as_json or as_jsonl


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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


def _cut_batch(arch: spec.Architecture, path: str, values: str, machine: bool, jsonl: bool) -> None:
    from .batch import bounds_many, read_parts_file

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
            f"{res.log2_lower[i]:.3f}",
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


# -- verify ---------------------------------------------------------------------------------


@cli.command()
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

    \b
    Example:
      widthdesign verify examples/paper_1d_n16.toml --part left-right --part 0,1
    """
    from .verify import check_size, verify_rank

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
    click.echo(table(rows, ["layer", "grid in", "pool", "positions", "width", "windows out"]))
    if costs:
        click.echo("costs: " + ", ".join(f"{k} = {v}" for k, v in costs.items()))


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


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
    spec.check_output_file(path, force, "--out")  # missing folder, read-only, /proc...
    builder.check_network_size(arch, "network")
    g = builder.build_network(arch)
    (builder.write_graphml if suffix == ".graphml" else builder.write_json)(g, path)
    click.echo(f"wrote {path} ({g.number_of_nodes()} nodes, {g.number_of_edges()} bonds)")


# -- report ---------------------------------------------------------------------------------
# matplotlib and the optimizer are imported inside the commands: `widthdesign cut` and
# `--help` stay fast and never touch a plotting backend.


def _int_list(text: str, what: str) -> list[int]:
    """``"1,2,4"`` -> ``[1, 2, 4]``, or a one-line error naming the option."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items or not all(re.fullmatch(r"\d+", t) and int(t) > 0 for t in items):
        raise CliError(f"{what} = {text!r}: expected positive integers separated by commas")
    return [int(t) for t in items]


def _sweep_budgets(text: str, budget: int) -> list[int]:
    """Budgets of the sweep figure: ``auto`` (budget/4 .. budget*4), ``none`` or a list."""
    if text == "none":
        return []
    if text == "auto":
        return sorted({max(1, budget // 4), max(1, budget // 2), budget, budget * 2, budget * 4})
    return sorted(set(_int_list(text, "--sweep")))


def _report_parts(arch: spec.Architecture, parts: Sequence[str], favored: Sequence) -> list:
    """The partitions given, else the defaults plus the favored ones (same mask once)."""
    from . import report as rep
    from .partitions import parse_partition

    if parts:
        return list(parts)
    out, seen = [], set()
    for p in [parse_partition(s, arch) for s in rep.default_partitions(arch)] + list(favored):
        key = p.mask.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def write_report_files(
    arch: spec.Architecture,
    out: str,
    parts: Sequence = (),
    recommendation: Any = None,
    sweep: Sequence | None = None,
    fmt: str = "png",
    force: bool = False,
    quiet: bool = False,
) -> None:
    """Write a report folder and print the written files, one per line (to stderr when
    ``quiet``); also used by ``recommend --report``."""
    from . import report as rep

    favored = []
    if recommendation is not None:
        favored = [cuts.as_partition(arch, p) for p, _ in recommendation.favor]
    _note(f"writing report to {out}")
    written = rep.write_report(
        out,
        arch,
        _report_parts(arch, parts, favored),
        recommendation=recommendation,
        sweep=sweep,
        fmt=fmt,
        force=force,
    )
    for path in written:
        click.echo(str(path), err=quiet)


def _finite(ctx, param, value: float | None) -> float | None:
    """Refuse nan and inf: FloatRange lets nan through (every comparison with it is false)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number of seconds", ctx, param)
    return value


def optimizer_options(fn: Callable) -> Callable:
    """The optimizer's options (--favor, --cost, --choices, --objective, --limit, --fix,
    --time-limit), handed to the command as ``favor`` (a list) and ``solve`` (keyword
    arguments of :func:`widthdesign.optimize.recommend`)."""

    @click.option(
        "--favor",
        "favor",
        multiple=True,
        metavar="P[=W]",
        help="Favored partition with optional weight (0,1,2,3=2.5, left-right=1), or global / "
        "local / scale:k. Repeatable.",
    )
    @click.option(
        "--cost",
        type=click.Choice(list(spec.COST_MODELS)),
        default="params",
        show_default=True,
        help="Cost model of the budget.",
    )
    @click.option(
        "--choices",
        metavar="W,W,...|A..B[:S]",
        help="Candidate widths: a list, or a range A..B with step S (8..512:8); default "
        "powers of two 1..1024, before the floors.",
    )
    @click.option(
        "--objective",
        type=click.Choice(list(OBJECTIVES)),
        default="sum",
        show_default=True,
        help="sum: the weighted mean of the favored scores; maximin: the smallest weighted "
        "score. A score is log2(upper bound) / the best log2 bound any design within the "
        "budget reaches for that partition alone.",
    )
    @click.option(
        "--slack",
        type=float,
        default=DEFAULT_SLACK,
        show_default=True,
        help="Fraction of the best objective a design may give up to gain breadth (mean score "
        "over every scale of the grid); 0: the exact optimum. Default checked by training, see "
        "docs/training.md.",
    )
    @click.option(
        "--max-ratio",
        "max_ratio",
        default=str(DEFAULT_MAX_RATIO),
        show_default=True,
        metavar="R|none",
        help="Largest ratio of consecutive widths, both ways (bounds alone reward zigzags); "
        "none: unbounded. 2 trained best in the worst case (docs/training.md).",
    )
    @click.option(
        "--min-width",
        "min_width",
        default=str(DEFAULT_MIN_WIDTH),
        show_default=True,
        metavar="W|auto",
        callback=_min_width,
        help="Smallest width of a layer without --limit; auto: half the widest uniform "
        "width within the budget, at least 2 (narrow layers decided accuracy in the training "
        "benchmark). The top layer also gets at least the number of classes.",
    )
    @click.option(
        "--limit",
        "limits",
        multiple=True,
        metavar="L:MIN:MAX",
        help="Width limits of layer L (MIN or MAX may be empty); replaces the floors of that "
        "layer. Repeatable.",
    )
    @click.option(
        "--fix", "fixes", multiple=True, metavar="L:W", help="Fix layer L's width to W. Repeatable."
    )
    @click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        callback=_finite,
        default=None,
        help="Seconds per optimization; the best design found is returned (optimal: false).",
    )
    @functools.wraps(fn)
    def wrapper(
        cost,
        choices,
        objective,
        slack,
        max_ratio,
        min_width,
        limits,
        fixes,
        time_limit,
        favor,
        **kwargs,
    ):
        solve: dict[str, Any] = {
            "cost": cost,
            "objective": objective,
            "time_limit": time_limit,
            "slack": slack,
            "max_ratio": max_ratio,
            "min_width": min_width,
        }
        if choices is not None:
            solve["choices"] = _choices(choices)
        solve["limits"] = {
            int(layer): (_opt_int(lo, "--limit MIN"), _opt_int(hi, "--limit MAX"))
            for layer, lo, hi in _layer_specs(limits, "--limit", 3)
        }
        solve["fixed"] = {
            int(layer): _opt_int(w, "--fix W") for layer, w in _layer_specs(fixes, "--fix", 2)
        }
        return fn(favor=list(favor), solve=solve, **kwargs)

    return wrapper


def _min_width(ctx, param, value: str) -> int | str:
    """``--min-width``: a positive integer or ``auto``."""
    text = value.strip().lower()
    if text == "auto":
        return "auto"
    if not re.fullmatch(r"\d{1,10}", text):
        raise click.BadParameter(f"{value!r}: expected a positive integer or auto")
    return int(text)


def _choices(text: str) -> list[int]:
    """``--choices``: ``1,2,4`` or a range ``8..512:8`` (inclusive, step after the colon)."""
    m = re.fullmatch(r"\s*(\d{1,10})\s*\.\.\s*(\d{1,10})\s*(?::\s*(\d{1,10})\s*)?", text)
    if m is None:
        return _int_list(text, "--choices")
    lo, hi, step = int(m[1]), int(m[2]), int(m[3] or 1)
    if lo < 1 or hi < lo or step < 1 or (hi - lo) // step >= 4096:
        raise CliError(
            f"--choices = {text!r}: expected A..B[:S] with 1 <= A <= B, S >= 1 and at most "
            "4096 widths"
        )
    return list(range(lo, hi + 1, step))


def report_options(fn: Callable) -> Callable:
    """--format and --sweep, shared by ``report`` and ``recommend --report``."""
    fn = click.option(
        "--sweep",
        "sweep_text",
        default="auto",
        show_default=True,
        metavar="B,B,...|auto|none",
        help="Budgets of the budget-sweep figure (auto: budget/4, /2, x1, x2, x4; infeasible "
        "ones skipped).",
    )(fn)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["png", "svg", "pdf"]),
        default="png",
        show_default=True,
        help="Figure format (index.html embeds PNG and SVG; PDF gets a PNG preview).",
    )(fn)


def _require_favor(favor: Sequence[str]) -> None:
    if not favor:
        raise CliError("--favor: none given; expected at least one, e.g. --favor global")


def _sweep(arch, rec, favor, solve, sweep_text: str) -> list | None:
    """Recommendations over the sweep's feasible budgets (reusing ``rec`` at its budget)."""
    from . import optimize

    budgets = _sweep_budgets(sweep_text, rec.budget)
    if len(budgets) < 2:
        return None
    _note(f"budget sweep over {len(budgets)} budgets")
    out = []
    for b in budgets:
        if b == rec.budget:
            out.append(rec)
            continue
        try:
            out.append(optimize.recommend(arch, b, favor, **solve))
        except BudgetError:  # below the cheapest design: not part of the sweep
            continue
    return out if len(out) >= 2 else None


@cli.command()
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
@click.option("--force", is_flag=True, help="Write into a non-empty folder, overwriting files.")
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
    from . import report as rep

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
    from . import optimize

    _note(f"recommending widths under {solve['cost']} <= {budget}")
    rec = optimize.recommend(arch, budget, favor, **solve)
    sweep = _sweep(arch, rec, favor, solve, sweep_text)
    write_report_files(arch, out, parts, recommendation=rec, sweep=sweep, fmt=fmt, force=force)


# -- recommend ------------------------------------------------------------------------------


def _layer_specs(items: Iterable[str], what: str, fields: int) -> list[list[str]]:
    """``L:A[:B]`` items split on ':' with the layer index checked to be an integer."""
    out = []
    for item in items:
        parts = item.split(":")
        if len(parts) != fields or not re.fullmatch(r"\d+", parts[0].strip()):
            form = "L:MIN:MAX" if fields == 3 else "L:W"
            raise CliError(f"{what} = {item!r}: expected {form} with a layer index L")
        out.append([p.strip() for p in parts])
    return out


def _opt_int(text: str, what: str) -> int | None:
    if text == "":
        return None
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise CliError(f"{what}: {text!r} is not a positive integer")
    return int(text)


class _SolveProgress:
    """Solver progress on stderr, only once a solve has run for more than a second."""

    def __init__(self, delay: float = 1.0):
        self.start, self.delay, self.shown = time.monotonic(), delay, False

    def __call__(self, info: dict) -> None:
        if time.monotonic() - self.start <= self.delay:
            return
        self.shown = True
        click.echo(
            f"\rrecommend: stage {info['stage']} done, {info['round']} searches "
            f"({info['seconds']:.1f} s)   ",
            err=True,
            nl=False,
        )

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


@cli.command()
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
    help="Let --write-spec overwrite an existing file and --report write into a non-empty folder.",
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

    from . import optimize
    from .errors import SpecError

    _require_favor(favor)
    # refuse before solving, not after
    if write_spec is not None and not force and Path(write_spec).exists():
        raise SpecError("output file", write_spec, "a path that does not exist yet (or --force)")
    if write_spec is not None:
        spec.check_output_file(write_spec, force, "--write-spec")
    if report_dir is not None:
        from . import report as rep

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
        f"{status}: {st.get('rounds')} searches, {st.get('cuts')} cuts, {st.get('seconds')} s",
        "",
    ]
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
        "within the budget (over 100 %: the design is outside the budget or the floors)"
    )
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


if __name__ == "__main__":  # pragma: no cover
    main()
