"""Peak memory of this process, as the benchmarks report it."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's high-water RSS in MB (``VmHWM``). ``ru_maxrss`` would also count the parent's RSS
    before exec: Linux keeps it across fork and exec, so a step run from a large test process would report
    the test process's size."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
