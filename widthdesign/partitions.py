"""Partitions (A, B) of the inputs: explicit indices, named families and mask files.

A partition spec is a string:

==========================  ===============================================================
spec                        side A
==========================  ===============================================================
``0,3,5`` / ``0-3,8``       the listed flat (row-major) input indices; ranges inclusive
``left-right``              the left half along the last axis (1-D: the first half)
``top-bottom``              the top half along the first axis (2-D and up; an error on 1-D)
``even-odd``                even indices (1-D, interleaved)
``checkerboard[:k]``        blocks of k (default 1) alternating along every axis (any rank;
                            on a 1-D grid the same mask as ``blocks:k``)
``blocks:k``                contiguous blocks of k alternating (1-D)
``random:SEED[:FRACTION]``  a random subset of round(FRACTION * N) inputs (default 0.5)
``PATH``                    a mask file: ``.npy`` bool array (grid shape or [N]) or text of
                            0/1 values (any whitespace); a path must contain ``/`` or a dot
                            suffix, or exist
==========================  ===============================================================

The rule for the grid's rank: a family defined along *every* axis (``left-right`` along the
last one, ``checkerboard:k`` along all) works on any rank; a family that names an axis the
grid lacks (``top-bottom`` on 1-D) or that is defined on 1-D only (``even-odd``,
``blocks:k`` on 2-D and up) is an error that names the family to use instead.
Index lists are separated by commas; whitespace never joins digits (``1 0`` is an error).
Ranges are checked against N before anything is expanded.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 2), Layer(2, 2), Layer(2)])
>>> parse_partition("even-odd", arch).side_a
(0, 2, 4, 6)
>>> parse_partition("blocks:2", arch).side_a
(0, 1, 4, 5)
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PartitionError
from .spec import Architecture

__all__ = ["Partition", "parse_partition", "partition_from_mask", "FAMILIES", "read_masks"]

#: Named families: name -> description (``--help`` lists them).
FAMILIES = {
    "left-right": "left half along the last axis vs right half",
    "top-bottom": "top half along the first axis vs bottom half (2-D and up)",
    "even-odd": "even vs odd indices (1-D)",
    "checkerboard:k": "blocks of k alternating along every axis (k = 1 if omitted; any rank)",
    "blocks:k": "contiguous blocks of k alternating (1-D)",
    "random:SEED[:FRACTION]": "random subset of round(FRACTION*N) inputs (default 0.5)",
}


@dataclass(frozen=True)
class Partition:
    """A partition (A, B) of the ``num_inputs`` inputs; ``side_a`` sorted flat indices.

    >>> p = Partition("0,1", (0, 1), 4)
    >>> p.mask.tolist(), p.side_b
    ([True, True, False, False], (2, 3))
    """

    label: str
    side_a: tuple[int, ...]
    num_inputs: int

    @property
    def mask(self) -> np.ndarray:
        """Bool array of length N, True on side A (a fresh copy: callers may change it)."""
        cached = self.__dict__.get("_mask")
        if cached is None:
            cached = np.zeros(self.num_inputs, dtype=bool)
            cached[np.fromiter(self.side_a, dtype=np.int64, count=len(self.side_a))] = True
            object.__setattr__(self, "_mask", cached)  # not a field: eq and hash ignore it
        return cached.copy()

    @property
    def side_b(self) -> tuple[int, ...]:
        return tuple(np.flatnonzero(~self.mask).tolist())

    def __str__(self) -> str:
        return self.label


def partition_from_mask(
    mask: np.ndarray | Sequence[bool], label: str | None = None, num_inputs: int | None = None
) -> Partition:
    """A :class:`Partition` from a bool mask (any shape, row-major), checking both sides.

    Without a ``label``, the label is ``mask:`` and a short hash of the mask, so that two
    different masks never share a label (results are keyed by label).

    >>> a = partition_from_mask([True, False, False, False])
    >>> b = partition_from_mask([False, True, False, False])
    >>> a.label != b.label, a.label.startswith("mask:"), a.side_a
    (True, True, (0,))
    """
    m = np.asarray(mask).reshape(-1)
    name = label if label is not None else "mask"
    if m.dtype != bool:
        if m.dtype.kind not in "iub" or not np.isin(m, (0, 1)).all():
            raise PartitionError(f"Partition {name!r}: mask values must be 0/1 or bool")
        m = m.astype(bool)
    if num_inputs is not None and m.size != num_inputs:
        raise PartitionError(
            f"Partition {name!r}: mask of {m.size} values; expected {num_inputs} (one per input)"
        )
    if label is None:
        digest = hashlib.blake2b(np.packbits(m).tobytes() + str(m.size).encode(), digest_size=5)
        label = f"mask:{digest.hexdigest()}"
    side_a = tuple(np.flatnonzero(m).tolist())
    _check_sides(label, len(side_a), m.size)
    part = Partition(label, side_a, int(m.size))
    object.__setattr__(part, "_mask", m.copy())  # the mask is at hand: no rebuild later
    return part


def _check_sides(label, size_a, n):
    if size_a == 0:
        raise PartitionError(f"Partition {label!r}: side A is empty; expected 1..{n - 1} inputs")
    if size_a == n:
        raise PartitionError(f"Partition {label!r}: side B is empty; expected 1..{n - 1} inputs")


def parse_partition(spec: str, arch: Architecture) -> Partition:
    """Parse a partition spec (see the module docs) for ``arch``'s input grid."""
    if not isinstance(spec, str) or not spec.strip():
        raise PartitionError(f"Partition {spec!r}: expected indices, a family name or a mask file")
    spec = spec.strip()
    shape = arch.shape
    n = arch.num_inputs
    if re.fullmatch(r"[\d\s,\-]+", spec):
        return _explicit(spec, n)
    name, _, arg = spec.partition(":")
    if name in _BUILDERS:
        mask = _BUILDERS[name](spec, arg, shape)
        return partition_from_mask(mask, spec, n)
    if "/" in spec or Path(spec).suffix or Path(spec).exists():
        return _from_file(spec, shape)
    raise PartitionError(
        f"Partition {spec!r}: unknown; expected indices like 0,3,5, a mask file or one of "
        + ", ".join(FAMILIES)
    )


