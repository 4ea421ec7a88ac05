"""`python main.py` stops on a bad setting with one line naming it, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("IMGMGR_ALERT_EMAILS", "ops-at-example.com", "alert_emails"),
        ("IMGMGR_MONTHLY_BUDGET_USD", "-5", "monthly_budget_usd"),
    ],
)
def test_bad_setting_stops_synth_with_one_line(tmp_path: Path, variable: str, value: str, setting: str) -> None:
    # GIVEN a malformed setting in the environment
    env = {**os.environ, variable: value, "CDKTF_OUTDIR": str(tmp_path)}
    # WHEN the app is synthesized
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    # THEN it exits 2 with one line that names the setting and writes nothing
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: setting {setting}: ")
    assert variable in lines[0]
    assert not any(tmp_path.iterdir())
