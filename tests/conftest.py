"""Session-wide test settings: no real AWS, quiet jsii, markers by directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a real AWS account: fake credentials before any boto3 client is built.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "imgmgr-test",
    "POWERTOOLS_METRICS_NAMESPACE": "ImgMgrTest",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent

_MARKER_BY_DIR = {"synth": "synth", "e2e": "e2e", "browser": "browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS_DIR).parts
        marker = _MARKER_BY_DIR.get(parts[0]) if parts else None
        if marker:
            item.add_marker(getattr(pytest.mark, marker))
