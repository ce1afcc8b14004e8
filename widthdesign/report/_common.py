"""Shared style, number formatting and helpers of the report figures (no matplotlib import at
module level: every figure imports it inside its function)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import cuts
from ..errors import WidthDesignError
from ..spec import Architecture

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


class ReportError(WidthDesignError):
    """A report cannot be written (folder not empty without ``force``, bad format...)."""


# -- style ----------------------------------------------------------------------------------
# Okabe-Ito palette (colour-blind safe). Sides are blue / yellow, the cut vermillion: the three
# stay apart under every common colour-vision deficiency, and the cut is the only saturated
# warm line in a network drawing whose other edges are grey.
SIDE_A = "#0072B2"
SIDE_B = "#F0E442"
CUT = "#D55E00"
EDGE = "#A0A0A0"
INK = "#222222"
#: Colour per design label; other labels cycle through :data:`_CYCLE`.
DESIGN_COLORS = {
    "spec": "#0072B2",
    "recommended": "#D55E00",
    "uniform": "#009E73",
    "wide-base": "#CC79A7",
    "wide-tip": "#56B4E9",
}
_CYCLE = ["#E69F00", "#000000", "#999999", "#CC79A7", "#56B4E9"]
_HATCH = {"spec": "", "recommended": "//", "uniform": "..", "wide-base": "\\\\", "wide-tip": "xx"}
_LINESTYLE = {"spec": "-", "recommended": "--", "uniform": ":", "wide-base": "-.", "wide-tip": "-."}
_MARKER = {"spec": "o", "recommended": "s", "uniform": "^", "wide-base": "D", "wide-tip": "P"}
#: Colours of favored partitions in the budget sweep (Okabe-Ito, design colours first).
PART_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000"]

FIGSIZE = (7.0, 4.5)
DPI = 150
#: Networks with more inputs than this are drawn collapsed, one row per level.
MAX_DRAWN_INPUTS = 256
FORMATS = ("png", "svg", "pdf")

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # keep text as text in SVG (searchable, smaller)
    "pdf.fonttype": 42,  # TrueType in PDF, as journals ask
}


def _rc():
    import matplotlib

    return matplotlib.rc_context(_RC)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    """``ax``'s figure, or a new constrained-layout figure (not registered with pyplot)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _design_color(label: str, i: int) -> str:
    return DESIGN_COLORS.get(label, _CYCLE[i % len(_CYCLE)])


# -- numbers --------------------------------------------------------------------------------


def _fmt(x: int) -> str:
    """Bounds and costs in figures: exact up to 12 digits (see :func:`cuts.format_int`)."""
    return cuts.format_int(x, digits=12)


def _bounds_text(b: cuts.Bounds) -> str:
    if b.exact:
        return f"rank = {_fmt(b.upper_bound)}"
    if b.lower_bound is None:  # overlapping windows: no proved lower bound
        return f"rank ≤ {_fmt(b.upper_bound)}"
    return f"{_fmt(b.lower_bound)} ≤ rank ≤ {_fmt(b.upper_bound)}"


def _level_tex(depth: int) -> list[str]:
    """Mathtext names of the bond dimensions, ``$M$``, ``$r_0$``, ..."""
    return ["$M$"] + [f"$r_{{{i}}}$" for i in range(depth)]


# -- legends and ticks -----------------------------------------------------------------------


def _legend_below(
    fig: Figure, ax: Axes, handles: list, ncol: int, labels: list[str] | None = None
) -> None:
    """A legend under the plot: outside the drawing so it hides no node or bar label."""
    labels = labels if labels is not None else [h.get_label() for h in handles]
    if len(fig.axes) == 1 and fig.get_layout_engine() is not None:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)
    else:
        # a caller's axes (maybe one of several): keep the legend attached to it
        ax.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=ncol,
            frameon=False,
        )


def _ticks(n: int) -> list[int]:
    """A few round tick positions in 0..n-1."""
    if n <= 16:
        return list(range(n))
    step = 2 ** max(0, math.ceil(math.log2(n / 8)))
    return list(range(0, n, step))


# -- designs of a recommendation ----------------------------------------------------------


def _designs(rec: Any) -> dict[str, Any]:
    """Designs of a recommendation in display order: spec, recommended, uniform, others."""
    baselines = dict(getattr(rec, "baselines", {}) or {})
    out = {}
    if "spec" in baselines:
        out["spec"] = baselines.pop("spec")
    out["recommended"] = rec.design
    if "uniform" in baselines:
        out["uniform"] = baselines.pop("uniform")
    out.update(baselines)
    return out


