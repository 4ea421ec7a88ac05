"""Packaging without synthesis: deterministic zips, what ships, the layer cache and its error."""

from __future__ import annotations

import ast
import os
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from constructs_lib.packaging import (
    FIXED_DATE_TIME,
    LayerBuildError,
    LayerSpec,
    PackagingError,
    build_function_zip,
    build_layer,
    function_entries,
    project_requirements,
    requirement_name,
    runtime_requirements,
    write_deterministic_zip,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]


def _package(root: Path) -> Path:
    source = root / "lambdas"
    for name, text in {
        "__init__.py": "",
        "steps.py": "STEP = 1\n",
        "handlers/__init__.py": "",
        "handlers/compress.py": "def handler(event, context):\n    return None\n",
        "handlers/__pycache__/compress.cpython-312.pyc": "compiled",
        "adapters/__init__.py": "",
        "adapters/aws/s3.py": "AWS = True\n",
        "models/labeler.onnx": "weights",
        "stale.pyc": "compiled",
    }.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return source


def test_function_zip_ships_the_package_without_caches_or_models(tmp_path: Path) -> None:
    # GIVEN a lambdas package with a __pycache__, compiled files and a model
    source = _package(tmp_path / "src")
    # WHEN it is zipped
    archive = build_function_zip(source, tmp_path / "out")
    # THEN only the deployable sources are in it, sorted, under lambdas/
    names = zipfile.ZipFile(archive.path).namelist()
    assert names == [
        "lambdas/__init__.py",
        "lambdas/adapters/__init__.py",
        "lambdas/adapters/aws/s3.py",
        "lambdas/handlers/__init__.py",
        "lambdas/handlers/compress.py",
        "lambdas/steps.py",
    ]


def test_the_shipped_modules_import_nothing_of_the_local_host() -> None:
    # GIVEN the modules of the function archive of this project's lambdas package
    entries = function_entries(PROJECT_DIR / "lambdas")
    modules = [(name, path) for name, path in entries if name.endswith(".py")]
    # WHEN their imports are read
    imported = {
        (name, module)
        for name, path in modules
        for node in ast.walk(ast.parse(path.read_bytes(), filename=name))
        for module in _imported_modules(node)
    }
    # THEN none names imgmgr (the local host, not in the archive), while they do import one another
    assert sorted((name, module) for name, module in imported if module.split(".")[0] == "imgmgr") == []
    assert any(module.startswith("lambdas.") for _, module in imported)


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def test_function_zip_entries_have_fixed_time_and_permissions(tmp_path: Path) -> None:
    # GIVEN a package whose files have today's timestamps and an executable bit
    source = _package(tmp_path / "src")
    (source / "steps.py").chmod(0o755)
    # WHEN it is zipped
    archive = build_function_zip(source, tmp_path / "out")
    # THEN every entry carries 1980-01-01 and mode 0644
    infos = zipfile.ZipFile(archive.path).infolist()
    assert {info.date_time for info in infos} == {FIXED_DATE_TIME}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_zipping_the_same_tree_twice_gives_identical_bytes(tmp_path: Path) -> None:
    # GIVEN two copies of the same package created at different times and in a different order
    first = _package(tmp_path / "a")
    second = _package(tmp_path / "b")
    for path in second.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    # WHEN both are zipped
    one = build_function_zip(first, tmp_path / "out-a")
    two = build_function_zip(second, tmp_path / "out-b")
    # THEN the archives are byte-identical and named by their content
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.path.name == two.path.name
    assert one.sha256_base64 == two.sha256_base64


def test_a_changed_source_changes_the_archive(tmp_path: Path) -> None:
    source = _package(tmp_path / "src")
    before = build_function_zip(source, tmp_path / "out")
    (source / "steps.py").write_text("STEP = 2\n")
    after = build_function_zip(source, tmp_path / "out")
    assert after.path != before.path
    assert after.sha256_base64 != before.sha256_base64


def test_archives_of_earlier_sources_are_pruned_after_a_day(tmp_path: Path) -> None:
    # GIVEN an archive from two days ago and one from a minute ago in the output directory
    out = tmp_path / "out"
    out.mkdir()
    old, recent = out / "function-old.zip", out / "function-recent.zip"
    for path, age in ((old, 2 * 86400), (recent, 60)):
        path.write_bytes(b"zip")
        os.utime(path, (time.time() - age, time.time() - age))
    # WHEN a new source is zipped there
    archive = build_function_zip(_package(tmp_path / "src"), out)
    # THEN the day-old archive is gone, the recent one (maybe being copied) and the new one stay
    assert sorted(p.name for p in out.iterdir()) == sorted([archive.path.name, "function-recent.zip"])


def test_source_without_init_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lambdas").mkdir()
    with pytest.raises(PackagingError, match=r"^lambda_source_dir: 'lambdas' is not a Python package"):
        build_function_zip(tmp_path / "lambdas", tmp_path / "out")


