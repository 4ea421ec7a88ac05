"""Reproducible Lambda archives: the function zip of ``lambdas/`` and the dependency layer.

Both archives are written byte for byte the same from the same inputs: entries sorted by name, every
timestamp 1980-01-01 00:00:00 (the earliest a zip can hold), permissions fixed to ``0644``, no
``__pycache__`` and no compiled files. A plan therefore shows no change when nothing changed.

The layer holds the runtime dependencies (``[project].dependencies`` of ``pyproject.toml``) installed
for the Lambda platform (arm64, CPython 3.12, glibc 2.34: Pillow 13 ships only ``manylinux_2_28`` arm64
wheels) by ``pip install --platform ... --only-binary=:all:``. It is cached in
``<cache_dir>/<sha256 of its inputs>.zip``: the first synthesis needs the package index, later ones
reuse the cache (and never re-resolve, so the layer does not change under a plan).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Timestamp of every zip entry: the earliest date the zip format can hold.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)

#: Permissions of every zip entry (regular file, rw-r--r--); Lambda only needs to read the code.
FILE_MODE = 0o100644

#: Parts of ``lambdas/`` that never ship: the local adapters (SQLite, files, offline labeler) run only on
#: the local host, and compiled caches differ per machine.
EXCLUDED_DIRECTORIES = frozenset({"__pycache__"})
EXCLUDED_SOURCE_PATHS = (PurePosixPath("adapters/local"),)

#: File suffixes that never ship: compiled Python and model weights.
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo", ".onnx", ".pt", ".pth", ".safetensors", ".tflite", ".ckpt"})

#: Packages the Lambda Python runtime already provides; the layer leaves them out. The runtime's boto3
#: covers every API the adapters call (S3, DynamoDB, SQS, Rekognition, Lambda), and leaving
#: boto3/botocore out saves about 100 MB unzipped, keeping the layer far under Lambda's 250 MB limit
#: and under the 50 MB direct-upload limit.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})

#: Platform tags of the Lambda arm64 runtimes (Amazon Linux 2023, glibc 2.34).
LAMBDA_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")

#: Bumped when the way a layer is built changes, so that old cache entries are not reused.
LAYER_FORMAT_VERSION = 1

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

Runner = Callable[..., subprocess.CompletedProcess[str]]


class PackagingError(RuntimeError):
    """An archive could not be built; the message says which and what to do."""


class LayerBuildError(PackagingError):
    """The dependency layer could not be installed and no cached layer exists."""


@dataclass(frozen=True)
class Archive:
    """A built zip: its path, size and the base64 SHA-256 Lambda compares (``source_code_hash``)."""

    path: Path
    size: int
    sha256_base64: str


def normalize_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name (``Pillow_Heif`` -> ``pillow-heif``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement string."""
    match = _REQUIREMENT_NAME.match(requirement)
    if not match:
        raise PackagingError(f"requirements: {requirement!r} is not a requirement specifier")
    return normalize_name(match.group(1))


def runtime_requirements(pyproject: Path, *, exclude: Iterable[str] = RUNTIME_PROVIDED) -> tuple[str, ...]:
    """``[project].dependencies`` of ``pyproject``, without the packages named in ``exclude``."""
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PackagingError(f"requirements: cannot read {pyproject.name}: {error}") from None
    dependencies = document.get("project", {}).get("dependencies", [])
    excluded = {normalize_name(name) for name in exclude}
    return tuple(req for req in dependencies if requirement_name(req) not in excluded)


def project_requirements(project_dir: Path, distribution: str = "imgmgr") -> tuple[str, ...]:
    """Runtime requirements from ``project_dir/pyproject.toml``; when the project is installed rather than
    checked out (no ``pyproject.toml``), from the installed distribution's metadata (extras left out)."""
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        return runtime_requirements(pyproject)
    try:
        declared = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise PackagingError(
            f"requirements: no pyproject.toml in {project_dir.name}/ and {distribution!r} is not installed; "
            "pass layer_requirements"
        ) from None
    excluded = {normalize_name(name) for name in RUNTIME_PROVIDED}
    return tuple(
        req for req in declared if "extra ==" not in req.replace('"', "'") and requirement_name(req) not in excluded
    )


def write_deterministic_zip(entries: Iterable[tuple[str, Path]], destination: Path) -> Archive:
    """Writes ``(name in archive, file)`` pairs to ``destination`` sorted by name, with fixed metadata.

    The file is written next to ``destination`` and renamed into place, so a reader never sees half
    an archive.
    """
    ordered = sorted(entries, key=lambda entry: entry[0])
    names = [name for name, _ in ordered]
    if len(set(names)) != len(names):
        raise PackagingError(f"archive {destination.name}: duplicate entry names")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for name, source in ordered:
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
                info.external_attr = FILE_MODE << 16
                info.create_system = 3  # Unix, so that external_attr is read as a mode everywhere
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, source.read_bytes(), compresslevel=9)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return describe(destination)