def _not_searched(rec: Any, label: str) -> str:
    """``" (not searched: below the floors)"`` for a baseline outside the domain of the proof,
    so a figure never shows it beating a proved optimum without saying why; else ``""``."""
    misses = getattr(rec, "baseline_misses", None) or {}
    return " (not searched: below the floors)" if misses.get(label) else ""


def _cost_model(rec: Any) -> str:
    return str(getattr(rec, "cost_model", "params"))


def _rec_title(rec: Any, what: str, settings: str | None = None) -> str:
    """Title lines of a recommendation's figure: the spec's name and ``what``, the budget
    and favor, then the settings (``settings`` if given, else :func:`_settings_text`)."""
    arch = getattr(rec, "arch", None)
    name = getattr(arch, "name", "") or "network"
    favor = _favor_text(getattr(rec, "favor", None))
    budget = getattr(rec, "budget", None)
    parts = [f"{name} — {what}"]
    if budget is not None:
        parts.append(f"budget {_cost_model(rec)} ≤ {_fmt(int(budget))}")
    if favor:
        parts.append(f"favor {favor}")
    settings = _settings_text(rec) if settings is None else settings
    return _title(parts[0], ", ".join(parts[1:]), settings)


def _settings_text(rec: Any, min_width: str | None = None) -> str:
    """``objective sum, slack 5 %, max ratio 2, min width 2`` of a recommendation ("" if
    none); ``min_width`` replaces the last item (a sweep's floors differ per budget)."""
    if not hasattr(rec, "slack"):
        return ""
    ratio = getattr(rec, "max_ratio", None)
    floor = min_width if min_width is not None else f"min width {getattr(rec, 'min_width', 1)}"
    return (
        f"objective {getattr(rec, 'objective_kind', 'sum')}, slack {100 * float(rec.slack):g} %, "
        f"max ratio {'none' if ratio is None else f'{float(ratio):g}'}, {floor}"
    )


def _favor_text(favor: Any) -> str:
    """A short text for a recommendation's ``favor`` (string, mapping or sequence)."""
    if favor is None:
        return ""
    if isinstance(favor, str):
        return favor
    if isinstance(favor, Mapping):
        items = list(favor.items())
    else:
        items = list(favor)
    out = []
    for item in items[:4]:
        if isinstance(item, tuple) and len(item) == 2:
            p, w = item
            out.append(f"{getattr(p, 'label', p)}" + ("" if w == 1 else f"={w:g}"))
        else:
            out.append(str(getattr(item, "label", item)))
    return ", ".join(out) + (", ..." if len(items) > 4 else "")


def _as_designs(arch_or_designs: Any) -> dict[str, Architecture]:
    """Label -> architecture from an Architecture, a mapping, a sequence or a Recommendation."""
    if isinstance(arch_or_designs, Architecture):
        return {"spec": arch_or_designs}
    if isinstance(arch_or_designs, Mapping):
        return {str(k): v for k, v in arch_or_designs.items()}
    if hasattr(arch_or_designs, "design") and hasattr(arch_or_designs, "arch"):
        base = arch_or_designs.arch
        return {
            label: base.with_widths([int(w) for w in d.widths])
            for label, d in _designs(arch_or_designs).items()
        }
    out = {}
    for i, a in enumerate(arch_or_designs):
        label = a.name or f"design {i}"
        out[label if label not in out else f"{label} ({i})"] = a
    return out


# -- one y-scale convention for every figure -------------------------------------------------

#: Values spanning at least this factor get a log2 axis; below it, a linear axis from 0.
LOG_SPAN = 16


def _y_scale(
    ax: Axes, values: list[float], label: str, headroom: float = 1.15, nonpositive: str = "clip"
) -> bool:
    """The y-axis convention shared by the widths, interaction and sweep figures: linear from
    0 (it does not exaggerate differences) unless the positive values span a factor of
    :data:`LOG_SPAN` or more (widths 2 next to 256; 4 bits next to 6144), then a log2 axis
    with plain-number ticks and "(log scale)" in the label. Returns True for a log axis.
    ``nonpositive``: "clip" for bars (they start at 0), "mask" for lines (a gap at 0)."""
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) >= LOG_SPAN:
        from matplotlib.ticker import FuncFormatter, LogLocator

        low, top = min(positive), max(positive)
        ax.set_yscale("log", base=2, nonpositive=nonpositive)
        base = 4 if top / low > 2**10 else 2  # at most ~8 major ticks
        ax.yaxis.set_major_locator(LogLocator(base=base))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(LogLocator(base=base, subs=()))
        ax.set_ylim(low / 1.6, top * headroom**2)
        ax.set_ylabel(f"{label} (log scale)")
        return True
    ax.set_ylim(0, max(positive or [1.0]) * headroom)
    ax.set_ylabel(label)
    return False


