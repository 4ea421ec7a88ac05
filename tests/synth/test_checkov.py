"""The security gate: checkov (--framework terraform_json) on the synthesized stack.

checkov lives in its own virtualenv (its pins conflict with the project's); ``make test`` installs it
and exports ``IMGMGR_CHECKOV``. Skips are read from ``checkov_skips.txt``, each with a reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

from tests.synth.support import PROJECT_DIR, Synthesized

SKIPS_FILE = Path(__file__).with_name("checkov_skips.txt")
_SKIP_LINE = re.compile(r"^(?P<check>CKV2?_[A-Z0-9_]+):\s*(?P<reason>.+)$")


def _checkov_binary() -> str:
    configured = os.environ.get("IMGMGR_CHECKOV")
    candidates = [configured] if configured else []
    candidates += [str(PROJECT_DIR / ".venv-checkov" / "bin" / "checkov"), shutil.which("checkov") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("checkov is not installed: run `make checkov` (the gate never skips silently)")


def read_skips(path: Path = SKIPS_FILE) -> dict[str, str]:
    """Check id -> reason; refuses lines without a reason."""
    skips: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SKIP_LINE.match(line.strip())
        if not match or len(match["reason"].strip()) < 15:
            raise ValueError(f"{path.name}:{number}: expected 'CHECK_ID: reason' with a written reason")
        skips[match["check"]] = match["reason"].strip()
    return skips


def run_checkov(path: Path, skips: dict[str, str]) -> dict[str, Any]:
    """Runs checkov on one Terraform JSON file; returns its report for the terraform_json framework."""
    command = [_checkov_binary(), "-f", str(path), "--framework", "terraform_json", "-o", "json", "--quiet"]
    # No network here and no need of it: do not fetch Prisma Cloud guidelines.
    command.append("--skip-download")
    if skips:
        command += ["--skip-check", ",".join(sorted(skips))]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=path.parent)
    assert result.returncode in (0, 1), f"checkov crashed ({result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework when several ran
        report = next(r for r in report if r.get("check_type") == "terraform_json")
    return report


def _describe(failed: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)


def test_skip_file_entries_have_reasons() -> None:
    skips = read_skips()
    assert all(len(reason) >= 15 for reason in skips.values())


def test_skip_file_refuses_an_entry_without_reason(tmp_path: Path) -> None:
    bad = tmp_path / "skips.txt"
    bad.write_text("CKV_AWS_18\n")
    with pytest.raises(ValueError, match=r"skips.txt:1: expected 'CHECK_ID: reason'"):
        read_skips(bad)


@pytest.mark.parametrize("variant", ["default", "user pool"])
def test_synthesized_stack_passes_checkov(
    variant: str, synthesized: Synthesized, synthesized_cognito: Synthesized
) -> None:
    # GIVEN the synthesized stack (as it is by default, and with the Cognito user pool option) and the reviewed skips
    synthesized = synthesized if variant == "default" else synthesized_cognito
    skips = read_skips()
    # WHEN checkov scans it
    report = run_checkov(synthesized.path, skips)
    # THEN it parsed the file and no check failed
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    failed = report["results"].get("failed_checks", [])
    assert not failed, "checkov failed checks:\n" + _describe(failed)


def test_gate_catches_an_unprotected_bucket(tmp_path: Path) -> None:
    # GIVEN a stack with a bare bucket (no public access block, no logging, no versioning)
    app = cdktf.Testing.app()
    stack = cdktf.TerraformStack(app, "insecure")
    S3Bucket(stack, "bare", bucket="bare-bucket")
    path = tmp_path / "cdk.tf.json"
    path.write_text(cdktf.Testing.synth(stack))
    # WHEN checkov scans it with the project's skips
    report = run_checkov(path, read_skips())
    # THEN the gate reports failures on that bucket
    failed = report["results"].get("failed_checks", [])
    assert any(check["resource"] == "aws_s3_bucket.bare" for check in failed), _describe(failed)
