"""Favored partitions (``--favor``) and the interaction profile whose mean score is the breadth."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from .. import cuts
from ..errors import PartitionError
from ..partitions import Partition, parse_partition
from ..spec import Architecture

#: ``--favor`` shorthands: name -> (partitions on a 1-D grid, partitions on 2-D and up).
SHORTHANDS = {
    "global": (("left-right",), ("left-right", "top-bottom")),
    "local": (("even-odd", "blocks:2"), ("checkerboard:1", "checkerboard:2")),
    "scale:k": (("blocks:k",), ("checkerboard:k",)),
}


# -- favored partitions ---------------------------------------------------------------------


def parse_favor(spec, arch: Architecture) -> list[tuple[Partition, float]]:
    """Favored partitions with weights from ``P[=W]`` specs, shorthands, masks or pairs.

    ``spec``: a string, a :class:`Partition`, a bool mask (or a 2-D array of masks), a
    ``(partition, weight)`` pair, a mapping ``{partition: weight}`` or a list of those.
    Strings are partition specs with an optional weight (``"0,1,2,3=2.5"``) or the shorthands
    ``global`` (left-right and top-bottom; left-right in 1-D), ``local`` (checkerboard:1 and
    checkerboard:2; even-odd and blocks:2 in 1-D) and ``scale:k`` (checkerboard:k; blocks:k in
    1-D). A shorthand's weight goes to each of its partitions; the same partition (same side
    A) named twice gets the sum of its weights; distinct partitions with one label are
    numbered (``mask#1``, ``mask#2``).

    >>> from widthdesign.spec import Architecture, Layer
    >>> arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(2, [2, 2]), Layer(2)])
    >>> [(p.label, w) for p, w in parse_favor(["global=2", "0,1=0.5"], arch)]
    [('left-right', 2.0), ('top-bottom', 2.0), ('0,1', 0.5)]
    >>> [p.label for p, _ in parse_favor("local", arch)]
    ['checkerboard:1', 'checkerboard:2']
    """
    merged: dict[bytes, list] = {}
    for item, weight in _favor_items(spec, arch.num_inputs):
        if isinstance(item, str):
            text = item.strip()
            if weight is None and "=" in text:
                text, _, wtext = text.rpartition("=")
                text = text.strip()
                weight = _parse_weight(wtext, item)
            parts = [_parse_as_typed(s, text, arch) for s in _expand(text, arch)]
        else:
            parts = [cuts.as_partition(arch, item)]
        w = _check_weight(1.0 if weight is None else weight, item)
        for p in parts:
            key = np.packbits(p.mask).tobytes()
            if key in merged:
                merged[key][1] += w
            else:
                merged[key] = [p, w]
    if not merged:
        raise PartitionError("favor: none given; expected at least one partition, e.g. global")
    out = [(p, float(w)) for p, w in merged.values()]
    _check_weight_range(out)
    return _distinct_labels(out)


def _distinct_labels(items: list[tuple[Partition, float]]) -> list[tuple[Partition, float]]:
    labels = [p.label for p, _ in items]
    dup = {x for x in labels if labels.count(x) > 1}
    seen: dict[str, int] = {}
    out = []
    for p, w in items:
        if p.label in dup:
            seen[p.label] = seen.get(p.label, 0) + 1
            p = Partition(f"{p.label}#{seen[p.label]}", p.side_a, p.num_inputs)
        out.append((p, w))
    return out


def _is_mask(x, n: int) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == bool and x.size == n and x.ndim >= 1
    if isinstance(x, (list, tuple)) and len(x) == n and n > 0:
        return all(isinstance(v, (bool, np.bool_)) for v in x)
    return False


def _favor_items(spec, n: int) -> list[tuple[Any, Any]]:
    if isinstance(spec, (str, Partition)) or _is_mask(spec, n):
        return [(spec, None)]
    if isinstance(spec, np.ndarray) and spec.dtype == bool and spec.ndim == 2:
        return [(row, None) for row in spec]
    if isinstance(spec, Mapping):
        return [(k, v) for k, v in spec.items()]
    if isinstance(spec, tuple) and len(spec) == 2 and _is_number(spec[1]):
        if isinstance(spec[0], (str, Partition)) or _is_mask(spec[0], n):
            return [(spec[0], spec[1])]
    if not isinstance(spec, Iterable):
        raise PartitionError(f"favor: {spec!r} is not a partition, mask or list of them")
    out = []
    for item in spec:
        out.extend(_favor_items(item, n))
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float, Fraction, np.integer, np.floating)) and not isinstance(
        x, bool
    )


def _expand(text: str, arch: Architecture) -> list[str]:
    rank = len(arch.shape)
    name, _, arg = text.partition(":")
    if name in ("global", "local") and not arg:
        one_d, multi = SHORTHANDS[name]
        return list(one_d if rank == 1 else multi)
    if name == "scale":
        if not arg.isdigit() or int(arg) < 1 or len(arg) > 9:
            raise PartitionError(f"favor {text!r}: scale {arg!r} is not a positive integer")
        return [f"blocks:{arg}" if rank == 1 else f"checkerboard:{arg}"]
    return [text]


def _parse_as_typed(label: str, typed: str, arch: Architecture) -> Partition:
    """Parse an expanded shorthand; its errors name the option and what the user typed
    (``favor 'scale:64' (blocks:64)``), not only the partition it stands for."""
    try:
        return parse_partition(label, arch)
    except PartitionError as err:
        name = f"favor {typed!r}" + ("" if label == typed else f" ({label})")
        raise PartitionError(str(err).replace(f"Partition {label!r}", name)) from None


def _parse_weight(text: str, item) -> float:
    try:
        return float(text)
    except ValueError:
        raise PartitionError(f"favor {item!r}: weight {text!r} is not a number") from None


def _check_weight(w, item) -> float:
    try:
        w = float(w)
    except (TypeError, ValueError, OverflowError):
        raise PartitionError(f"favor {item!r}: weight {w!r} is not a number") from None
    if not (math.isfinite(w) and w > 0):
        raise PartitionError(f"favor {item!r}: weight {w} must be a positive finite number")
    return w


def _check_weight_range(items: list[tuple[Partition, float]]) -> None:
    """Weights enter ratios: refuse spreads that would underflow the scores (< 1e-12)."""
    hi = max(w for _, w in items)
    for p, w in items:
        if w < 1e-12 * hi:
            raise PartitionError(
                f"favor {p.label!r}: weight {w:g} is below 1e-12 of the largest ({hi:g}); "
                "expected weights within a factor 1e12 of each other"
            )


# -- interaction profile --------------------------------------------------------------------


def profile_partitions(arch: Architecture) -> list[str]:
    """The interaction profile whose mean score is the breadth: every scale of the grid.

    ``blocks:k`` (1-D) or ``checkerboard:k`` (2-D and up) for k = 1, 2, 4, ... up to half
    the smallest side, then ``left-right`` and, from 2-D on, ``top-bottom``.

    >>> from widthdesign.spec import Architecture, Layer
    >>> profile_partitions(Architecture(shape=(8, 8), channels=2, layers=[Layer(2, [2, 2])] * 3))
    ['checkerboard:1', 'checkerboard:2', 'left-right', 'top-bottom']
    """
    side = min(arch.shape)
    family = "blocks" if len(arch.shape) == 1 else "checkerboard"
    out = [f"{family}:{2**i}" for i in range(max(1, side.bit_length())) if 2**i <= side // 4]
    out.append("left-right")
    if len(arch.shape) > 1:
        out.append("top-bottom")
    return out
