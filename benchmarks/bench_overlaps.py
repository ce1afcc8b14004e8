"""Overlapping windows: the batch engine on the unrolled tree of a 32x32 network.

The network of issue 17: 32x32 inputs, M = 4, five layers of 3x3 windows with stride 2
(32 -> 16 -> 8 -> 4 -> 2 -> 1); its unrolled tree has 14,884 input copies. Two width sets:
mixed widths (3, 5, 6, 7, 10: the float + count-vector path) and powers of 2 (4, 8, 8, 16, 16:
exact int exponents). 2000 partitions (half random halves, half structured: checkerboards,
blocks vs the rest, left-right, top-bottom). For each: ``bounds_many`` on all 2000 (best of
3 runs), ``cuts.bounds`` (the dp cut with its certificate) on a sample, and OR-Tools max-flow
on Lawler's gadget graph of the unrolled network on a smaller sample; the sampled exact upper
bounds must agree (exit 1 otherwise). Target: 2000 partitions in <= 60 s.

Run: ``python benchmarks/bench_overlaps.py [--quick]``.
"""

from __future__ import annotations

import sys
import time

import bench_batch  # beside this script: the same partition mix
import numpy as np

from widthdesign import cuts
from widthdesign.batch import bounds_many
from widthdesign.spec import Architecture, Layer, pooling_tree

SIDE = 32
P = 2000
WIDTHS = {"mixed": (3, 5, 6, 7, 10), "powers of 2": (4, 8, 8, 16, 16)}
TARGET = "target: 2000 partitions of the 32x32 overlapping network in <= 60 s"


def architecture(widths) -> Architecture:
    layers = [Layer(w, (3, 3), (2, 2)) for w in widths]
    return Architecture(shape=(SIDE, SIDE), channels=4, layers=layers, name="32x32 3x3/2")


def partitions(count: int, seed: int = 0) -> np.ndarray:
    """bench_batch's mix of partitions, plus every k x k block vs the rest."""
    rows, cols = np.indices((SIDE, SIDE))
    blocks = [(rows < k) & (cols < k) for k in range(1, SIDE)]
    return bench_batch.partitions(SIDE, count, seed, extra=blocks)


def main(quick: bool = False) -> int:
    count = 200 if quick else P
    masks = partitions(count)
    print(TARGET)
    ok = True
    for label, widths in WIDTHS.items():
        arch = architecture(widths)
        t0 = time.perf_counter()
        tree = pooling_tree(arch)
        t_tree = time.perf_counter() - t0
        times = []
        for _ in range(1 if quick else 3):
            t0 = time.perf_counter()
            res = bounds_many(arch, masks)
            times.append(time.perf_counter() - t0)
        best = min(times)
        sample = range(0, count, max(1, count // 10))
        t0 = time.perf_counter()
        dp = {i: cuts.bounds(arch, masks[i]).upper_bound for i in sample}
        t_dp = (time.perf_counter() - t0) / len(dp)
        flow_sample = list(sample)[: 2 if quick else 4]
        t0 = time.perf_counter()
        flow = {i: cuts.min_cut(arch, masks[i], method="ortools").value for i in flow_sample}
        t_flow = (time.perf_counter() - t0) / len(flow)
        agree = all(res.upper_bound(i) == v for i, v in dp.items()) and all(
            dp[i] == v for i, v in flow.items()
        )
        ok &= agree
        print(
            f"{label:12s} widths {widths}: tree {tree.sizes[0]} copies built in {t_tree:.2f} s; "
            f"bounds_many {count} partitions {best:.2f} s ({1e3 * best / count:.2f} ms each); "
            f"cuts.bounds {1e3 * t_dp:.0f} ms each; OR-Tools {1e3 * t_flow:.0f} ms each; "
            f"agree: {'yes' if agree else 'NO'}"
        )
        print(
            f"{'':12s} log2 upper: min {res.log2_upper.min():.1f}, median "
            f"{float(np.median(res.log2_upper)):.1f}, max {res.log2_upper.max():.1f}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv[1:]))
