"""`make bench`: runs every benchmark of the project, each in its own process (peak RSS stays its own).

Usage: ``python -m bench [NAME ...]`` with names from ``BENCHMARKS`` (default: all). Each benchmark prints
its own table and the ratios it measured side by side in one run.
"""

from __future__ import annotations

import subprocess
import sys
import time

#: name -> module, in the order they run.
BENCHMARKS: dict[str, str] = {
    "imaging": "bench.imaging",
    "labeler": "bench.labeler",
    "labeler_eval": "bench.labeler_eval",
    "near_duplicates": "bench.near_duplicates",
    "throughput": "bench.throughput",
    "query_latency": "bench.query_latency",
    "capacity": "bench.capacity",
    "hostile": "bench.hostile",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failures = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", BENCHMARKS[name]], check=False)
        print(f"=== bench {name}: exit {result.returncode} in {time.monotonic() - started:.1f} s ===", flush=True)
        if result.returncode != 0:
            failures.append(name)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