def _baselines_note(rec: Any, shown: Any = None, candidates: bool = True) -> str:
    """What the baselines of a recommendation are and which candidate widths were searched.

    ``shown``: the design labels the figure draws (default: every baseline), so a note never
    defines a design its figure does not plot; ``candidates=False`` leaves the candidate
    widths out (a sweep states them per budget).
    """
    parts = []
    baselines = getattr(rec, "baselines", None) or {}
    shown = set(baselines) if shown is None else set(shown) & set(baselines)
    if "uniform" in shown:
        parts.append("uniform = the best equal-width design within the budget")
    if "wide-base" in shown or "wide-tip" in shown:
        parts.append("wide-base / wide-tip = 4r, 2r, r by thirds of the depth")
    if "spec" in shown:
        parts.append("spec = the spec's own widths")
    if candidates and _rec_candidates(rec):
        parts.append(f"candidate widths {_cands_text(_rec_candidates(rec))}")
    return "; ".join(parts)


def _rec_candidates(rec: Any) -> Any:
    """The candidate widths a recommendation searched (per layer), if it says."""
    stats = getattr(rec, "stats", None) or {}
    return getattr(rec, "candidates", None) or stats.get("candidates") or stats.get("choices")


def _pct(x: float) -> str:
    """A score (a fraction) as a percentage: ``0.9583 -> '95.8 %'``."""
    return f"{100 * float(x):.1f} %"


def _range_text(values: list[int]) -> str:
    """One candidate list in a few words.

    >>> _range_text([8, 16, 24, 32]), _range_text(list(range(1, 65)))
    ('8..32 step 8', '1..64')
    >>> _range_text([2, 4, 8, 16, 1024][:4] + [32]), _range_text([2, 3, 5, 7])
    ('powers of two 2..32', '{2, 3, 5, 7}')
    >>> _range_text([2, 3, 5, 7, 11, 13, 17, 19, 23])
    '{2, 3, 5, ..., 23} (9 widths)'
    """
    vs = sorted(int(v) for v in values)
    if len(vs) >= 4:  # three widths read best as a list
        step = vs[1] - vs[0]
        if all(b - a == step for a, b in zip(vs, vs[1:])):
            return f"{vs[0]}..{vs[-1]}" + ("" if step == 1 else f" step {step}")
        if all(v & (v - 1) == 0 for v in vs) and all(b == 2 * a for a, b in zip(vs, vs[1:])):
            return f"powers of two {vs[0]}..{vs[-1]}"
    if len(vs) <= 8:
        return "{" + ", ".join(map(str, vs)) + "}"
    return "{" + ", ".join(map(str, vs[:3])) + f", ..., {vs[-1]}}} ({len(vs)} widths)"


def _cands_text(cands: Any) -> str:
    """The candidate widths in a few words: the list most layers share, then the layers whose
    list differs (the top layer's floor at the number of classes, limits, fixed layers).

    >>> _cands_text([[2, 4, 8, 16], [2, 4, 8, 16], [16]])
    'powers of two 2..16, layer 2: {16}'
    >>> _cands_text([8, 16, 24, 32])
    '8..32 step 8'
    """
    if not all(hasattr(c, "__iter__") for c in cands):
        return _range_text(list(cands))
    lists = [tuple(int(w) for w in c) for c in cands]
    common = max(lists, key=lists.count)
    text = _range_text(list(common))
    others = [f"layer {i}: {_range_text(list(c))}" for i, c in enumerate(lists) if c != common]
    return ", ".join([text, *others])


def _title(*lines: str, width: int = 78) -> str:
    """Title lines, each wrapped at ``width`` characters so long spec names never run off a
    7-inch figure (mathtext has no spaces inside, so it is never split).

    >>> print(_title("recommended widths [64, 32, 32, 32, 32, 64] — where the min cut runs for left-right"))
    recommended widths [64, 32, 32, 32, 32, 64] — where the min cut runs for
    left-right
    """
    import textwrap

    # never at a hyphen: partition names (left-right, checkerboard:2) stay whole
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
        for line in lines
        if line
    )
