"""What every command shares: the one-line error, the common options, the output helpers
(JSON with exact big integers, tables, progress on stderr)."""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from .. import cuts, spec
from ..errors import WidthDesignError

# Bounds reach 10^1000 and beyond; print them whole (Python caps int->str at 4300 digits).
sys.set_int_max_str_digits(0)


#: whether stderr ends with an unterminated progress line (rewritten with "\r" in place)
_OPEN_LINE = [False]


def partial_line(text: str) -> None:
    """A progress line on stderr rewritten in place ("\r", no newline)."""
    click.echo(text, err=True, nl=False)
    _OPEN_LINE[0] = True


def end_line(text: str = "") -> None:
    """Ends the progress line on stderr (with ``text``, if any)."""
    click.echo(text, err=True)
    _OPEN_LINE[0] = False


class CliError(click.ClickException):
    """A one-line error: ``Error: message``, exit code 1, on a line of its own (an open
    progress line is ended first)."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D102 - click API
        if _OPEN_LINE[0]:
            end_line()
        click.echo(f"Error: {self.format_message()}", err=True)


class Interrupted(CliError):
    """Ctrl-C: ``Error: interrupted``, exit code 130 (128 + SIGINT, as shells report it),
    instead of click's ``Aborted!`` with exit code 1. Every file is written to a temporary
    name and renamed, so an interrupt leaves no half-written output."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted")


class Group(click.Group):
    """Turns library and usage errors into :class:`CliError` (one line, exit 1), and Ctrl-C
    into :class:`Interrupted` (one line, exit 130)."""

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
        except KeyboardInterrupt:
            raise Interrupted() from None


def _usage(exc: click.UsageError) -> CliError:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
    return CliError(exc.format_message() + where)


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
            partial_line(f"\r{self.label}: {done}/{self.total}")

    def close(self) -> None:
        if self.shown and self.total > 1:
            end_line(f"\r{self.label}: {self.total}/{self.total} done")
        elif self.shown:
            end_line()


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


def _int_list(text: str, what: str) -> list[int]:
    """``"1,2,4"`` -> ``[1, 2, 4]``, or a one-line error naming the option."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items or not all(re.fullmatch(r"\d+", t) and int(t) > 0 for t in items):
        raise CliError(f"{what} = {text!r}: expected positive integers separated by commas")
    return [int(t) for t in items]


def _finite(ctx, param, value: float | None) -> float | None:
    """Refuse nan and inf: FloatRange lets nan through (every comparison with it is false)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number of seconds", ctx, param)
    return value
