"""Batch engine vs max-flow: time per partition on 2-D grids with 2x2 pooling.

For each grid (32x32, 128x128, 256x256; M = 4; mixed widths 3, 5, 6, 7, 10, 12, ... so the
float + count-vector path runs, not the exact-exponent shortcut) and 2000 partitions (random
halves plus structured ones: checkerboards, left-right, top-bottom, random rectangles):

- ``bounds_many``: all 2000, best of 5 runs;
- a read pass over the masks (``np.count_nonzero`` per row), best of 5;
- OR-Tools SimpleMaxFlow on Lawler's gadget graph (``cuts.graph_min_cut``, which also
  builds the arcs in Python each call) on a sample, and the solver alone on the same arcs;
- networkx Boykov-Kolmogorov on the same graph (``flow_func="networkx"``) on a small sample.

The sampled partitions' exact upper bounds must agree between all methods (and with
``cuts.bounds``); a disagreement exits with status 1. Run: ``python benchmarks/bench_batch.py
[--quick]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from widthdesign import cuts
from widthdesign.batch import bounds_many
from widthdesign.spec import Architecture, Layer

WIDTHS = (3, 5, 6, 7, 10, 12, 14, 9, 11)
P = 2000
# (grid side, OR-Tools sample, networkx sample)
CASES = ((32, 20, 10), (128, 20, 3), (256, 5, 1))
TARGETS = (
    "targets at 128x128: <= 100 us/partition, >= 5000x networkx, >= 200x OR-Tools, <= 10x read"
)


def architecture(side: int) -> Architecture:
    depth = side.bit_length() - 1
    widths = WIDTHS[:depth]
    layers = [Layer(w, (2, 2)) for w in widths[:-1]] + [Layer(widths[-1], (2, 2))]
    return Architecture(shape=(side, side), channels=4, layers=layers, name=f"{side}x{side}")


def partitions(side: int, count: int, seed: int = 0, extra=()) -> np.ndarray:
    """Half random halves, half structured (the halves, checkerboards, then the masks of
    ``extra``, then random rectangles); bool [count, side, side]."""
    rng = np.random.default_rng(seed)
    n = side * side
    out = np.zeros((count, side, side), dtype=bool)
    half = count // 2
    for i in range(half):
        flat = np.zeros(n, dtype=bool)
        flat[rng.permutation(n)[: n // 2]] = True
        out[i] = flat.reshape(side, side)
    rows, cols = np.indices((side, side))
    structured = [cols < side // 2, rows < side // 2]
    k = 1
    while k < side:
        structured.append(((rows // k) + (cols // k)) % 2 == 0)
        k *= 2
    structured += list(extra)
    for i in range(half, count):
        j = i - half
        if j < len(structured):
            out[i] = structured[j]
            continue
        r0, r1 = np.sort(rng.integers(0, side, 2))
        c0, c1 = np.sort(rng.integers(0, side, 2))
        r1, c1 = r1 + 1, c1 + 1
        rect = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
        if rect.all():
            rect[0, 0] = False
        out[i] = rect
    return out


def best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def per_call(fn, items) -> tuple[float, list]:
    out, start = [], time.perf_counter()
    for x in items:
        out.append(fn(x))
    return (time.perf_counter() - start) / max(1, len(items)), out


def run_case(side: int, n_ortools: int, n_networkx: int) -> dict:
    arch = architecture(side)
    masks = partitions(side, P)
    flat = masks.reshape(P, -1)
    bounds_many(arch, masks[:4])  # plan and tables are built once per architecture
    res = None

    def batch():
        nonlocal res
        res = bounds_many(arch, masks)

    t_batch = best_of(batch) / P
    t_read = best_of(lambda: np.count_nonzero(flat, axis=1)) / P

    g = cuts.cached_network(arch)
    dims = arch.bond_dims()
    rng = np.random.default_rng(1)
    sample = rng.choice(P, size=max(n_ortools, n_networkx), replace=False)
    # half of the sample structured, half random, so both kinds are checked
    sample[: len(sample) // 2] = P // 2 + np.arange(len(sample) // 2)
    sides = {int(i): {("input", int(j)) for j in np.flatnonzero(flat[i])} for i in sample}

    def ortools(i):
        return cuts.graph_min_cut(g, sides[i], dims, flow_func="ortools").value

    def networkx(i):
        return cuts.graph_min_cut(g, sides[i], dims, flow_func="networkx").value

    ids_or = [int(i) for i in sample[:n_ortools]]
    ids_nx = [int(i) for i in sample[:n_networkx]]
    t_or, v_or = per_call(ortools, ids_or)
    # the solver alone, on arcs built beforehand (integer capacities as graph_min_cut uses)
    units = cuts.capacity_units(dims)
    prepared = []
    for i in ids_or:
        _, source, sink, arcs = cuts.lawler_arcs(g, sides[i], units)
        prepared.append((source, sink, arcs))
    t_or_solve, _ = per_call(lambda a: cuts.ortools_source_side(*a), prepared)
    t_nx, v_nx = per_call(networkx, ids_nx)

    mismatches = []
    for i, v in zip(ids_or, v_or):
        if res.upper_bound(i) != v:
            mismatches.append(("ortools", i))
    for i, v in zip(ids_nx, v_nx):
        if res.upper_bound(i) != v:
            mismatches.append(("networkx", i))
    for i in ids_or[:5]:
        b = cuts.bounds(arch, flat[i])
        if (b.upper_bound, b.lower_bound, b.exact) != (
            res.upper_bound(i),
            res.lower_bound(i),
            bool(res.exact[i]),
        ):
            mismatches.append(("dp", i))
    return {
        "side": side,
        "batch": t_batch,
        "read": t_read,
        "ortools": t_or,
        "ortools_solve": t_or_solve,
        "networkx": t_nx,
        "n_ortools": len(ids_or),
        "n_networkx": len(ids_nx),
        "exact": float(res.exact.mean()),
        "mismatches": mismatches,
    }


def main() -> int:
    cases = CASES[:2] if "--quick" in sys.argv else CASES
    rows = []
    for side, n_or, n_nx in cases:
        print(f"running {side}x{side} ...", file=sys.stderr, flush=True)
        rows.append(run_case(side, n_or, n_nx))
    us = 1e6
    print(f"bounds_many vs max-flow, {P} partitions per grid, M=4, 2x2 pooling, mixed widths")
    print(
        "| grid | bounds_many us/part | read pass us/part | batch / read | "
        "OR-Tools us/part (solve only) | OR-Tools / batch (solve only) | "
        "networkx us/part | networkx / batch | exact share | values agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['side']}x{r['side']} | {r['batch'] * us:.1f} | {r['read'] * us:.2f} | "
            f"{r['batch'] / r['read']:.1f}x | "
            f"{r['ortools'] * us:.0f} ({r['ortools_solve'] * us:.0f}), n={r['n_ortools']} | "
            f"{r['ortools'] / r['batch']:.0f}x ({r['ortools_solve'] / r['batch']:.0f}x) | "
            f"{r['networkx'] * us:.0f}, n={r['n_networkx']} | "
            f"{r['networkx'] / r['batch']:.0f}x | {r['exact']:.1%} | "
            f"{'yes' if not r['mismatches'] else 'NO ' + str(r['mismatches'][:3])} |"
        )
    print(TARGETS)
    for r in rows:
        if r["side"] == 128:
            checks = {
                "<= 100 us/partition": r["batch"] * us <= 100,
                ">= 5000x networkx": r["networkx"] / r["batch"] >= 5000,
                ">= 200x OR-Tools (graph_min_cut)": r["ortools"] / r["batch"] >= 200,
                ">= 200x OR-Tools (solve only)": r["ortools_solve"] / r["batch"] >= 200,
                "<= 10x read pass": r["batch"] / r["read"] <= 10,
            }
            for name, ok in checks.items():
                print(f"  128x128 {name}: {'met' if ok else 'MISSED'}")
    return 1 if any(r["mismatches"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
