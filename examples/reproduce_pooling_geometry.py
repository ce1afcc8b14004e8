"""Cohen & Shashua (ICLR 2017): square versus mirror pooling on a 32x32 ConvAC.

The network: a 32x32 grid of inputs (N = 1024), M = 2, five hidden layers of 1x1 conv and
2x2 product pooling (32 -> 16 -> 8 -> 4 -> 2 -> 1), uniform width r for r in 8, 16, 32, 64,
128. All bond dimensions are powers of 2, so the lower and upper bounds meet: every number
below is the generic separation rank itself (its log2).

- **square** pooling: the ordinary contiguous 2x2 windows.
- **mirror** pooling: the same windows over a permuted grid (``input.order``) in which slot
  column 2b holds image column b and slot column 2b + 1 holds image column 31 - b. A
  first-level window then joins pixels (i, b), (i, 31 - b), (i + 1, b), (i + 1, 31 - b): two
  rows of a mirrored pair. Every later window is contiguous in this folded grid, so every
  receptive field is symmetric about the vertical axis.

Partitions (A, B) of the 32x32 image (row i, column j), in three groups:

- symmetry-like, where A and B face each other across the vertical axis: left half vs right
  half; top-left and bottom-right quadrants vs the other two; "pair splits", where one pixel
  of every mirrored pair is in A and the other in B (A = a blob in the left half plus the
  mirror image of the rest of the left half; or a random pixel of each pair);
- local (closedness-like), where A and B meet along many short local boundaries or enclose
  one another. "local, symmetric": the scene is itself symmetric about the vertical axis
  (centre vs surround as a square, a disk or a ring; column stripes mirrored about the axis).
  "local": checkerboard, even vs odd columns, top vs bottom, off-centre blobs, smooth random
  blobs and i.i.d. random pixels (the last two averaged over ``--samples`` seeds).

    .venv/bin/python examples/reproduce_pooling_geometry.py

Prints a Markdown table on stdout (pasted in docs/reproduce-pooling-geometry.md).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter

import widthdesign as wd

SIDE = 32
LEVELS = 5
M = 2
WIDTHS = (8, 16, 32, 64, 128)


def mirror_order(side: int = SIDE) -> list[int]:
    """``input.order`` of the mirror geometry: slot (i, s) holds pixel (i, fold(s))."""
    fold = [s // 2 if s % 2 == 0 else side - 1 - s // 2 for s in range(side)]
    return [i * side + fold[s] for i in range(side) for s in range(side)]


def architecture(r: int, geometry: str) -> wd.Architecture:
    return wd.Architecture(
        shape=(SIDE, SIDE),
        channels=M,
        layers=[wd.Layer(r, (2, 2)) for _ in range(LEVELS)],
        order=mirror_order() if geometry == "mirror" else None,
        name=f"{geometry} r={r}",
    )


def partitions(samples: int) -> list[tuple[str, str, list[np.ndarray]]]:
    """(name, group, masks): one mask, or several to average over for the random ones."""
    i, j = np.indices((SIDE, SIDE))
    c = (SIDE - 1) / 2
    dist2 = (i - c) ** 2 + (j - c) ** 2
    fold = np.minimum(j, SIDE - 1 - j)
    blob = (i >= 8) & (i < 24) & (j >= 4) & (j < 12)  # a blob in the left half
    pair_split_blob = np.where(j < SIDE // 2, blob, ~blob[:, ::-1])
    pair_split_random = []
    smooth, iid = [], []
    for seed in range(samples):
        rng = np.random.default_rng(seed)
        left = rng.random((SIDE, SIDE // 2)) < 0.5
        pair_split_random.append(np.concatenate([left, ~left[:, ::-1]], axis=1))
        field = gaussian_filter(rng.standard_normal((SIDE, SIDE)), sigma=3)
        smooth.append(field > np.median(field))
        iid.append(rng.random((SIDE, SIDE)) < 0.5)
    sym, loc_sym, loc = "symmetry", "local, symmetric", "local"
    return [
        ("left half vs right half", sym, [j < SIDE // 2]),
        ("diagonal quadrants (TL+BR vs TR+BL)", sym, [(i < SIDE // 2) == (j < SIDE // 2)]),
        ("pair split: left blob + mirror of the rest", sym, [pair_split_blob]),
        (f"pair split: random (mean of {samples})", sym, pair_split_random),
        ("centre 16x16 square vs surround", loc_sym, [(abs(i - c) < 8) & (abs(j - c) < 8)]),
        ("centre disk (radius 9) vs surround", loc_sym, [dist2 < 81]),
        ("ring (radius 6 to 12) vs rest", loc_sym, [(dist2 >= 36) & (dist2 < 144)]),
        ("symmetric column stripes", loc_sym, [fold % 2 == 0]),
        ("checkerboard", loc, [(i + j) % 2 == 0]),
        ("even vs odd columns", loc, [j % 2 == 0]),
        ("top half vs bottom half", loc, [i < SIDE // 2]),
        (
            "off-centre 8x8 block (rows 5-12, cols 3-10)",
            loc,
            [(i >= 5) & (i < 13) & (j >= 3) & (j < 11)],
        ),
        ("off-centre disk (radius 5 at (10, 9))", loc, [(i - 10) ** 2 + (j - 9) ** 2 < 25]),
        (f"smooth random blobs (mean of {samples})", loc, smooth),
        (f"i.i.d. random pixels (mean of {samples})", loc, iid),
    ]


def run(samples: int, progress: bool = True) -> dict:
    start = time.monotonic()
    parts = partitions(samples)
    archs = {(r, g): architecture(r, g) for r in WIDTHS for g in ("square", "mirror")}
    rows = []
    all_exact = True
    for k, (name, group, masks) in enumerate(parts):
        cells = {}
        for (r, g), arch in archs.items():
            values = []
            for mask in masks:
                b = wd.bounds(arch, mask.reshape(-1))
                all_exact &= b.exact
                values.append(b.log2_upper_bound)
            cells[(r, g)] = float(np.mean(values))
        rows.append({"partition": name, "group": group, "log2": cells})
        if progress:
            print(f"\rpartitions {k + 1}/{len(parts)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    for row in rows:
        diffs = [row["log2"][(r, "square")] - row["log2"][(r, "mirror")] for r in WIDTHS]
        if all(d > 1e-9 for d in diffs):
            row["winner"] = "square"
        elif all(d < -1e-9 for d in diffs):
            row["winner"] = "mirror"
        elif all(abs(d) <= 1e-9 for d in diffs):
            row["winner"] = "tie"
        else:
            row["winner"] = "mixed"
    return {"rows": rows, "all_exact": all_exact, "seconds": time.monotonic() - start}


def fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def markdown(result: dict, args: argparse.Namespace) -> str:
    header = "| partition | group | " + " | ".join(f"r = {r}" for r in WIDTHS) + " | higher |"
    lines = [
        f"`--samples {args.samples}`: log2 of the separation rank, **square / mirror**, "
        "32x32 inputs, M = 2, five levels of 2x2 windows, uniform width r.",
        "",
        header,
        "|---|---|" + "---|" * len(WIDTHS) + "---|",
    ]
    for row in result["rows"]:
        cells = " | ".join(
            f"{fmt(row['log2'][(r, 'square')])} / {fmt(row['log2'][(r, 'mirror')])}" for r in WIDTHS
        )
        lines.append(f"| {row['partition']} | {row['group']} | {cells} | {row['winner']} |")
    lines += [
        "",
        "Lower bound = upper bound for every entry: "
        + ("yes" if result["all_exact"] else "NO")
        + ".",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Square vs mirror pooling on a 32x32 ConvAC: separation ranks of "
        "symmetry-like and local partitions."
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=10,
        help="seeds averaged over for the random partitions (default 10)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.samples < 1:
        raise SystemExit(f"--samples {args.samples}: expected at least 1")
    result = run(args.samples, progress=not args.quiet)
    print(markdown(result, args))
    print(f"run time {result['seconds']:.1f} s", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
