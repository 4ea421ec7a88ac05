"""A running ``imgmgr serve`` for the end-to-end tests; always stopped."""

from __future__ import annotations

import pytest

from imgmgr.keys import KeyStore
from tests.e2e.support import Server


@pytest.fixture
def server(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    running = Server(data_dir, tmp_path / "serve.log")
    try:
        yield running
    finally:
        running.kill()


@pytest.fixture
def api_key(server) -> str:
    key, _ = KeyStore(server.data_dir / "keys.sqlite3").create("e2e")
    return key
