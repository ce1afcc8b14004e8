"""The worked examples of the theory guide (docs/theory.md), recomputed.

1. The delta rule: a pooling window's copy tensor is a hyperedge. On a window of 4 split 2|2,
   a plain graph cut pays r^2 where the separation rank is at most r.
2. The gap example: N = 16, windows 4 then 4, M = 2, widths (3, 2), A = {3..8, 14, 15}:
   lower bound 16 < generic rank 21 < min cut 24.
3. Weight sharing: N = 8, windows 2, M = 2, widths (4, 4, 4), A = {0, 1}: with one kernel per
   layer the rank is 3 (symmetric 2x2 matrices), below the min cut 4 that unshared weights reach.
4. When every bond dimension is a power of one integer, the bounds meet, and the verified rank
   equals them: a few random partitions of a network with M = 2, widths (2, 4, 8, 16).

Ranks are exact ranks over the prime field of :mod:`widthdesign.verify` (max over ``--seeds``
random networks). The plain graph cut is a max-flow on the tensor network with every delta
leg an ordinary edge (what the min cut would be without the delta rule).

    .venv/bin/python examples/reproduce_theory_examples.py

Prints Markdown on stdout (pasted in docs/theory.md).
"""

from __future__ import annotations

import argparse
import math

import networkx as nx
import numpy as np

import widthdesign as wd
from widthdesign.network import DIM, KIND


def plain_graph_cut(arch: wd.Architecture, side_a) -> int:
    """Min cut with every bond an ordinary edge (no hyperedges), exact value."""
    g = wd.build_network(arch)
    d = nx.DiGraph()
    for u, v, data in g.edges(data=True):
        cap = math.log2(data[DIM])
        d.add_edge(u, v, capacity=cap)
        d.add_edge(v, u, capacity=cap)
    a = set(side_a)
    for node, data in g.nodes(data=True):
        if data[KIND] == "input":
            if node[1] in a:
                d.add_edge("s", node)  # no capacity: infinite
            else:
                d.add_edge(node, "t")
    _, (s_side, _) = nx.minimum_cut(d, "s", "t")
    return math.prod(
        data[DIM] for u, v, data in g.edges(data=True) if (u in s_side) != (v in s_side)
    )


def row(name: str, arch: wd.Architecture, side_a, seeds: int, shared: bool = False) -> dict:
    b = wd.bounds(arch, list(side_a))
    return {
        "example": name,
        "side_a": ",".join(map(str, side_a)),
        "lower": b.lower_bound,
        "rank": wd.verify(arch, list(side_a), shared=shared, seeds=seeds),
        "upper": b.upper_bound,
        "plain": plain_graph_cut(arch, side_a),
    }


def run(seeds: int, parts: int) -> list[dict]:
    rows = []
    window4 = wd.Architecture(shape=(4,), channels=3, layers=[wd.Layer(2, 4)])
    rows.append(row("delta rule: N=4, one window of 4, M=3, r0=2", window4, (0, 1), seeds))
    gap = wd.Architecture(shape=(16,), channels=2, layers=[wd.Layer(3, 4), wd.Layer(2, 4)])
    rows.append(
        row("gap: N=16, windows 4, 4, M=2, widths (3, 2)", gap, (3, 4, 5, 6, 7, 8, 14, 15), seeds)
    )
    tri = wd.Architecture(shape=(8,), channels=2, layers=[wd.Layer(4, 2)] * 2 + [wd.Layer(4)])
    rows.append(row("unshared: N=8, windows 2, M=2, widths (4, 4, 4)", tri, (0, 1), seeds))
    rows.append(
        row("shared: N=8, windows 2, M=2, widths (4, 4, 4)", tri, (0, 1), seeds, shared=True)
    )
    pow2 = wd.Architecture(
        shape=(16,), channels=2, layers=[wd.Layer(w, 2) for w in (2, 4, 8)] + [wd.Layer(16)]
    )
    rng = np.random.default_rng(0)
    for _ in range(parts):
        side_a = tuple(sorted(rng.choice(16, size=8, replace=False).tolist()))
        rows.append(row("powers of 2: N=16, M=2, widths (2, 4, 8, 16)", pow2, side_a, seeds))
    return rows


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [
        f"`--seeds {args.seeds} --parts {args.parts}`",
        "",
        "| example | side A | lower bound | rank | min cut (upper) | plain graph cut |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['example']} | {r['side_a']} | {r['lower']} | {r['rank']} | {r['upper']} "
            f"| {r['plain']} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Recompute the theory guide's examples.")
    parser.add_argument("--seeds", type=int, default=3, help="random networks (default 3)")
    parser.add_argument(
        "--parts", type=int, default=4, help="random partitions for example 4 (default 4)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    rows = run(args.seeds, args.parts)
    print(markdown(rows, args))
    return rows


if __name__ == "__main__":
    main()
