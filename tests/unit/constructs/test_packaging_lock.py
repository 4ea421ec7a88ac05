"""The layer lock: it covers the runtime ranges of pyproject.toml, a stale lock is refused, the build uses it."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from constructs_lib.packaging import (
    LAYER_LOCK,
    LayerSpec,
    StaleLockError,
    build_layer,
    lock_lines_from_report,
    locked_requirements,
    normalize_name,
    project_requirements,
    read_lock,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
PILLOW_HASH = "--hash=sha256:" + "a" * 64
NUMPY_HASH = "--hash=sha256:" + "b" * 64


def _lock(tmp_path: Path, *lines: str) -> Path:
    lock = tmp_path / "layer-requirements.lock"
    lock.write_text("# header\n" + "".join(f"{line}\n" for line in lines))
    return lock


def _pins(lock: Path) -> dict[str, Version]:
    pins = {}
    for line in lock.read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line.split()[0])
            (specifier,) = requirement.specifier
            pins[normalize_name(requirement.name)] = Version(specifier.version)
    return pins


def test_committed_lock_pins_every_runtime_dependency_inside_its_pyproject_range() -> None:
    # GIVEN the runtime dependencies of pyproject.toml that the layer ships (boto3 is the runtime's)
    declared = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = [Requirement(text) for text in declared if normalize_name(Requirement(text).name) != "boto3"]
    # WHEN the committed lock is read
    pins = _pins(LAYER_LOCK)
    # THEN each dependency is pinned to a version its range allows, and boto3 is not in the layer
    assert len(requirements) == 6
    for requirement in requirements:
        name = normalize_name(requirement.name)
        assert name in pins, name
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    assert "boto3" not in pins
    assert "botocore" not in pins


def test_committed_lock_carries_a_sha256_for_every_wheel() -> None:
    lines = [line for line in LAYER_LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert lines
    for line in lines:
        pin, *options = line.split()
        assert "==" in pin, line
        assert options, line
        assert all(option.startswith("--hash=sha256:") and len(option) == len(PILLOW_HASH) for option in options)


def test_project_requirements_are_the_locked_lines_of_the_checkout() -> None:
    # GIVEN the checkout with its pyproject.toml and committed lock
    # WHEN the layer requirements are read
    requirements = project_requirements(PROJECT_DIR)
    # THEN they are the lock's exact, hashed lines
    assert set(requirements) == {line for line in LAYER_LOCK.read_text().splitlines() if line[:1] not in ("", "#")}
    assert LayerSpec(requirements=requirements).hashed


def test_lock_missing_a_dependency_names_it_and_the_command(tmp_path: Path) -> None:
    # GIVEN a lock without numpy
    lock = _lock(tmp_path, f"pillow==13.0.0 {PILLOW_HASH}")
    # WHEN it is checked against ranges that require numpy
    # THEN the error names numpy and how to regenerate the lock
    with pytest.raises(
        StaleLockError,
        match=r"^layer lock: numpy \(numpy>=1.26,<3\) is missing from layer-requirements.lock; "
        r"regenerate it with: python -m constructs_lib.lock_layer$",
    ):
        locked_requirements(["pillow>=12,<14", "numpy>=1.26,<3"], lock)


def test_lock_pinning_outside_a_range_names_the_dependency_and_the_command(tmp_path: Path) -> None:
    # GIVEN a lock whose Pillow is older than pyproject now allows
    lock = _lock(tmp_path, f"Pillow==11.3.0 {PILLOW_HASH}", f"numpy==2.5.5 {NUMPY_HASH}")
    # WHEN it is checked
    # THEN the error names the pin, the range and the command
    with pytest.raises(
        StaleLockError,
        match=r"^layer lock: pillow==11.3.0 in layer-requirements.lock is outside pillow>=12.0,<14; "
        r"regenerate it with: python -m constructs_lib.lock_layer$",
    ):
        locked_requirements(["pillow>=12.0,<14", "numpy>=1.26,<3"], lock)


def test_requirement_whose_marker_is_false_on_lambda_needs_no_pin(tmp_path: Path) -> None:
    lock = _lock(tmp_path, f"pillow==13.0.0 {PILLOW_HASH}")
    assert locked_requirements(["pillow>=12", "pywin32>=300; sys_platform == 'win32'"], lock) == (
        f"pillow==13.0.0 {PILLOW_HASH}",
    )


def test_lock_line_without_a_hash_is_refused(tmp_path: Path) -> None:
    lock = _lock(tmp_path, "pillow>=13")
    with pytest.raises(StaleLockError, match=r"^layer lock: line 2 of layer-requirements.lock .*lock_layer$"):
        read_lock(lock)


def test_checkout_without_a_lock_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pillow>=12"]\n')
    with pytest.raises(StaleLockError, match=r"^layer lock: absent.lock does not exist; generate it with: python -m"):
        project_requirements(tmp_path, lock=tmp_path / "absent.lock")


def test_layer_build_installs_the_lock_with_required_hashes(tmp_path: Path) -> None:
    # GIVEN a spec of locked lines and a pip that records its command and requirements file
    lines = (f"numpy==2.5.5 {NUMPY_HASH}", f"pillow==13.0.0 {PILLOW_HASH}")
    seen: dict[str, object] = {}

    def pip(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen["command"] = command
        seen["file"] = Path(command[command.index("-r") + 1]).read_text()
        (Path(command[command.index("--target") + 1]) / "PIL").mkdir(parents=True)
        (Path(command[command.index("--target") + 1]) / "PIL" / "__init__.py").write_text("")
        return subprocess.CompletedProcess(command, 0, "", "")

    # WHEN the layer is built
    build_layer(LayerSpec(requirements=lines), tmp_path / "cache", runner=pip)
    # THEN pip installs from a requirements file holding exactly the locked lines, verifying their hashes
    command = seen["command"]
    assert isinstance(command, list)
    assert "--require-hashes" in command
    assert seen["file"] == "".join(f"{line}\n" for line in lines)
    assert not any(argument.startswith(("numpy", "pillow")) for argument in command)


def test_layer_cache_key_changes_with_a_locked_hash() -> None:
    before = LayerSpec(requirements=(f"pillow==13.0.0 {PILLOW_HASH}",))
    after = LayerSpec(requirements=(f"pillow==13.0.0 {NUMPY_HASH}",))
    assert before.cache_key != after.cache_key


def test_pip_report_becomes_lock_lines_sorted_by_name() -> None:
    # GIVEN the install list of a pip --report document
    report = {
        "install": [
            {
                "metadata": {"name": "pillow_heif", "version": "1.8.1"},
                "download_info": {"archive_info": {"hashes": {"sha256": "c" * 64}}},
            },
            {
                "metadata": {"name": "Pillow", "version": "13.0.0"},
                "download_info": {"archive_info": {"hashes": {"sha256": "a" * 64}}},
            },
        ]
    }
    # WHEN it is turned into lock lines
    # THEN names are normalized, each line pins the version with the wheel's hash, pillow before pillow-heif
    assert lock_lines_from_report(report) == [
        f"pillow==13.0.0 {PILLOW_HASH}",
        "pillow-heif==1.8.1 --hash=sha256:" + "c" * 64,
    ]
