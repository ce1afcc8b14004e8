"""Run every benchmark script ``benchmarks/bench_*.py`` in turn (``make bench``).

Each script prints its own table; this exits non-zero if any script fails. Among them:
bench_overlaps.py, the batch engine on the unrolled tree of a 32x32 network with five
3x3 / stride-2 layers (target: 2000 partitions in <= 60 s).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("bench_*.py"))
    if not scripts:
        print("no benchmarks/bench_*.py scripts found", file=sys.stderr)
        return 1
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=here.parent)
        print(
            f"== {script.name}: exit {code} after {time.perf_counter() - start:.1f} s\n", flush=True
        )
        if code:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
