"""Benchmark of ``recommend`` (v2): time to a proved optimum, every stage included.

Targets (issue 9), each proved optimal:

- the 64x64 six-layer example (M=10, Y=10, budget 8736 params), candidates 8..512 step 8
  (64 per layer), favor global + local: <= 10 s;
- a 1-D net of 256 inputs, 8 layers of window 2 (M=4, Y=10, budget of uniform width 16),
  every integer 1..64, five favored partitions: <= 10 s;
- the defaults (1..15 and multiples of 8 to 1024, slack 0.05, ratio 2, width floor auto) on
  the 64x64 net: <= 5 s (<= 2 s with the powers of two of issue 9);
- issue 16: the same 1-D net with the default floor (auto): <= 10 s; ``benchmarks/seq256.toml``
  (256 inputs, M = 16, eight window-2 layers, Y = 10) at budget 50000, favor global, with
  every width 1..64, 1..128 and 1..256 (peak memory <= 1 GB each; 1..256 proved optimal
  within 10 s), and ``--time-limit 1`` at 1..256 (answer within 2 s).

Every case runs in a forked child: the peak memory column is its maximum resident set.

The candidate-set targets search every candidate past issue 9's floor of 2 (``min_width=2``
for 1..64, ``min_width=1`` for 8..512:8: the default floor ``auto`` would drop the narrow ones
and shrink the search); one row allows width 1 too.

Also: the same with the ratio bound off, an arbitrary (unstructured) favored partition, and
growth with the grid. Prints a Markdown table (docs/benchmarks-recommend.md).

Run: ``.venv/bin/python benchmarks/bench_recommend.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import pickle
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


def seq256() -> Architecture:
    return wd.load(ROOT / "benchmarks" / "seq256.toml")


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
    ("64x64, defaults, global", grid_arch(64, 6), ["global"], {}, 5.0),
    ("64x64, defaults, local", grid_arch(64, 6), ["local"], {}, 5.0),
    ("64x64, 8..512:8, global+local, no ratio bound", grid_arch(64, 6), ["global", "local"],
     dict(choices=STEP8, max_ratio=None, min_width=1), None),
    ("1-D 256, 1..64, four + 0-99", line_arch(), FIVE_1D[:2] + ["blocks:4", "blocks:16", "0-99"],
     dict(choices=ONE_TO_64, min_width=2), None),
    ("32x32, defaults, global+local", grid_arch(32, 5), ["global", "local"], {}, None),
    ("128x128, defaults, global+local", grid_arch(128, 7), ["global", "local"], {}, None),
    ("1-D 256, 1..64, five partitions, floor auto", line_arch(), FIVE_1D,
     dict(choices=ONE_TO_64), 10.0),
    ("seq256 budget 50000, global, 1..64", seq256(), ["global"],
     dict(choices=ONE_TO_64, budget=50000), None),
    ("seq256 budget 50000, global, 1..128", seq256(), ["global"],
     dict(choices=list(range(1, 129)), budget=50000), None),
    ("seq256 budget 50000, global, 1..256", seq256(), ["global"],
     dict(choices=list(range(1, 257)), budget=50000), 10.0),
    ("seq256 budget 50000, local, 1..256", seq256(), ["local"],
     dict(choices=list(range(1, 257)), budget=50000), None),
    ("seq256 budget 50000, 0-99, 1..256, limit 60 s", seq256(), ["0-99"],
     dict(choices=list(range(1, 257)), budget=50000, time_limit=60.0), None),
    ("seq256 budget 50000, global, 1..256, limit 1 s", seq256(), ["global"],
     dict(choices=list(range(1, 257)), budget=50000, time_limit=1.0), "T+1"),
]  # fmt: skip

#: peak memory allowed per case (issue 16: at most 1 GB)
MEMORY_KB = 1 << 20


def timed(arch: Architecture, favor, kw, repeat: int):
    kw = dict(kw)
    budget = kw.pop("budget", None) or wd.cost(arch, "params")
    best, rec = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        rec = wd.recommend(arch, budget, favor, **kw)
        best = min(best, time.perf_counter() - start)
    summary = {
        "optimal": rec.optimal,
        "widths": list(rec.widths),
        "rounds": rec.stats["rounds"],
        "cuts": rec.stats["cuts"],
        "breadth": rec.design.breadth,
        "objective": rec.design.objective,
    }
    return best, budget, summary


def in_child(fn, *args):
    """``fn(*args)`` in a forked child: its result and the child's peak resident set (KB)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            data = pickle.dumps(("ok", fn(*args)))
        except BaseException as err:  # noqa: BLE001 (reported by the parent)
            data = pickle.dumps(("error", repr(err)))
        with os.fdopen(write, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    _, _, usage = os.wait4(pid, 0)
    status, value = pickle.loads(data)
    if status != "ok":
        raise RuntimeError(value)
    return value, usage.ru_maxrss


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="runs per row (best time is kept)")
    args = ap.parse_args(argv)
    rows, failed = [], []
    for label, arch, favor, kw, target in CASES:
        limited = "time_limit" in kw
        repeat = 1 if limited else args.repeat
        (seconds, budget, rec), peak = in_child(timed, arch, favor, kw, repeat)
        if target == "T+1":  # a time limit: the best design found within it, 1 s to spare
            ok = seconds <= kw["time_limit"] + 1 and rec["breadth"] > 0
        else:
            ok = (rec["optimal"] or limited) and (target is None or seconds <= target)
        ok = ok and peak <= MEMORY_KB
        if not ok:
            failed.append(label)
        rows.append((label, arch, favor, budget, rec, seconds, target, ok, peak))
        print(
            f"{label:<52} {seconds:7.2f} s {peak / 1024:6.0f} MB optimal={rec['optimal']} "
            f"widths={rec['widths']}",
            file=sys.stderr,
        )
    print(f"Python {platform.python_version()}, {platform.machine()}, best of {args.repeat}")
    print()
    print(
        "| case | layers | budget | seconds | peak MB | target | searches | cuts | optimal "
        "| widths |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, arch, _, budget, r, seconds, target, ok, peak in rows:
        if target is None:
            goal = "-"
        elif target == "T+1":
            goal = f"answer by T+1 s {'PASS' if ok else 'FAIL'}"
        else:
            goal = f"<= {target:g} s {'PASS' if ok else 'FAIL'}"
        print(
            f"| {label} | {arch.depth} | {budget} | {seconds:.2f} | {peak / 1024:.0f} | {goal} | "
            f"{r['rounds']} | {r['cuts']} | {r['optimal']} | {r['widths']} |"
        )
    print()
    print("all targets met" if not failed else "FAILED: " + ", ".join(failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
