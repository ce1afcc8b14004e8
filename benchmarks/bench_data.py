"""Speed of ``profile`` and ``arrange``, and the graph partitioners on the same graph.

Data: smooth random fields (Gaussian-filtered noise, numpy/scipy only) on a square grid,
pixels randomly permuted; the spec pools 2x2 windows up to a global top (widths 21).

- 1024 inputs (32x32) x 8000 samples: ``profile`` (target <= 2 s) and ``arrange`` (default
  method, target <= 5 s), and each method alone;
- the top split of that |corr| graph (full graph, balanced bisection) by METIS (pymetis),
  KaHIP (if installed) and networkx's Kernighan-Lin: cut weight (sum of |corr| of the
  crossing edges) and time;
- 16,384 inputs (128x128) x 2000 samples: ``arrange`` in a fresh process, time and peak
  memory (``ru_maxrss``; targets <= 60 s and <= 4 GB), and the fraction of the field's
  4-neighbour pairs the layout puts back on touching slots.

    python benchmarks/bench_data.py            # all (a few minutes: Kernighan-Lin is slow)
    python benchmarks/bench_data.py --no-kl    # without networkx's Kernighan-Lin
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time

import numpy as np

import widthdesign as wd
from widthdesign import data
from widthdesign.spec import Architecture, Layer

arrange_mod = importlib.import_module("widthdesign.arrange")


def field(side: int, samples: int, seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(samples, side, side)).astype(np.float32)
    x = gaussian_filter(noise, sigma=(0, sigma, sigma), mode="reflect").reshape(samples, -1)
    return x


def spec(side: int) -> Architecture:
    depth = side.bit_length() - 1
    return Architecture(
        shape=(side, side), channels=8, layers=[Layer(21, (2, 2))] * (depth - 1) + [Layer(21)]
    )


def recovery(order: np.ndarray, perm: np.ndarray, side: int) -> float:
    """Fraction of the natural grid's 4-neighbour pairs on touching slots (8-neighbourhood)."""
    pix = perm[np.asarray(order)]  # slot -> natural pixel
    pos = np.empty(side * side, dtype=np.int64)
    pos[pix] = np.arange(side * side)
    r, c = np.divmod(pos, side)
    g = np.arange(side * side).reshape(side, side)
    hits = []
    for a, b in ((g[:, :-1], g[:, 1:]), (g[:-1], g[1:])):
        a, b = a.ravel(), b.ravel()
        hits.append(np.maximum(np.abs(r[a] - r[b]), np.abs(c[a] - c[b])) <= 1)
    return float(np.concatenate(hits).mean())


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def cut_weight(c: np.ndarray, side_a: np.ndarray) -> float:
    mask = np.zeros(len(c), dtype=bool)
    mask[side_a] = True
    return float(c[np.ix_(mask, ~mask)].sum())


