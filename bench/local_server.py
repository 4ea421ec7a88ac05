"""``imgmgr serve`` in a subprocess for the benchmarks: a free port on 127.0.0.1, the first key it prints, a stop.

Used by ``bench.throughput`` and ``bench.query_latency``. The server runs from this checkout (``PYTHONPATH``)
with its log in a file; :meth:`LocalServer.stop` sends SIGTERM and waits, then SIGKILL as a last resort.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parents[1]
_FIRST_KEY = re.compile(r"#key=(imk_\S+)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalServer:
    """One ``imgmgr serve --data-dir DATA_DIR --workers N`` process; use as a context manager."""

    def __init__(self, data_dir: Path, *, workers: int = 2, log: Path | None = None) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.log = log or data_dir.parent / f"{data_dir.name}-serve.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key: str | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> LocalServer:
        """Start the server and wait for ``/v1/health``; read the first key it printed (empty key store)."""
        command = [sys.executable, "-m", "imgmgr", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--workers", str(self.workers)]
        env = os.environ | {"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT_DIR)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_DIR, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"imgmgr serve exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    match = _FIRST_KEY.search(self.output())
                    if match is None:
                        raise RuntimeError(f"imgmgr serve printed no first key:\n{self.output()[-3000:]}")
                    self.key = match.group(1)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"imgmgr serve did not answer within {timeout} s:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (in-flight steps finish), then SIGKILL if it has not exited within ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
