"""The closed forms of the min cut (THEORY.md, section 4) against the engine.

For windows of 2 on a 1-D grid of N = 2^L inputs (bond dimensions M, r_0, ..., r_{L-1}):

- left-right halves:   min(r_{L-1}, r_{L-2}, r_{L-3}^2, ..., r_0^(N/4), M^(N/2))
- even-odd:            min(M, r_0)^(N/2)
- blocks of k = 2^j alternating (even-odd is j = 0, left-right is j = L - 1):
                       min(r_j, s_j)^(N/2^(j+1)),  s_0 = M,  s_h = min(r_{h-1}, s_{h-1}^2)
                       (s_h: cheapest way to cut a pure subtree of 2^h inputs off its parent)

For 2x2 windows on a 2^a x 2^a grid, checkerboard:  min(r_0, M^2)^(N/4).
For a shallow network (one hidden layer of width r_0, global pooling), any partition (A, B):
min(r_0, M^min(|A|, |B|)).

Each formula is evaluated with exact integers on random widths and compared with the upper
bound of :func:`widthdesign.bounds` computed by the tree dynamic program (``dp``) and, up to
``--maxflow-limit`` inputs, by OR-Tools max-flow on Lawler's gadget graph (``ortools``).

    .venv/bin/python examples/reproduce_closed_forms.py            # N up to 2^10, 20 nets each

Prints a Markdown table on stdout (pasted in docs/reproduce-closed-forms.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import widthdesign as wd


def left_right(m: int, r: list[int]) -> int:
    n, depth = 2 ** len(r), len(r)
    terms = [r[depth - 1]] + [r[level] ** (2 ** (depth - 2 - level)) for level in range(depth - 1)]
    return min(*terms, m ** (n // 2))


def even_odd(m: int, r: list[int]) -> int:
    return min(m, r[0]) ** (2 ** len(r) // 2)


def blocks(m: int, r: list[int], j: int) -> int:
    s = m
    for h in range(1, j + 1):
        s = min(r[h - 1], s * s)
    return min(r[j], s) ** (2 ** len(r) // 2 ** (j + 1))


def checkerboard(m: int, r: list[int], n: int) -> int:
    return min(r[0], m * m) ** (n // 4)


def shallow(m: int, r0: int, size_a: int, n: int) -> int:
    return min(r0, m ** min(size_a, n - size_a))


def chain_1d(m: int, r: list[int]) -> wd.Architecture:
    layers = [wd.Layer(w, 2) for w in r[:-1]] + [wd.Layer(r[-1])]
    return wd.Architecture(shape=(2 ** len(r),), channels=m, layers=layers)


def grid_2d(m: int, r: list[int]) -> wd.Architecture:
    side = 2 ** len(r)
    return wd.Architecture(shape=(side, side), channels=m, layers=[wd.Layer(w, (2, 2)) for w in r])


def random_widths(rng: np.random.Generator, depth: int) -> list[int]:
    """Log-uniform widths in 2..63, so that every term of the minima gets its turn."""
    return [int(2 ** rng.uniform(1, 6)) for _ in range(depth)]


def engine(arch: wd.Architecture, part, maxflow_limit: int) -> tuple[int, int | None]:
    dp = wd.bounds(arch, part).upper_bound
    flow = None
    if arch.num_inputs <= maxflow_limit:
        flow = wd.bounds(arch, part, method="ortools").upper_bound
    return dp, flow


def cases(rng: np.random.Generator, trials: int, max_log2n: int):
    """Yield (family, N, M, widths, arch, partition, closed form) for every check."""
    for depth in range(2, max_log2n + 1):
        n = 2**depth
        for _ in range(trials):
            m = int(rng.integers(2, 5))
            r = random_widths(rng, depth)
            arch = chain_1d(m, r)
            yield "left-right", n, m, r, arch, "left-right", left_right(m, r)
            yield "even-odd", n, m, r, arch, "even-odd", even_odd(m, r)
            j = int(rng.integers(0, depth))
            yield "blocks:2^j", n, m, r, arch, f"blocks:{2**j}", blocks(m, r, j)
    for depth in range(1, max_log2n // 2 + 1):
        n = 4**depth
        for _ in range(trials):
            m = int(rng.integers(2, 5))
            r = random_widths(rng, depth)
            yield "checkerboard 2-D", n, m, r, grid_2d(m, r), "checkerboard", checkerboard(m, r, n)
    for log2n in range(2, max_log2n + 1):
        n = 2**log2n
        for _ in range(trials):
            m = int(rng.integers(2, 5))
            r0 = int(rng.integers(1, 2000))
            arch = wd.Architecture(shape=(n,), channels=m, layers=[wd.Layer(r0)])
            size_a = int(rng.integers(1, n))
            side_a = sorted(rng.choice(n, size=size_a, replace=False).tolist())
            yield "shallow", n, m, [r0], arch, side_a, shallow(m, r0, size_a, n)


def fmt(x: int) -> str:
    s = str(x)
    return s if len(s) <= 12 else f"2^{math.log2(x):.1f}"


def run(trials: int, seed: int, max_log2n: int, maxflow_limit: int, progress: bool) -> dict:
    rng = np.random.default_rng(seed)
    rows: dict[tuple[str, int], dict] = {}
    checked = mismatches = flows = 0
    start = time.monotonic()
    for family, n, m, r, arch, part, closed in cases(rng, trials, max_log2n):
        dp, flow = engine(arch, part, maxflow_limit)
        ok = dp == closed and (flow is None or flow == closed)
        checked += 1
        flows += flow is not None
        mismatches += not ok
        key = (family, n)
        row = rows.setdefault(
            key, {"networks": 0, "ok": 0, "maxflow": 0, "example": (m, r, part, closed, dp)}
        )
        row["networks"] += 1
        row["ok"] += ok
        row["maxflow"] += flow is not None
        if progress and checked % 50 == 0:
            print(f"\rchecked {checked}", end="", file=sys.stderr, flush=True)
    if progress:
        print(f"\rchecked {checked}", file=sys.stderr)
    return {
        "rows": rows,
        "checked": checked,
        "mismatches": mismatches,
        "maxflow_checked": flows,
        "seconds": time.monotonic() - start,
    }


def markdown(result: dict, args: argparse.Namespace) -> str:
    lines = [
        f"`--trials {args.trials} --seed {args.seed} --max-log2n {args.max_log2n} "
        f"--maxflow-limit {args.maxflow_limit}`: random M in 2..4, widths log-uniform in 2..63 "
        "(shallow: r_0 in 1..1999, a random side A).",
        "",
        "| family | N | networks | agree | of which also max-flow | example: M; widths; "
        "closed form = engine |",
        "|---|---|---|---|---|---|",
    ]
    order = ["left-right", "even-odd", "blocks:2^j", "checkerboard 2-D", "shallow"]
    for (family, n), row in sorted(
        result["rows"].items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
    ):
        m, r, part, closed, dp = row["example"]
        widths = ", ".join(map(str, r))
        label = f"`{part}`: " if family == "blocks:2^j" else ""
        lines.append(
            f"| {family} | {n} | {row['networks']} | {row['ok']}/{row['networks']} | "
            f"{row['maxflow']} | {label}M={m}; ({widths}); {fmt(closed)} = {fmt(dp)} |"
        )
    lines += [
        "",
        f"{result['checked']} networks checked ({result['maxflow_checked']} also with "
        f"max-flow): {result['mismatches']} mismatches.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Check the closed-form min cuts (left-right, even-odd, blocks, 2-D "
        "checkerboard, shallow) against the engine on random widths."
    )
    parser.add_argument("--trials", type=int, default=20, help="networks per family and N")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--max-log2n", type=int, default=10, help="largest N = 2^this (default 10: 1024 inputs)"
    )
    parser.add_argument(
        "--maxflow-limit",
        type=int,
        default=256,
        help="also run max-flow on networks with at most this many inputs (default 256)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.trials < 1 or not 2 <= args.max_log2n <= 16:
        raise SystemExit("expected --trials >= 1 and --max-log2n in 2..16")
    result = run(args.trials, args.seed, args.max_log2n, args.maxflow_limit, not args.quiet)
    print(markdown(result, args))
    print(f"run time {result['seconds']:.1f} s", file=sys.stderr)
    return result


if __name__ == "__main__":
    sys.exit(1 if main()["mismatches"] else 0)
