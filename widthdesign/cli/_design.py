"""Options and helpers shared by ``recommend`` and ``report``: the optimizer's options, the
report's options, the report folder and the budget sweep."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from .. import cuts, spec
from ..errors import BudgetError
from ..optimize import DEFAULT_MAX_RATIO, DEFAULT_MIN_WIDTH, DEFAULT_SLACK, OBJECTIVES
from ._common import CliError, _finite, _int_list, _note


def _sweep_budgets(text: str, budget: int) -> list[int]:
    """Budgets of the sweep figure: ``auto`` (budget/4 .. budget*4), ``none`` or a list."""
    if text == "none":
        return []
    if text == "auto":
        return sorted({max(1, budget // 4), max(1, budget // 2), budget, budget * 2, budget * 4})
    return sorted(set(_int_list(text, "--sweep")))


def _report_parts(arch: spec.Architecture, parts: Sequence[str], favored: Sequence) -> list:
    """The partitions given, else the defaults plus the favored ones (same mask once)."""
    from .. import report as rep
    from ..partitions import parse_partition

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
    data_profile: Any = None,
) -> None:
    """Write a report folder and print the written files, one per line (to stderr when
    ``quiet``); also used by ``recommend --report``."""
    from .. import report as rep

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
        data_profile=data_profile,
    )
    for path in written:
        click.echo(str(path), err=quiet)


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
        "1..15 and the multiples of 8 from 16 to 1024, before the floors. The baselines that "
        "meet the budget and floors are searched too.",
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
    from .. import optimize

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
