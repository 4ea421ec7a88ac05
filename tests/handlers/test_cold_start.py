"""What each handler imports at cold start: functions that never decode images do not load Pillow or numpy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "PIL.Image")


def _loaded_after_import(handler: str) -> set[str]:
    code = f"import sys, lambdas.handlers.{handler}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    env = {**os.environ, "IMGMGR_BUCKET": "bucket", "IMGMGR_TABLE": "table"}
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