def test_duplicate_entry_names_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "a.txt"
    file.write_text("a")
    with pytest.raises(PackagingError, match=r"duplicate entry names"):
        write_deterministic_zip([("x/a.txt", file), ("x/a.txt", file)], tmp_path / "dup.zip")


def test_runtime_requirements_leave_out_what_lambda_provides(tmp_path: Path) -> None:
    # GIVEN a pyproject with boto3 among its dependencies
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["pillow>=12,<14", "Boto3>=1.35", "mangum"]\n')
    # WHEN the layer requirements are read
    requirements = runtime_requirements(pyproject)
    # THEN boto3 is left out, whatever its spelling
    assert requirements == ("pillow>=12,<14", "mangum")


def test_installed_distribution_metadata_gives_the_requirements_without_a_pyproject(tmp_path: Path) -> None:
    # GIVEN a directory without pyproject.toml (the project installed, not checked out)
    # WHEN the requirements are read from the installed distribution's metadata
    requirements = project_requirements(tmp_path)
    # THEN they are the runtime ones: Pillow in, extras (pytest) and boto3 out
    names = {requirement_name(req) for req in requirements}
    assert "pillow" in names
    assert not names & {"pytest", "boto3", "uvicorn"}


def test_missing_pyproject_and_distribution_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=r"^requirements: no pyproject.toml .* pass layer_requirements"):
        project_requirements(tmp_path, distribution="no-such-distribution-here")


def test_project_runtime_requirements_build_the_layer_for_lambda_arm64() -> None:
    # GIVEN the project's own pyproject
    requirements = runtime_requirements(Path(__file__).resolve().parents[3] / "pyproject.toml")
    spec = LayerSpec(requirements=requirements)
    # WHEN pip's arguments are formed
    arguments = spec.pip_arguments(Path("target"), Path("requirements.txt"))
    # THEN they install binary wheels for arm64 CPython 3.12, and Pillow is in
    assert any(req.startswith("pillow") for req in requirements)
    assert not any(req.startswith("boto3") for req in requirements)
    assert arguments[arguments.index("--python-version") + 1] == "3.12"
    assert [arguments[i + 1] for i, a in enumerate(arguments) if a == "--platform"] == [
        "manylinux_2_28_aarch64",
        "manylinux2014_aarch64",
    ]
    assert "--only-binary=:all:" in arguments


def test_layer_cache_key_depends_on_every_input() -> None:
    base = LayerSpec(requirements=("pillow>=12",))
    assert base.cache_key == LayerSpec(requirements=("pillow>=12",)).cache_key
    assert base.cache_key != LayerSpec(requirements=("pillow>=13",)).cache_key
    assert base.cache_key != LayerSpec(requirements=("pillow>=12",), python_version="3.13").cache_key


def _fake_pip(calls: list[list[str]]):
    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "PIL").mkdir(parents=True)
        (target / "PIL" / "__init__.py").write_text("VERSION = 13\n")
        (target / "PIL" / "__pycache__").mkdir()
        (target / "PIL" / "__pycache__" / "x.pyc").write_text("compiled")
        (target / "bin").mkdir()
        (target / "bin" / "tool").write_text("#!/abs/path/python\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_layer_is_zipped_under_python_without_scripts_and_cached(tmp_path: Path) -> None:
    # GIVEN a pip that installs a package with a console script
    calls: list[list[str]] = []
    spec = LayerSpec(requirements=("pillow>=12",))
    # WHEN the layer is built twice
    first = build_layer(spec, tmp_path / "cache", runner=_fake_pip(calls))
    second = build_layer(spec, tmp_path / "cache", runner=_fake_pip(calls))
    # THEN pip ran once, the archive is named by the inputs' hash and holds only python/PIL/__init__.py
    assert len(calls) == 1
    assert first == second
    assert first.path == tmp_path / "cache" / f"{spec.cache_key}.zip"
    assert zipfile.ZipFile(first.path).namelist() == ["python/PIL/__init__.py"]


def test_layer_build_failure_without_cache_says_what_to_do(tmp_path: Path) -> None:
    # GIVEN a pip that cannot reach the package index
    def offline(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version that satisfies pillow")

    # WHEN the layer is built with an empty cache
    # THEN the error names the layer, the cache and the package index, and carries pip's output
    with pytest.raises(
        LayerBuildError,
        match=r"(?s)^dependency layer: could not install pillow>=12.*no cached layer.*package index.*pip exited with 1",
    ):
        build_layer(LayerSpec(requirements=("pillow>=12",)), tmp_path / "cache", runner=offline)
    assert list((tmp_path / "cache").iterdir()) == []


def test_layer_build_failure_when_pip_is_missing(tmp_path: Path) -> None:
    with pytest.raises(LayerBuildError, match=r"FileNotFoundError"):
        build_layer(LayerSpec(requirements=("pillow>=12",)), tmp_path / "cache", pip=[str(tmp_path / "no-such-pip")])