def _explicit(spec: str, n: int) -> Partition:
    # Whitespace separates nothing inside an item: '1 0' is an error, never the index 10.
    mask = np.zeros(n, dtype=bool)
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise PartitionError(
                f"Partition {spec!r}: bad item {part.strip()!r}; expected i or i-j "
                "(indices separated by commas)"
            )
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise PartitionError(f"Partition {spec!r}: range {part.strip()!r} is decreasing")
        if hi >= n:  # checked before anything is expanded (0-99999999999 is one comparison)
            bad = lo if lo >= n else hi
            raise PartitionError(
                f"Partition {spec!r}: index {bad} out of range; expected 0..{n - 1}"
            )
        if mask[lo : hi + 1].any():
            i = lo + int(np.argmax(mask[lo : hi + 1]))
            raise PartitionError(f"Partition {spec!r}: index {i} listed twice")
        mask[lo : hi + 1] = True
    side_a = np.flatnonzero(mask)
    _check_sides(spec, side_a.size, n)
    return Partition(spec, tuple(side_a.tolist()), n)


def _int_arg(spec: str, arg: str, what: str, default: int | None = None) -> int:
    if arg == "" and default is not None:
        return default
    if not re.fullmatch(r"\d+", arg) or int(arg) < 1:
        raise PartitionError(f"Partition {spec!r}: {what} {arg!r} is not a positive integer")
    return int(arg)


def _no_arg(spec: str, arg: str) -> None:
    if arg:
        raise PartitionError(f"Partition {spec!r}: takes no argument after ':'")


