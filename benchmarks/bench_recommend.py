"""Benchmark of ``recommend`` (v2): time to a proved optimum, every stage included.

Targets (issue 9), each proved optimal:

- the 64x64 six-layer example (M=10, Y=10, budget 8736 params), candidates 8..512 step 8
  (64 per layer), favor global + local: <= 10 s;
- a 1-D net of 256 inputs, 8 layers of window 2 (M=4, Y=10, budget of uniform width 16),
  every integer 1..64, five favored partitions: <= 10 s;
- the defaults (powers of two, slack 0.05, ratio 2, width floor auto) on the 64x64 net:
  <= 2 s.

The candidate-set targets search every candidate past issue 9's floor of 2 (``min_width=2``
for 1..64, ``min_width=1`` for 8..512:8: the default floor ``auto`` would drop the narrow ones
and shrink the search); one row allows width 1 too.

Also: the same with the ratio bound off, an arbitrary (unstructured) favored partition, and
growth with the grid. Prints a Markdown table (docs/benchmarks-recommend.md).

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

STEP8 = list(range(8, 513, 8))
ONE_TO_64 = list(range(1, 65))
FIVE_1D = ["left-right", "even-odd", "blocks:2", "blocks:4", "blocks:16"]


def grid_arch(side: int, depth: int) -> Architecture:
    """side x side inputs, M=10, Y=10, 2x2 pooling; wide-base widths 64,64,32,32,16,16,..."""
    widths = ([64, 64, 32, 32] + [16] * depth)[:depth]
    layers = [Layer(w, (2, 2)) for w in widths[:-1]] + [Layer(widths[-1])]
    return Architecture(
        shape=(side, side), channels=10, layers=layers, classes=10, name=f"{side}x{side}"
    )


def line_arch() -> Architecture:
    """256 inputs, windows 2, 8 layers, M = 4, Y = 10, uniform width 16."""
    layers = [Layer(16, 2)] * 7 + [Layer(16)]
    return Architecture(shape=(256,), channels=4, layers=layers, classes=10, name="1-D 256")


# (label, arch, favor, keyword arguments, target seconds or None)
CASES = [
    ("64x64, 8..512:8, global+local", grid_arch(64, 6), ["global", "local"],
     dict(choices=STEP8, min_width=1), 10.0),
    ("1-D 256, 1..64, five partitions", line_arch(), FIVE_1D,
     dict(choices=ONE_TO_64, min_width=2), 10.0),
    ("1-D 256, 1..64, five partitions, width 1 allowed", line_arch(), FIVE_1D,
     dict(choices=ONE_TO_64, min_width=1), None),
    ("64x64, defaults, global", grid_arch(64, 6), ["global"], {}, 2.0),
    ("64x64, defaults, local", grid_arch(64, 6), ["local"], {}, 2.0),
    ("64x64, 8..512:8, global+local, no ratio bound", grid_arch(64, 6), ["global", "local"],
     dict(choices=STEP8, max_ratio=None, min_width=1), None),
    ("1-D 256, 1..64, four + 0-99", line_arch(), FIVE_1D[:2] + ["blocks:4", "blocks:16", "0-99"],
     dict(choices=ONE_TO_64, min_width=2), None),
    ("32x32, defaults, global+local", grid_arch(32, 5), ["global", "local"], {}, None),
    ("128x128, defaults, global+local", grid_arch(128, 7), ["global", "local"], {}, None),
]  # fmt: skip


def timed(arch: Architecture, favor, kw, repeat: int):
    budget = wd.cost(arch, "params")
    best, rec = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        rec = wd.recommend(arch, budget, favor, **kw)
        best = min(best, time.perf_counter() - start)
    return best, budget, rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="runs per row (best time is kept)")
    args = ap.parse_args(argv)
    rows, failed = [], []
    for label, arch, favor, kw, target in CASES:
        seconds, budget, rec = timed(arch, favor, kw, args.repeat)
        ok = rec.optimal and (target is None or seconds <= target)
        if not ok:
            failed.append(label)
        rows.append((label, arch, favor, budget, rec, seconds, target, ok))
        print(
            f"{label:<48} {seconds:7.2f} s optimal={rec.optimal} widths={list(rec.widths)}",
            file=sys.stderr,
        )
    print(f"Python {platform.python_version()}, {platform.machine()}, best of {args.repeat}")
    print()
    print("| case | layers | budget | seconds | target | searches | cuts | optimal | widths |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, arch, _, budget, r, seconds, target, ok in rows:
        goal = "-" if target is None else f"<= {target:g} s {'PASS' if ok else 'FAIL'}"
        print(
            f"| {label} | {arch.depth} | {budget} | {seconds:.2f} | {goal} | "
            f"{r.stats['rounds']} | {r.stats['cuts']} | {r.optimal} | {list(r.widths)} |"
        )
    print()
    print("all targets met" if not failed else "FAILED: " + ", ".join(failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
