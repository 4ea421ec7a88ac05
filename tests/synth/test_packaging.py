"""The archives in the synthesized stack: what they hold, that they are reproducible and within Lambda's limits."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Any

from constructs_lib.packaging import FIXED_DATE_TIME
from tests.synth.support import Synthesized

MiB = 1024 * 1024


def _asset(synthesized: Synthesized, resource: dict[str, Any]) -> Path:
    path = synthesized.path.parent / resource["filename"]
    assert path.is_file(), resource["filename"]
    return path


def _layer(synthesized: Synthesized) -> dict[str, Any]:
    (layer,) = synthesized.resources("aws_lambda_layer_version").values()
    return layer


def _functions(synthesized: Synthesized) -> list[dict[str, Any]]:
    return list(synthesized.resources("aws_lambda_function").values())


def _sha256_base64(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_every_function_deploys_the_same_code_archive_from_the_stack_directory(synthesized: Synthesized) -> None:
    filenames = {function["filename"] for function in _functions(synthesized)}
    assert len(filenames) == 1
    (filename,) = filenames
    assert filename.startswith("assets/") and filename.endswith(".zip")
    assert (synthesized.path.parent / filename).is_file()


def test_source_code_hashes_are_the_archives_sha256(synthesized: Synthesized) -> None:
    # GIVEN the functions and the layer with their archives
    layer = _layer(synthesized)
    # WHEN the archives are hashed / THEN the hashes in the stack match, so a plan sees every change
    assert layer["source_code_hash"] == _sha256_base64(_asset(synthesized, layer))
    for function in _functions(synthesized):
        assert function["source_code_hash"] == _sha256_base64(_asset(synthesized, function))


def test_code_archive_holds_every_handler_and_nothing_of_the_local_host(synthesized: Synthesized) -> None:
    # GIVEN the function archive
    names = zipfile.ZipFile(_asset(synthesized, _functions(synthesized)[0])).namelist()
    # WHEN its entries are listed
    handler_modules = {f"{f['handler'].rsplit('.', 1)[0].replace('.', '/')}.py" for f in _functions(synthesized)}
    # THEN each handler module is in it, and nothing of the local host, no cache, no model
    assert handler_modules <= set(names), sorted(handler_modules - set(names))
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".onnx", ".pt", ".pth"))]
    assert all(n.startswith("lambdas/") for n in names)


def test_archives_are_sorted_with_fixed_timestamps_and_permissions(synthesized: Synthesized) -> None:
    for resource in [_layer(synthesized), _functions(synthesized)[0]]:
        infos = zipfile.ZipFile(_asset(synthesized, resource)).infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_layer_holds_the_runtime_dependencies_for_arm64_cpython_312(synthesized: Synthesized) -> None:
    # GIVEN the layer archive
    names = zipfile.ZipFile(_asset(synthesized, _layer(synthesized))).namelist()
    top = {n.split("/")[1] for n in names}
    # WHEN its packages are listed / THEN the runtime dependencies are under python/, built for the Lambda platform
    assert all(n.startswith("python/") for n in names)
    assert {"PIL", "pillow_heif", "aws_lambda_powertools", "fastapi", "mangum", "pydantic_core"} <= top
    native = [n for n in names if n.endswith(".so") and "cpython" in n]
    assert native
    assert all("cpython-312-aarch64-linux-gnu" in n for n in native), native[:3]


def test_layer_leaves_out_what_the_runtime_provides_and_console_scripts(synthesized: Synthesized) -> None:
    names = zipfile.ZipFile(_asset(synthesized, _layer(synthesized))).namelist()
    top = {n.split("/")[1] for n in names}
    assert not top & {"boto3", "botocore", "s3transfer", "bin"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_archives_fit_lambdas_upload_and_unzipped_limits(synthesized: Synthesized) -> None:
    # GIVEN the layer and code archives
    archives = [_asset(synthesized, _layer(synthesized)), _asset(synthesized, _functions(synthesized)[0])]
    # WHEN their sizes are measured
    zipped = [path.stat().st_size for path in archives]
    unzipped = sum(info.file_size for path in archives for info in zipfile.ZipFile(path).infolist())
    # THEN each can be uploaded directly (50 MB) and together they unzip within 250 MB
    assert max(zipped) < 50 * MiB
    assert unzipped < 250 * MiB