def _left_right(spec, arg, shape):
    _no_arg(spec, arg)
    return _broadcast(np.arange(shape[-1]) < shape[-1] // 2, len(shape) - 1, shape)


def _top_bottom(spec, arg, shape):
    _no_arg(spec, arg)
    if len(shape) < 2:
        raise PartitionError(
            f"Partition {spec!r}: needs a grid of rank 2 or more (grid is 1-D); "
            "on 1-D use left-right"
        )
    return _broadcast(np.arange(shape[0]) < shape[0] // 2, 0, shape)


def _broadcast(values: np.ndarray, axis: int, shape) -> np.ndarray:
    """``values`` along ``axis`` spread over the grid (no index arrays of the grid's size)."""
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return np.broadcast_to(values.reshape(view), shape)


def _need_1d(spec, shape, hint):
    if len(shape) != 1:
        raise PartitionError(
            f"Partition {spec!r}: needs a 1-D grid (grid is {list(shape)}); {hint}"
        )


def _even_odd(spec, arg, shape):
    _no_arg(spec, arg)
    _need_1d(spec, shape, "use checkerboard")
    return np.arange(shape[0]) % 2 == 0


def _checkerboard(spec, arg, shape):
    # any rank: on a 1-D grid checkerboard:k is blocks:k (alternating along its one axis)
    k = min(_int_arg(spec, arg, "block size", default=1), max(shape))  # larger k: same mask
    parity = np.zeros(shape, dtype=np.int8)
    for axis, size in enumerate(shape):
        parity ^= _broadcast((np.arange(size) // k % 2).astype(np.int8), axis, shape)
    return parity == 0


def _blocks(spec, arg, shape):
    k = min(_int_arg(spec, arg, "block size"), max(shape))  # larger k: same mask
    _need_1d(spec, shape, "use checkerboard:k")
    return (np.arange(shape[0]) // k) % 2 == 0


def _random(spec, arg, shape):
    seed_s, _, frac_s = arg.partition(":")
    seed = _int_arg(spec, seed_s, "seed") if seed_s != "0" else 0
    frac = 0.5
    if frac_s:
        try:
            frac = float(frac_s)
        except ValueError:
            frac = -1.0
        if not 0 < frac < 1:
            raise PartitionError(f"Partition {spec!r}: fraction {frac_s!r} not in (0, 1)")
    n = math.prod(shape)
    size = int(round(frac * n))
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[:size]] = True
    return mask


_BUILDERS = {
    "left-right": _left_right,
    "top-bottom": _top_bottom,
    "even-odd": _even_odd,
    "checkerboard": _checkerboard,
    "blocks": _blocks,
    "random": _random,
}


def _from_file(spec: str, shape: tuple[int, ...]) -> Partition:
    masks = read_masks(spec, shape)
    if masks.shape[0] != 1:
        raise PartitionError(
            f"Partition file {spec!r}: holds {masks.shape[0]} masks; expected one "
            "(use --parts-file for many)"
        )
    return partition_from_mask(masks[0], spec, math.prod(shape))


def read_masks(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """Masks from a file as a bool array ``[P, N]``.

    ``.npy``: a bool (or 0/1) array of shape ``grid``, ``[N]``, ``[P, *grid]`` or ``[P, N]``.
    Text: one mask of 0/1 values (whitespace separated or not) per line; or a single mask
    spread over several lines (a 2-D picture of the grid).
    """
    n = math.prod(shape)
    p = Path(path)
    if not p.is_file():
        state = "not a regular file" if p.exists() else "not found"
        raise PartitionError(f"Partition file {path!r}: {state}; expected a .npy or text mask")
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise PartitionError(f"Partition file {path!r}: unreadable .npy ({exc})") from None
    else:
        arr = _read_text_masks(p, n)
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise PartitionError(f"Partition file {path!r}: values must be bool or 0/1")
    arr = arr.astype(bool)
    if arr.size == n:
        return arr.reshape(1, n)
    if arr.ndim >= 1 and arr.size % n == 0 and arr.shape[1:] in (tuple(shape), (n,)):
        return arr.reshape(-1, n)
    # a 1-D grid's shape is [N] itself: name each accepted shape once
    shapes = list(dict.fromkeys(map(_shape_text, [shape, (n,), ("P", *shape), ("P", n)])))
    expected = ", ".join(shapes[:-1]) + f" or {shapes[-1]}"
    raise PartitionError(f"Partition file {path!r}: shape {list(arr.shape)}; expected {expected}")


def _shape_text(shape: tuple) -> str:
    """``("P", 16) -> '[P, 16]'``."""
    return "[" + ", ".join(map(str, shape)) + "]"


def _read_text_masks(p: Path, n: int) -> np.ndarray:
    rows = []
    for line in read_text_capped(p, MAX_TEXT_BYTES, "Partition file").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        digits = zero_one_line(line)
        if digits is None:
            raise PartitionError(
                f"Partition file {str(p)!r}: line {line[:30]!r} is not 0/1 values (one "
                "string like 0110, or single 0/1 digits separated by spaces or commas)"
            )
        rows.append(np.frombuffer(digits.encode(), dtype=np.uint8) - ord("0"))
    if not rows:
        raise PartitionError(f"Partition file {str(p)!r}: empty; expected 0/1 values")
    if all(len(r) == n for r in rows):
        return np.stack(rows)
    return np.concatenate(rows)


def zero_one_line(line: str) -> str | None:
    """The 0/1 string of a line: one token of 0/1 digits, or single 0/1 digits separated by
    whitespace or commas (never runs glued across a space: ``01 1`` is not ``011``).

    >>> zero_one_line("0110"), zero_one_line("0 1, 1 0"), zero_one_line("01 1")
    ('0110', '0110', None)
    """
    tokens = re.split(r"[\s,]+", line.strip())
    if len(tokens) == 1:
        return tokens[0] if re.fullmatch(r"[01]+", tokens[0]) else None
    return "".join(tokens) if all(t in ("0", "1") for t in tokens) else None


#: Largest text file of masks or partitions read (a spec of /dev/zero must not eat the RAM).
MAX_TEXT_BYTES = 256 << 20


def read_text_capped(path: Path, limit: int, what: str) -> str:
    """A UTF-8 text file of at most ``limit`` bytes, or :class:`PartitionError` (also for
    devices and pipes that never end: at most ``limit + 1`` bytes are read)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise PartitionError(f"{what} {str(path)!r}: unreadable ({exc.strerror})") from None
    if len(data) > limit:
        raise PartitionError(f"{what} {str(path)!r}: larger than {_size(limit)}; refused")
    return data.decode("utf-8", errors="replace")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
