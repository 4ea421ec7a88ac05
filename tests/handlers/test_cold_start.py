"""What each handler imports at cold start: functions that never decode images do not load Pillow or numpy,
and the API loads neither boto3 nor Pillow before its first request."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdas.handlers.coldstart import loading

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "PIL.Image")
#: What the API's import left out (``lambdas/handlers/api.py``): boto3 with s3transfer (and, through it,
#: multiprocessing) and botocore's client machinery come with the app on the first request, Pillow (the EXIF
#: names of ``lambdas.imaging.options``) with the settings.
API_DEFERRED = ("boto3", "s3transfer", "multiprocessing", "botocore.session", "botocore.client", "PIL", "numpy")
#: The environment of the API function as ``constructs_lib/image_pipeline.py`` sets it, with what the Lambda
#: runtime adds.
LAMBDA_ENV = {
    "IMGMGR_BUCKET": "imgmgr-bucket",
    "IMGMGR_TABLE": "imgmgr-images",
    "IMGMGR_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/imgmgr-dlq",
    "IMGMGR_MAX_PIXELS": "100000000",
    "IMGMGR_MAX_UPLOAD_BYTES": "104857600",
    "IMGMGR_COMPRESSED_FORMAT": "jpeg",
    "IMGMGR_MIN_CONFIDENCE": "70",
    "IMGMGR_MAX_LABELS": "20",
    "IMGMGR_MAX_ATTEMPTS": "3",
    "IMGMGR_ORIGINALS": "expire",
    "IMGMGR_ORIGINALS_AFTER_DAYS": "30",
    "IMGMGR_COMPRESS_FUNCTION": "imgmgr-compress",
    "IMGMGR_THUMBNAIL_FUNCTION": "imgmgr-thumbnail",
    "IMGMGR_CATEGORIZE_FUNCTION": "imgmgr-categorize",
    "POWERTOOLS_SERVICE_NAME": "imgmgr",
    "POWERTOOLS_METRICS_NAMESPACE": "imgmgr",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_NAME": "imgmgr-api",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
}


def _loaded_after_import(handler: str, modules: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None) -> set[str]:
    code = f"import sys, lambdas.handlers.{handler}; print(' '.join(m for m in {modules!r} if m in sys.modules))"
    env = env or {**os.environ, "IMGMGR_BUCKET": "bucket", "IMGMGR_TABLE": "table"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("handler", ["api", "categorize", "redrive", "exporter"])
def test_functions_that_never_decode_do_not_load_imaging_libraries(handler: str) -> None:
    assert _loaded_after_import(handler) == set()


@pytest.mark.parametrize("handler", ["compress", "thumbnail"])
def test_image_functions_load_imaging_libraries_during_init(handler: str) -> None:
    assert _loaded_after_import(handler) == set(HEAVY)


def test_the_api_import_leaves_boto3_and_pillow_for_the_app() -> None:
    # GIVEN the API function's environment (only what Python itself needs besides)
    env = {**LAMBDA_ENV, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_DIR)}
    # WHEN Lambda's init imports the handler THEN none of them is loaded yet
    assert _loaded_after_import("api", API_DEFERRED, env) == set()


def test_the_api_loads_boto3_with_its_app() -> None:
    # GIVEN the guard above WHEN the app is built THEN boto3 is there: the guard watches the right names
    code = (
        "import sys, lambdas.handlers.api as h; h.app();"
        f" print(' '.join(m for m in {API_DEFERRED!r} if m in sys.modules))"
    )
    env = {
        **LAMBDA_ENV,
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_DIR),
        # No table to read the secret from, and no credentials needed to build the clients.
        "IMGMGR_CURSOR_SECRET": "a-cursor-secret-for-tests",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert {"boto3", "botocore.client"} <= set(result.stdout.split())


def test_the_api_import_freezes_what_it_loaded_and_leaves_the_collector_on() -> None:
    env = {**LAMBDA_ENV, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_DIR)}
    code = "import gc, lambdas.handlers.api; print(gc.isenabled(), gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True
    )
    enabled, frozen = result.stdout.split()
    # FastAPI, pydantic and Powertools alone are tens of thousands of objects
    assert (enabled, int(frozen) > 10_000) == ("True", True)


@pytest.fixture
def collector():
    """The test process's collector with nothing frozen (a handler imported earlier froze the session's
    objects), restored to its state after the test."""
    was_enabled = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_inside_the_block_and_resumed_after(collector) -> None:
    gc.enable()
    with loading():
        inside = gc.isenabled()
    assert (inside, gc.isenabled()) == (False, True)
    assert gc.get_freeze_count() > 0


def test_a_collector_that_was_off_stays_off(collector) -> None:
    gc.disable()
    with loading():
        pass
    assert not gc.isenabled()


def test_a_failing_import_resumes_the_collector_and_freezes_nothing(collector) -> None:
    gc.enable()
    with pytest.raises(ImportError, match="no_such_module"), loading():
        import no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert (gc.isenabled(), gc.get_freeze_count()) == (True, 0)