def partitioners(x: np.ndarray, kl: bool) -> list[list[str]]:
    """Balanced bisection of the full |corr| graph of ``x`` by each partitioner."""
    dep = data.Dependence(x)
    g = arrange_mod._partition_graph(dep, None)  # integer weights, the tree's own graph
    n = g.shape[0]
    rows = []
    labels, t = timed(arrange_mod.split, g, [n // 2, n // 2], 0, "metis")
    rows.append(["METIS (pymetis)", cut_weight(dep.c, np.flatnonzero(labels == 0)), t])
    try:
        import kahip

        for mode, name in ((kahip.FAST, "fast"), (kahip.ECO, "eco"), (kahip.STRONG, "strong")):
            start = time.perf_counter()
            _, parts = kahip.kaffpa(
                [1] * n, g.indptr.tolist(), g.data.tolist(), g.indices.tolist(), 2, 0.01,
                True, 0, mode,
            )  # fmt: skip
            labels = arrange_mod._rebalance(g, np.asarray(parts), np.array([n // 2, n // 2]))
            t = time.perf_counter() - start
            rows.append(
                [f"KaHIP (kaffpa, {name})", cut_weight(dep.c, np.flatnonzero(labels == 0)), t]
            )
    except ImportError:
        rows.append(["KaHIP (not installed)", float("nan"), float("nan")])
    if kl:
        import networkx as nx

        graph = nx.from_scipy_sparse_array(g)
        start = time.perf_counter()
        a, _ = nx.algorithms.community.kernighan_lin_bisection(graph, weight="weight", seed=0)
        rows.append(
            [
                "networkx Kernighan-Lin",
                cut_weight(dep.c, np.fromiter(a, dtype=np.int64)),
                time.perf_counter() - start,
            ]
        )
    return [[name, f"{cut:.1f}", f"{t:.2f}"] for name, cut, t in rows]


def large(side: int, samples: int) -> dict:
    """Run in a fresh process: arrange time, peak memory, recovery."""
    x = field(side, samples)
    perm = np.random.default_rng(1).permutation(side * side)
    x = np.ascontiguousarray(x[:, perm])
    arr, t = timed(wd.arrange, spec(side), x)
    return {
        "seconds": t,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "method": arr.result.method,
        "recovery": recovery(np.asarray(arr.order), perm, side),
        "data_mb": x.nbytes / 2**20,
    }


def table(rows: list[list], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-kl", action="store_true", help="skip networkx's Kernighan-Lin")
    ap.add_argument("--no-large", action="store_true", help="skip the 16,384-input case")
    ap.add_argument("--large-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.large_child:
        print(json.dumps(large(128, 2000)))
        return 0
    side, samples = 32, 8000
    x = field(side, samples)
    perm = np.random.default_rng(1).permutation(side * side)
    xp = np.ascontiguousarray(x[:, perm])
    arch = spec(side)
    wd.arrange(arch, xp[:200])  # warm up imports (pymetis, scipy.sparse.linalg)
    rows = []
    _, t = timed(wd.profile, arch, xp)
    rows.append(["profile", "", f"{t:.2f}", "<= 2 s", "met" if t <= 2 else "MISSED"])
    for method in ("auto", "tree", "layout"):
        arr, t = timed(wd.arrange, arch, xp, method=method)
        target = "<= 5 s" if method == "auto" else ""
        verdict = ("met" if t <= 5 else "MISSED") if method == "auto" else ""
        rec = recovery(np.asarray(arr.order), perm, side)
        name = f"arrange --method {method}" + (f" (chose {arr.result.method})" * (method == "auto"))
        rows.append([name, f"{rec:.3f}", f"{t:.2f}", target, verdict])
    print(f"## {side * side} inputs x {samples} samples (smooth field, pixels permuted)\n")
    print(table(rows, ["step", "neighbours put back", "seconds", "target", ""]))
    print("\n## Balanced bisection of the same |corr| graph (1024 inputs, all pairs)\n")
    print(
        table(partitioners(xp, not args.no_kl), ["partitioner", "cut (sum of abs corr)", "seconds"])
    )
    if not args.no_large:
        done = subprocess.run(
            [sys.executable, __file__, "--large-child"], capture_output=True, text=True
        )
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return 1
        res = json.loads(done.stdout)
        print("\n## 16384 inputs (128x128) x 2000 samples, in a fresh process\n")
        ok_t, ok_m = res["seconds"] <= 60, res["peak_mb"] <= 4096
        print(
            table(
                [
                    [
                        f"arrange (chose {res['method']})",
                        f"{res['seconds']:.1f}",
                        f"{res['peak_mb']:.0f} (data {res['data_mb']:.0f})",
                        f"{res['recovery']:.3f}",
                        ("met" if ok_t and ok_m else "MISSED") + " (<= 60 s, <= 4096 MB)",
                    ]
                ],
                ["step", "seconds", "peak MB", "neighbours put back", "target"],
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