def describe(path: Path) -> Archive:
    """Size and base64 SHA-256 of an existing archive."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    return Archive(path=path, size=path.stat().st_size, sha256_base64=base64.b64encode(digest).decode("ascii"))


def _shipped(relative: PurePosixPath, excluded_paths: Sequence[PurePosixPath]) -> bool:
    if any(part in EXCLUDED_DIRECTORIES for part in relative.parts):
        return False
    if relative.suffix in EXCLUDED_SUFFIXES:
        return False
    return not any(relative.is_relative_to(excluded) for excluded in excluded_paths)


def tree_entries(root: Path, prefix: str, *, excluded_paths: Sequence[PurePosixPath] = ()) -> list[tuple[str, Path]]:
    """Every shipped file under ``root`` as ``(prefix/relative/path, file)``, sorted by name.

    Symbolic links to files are followed; directories, ``__pycache__``, compiled files, model weights
    and ``excluded_paths`` (relative to ``root``) are left out.
    """
    entries = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if _shipped(relative, excluded_paths):
            entries.append((str(PurePosixPath(prefix) / relative), path))
    return sorted(entries)


def function_entries(source_dir: Path) -> list[tuple[str, Path]]:
    """The files of the function archive: the ``lambdas`` package without the local adapters."""
    if not (source_dir / "__init__.py").is_file():
        raise PackagingError(f"lambda_source_dir: {source_dir.name!r} is not a Python package (no __init__.py)")
    return tree_entries(source_dir, source_dir.name, excluded_paths=EXCLUDED_SOURCE_PATHS)


def build_function_zip(source_dir: Path, output_dir: Path) -> Archive:
    """Zips the ``lambdas`` package to ``output_dir/function-<sha256 prefix>.zip``.

    The name carries the content hash so that several syntheses (other checkouts, other processes)
    never overwrite an archive another one is copying.
    """
    entries = function_entries(source_dir)
    digest = hashlib.sha256()
    for name, path in entries:
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    destination = output_dir / f"function-{digest.hexdigest()[:16]}.zip"
    if destination.is_file():
        return describe(destination)
    archive = write_deterministic_zip(entries, destination)
    _prune(output_dir, "function-*.zip", keep=destination)
    return archive


#: Archives of earlier sources older than this are removed; younger ones may still be copied by another
#: synthesis running at the same time.
STALE_ARCHIVE_SECONDS = 24 * 3600


def _prune(directory: Path, pattern: str, *, keep: Path) -> None:
    cutoff = time.time() - STALE_ARCHIVE_SECONDS
    for path in directory.glob(pattern):
        if path != keep and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class LayerSpec:
    """Everything that decides the contents of the dependency layer; its hash names the cache entry."""

    requirements: tuple[str, ...]
    python_version: str = "3.12"
    platforms: tuple[str, ...] = LAMBDA_PLATFORMS
    implementation: str = "cp"

    def __post_init__(self) -> None:
        if not self.requirements:
            raise PackagingError("requirements: the layer needs at least one requirement")
        if not re.fullmatch(r"3\.\d{1,2}", self.python_version):
            raise PackagingError(f"python_version: {self.python_version!r} must look like '3.12'")

    @property
    def cache_key(self) -> str:
        """SHA-256 of the inputs and of the build format version."""
        inputs = {
            "format": LAYER_FORMAT_VERSION,
            "requirements": sorted(self.requirements),
            "python_version": self.python_version,
            "platforms": list(self.platforms),
            "implementation": self.implementation,
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def pip_arguments(self, target: Path) -> list[str]:
        """Arguments of ``pip install`` that put the requirements for Lambda into ``target``."""
        arguments = ["install", "--quiet", "--no-compile", "--disable-pip-version-check", "--only-binary=:all:"]
        for platform in self.platforms:
            arguments += ["--platform", platform]
        arguments += ["--python-version", self.python_version, "--implementation", self.implementation]
        arguments += ["--target", str(target), *self.requirements]
        return arguments


def build_layer(
    spec: LayerSpec,
    cache_dir: Path,
    *,
    pip: Sequence[str] = (sys.executable, "-m", "pip"),
    runner: Runner = subprocess.run,
) -> Archive:
    """The layer archive of ``spec``: from ``cache_dir`` when present, else installed with pip and cached.

    Raises ``LayerBuildError`` when pip fails (no network, no wheel for the platform) and nothing is
    cached; the message carries the end of pip's output and how to proceed.
    """
    cached = cache_dir / f"{spec.cache_key}.zip"
    if cached.is_file():
        return describe(cached)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="layer-", dir=cache_dir) as scratch:
        site = Path(scratch) / "python"
        command = [*pip, *spec.pip_arguments(site)]
        try:
            result = runner(command, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise LayerBuildError(_layer_help(spec, cached, f"{type(error).__name__}: {error}")) from None
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout or "").strip().splitlines()[-12:])
            raise LayerBuildError(_layer_help(spec, cached, f"pip exited with {result.returncode}:\n{tail}"))
        # Console scripts carry the absolute path of this machine's interpreter and are useless in Lambda.
        shutil.rmtree(site / "bin", ignore_errors=True)
        return write_deterministic_zip(tree_entries(site, "python"), cached)


def _layer_help(spec: LayerSpec, cached: Path, detail: str) -> str:
    return (
        f"dependency layer: could not install {', '.join(spec.requirements)} for "
        f"{'/'.join(spec.platforms)} (Python {spec.python_version}) and no cached layer exists at "
        f"{cached.name} in {cached.parent.name}/. Synthesize once with access to the package index "
        f"(PyPI or the index configured for pip), or copy a cached layer there. {detail}"
    )
