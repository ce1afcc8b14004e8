"""Benchmark of ``recommend``: time to a proved optimum (one core, CP-SAT with one worker).

Headline (issue 3): the 64x64 six-layer example (M=10, Y=10) with 4 favored partitions and
the 11 default candidate widths per layer (powers of two 1..1024), budget 8736 params; target
under 10 s. Then the growth with depth (32x32/5, 64x64/6, 128x128/7 layers) and with the
number of favored partitions (1, 2, 4, 8). Prints a Markdown table (docs/benchmarks-recommend.md).

Run: ``.venv/bin/python benchmarks/bench_recommend.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import widthdesign as wd  # noqa: E402
from widthdesign.spec import Architecture, Layer  # noqa: E402

FOUR = ["left-right", "top-bottom", "checkerboard:1", "checkerboard:2"]
EIGHT = FOUR + ["checkerboard:4", "checkerboard:8", "checkerboard:16", "checkerboard:32"]


def grid_arch(side: int, depth: int) -> Architecture:
    """side x side inputs, M=10, Y=10, 2x2 pooling; widths 4r,4r,2r,2r,r,r,(r...) with r=16."""
    widths = ([64, 64, 32, 32] + [16] * depth)[:depth]
    layers = [Layer(w, (2, 2)) for w in widths[:-1]] + [Layer(widths[-1])]
    return Architecture(
        shape=(side, side), channels=10, layers=layers, classes=10, name=f"{side}x{side}"
    )


def timed(arch: Architecture, favor, repeat: int):
    budget = wd.cost(arch, "params")
    best, rec = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        rec = wd.recommend(arch, budget, favor)
        best = min(best, time.perf_counter() - start)
    return best, budget, rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (best time is kept)")
    args = ap.parse_args(argv)
    rows = []

    def row(label, arch, favor):
        seconds, budget, rec = timed(arch, favor, args.repeat)
        rows.append((label, arch.depth, len(favor), budget, rec, seconds))
        print(
            f"{label:<28} layers={arch.depth} partitions={len(favor)} {seconds:7.3f} s "
            f"optimal={rec.optimal} widths={list(rec.design.widths)}",
            file=sys.stderr,
        )
        return seconds, rec

    head, rec = row("64x64 headline (4 partitions)", grid_arch(64, 6), FOUR)
    for side, depth in ((32, 5), (64, 6), (128, 7)):
        row(f"depth: {side}x{side}", grid_arch(side, depth), FOUR)
    for k in (1, 2, 4, 8):
        row(f"partitions: 64x64, {k}", grid_arch(64, 6), EIGHT[:k])

    print(
        f"Python {platform.python_version()}, {platform.machine()}, CP-SAT 1 worker, best of {args.repeat}"
    )
    print()
    print(
        "| case | layers | partitions | budget (params) | seconds | master solves | cuts | optimal | widths |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, depth, k, budget, r, seconds in rows:
        print(
            f"| {label} | {depth} | {k} | {budget} | {seconds:.2f} | {r.stats['iterations']} | "
            f"{r.stats['cuts']} | {r.optimal} | {list(r.design.widths)} |"
        )
    ok = head < 10 and rec.optimal
    print()
    print(
        f"headline: {head:.2f} s, proved optimal: {rec.optimal} -> {'PASS' if ok else 'FAIL'} (< 10 s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
