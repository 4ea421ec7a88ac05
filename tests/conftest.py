"""Session-wide test settings: no real AWS, quiet jsii, markers by directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stacks.settings import Settings
from tests.synth.support import SYNTH_ENVIRON, Synthesized

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

_MARKER_BY_DIR = {"synth": "synth", "e2e": "e2e", "browser": "browser", "twin": "twin"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS_DIR).parts
        marker = _MARKER_BY_DIR.get(parts[0]) if parts else None
        if marker:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def synth_settings() -> Settings:
    """The project's own settings from cdktf.json, as ``make synth`` reads them, plus ``SYNTH_ENVIRON``."""
    return Settings.from_project(PROJECT_DIR, SYNTH_ENVIRON)


@pytest.fixture(scope="session")
def synthesized(synth_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The ready stack synthesized once per session (the synth tests and the deployment twin share it):
    importing the AWS provider bindings alone takes ~25 s."""
    from cdktf import Testing

    from stacks.app import build_app

    outdir = tmp_path_factory.mktemp("cdktf.out")
    app, stack = build_app(synth_settings, outdir)
    app.synth()
    path = outdir / "stacks" / synth_settings.stack_name / "cdk.tf.json"
    json_text = Testing.synth(stack)
    return Synthesized(
        stack=stack, json_text=json_text, document=json.loads(path.read_text()), outdir=outdir, path=path
    )


#: The user pool option of the second synthesis (``synthesized_cognito``).
COGNITO_ENVIRON = {"IMGMGR_COGNITO_DOMAIN_PREFIX": "imgmgr-test-users"}


@pytest.fixture(scope="session")
def synthesized_cognito(synth_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The ready stack with a Cognito user pool (``IMGMGR_COGNITO_DOMAIN_PREFIX``), synthesized once per
    session beside ``synthesized``."""
    from cdktf import Testing

    from stacks.app import build_app

    settings = Settings.from_project(PROJECT_DIR, {**SYNTH_ENVIRON, **COGNITO_ENVIRON})
    outdir = tmp_path_factory.mktemp("cdktf-cognito.out")
    app, stack = build_app(settings, outdir)
    app.synth()
    path = outdir / "stacks" / settings.stack_name / "cdk.tf.json"
    return Synthesized(
        stack=stack, json_text=Testing.synth(stack), document=json.loads(path.read_text()), outdir=outdir, path=path
    )
