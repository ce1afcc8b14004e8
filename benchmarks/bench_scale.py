"""Scale benchmark (issue 10): one partition of a 4096x4096 grid must cost what the batch
engine costs, and refusals must come from the sizes, before any work.

Each case runs the CLI in a fresh subprocess and reports its wall time and peak memory
(``ru_maxrss`` of that process, so every case is measured alone). Networks: a 4096x4096
grid with 12 layers of 2x2 pooling, M = 2 and widths 4 (one common base: exact int
exponents) or M = 3 and widths 3..17 (no common base: float trace checked exactly against
the batch engine); and 1024x1024 (2^20 inputs) for ``network -o``. Limits: docs/limits.md.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--quick]`` (--quick: 1024x1024 only)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Runs one CLI call in this process, then prints its peak RSS (KiB on Linux) on stderr.
_CHILD = """
import resource, sys
from widthdesign.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="widthdesign", standalone_mode=True)
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
print("MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def write_spec(folder: Path, name: str, side: int, channels: int, widths: list[int]) -> Path:
    lines = [f'name = "{name}"', "[input]", f"shape = [{side}, {side}]", f"channels = {channels}"]
    for w in widths:
        lines += ["[[layers]]", f"width = {w}", "pool = [2, 2]"]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_case(args: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak MiB, exit code, last output line) of one CLI call in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, cwd=ROOT
    )
    seconds = time.perf_counter() - start
    rss = 0.0
    err_lines = []
    for line in proc.stderr.splitlines():
        if line.startswith("MAXRSS "):
            rss = int(line.split()[1]) / 1024
        else:
            err_lines.append(line)
    out_lines = proc.stdout.strip().splitlines()
    last = ((err_lines if proc.returncode else out_lines) or out_lines or err_lines or [""])[-1]
    last = last.strip()
    return seconds, rss, proc.returncode, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024x1024 only")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    opts = parser.parse_args()
    side, depth = (1024, 10) if opts.quick else (4096, 12)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pow2 = write_spec(folder, f"g{side}-pow2", side, 2, [4] * depth)
        odd_widths = [3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 17][:depth]
        odd = write_spec(folder, f"g{side}-odd", side, 3, odd_widths)
        net = write_spec(folder, "g1024", 1024, 2, [4] * 10)
        net_max = write_spec(folder, "g256", 256, 2, [4] * 8)
        parts = folder / "parts.txt"
        parts.write_text("checkerboard\n")
        cases = [
            ("cut -p checkerboard (M=2, widths 4)", ["cut", pow2, "-p", "checkerboard"]),
            ("cut -p left-right (M=2, widths 4)", ["cut", pow2, "-p", "left-right"]),
            ("cut --parts-file checkerboard (M=2)", ["cut", pow2, "--parts-file", parts]),
            ("cut -p checkerboard (M=3, widths 3..17)", ["cut", odd, "-p", "checkerboard"]),
            ("cut -p left-right (M=3, widths 3..17)", ["cut", odd, "-p", "left-right"]),
            ("cut --parts-file checkerboard (M=3)", ["cut", odd, "--parts-file", parts]),
            ("verify -p left-right (refused)", ["verify", pow2, "-p", "left-right"]),
            ("network -o, 2^20 inputs (refused)", ["network", net, "-o", folder / "n.json"]),
            ("network -o, 2^16 inputs (.json)", ["network", net_max, "-o", folder / "m.json"]),
        ]
        rows = []
        for label, args in cases:
            seconds, rss, code, last = run_case([str(a) for a in args])
            rows.append((label, seconds, rss, code, last))
            if opts.json:
                print(json.dumps({"case": label, "seconds": round(seconds, 2), "peak_mib": rss}))
    if not opts.json:
        print(f"grid {side}x{side}, {depth} layers of 2x2 (wall time and peak RSS per process)\n")
        print("| case | seconds | peak MiB | exit | last line |")
        print("|---|---:|---:|---:|---|")
        for label, seconds, rss, code, last in rows:
            print(f"| {label} | {seconds:.1f} | {rss:.0f} | {code} | {last[:70]} |")
    expected_failures = {"verify -p left-right (refused)", "network -o, 2^20 inputs (refused)"}
    bad = [r for r in rows if (r[3] != 0) != (r[0] in expected_failures)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
