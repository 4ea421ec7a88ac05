"""One synthesis per test session: importing the AWS provider bindings alone takes ~25 s."""

from __future__ import annotations

import json

import pytest

from stacks.settings import Settings
from tests.synth.support import PROJECT_DIR, SYNTH_ENVIRON, Synthesized


@pytest.fixture(scope="session")
def synth_settings() -> Settings:
    """The project's own settings from cdktf.json, as ``make synth`` reads them, plus ``SYNTH_ENVIRON``."""
    return Settings.from_project(PROJECT_DIR, SYNTH_ENVIRON)


@pytest.fixture(scope="session")
def synthesized(synth_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
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
