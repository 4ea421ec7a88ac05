"""Reproducible Lambda archives: the function zip of ``lambdas/`` and the dependency layer.

Both archives are written byte for byte the same from the same inputs: entries sorted by name, every
timestamp 1980-01-01 00:00:00 (the earliest a zip can hold), permissions fixed to ``0644``, no
``__pycache__`` and no compiled files. A plan therefore shows no change when nothing changed.

The layer holds the runtime dependencies (``[project].dependencies`` of ``pyproject.toml``) installed
for the Lambda platform (arm64, CPython 3.12, glibc 2.34: Pillow 13 ships only ``manylinux_2_28`` arm64
wheels) by ``pip install --platform ... --only-binary=:all:``. The versions come from the committed lock
``constructs_lib/layer-requirements.lock`` (exact versions and the SHA-256 of each wheel, so pip runs with
``--require-hashes``), not from the ranges of ``pyproject.toml``: two machines build the same layer whatever
the package index has released since. The lock is checked against the ranges at every synthesis and
regenerated from them by ``python -m constructs_lib.lock_layer``. The layer is cached in
``<cache_dir>/<sha256 of its inputs, the locked lines included>.zip``: the first synthesis needs the package
index, later ones reuse the cache.
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

#: Timestamp of every zip entry: the earliest date the zip format can hold.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)

#: Permissions of every zip entry (regular file, rw-r--r--); Lambda only needs to read the code.
FILE_MODE = 0o100644

#: Directories that never ship: compiled caches differ per machine. Everything else of ``lambdas/`` ships
#: (the local host's adapters live in ``imgmgr/``, outside the archive).
EXCLUDED_DIRECTORIES = frozenset({"__pycache__"})

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
LAYER_FORMAT_VERSION = 2

#: The committed lock of the layer: one ``name==version --hash=sha256:...`` line per distribution.
LAYER_LOCK = Path(__file__).with_name("layer-requirements.lock")

#: The command that regenerates ``LAYER_LOCK`` from the ranges of ``pyproject.toml``; every stale-lock
#: error names it.
LOCK_COMMAND = "python -m constructs_lib.lock_layer"

#: Environment markers of the Lambda runtime the layer is built for, to skip requirements that do not
#: apply there (``; sys_platform == 'win32'``).
LAMBDA_MARKER_ENVIRONMENT = {
    "implementation_name": "cpython",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "sys_platform": "linux",
}

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

Runner = Callable[..., subprocess.CompletedProcess[str]]


class PackagingError(RuntimeError):
    """An archive could not be built; the message says which and what to do."""


class LayerBuildError(PackagingError):
    """The dependency layer could not be installed and no cached layer exists."""


class StaleLockError(PackagingError):
    """The layer lock is missing, unreadable, or does not satisfy the ranges of ``pyproject.toml``."""


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


def project_requirements(
    project_dir: Path, distribution: str = "imgmgr", *, lock: Path = LAYER_LOCK
) -> tuple[str, ...]:
    """The locked lines of ``lock`` (the layer's exact versions and hashes), after checking them against the
    runtime requirements of ``project_dir/pyproject.toml``.

    When the project is installed rather than checked out (no ``pyproject.toml``), the ranges come from the
    installed distribution's metadata (extras left out); an installation without the lock file gets those
    ranges unlocked. A checkout without the lock, or a stale lock, raises ``StaleLockError``.
    """
    ranges = declared_requirements(project_dir, distribution)
    if lock.is_file():
        return locked_requirements(ranges, lock)
    if (project_dir / "pyproject.toml").is_file():
        raise StaleLockError(f"layer lock: {lock.name} does not exist; generate it with: {LOCK_COMMAND}")
    return ranges


def declared_requirements(project_dir: Path, distribution: str = "imgmgr") -> tuple[str, ...]:
    """Runtime requirement ranges from ``project_dir/pyproject.toml``; when the project is installed rather
    than checked out (no ``pyproject.toml``), from the installed distribution's metadata (extras left out)."""
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


def read_lock(lock: Path) -> dict[str, tuple[Version, str]]:
    """The locked distributions of ``lock``: normalized name -> (version, the whole line).

    Every line is ``name==version`` followed by one or more ``--hash=sha256:<hex>``; blank lines and
    ``#`` comments are skipped.
    """
    try:
        text = lock.read_text(encoding="utf-8")
    except OSError as error:
        raise StaleLockError(
            f"layer lock: cannot read {lock.name}: {error}; regenerate it with: {LOCK_COMMAND}"
        ) from None
    locked: dict[str, tuple[Version, str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pin, *options = line.split()
        try:
            requirement = Requirement(pin)
            (specifier,) = requirement.specifier
            version = Version(specifier.version)
        except (InvalidRequirement, InvalidVersion, ValueError):
            specifier = None
        if specifier is None or specifier.operator != "==" or not options:
            raise StaleLockError(
                f"layer lock: line {number} of {lock.name} ({line!r}) is not 'name==version --hash=sha256:...'; "
                f"regenerate it with: {LOCK_COMMAND}"
            )
        if not all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", option) for option in options):
            raise StaleLockError(
                f"layer lock: line {number} of {lock.name} has a malformed hash; regenerate it with: {LOCK_COMMAND}"
            )
        locked[normalize_name(requirement.name)] = (version, line)
    return locked


def check_lock(
    locked: Mapping[str, tuple[Version, str]], requirements: Iterable[str], *, lock_name: str, python_version: str
) -> None:
    """Raises ``StaleLockError`` naming the first requirement ``locked`` misses or pins outside its range.

    Requirements whose environment marker is false on Lambda (arm64 Linux, CPython ``python_version``)
    are skipped.
    """
    environment = {**LAMBDA_MARKER_ENVIRONMENT, "python_version": python_version}
    environment["python_full_version"] = f"{python_version}.0"
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            raise PackagingError(f"requirements: {text!r} is not a requirement specifier: {error}") from None
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = normalize_name(requirement.name)
        if name not in locked:
            raise StaleLockError(
                f"layer lock: {name} ({text}) is missing from {lock_name}; regenerate it with: {LOCK_COMMAND}"
            )
        version = locked[name][0]
        if not requirement.specifier.contains(version, prereleases=True):
            raise StaleLockError(
                f"layer lock: {name}=={version} in {lock_name} is outside {text}; regenerate it with: {LOCK_COMMAND}"
            )


def locked_requirements(requirements: Iterable[str], lock: Path = LAYER_LOCK) -> tuple[str, ...]:
    """The lines of ``lock``, sorted by name, after ``check_lock`` against ``requirements``."""
    locked = read_lock(lock)
    check_lock(locked, requirements, lock_name=lock.name, python_version=LayerSpec.python_version)
    return tuple(line for _, (_, line) in sorted(locked.items()))


def lock_lines_from_report(report: Mapping[str, Any]) -> list[str]:
    """``name==version --hash=sha256:...`` lines, sorted by name, of a ``pip install --report`` document."""
    lines: list[tuple[str, str]] = []
    for item in report.get("install", []):
        name = normalize_name(item["metadata"]["name"])
        hashes = item.get("download_info", {}).get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            raise PackagingError(f"layer lock: pip reported no sha256 for {name}")
        lines.append((name, f"{name}=={item['metadata']['version']} --hash=sha256:{hashes['sha256']}"))
    return [line for _, line in sorted(lines)]


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


def _shipped(relative: PurePosixPath) -> bool:
    if any(part in EXCLUDED_DIRECTORIES for part in relative.parts):
        return False
    return relative.suffix not in EXCLUDED_SUFFIXES


def tree_entries(root: Path, prefix: str) -> list[tuple[str, Path]]:
    """Every shipped file under ``root`` as ``(prefix/relative/path, file)``, sorted by name.

    Symbolic links to files are followed; directories, ``__pycache__``, compiled files and model weights
    are left out.
    """
    entries = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if _shipped(relative):
            entries.append((str(PurePosixPath(prefix) / relative), path))
    return sorted(entries)


def function_entries(source_dir: Path) -> list[tuple[str, Path]]:
    """The files of the function archive: the ``lambdas`` package, without caches, compiled files or weights."""
    if not (source_dir / "__init__.py").is_file():
        raise PackagingError(f"lambda_source_dir: {source_dir.name!r} is not a Python package (no __init__.py)")
    return tree_entries(source_dir, source_dir.name)


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

    @property
    def hashed(self) -> bool:
        """Whether the requirements carry wheel hashes (locked lines), so that pip must verify them."""
        return any("--hash=" in requirement for requirement in self.requirements)

    def requirements_text(self) -> str:
        """The requirements as a pip requirements file (hash options are only allowed there)."""
        return "".join(f"{requirement}\n" for requirement in self.requirements)

    def platform_arguments(self) -> list[str]:
        """The ``pip install`` options that select binary wheels for the Lambda platform."""
        arguments = ["--only-binary=:all:"]
        for platform in self.platforms:
            arguments += ["--platform", platform]
        return [*arguments, "--python-version", self.python_version, "--implementation", self.implementation]

    def pip_arguments(self, target: Path, requirements_file: Path) -> list[str]:
        """Arguments of ``pip install`` that put the requirements (written to ``requirements_file`` with
        ``requirements_text``) for Lambda into ``target``; hashed requirements add ``--require-hashes``."""
        arguments = ["install", "--quiet", "--no-compile", "--disable-pip-version-check", *self.platform_arguments()]
        if self.hashed:
            arguments.append("--require-hashes")
        return [*arguments, "--target", str(target), "-r", str(requirements_file)]


def resolve_lock(
    spec: LayerSpec,
    *,
    pip: Sequence[str] = (sys.executable, "-m", "pip"),
    runner: Runner = subprocess.run,
) -> list[str]:
    """Resolves the requirement ranges of ``spec`` for its platform with the package index and returns the
    lock lines (``lock_lines_from_report``) of the newest versions in range."""
    if spec.hashed:
        raise PackagingError("requirements: resolve_lock takes ranges, not locked lines")
    with tempfile.TemporaryDirectory(prefix="layer-lock-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            *pip,
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            *spec.platform_arguments(),
            "--report",
            str(report),
            *spec.requirements,
        ]
        try:
            result = runner(command, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PackagingError(f"layer lock: pip did not run: {type(error).__name__}: {error}") from None
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout or "").strip().splitlines()[-12:])
            raise PackagingError(f"layer lock: pip exited with {result.returncode}:\n{tail}")
        return lock_lines_from_report(json.loads(report.read_text(encoding="utf-8")))


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
        requirements_file = Path(scratch) / "requirements.txt"
        requirements_file.write_text(spec.requirements_text(), encoding="utf-8")
        command = [*pip, *spec.pip_arguments(site, requirements_file)]
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
        f"dependency layer: could not install {', '.join(req.split()[0] for req in spec.requirements)} for "
        f"{'/'.join(spec.platforms)} (Python {spec.python_version}) and no cached layer exists at "
        f"{cached.name} in {cached.parent.name}/. Synthesize once with access to the package index "
        f"(PyPI or the index configured for pip), or copy a cached layer there. {detail}"
    )
