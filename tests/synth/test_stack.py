"""The ready stack: provider with default tags, backend from settings, reproducible synthesis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cdktf

from stacks.app import build_app
from stacks.settings import Settings
from tests.synth.support import PROJECT_DIR, SYNTH_ENVIRON, Synthesized, short


def test_provider_tags_every_resource_with_the_project(synthesized: Synthesized) -> None:
    provider = synthesized.document["provider"]["aws"][0]
    assert provider["region"] == "us-east-1"
    assert provider["default_tags"] == [{"tags": {"ManagedBy": "cdktf", "Project": "imgmgr"}}]


def test_aws_provider_constraint_admits_the_tested_5_100_and_the_bindings_6_25(synthesized: Synthesized) -> None:
    required = synthesized.document["terraform"]["required_providers"]["aws"]
    assert required["version"] == ">= 5.100, < 7"


def test_local_state_lives_in_the_project_root_outside_the_generated_output(synthesized: Synthesized) -> None:
    # GIVEN the local backend of the default settings, whose path Terraform resolves from the stack directory
    path = synthesized.document["terraform"]["backend"]["local"]["path"]
    state = (synthesized.path.parent / path).resolve()
    # THEN the state file is the project root's terraform.<stack>.tfstate, outside cdktf.out (make clean)
    assert state == PROJECT_DIR / "terraform.imgmgr.tfstate"
    assert synthesized.outdir.resolve() not in state.parents
    assert not Path(path).is_absolute()


def test_state_goes_to_an_encrypted_locked_s3_backend_when_configured() -> None:
    # GIVEN settings naming a state bucket and no lock table
    settings = Settings.load({"state_bucket": "acme-tf-state", "stack_name": "s3state"}, {})
    _app, stack = build_app(settings, outdir=cdktf.Testing.app().outdir)
    # WHEN the stack is synthesized
    document = json.loads(cdktf.Testing.synth(stack))
    # THEN the backend is S3, encrypted, with S3 native locking
    backend = document["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "acme-tf-state"
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True


def test_synthesizing_twice_gives_identical_bytes(synthesized: Synthesized, tmp_path: Path) -> None:
    # GIVEN the session's in-process synthesis
    # WHEN `python main.py` synthesizes again in a fresh process (other hash seed) with the same settings
    env = {**os.environ, **SYNTH_ENVIRON, "CDKTF_OUTDIR": str(tmp_path)}
    subprocess.run([sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    # THEN every file of the stack directory is byte-identical
    ours = synthesized.path.parent
    theirs = tmp_path / "stacks" / synthesized.path.parent.name
    our_files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    their_files = sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
    assert our_files == their_files
    for name in our_files:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), f"{name} differs between syntheses"


def test_ready_stack_guards_the_budget_from_settings(synthesized: Synthesized) -> None:
    # GIVEN the ready stack synthesized with the project settings and an alert subscriber
    budgets = synthesized.resources("aws_budgets_budget")
    subscriptions = synthesized.resources("aws_sns_topic_subscription")
    # THEN a monthly cost budget holds the configured amount and the subscriber gets the alerts
    cost = [b for b in budgets.values() if b["budget_type"] == "COST"]
    assert len(cost) == 1
    assert float(cost[0]["limit_amount"]) == 5.0
    assert cost[0]["time_unit"] == "MONTHLY"
    assert [s["endpoint"] for s in subscriptions.values() if s["protocol"] == "email"] == ["ops@example.com"]
    assert "alert_topic_arn" in synthesized.document["output"]
    # AND the Rekognition images (billed to no tagged resource) brake at what the same budget buys
    (images,) = [b for b in budgets.values() if short(b["name"]) == "imgmgr-rekognition-images"]
    assert float(images["limit_amount"]) == 5.0 / 0.001
    actions = synthesized.resources("aws_budgets_budget_action").values()
    assert sum(a["budget_name"].endswith(".name}") for a in actions) == 2


def _roles_named(synthesized: Synthesized, references: list[str]) -> set[str]:
    """Names of the IAM roles that ``${aws_iam_role.<id>.<attr>}`` references point at."""
    roles = synthesized.resources("aws_iam_role")
    return {short(roles[reference.removeprefix("${aws_iam_role.").split(".")[0]]["name"]) for reference in references}


def test_the_brake_covers_the_exporter_role_with_the_pipeline_roles(synthesized: Synthesized) -> None:
    # GIVEN the budget actions that attach the deny policy (the cost budget's and the Rekognition usage
    # budget's), and the policy of the role that executes them
    actions = list(synthesized.resources("aws_budgets_budget_action").values())
    assert len(actions) == 2
    (brake_policy,) = [
        p for p in synthesized.resources("aws_iam_role_policy").values() if p["name"] == "imgmgr-cost-brake"
    ]
    document = brake_policy["policy"].removeprefix("${data.aws_iam_policy_document.").split(".")[0]
    (statement,) = synthesized.document["data"]["aws_iam_policy_document"][document]["statement"]
    # THEN the action names the exporter's role beside the five pipeline roles, and may attach to each
    expected = {f"imgmgr-{name}" for name in ("compress", "thumbnail", "categorize", "api", "redrive", "exporter")}
    for action in actions:
        assert _roles_named(synthesized, action["definition"]["iam_action_definition"]["roles"]) == expected
    assert _roles_named(synthesized, statement["resources"]) == expected


def test_the_ready_stack_has_the_events_table_with_projected_day_partitions(synthesized: Synthesized) -> None:
    # GIVEN the Glue tables of the ready stack (no Parquet job by default: only the events table)
    tables = synthesized.resources("aws_glue_catalog_table")
    (table,) = [t for t in tables.values() if t["name"] == "events"]
    # THEN its dt partitions are projected by day over the exporter's prefix: queryable without a crawler
    parameters = table["parameters"]
    assert table["partition_keys"] == [{"name": "dt", "type": "string", "comment": "UTC day"}]
    assert parameters["projection.enabled"] == "true"
    assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == ("date", "yyyy-MM-dd")
    assert parameters["projection.dt.range"].endswith(",NOW")
    assert table["storage_descriptor"]["location"].endswith("}/analytics/events/")
    assert table["database_name"].startswith("${aws_glue_catalog_database.")


def test_the_ready_stack_has_an_enforced_athena_workgroup_with_a_scan_cutoff(synthesized: Synthesized) -> None:
    # GIVEN the Athena workgroup of the ready stack
    (workgroup,) = synthesized.resources("aws_athena_workgroup").values()
    configuration = workgroup["configuration"]
    # THEN clients cannot override its settings, a query stops at 1 GiB scanned, results are encrypted
    assert workgroup["name"] == "imgmgr-analytics"
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["bytes_scanned_cutoff_per_query"] == 1024**3
    assert configuration["result_configuration"]["output_location"].endswith("}/athena-results/")
    assert configuration["result_configuration"]["encryption_configuration"] == {"encryption_option": "SSE_S3"}
    assert synthesized.document["output"]["analytics_workgroup_name"]["value"].startswith("${aws_athena_workgroup.")


def test_the_api_key_value_is_a_sensitive_output(synthesized: Synthesized) -> None:
    output = synthesized.document["output"]["api_key_value"]
    assert output["sensitive"] is True
    assert re.fullmatch(r"\$\{aws_api_gateway_api_key\.[^}]+\.value\}", output["value"])


def test_the_exporter_is_watched_by_the_alarms_and_the_dashboard_within_the_free_ten(synthesized: Synthesized) -> None:
    # GIVEN the ready stack's exporter function
    (exporter,) = [name for name, f in synthesized.resources("aws_lambda_function").items() if "exporter" in name]
    reference = f"${{aws_lambda_function.{exporter}.function_name}}"
    # THEN a duration alarm watches it, the dashboard shows it, and the alarm metrics stay within ten
    alarms = synthesized.resources("aws_cloudwatch_metric_alarm").values()
    watched = [
        query["metric"]["dimensions"]["FunctionName"]
        for alarm in alarms
        for query in alarm.get("metric_query", [])
        if query.get("metric") and "FunctionName" in (query["metric"].get("dimensions") or {})
    ]
    assert reference in watched
    (dashboard,) = synthesized.resources("aws_cloudwatch_dashboard").values()
    assert reference in dashboard["dashboard_body"]
    assert synthesized.stack.cost_guard.alarm_metric_count <= 10
