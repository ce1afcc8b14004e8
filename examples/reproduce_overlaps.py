"""Overlapping windows: Sharir & Shashua (ICLR 2018) and Levine, Sharir, Cohen, Shashua (PRL 2019).

Both results, with the exact min cut of the unrolled tree (every input copied once per path
that reads it; docs/theory.md) as the upper bound on the separation rank.

(a) Sharir & Shashua: a partition under which the network without overlaps is limited to a
    polynomial (here: constant) separation rank, while the same widths with overlapping
    windows get a bound that grows exponentially with N. 1-D, N = 2^L, M = 2, L layers of
    uniform width r, the left-right partition: without overlaps (window 2, stride 2) the
    bound is r for every N (the top delta); with windows 3 / stride 2, 4 / stride 2, and
    2 / stride 1 (the papers' stride-1 network, global pooling on top) it grows. Exact ranks
    (verify, on C(M + k - 1, k) templates per input) where the network is small enough.

(b) Levine et al. 2019: the min cut of a k x k block vs the rest of a 2-D grid, for growing k:
    without overlaps it follows the block's boundary (area law, ~k), with overlaps its
    volume (~k^2). side x side grid, M = 2, log2(side) layers of width r: 2x2 / stride 2
    (no overlap), 3x3 / stride 2 and 4x4 / stride 2. Each k: the mean over ``--positions``
    random block positions (the same positions for every network). With ``--figure PATH``,
    log2 min cut against k (log-log, slopes 1 and 2 for reference) and per input of the
    block (log2 min cut / k^2: constant for a volume law, ~1/k for a boundary law).

    .venv/bin/python examples/reproduce_overlaps.py --figure docs/img/overlaps-levine.png

Prints Markdown tables on stdout (pasted in docs/reproduce-overlaps.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import widthdesign as wd
from widthdesign.batch import bounds_many
from widthdesign.errors import VerifyError
from widthdesign.spec import unrolled_leaf_count
from widthdesign.verify import check_size, verify_rank

M = 2
#: (label, window, stride) of the 1-D networks of part (a); stride 1 means global pooling on top.
NETS_1D = (
    ("no overlap (2/2)", 2, 2),
    ("window 3 / stride 2", 3, 2),
    ("window 4 / stride 2", 4, 2),
    ("window 2 / stride 1", 2, 1),
)
#: (label, window, stride) of the 2-D networks of part (b).
NETS_2D = (
    ("no overlap (2x2/2)", 2, 2),
    ("3x3 / stride 2", 3, 2),
    ("4x4 / stride 2", 4, 2),
    ("2x2 / stride 1", 2, 1),
)


def network_1d(n: int, r: int, window: int, stride: int) -> wd.Architecture:
    depth = n.bit_length() - 1
    if stride == 1:  # the papers' overlapping network: stride 1, then global pooling
        layers = [wd.Layer(r, window, 1) for _ in range(depth - 1)] + [wd.Layer(r)]
    else:
        layers = [wd.Layer(r, window, stride) for _ in range(depth)]
    return wd.Architecture(shape=(n,), channels=M, layers=layers)


def network_2d(side: int, r: int, window: int, stride: int) -> wd.Architecture:
    depth = side.bit_length() - 1
    layers = [wd.Layer(r, (window, window), (stride, stride)) for _ in range(depth)]
    if stride == 1:  # stride 1, then global pooling
        layers = layers[:-1] + [wd.Layer(r)]
    return wd.Architecture(shape=(side, side), channels=M, layers=layers)


def part_a(max_log2n: int, r: int, seeds: int) -> list[dict]:
    rows = []
    for log2n in range(3, max_log2n + 1):
        n = 2**log2n
        for label, window, stride in NETS_1D:
            arch = network_1d(n, r, window, stride)
            b = wd.bounds(arch, "left-right")
            rank = None
            try:
                check_size(arch)
                rank = verify_rank(arch, "left-right", seeds=seeds)
            except VerifyError:
                pass
            rows.append(
                {
                    "n": n,
                    "network": label,
                    "copies": unrolled_leaf_count(arch),
                    "log2_upper": b.log2_upper_bound,
                    "cut": b.cut.formula(arch.depth),
                    "rank": rank,
                }
            )
    return rows


def block_masks(side: int, k: int, positions: int, rng: np.random.Generator) -> np.ndarray:
    """k x k blocks (side A) at the centre and at ``positions - 1`` random places."""
    masks = np.zeros((positions, side, side), dtype=bool)
    for i in range(positions):
        if i == 0:
            r0 = c0 = (side - k) // 2
        else:
            r0, c0 = rng.integers(0, side - k + 1, size=2)
        masks[i, r0 : r0 + k, c0 : c0 + k] = True
    return masks


def part_b(side: int, r: int, positions: int, seed: int) -> dict:
    ks = list(range(1, side // 2 + 1))
    rng = np.random.default_rng(seed)
    masks = {k: block_masks(side, k, positions, rng) for k in ks}
    curves = {}
    for label, window, stride in NETS_2D:
        arch = network_2d(side, r, window, stride)
        stacked = np.concatenate([masks[k] for k in ks])
        res = bounds_many(arch, stacked).log2_upper.reshape(len(ks), positions)
        curves[label] = {"mean": res.mean(axis=1), "max": res.max(axis=1)}
    return {"ks": ks, "curves": curves}


def figure(b: dict, side: int, r: int, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    ks = np.asarray(b["ks"], dtype=float)
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    styles = zip(b["curves"].items(), colors, ["o", "s", "^", "D"])
    for (label, c), color, marker in styles:
        left.plot(ks, c["mean"], marker=marker, color=color, label=label)
        right.plot(ks, c["mean"] / ks**2, marker=marker, color=color, label=label)
    base = b["curves"][next(iter(b["curves"]))]["mean"]
    for power, style, law in ((1, ":", "boundary"), (2, "--", "volume")):
        ref = base[1] * (ks / ks[1]) ** power
        left.plot(ks, ref, style, color="0.5", lw=1, label=f"~ k^{power} ({law} law)")
    left.set_xscale("log", base=2)
    left.set_yscale("log", base=2)
    left.set_xlabel("k (k x k block vs the rest)")
    left.set_ylabel("log2 min cut (upper bound on log2 rank)")
    left.set_title("log2 min cut")
    right.set_yscale("log", base=2)
    right.set_xlabel("k")
    right.set_ylabel("log2 min cut / k^2 (bits per input of the block)")
    right.set_title("per input of the block")
    for ax in (left, right):
        ax.grid(True, which="major", color="0.9")
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"{side}x{side} grid, M = {M}, width {r}, mean over block positions")
    fig.savefig(path, dpi=110)


def markdown(a: list[dict], b: dict, args: argparse.Namespace) -> str:
    lines = [
        f"`--max-log2n {args.max_log2n} --r {args.r} --side {args.side} "
        f"--positions {args.positions} --seed {args.seed} --seeds {args.seeds}`",
        "",
        f"(a) left-right, 1-D, M = {M}, width {args.r}: log2 of the min cut (copies: leaves "
        "of the unrolled tree; rank: exact rank of random weights where verify can form it)",
        "",
        "| N | network | copies | log2 min cut | cut | rank |",
        "|---|---|---|---|---|---|",
    ]
    for row in a:
        rank = "-" if row["rank"] is None else str(row["rank"])
        lines.append(
            f"| {row['n']} | {row['network']} | {row['copies']} | {row['log2_upper']:.4g} "
            f"| {row['cut']} | {rank} |"
        )
    lines += [
        "",
        f"(b) k x k block vs the rest, {args.side}x{args.side}, M = {M}, width {args.r}: "
        f"mean log2 min cut over {args.positions} positions",
        "",
        "| k | " + " | ".join(b["curves"]) + " |",
        "|---|" + "---|" * len(b["curves"]),
    ]
    for i, k in enumerate(b["ks"]):
        cells = " | ".join(
            f"{c['mean'][i]:.1f} ({c['mean'][i] / k**2:.2f})" for c in b["curves"].values()
        )
        lines.append(f"| {k} | {cells} |")
    lines += ["", "(in brackets: bits per input of the block, log2 min cut / k^2)"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Overlapping windows: Sharir & Shashua 2018 and Levine et al. 2019."
    )
    parser.add_argument("--max-log2n", type=int, default=7, help="(a) largest N = 2^L (7)")
    parser.add_argument("--r", type=int, default=4, help="uniform width r (4)")
    parser.add_argument("--side", type=int, default=32, help="(b) grid side, a power of 2 (32)")
    parser.add_argument("--positions", type=int, default=8, help="(b) block positions per k")
    parser.add_argument("--seed", type=int, default=0, help="(b) seed of the positions (0)")
    parser.add_argument("--seeds", type=int, default=2, help="(a) random draws per rank (2)")
    parser.add_argument("--figure", metavar="PATH", help="(b) write the log-log figure here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    a = part_a(args.max_log2n, args.r, args.seeds)
    if not args.quiet:
        print(f"(a) done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    b = part_b(args.side, args.r, args.positions, args.seed)
    if not args.quiet:
        print(f"(b) done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.figure:
        figure(b, args.side, args.r, args.figure)
    print(markdown(a, b, args))
    return {"a": a, "b": b, "log2_r": math.log2(args.r)}


if __name__ == "__main__":
    main()
