"""Start ``imgmgr serve`` as a real process on a free port over a temporary data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import skimage.data

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: Real photos shipped with scikit-image.
PHOTOS = Path(skimage.data.__file__).parent
CHELSEA = PHOTOS / "chelsea.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One ``imgmgr serve`` process; :meth:`stop` (SIGTERM) or :meth:`kill` (SIGKILL) it."""

    def __init__(self, data_dir: Path, log: Path, *, workers: int = 2, options: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.log = log
        self.workers = workers
        self.options = options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Server:
        command = [sys.executable, "-m", "imgmgr", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--workers", str(self.workers), *self.options]
        env = os.environ | {"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT_DIR)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir.parent, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"imgmgr serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"imgmgr serve did not answer within {timeout} s:\n{self.output()}")

    def open_descriptors(self) -> int:
        """How many file descriptors the server process holds now (Linux)."""
        assert self.process is not None
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL (kill -9): no cleanup of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
