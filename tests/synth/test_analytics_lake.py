"""AnalyticsLake beside an ImagePipeline in a small stack: exporter, subscriptions, catalog, Athena, options."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.athena_workgroup import AthenaWorkgroup
from cdktf_cdktf_provider_aws.cloudwatch_log_subscription_filter import CloudwatchLogSubscriptionFilter
from cdktf_cdktf_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.quicksight_analysis import QuicksightAnalysis
from cdktf_cdktf_provider_aws.quicksight_dashboard import QuicksightDashboard
from cdktf_cdktf_provider_aws.quicksight_data_set import QuicksightDataSet

from constructs_lib.analytics_lake import (
    EVENT_COLUMNS,
    QUICKSIGHT_ANALYSIS_ACTIONS,
    QUICKSIGHT_DASHBOARD_ACTIONS,
    AnalyticsLake,
    AnalyticsLakeProps,
)
from constructs_lib.image_pipeline import ImagePipeline
from constructs_lib.props import FunctionSize, ImagePipelineProps, PropsError
from constructs_lib.quicksight_views import FIGURES, RESULT_QUICKSIGHT_TYPES
from lambdas.analytics.queries import NAMES, load
from lambdas.contract import SUBSCRIPTION_FILTER_PATTERN
from lambdas.domain.events import DAY_PARTITION, EVENT_FIELDS, TABLE_COLUMNS
from tests.synth.support import short
from tests.synth.test_checkov import read_skips, run_checkov

QUICKSIGHT_USER = "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst"
_REFERENCE = re.compile(r"^\$\{(?:data\.)?(?P<type>[a-z0-9_]+)\.(?P<name>[^.}]+)\.(?P<attr>[a-z_]+)\}")


@dataclass(frozen=True)
class LakeStack:
    """One synthesized test stack: its pipeline, its JSON text, the parsed document and the file."""

    pipeline: ImagePipeline
    lake: AnalyticsLake
    json_text: str
    document: dict[str, Any]
    path: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.document.get("resource", {}).get(resource_type, {})

    def only(self, resource_type: str) -> dict[str, Any]:
        found = self.resources(resource_type)
        assert len(found) == 1, sorted(found)
        return next(iter(found.values()))


def _synth(tmp_path: Path, **options: Any) -> LakeStack:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "lake")
    AwsProvider(stack, "aws", region="us-east-1")
    pipeline = ImagePipeline(stack, "pipeline", props=ImagePipelineProps(name_prefix="lake"))
    lake = AnalyticsLake(stack, "analytics", props=AnalyticsLakeProps(pipeline=pipeline, **options))
    json_text = cdktf.Testing.synth(stack)
    path = tmp_path / "cdk.tf.json"
    path.write_text(json_text)
    return LakeStack(pipeline=pipeline, lake=lake, json_text=json_text, document=json.loads(json_text), path=path)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> LakeStack:
    """The lake with its defaults (nothing optional)."""
    return _synth(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def full_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeStack:
    """The lake with every option on."""
    return _synth(
        tmp_path_factory.mktemp("full-lake"),
        enable_crawler=True,
        crawler_schedule="cron(0 3 * * ? *)",
        enable_parquet_job=True,
        enable_quicksight=True,
        quicksight_principal_arn=QUICKSIGHT_USER,
        bytes_scanned_cutoff_per_query=100 * 1024 * 1024,
        database_name="usage_lake",
    )


def _ref(value: str) -> tuple[str, str, str]:
    match = _REFERENCE.match(value)
    assert match, f"not a reference: {value!r}"
    return match["type"], match["name"], match["attr"]


def _exporter(stack: LakeStack) -> tuple[str, dict[str, Any]]:
    [(name, function)] = [
        (name, function)
        for name, function in stack.resources("aws_lambda_function").items()
        if function["function_name"] == "lake-exporter"
    ]
    return name, function


def _policy_of_role(stack: LakeStack, role_name: str, *, single: bool = True) -> list[dict[str, Any]]:
    """The statements of the inline policies of the role called ``role_name`` (exactly one unless
    ``single`` is false)."""
    [role_id] = [name for name, role in stack.resources("aws_iam_role").items() if short(role["name"]) == role_name]
    policies = [
        p for p in stack.resources("aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{role_id}.id}}"
    ]
    if single:
        assert len(policies) == 1, policies
    documents = stack.document["data"]["aws_iam_policy_document"]
    return [statement for p in policies for statement in documents[_ref(p["policy"])[1]]["statement"]]


# -------------------------------------------------------------------------------------- API figures


def test_the_api_gets_the_workgroup_and_database_of_its_usage_figures(lake: LakeStack) -> None:
    # GIVEN the pipeline's API function beside the lake
    [api] = [f for f in lake.resources("aws_lambda_function").values() if f["function_name"] == "lake-api"]
    variables = api["environment"]["variables"]
    # THEN it is told the lake's workgroup and database, besides its own settings
    [workgroup] = lake.resources("aws_athena_workgroup")
    assert variables["IMGMGR_ANALYTICS_WORKGROUP"] == f"${{aws_athena_workgroup.{workgroup}.name}}"
    assert _ref(variables["IMGMGR_ANALYTICS_DATABASE"])[0] == "aws_glue_catalog_database"
    assert "IMGMGR_BUCKET" in variables and "IMGMGR_TABLE" in variables
    # AND it waits for Athena 5 s less than its function may run (15 s by default)
    assert (api["timeout"], variables["IMGMGR_ANALYTICS_TIMEOUT_SECONDS"]) == (15, "10")


def test_the_api_may_run_queries_in_the_workgroup_and_read_only_what_they_read(lake: LakeStack) -> None:
    # GIVEN the API role's policies: its own and the lake's
    statements = {s["sid"]: s for s in _policy_of_role(lake, "lake-api", single=False)}
    bucket = "${aws_s3_bucket.pipeline_bucket_731EBE2F.arn}"
    [workgroup] = lake.resources("aws_athena_workgroup")
    # THEN it runs queries in the workgroup alone
    assert statements["RunFigureQueries"]["resources"] == [f"${{aws_athena_workgroup.{workgroup}.arn}}"]
    assert statements["RunFigureQueries"]["actions"] == [
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StartQueryExecution",
        "athena:StopQueryExecution",
    ]
    # AND reads the definition of the events table alone, never changes the catalog
    assert statements["ReadEventsTable"]["actions"] == ["glue:GetDatabase", "glue:GetTable"]
    assert [r.rsplit(":", 1)[1] for r in statements["ReadEventsTable"]["resources"]] == [
        "catalog",
        "database/lake_analytics",
        "table/lake_analytics/events",
    ]
    # AND reads the events and the results, writes only the results
    assert statements["ReadEventsAndResults"]["resources"] == [
        f"{bucket}/analytics/events/*",
        f"{bucket}/athena-results/*",
    ]
    assert statements["WriteResults"]["resources"] == [f"{bucket}/athena-results/*"]
    assert statements["ListEventsAndResults"]["condition"][0]["values"] == ["analytics/events/*", "athena-results/*"]
    assert statements["LocateBucket"]["actions"] == ["s3:GetBucketLocation"]
    assert statements["LocateBucket"]["resources"] == [bucket]


# -------------------------------------------------------------------------------------------- exporter


def test_exporter_runs_the_pipeline_archive_and_layer_on_arm64(lake: LakeStack) -> None:
    # GIVEN the pipeline's functions and the exporter
    _, exporter = _exporter(lake)
    compress = next(f for f in lake.resources("aws_lambda_function").values() if f["function_name"] == "lake-compress")
    # THEN the exporter runs the same code archive and layer, on the same runtime
    assert exporter["handler"] == "lambdas.handlers.exporter.handler"
    assert exporter["filename"] == compress["filename"]
    assert exporter["source_code_hash"] == compress["source_code_hash"]
    assert exporter["layers"] == compress["layers"]
    assert cdktf.Testing.to_have_resource_with_properties(
        lake.json_text,
        LambdaFunction.TF_RESOURCE_TYPE,
        {"function_name": "lake-exporter", "runtime": "python3.12", "architectures": ["arm64"], "memory_size": 256},
    )


def test_exporter_writes_only_its_own_prefixes(lake: LakeStack) -> None:
    # GIVEN the exporter's inline policy
    statements = {s["sid"]: s for s in _policy_of_role(lake, "lake-exporter")}
    # THEN it writes, reads and lists analytics/events/ and analytics/rejected/ and nothing else of the bucket
    bucket = "${aws_s3_bucket.pipeline_bucket_731EBE2F.arn}"
    own = [f"{bucket}/analytics/events/*", f"{bucket}/analytics/rejected/*"]
    assert statements["WriteEvents"]["actions"] == ["s3:PutObject"] and statements["WriteEvents"]["resources"] == own
    assert statements["ReadEvents"]["actions"] == ["s3:GetObject"] and statements["ReadEvents"]["resources"] == own
    assert statements["ListEvents"]["resources"] == [bucket]
    assert statements["ListEvents"]["condition"][0]["values"] == ["analytics/events/*", "analytics/rejected/*"]
    assert set(statements) == {
        "WriteLogs",
        "WriteTraces",
        "WriteEvents",
        "ReadEvents",
        "ListEvents",
        "SendToDeadLetterQueue",
    }
    for statement in statements.values():
        assert not any("*" in action for action in statement["actions"])


def test_failed_payloads_go_to_the_pipelines_dead_letter_queue(lake: LakeStack) -> None:
    exporter_id, _ = _exporter(lake)
    [config] = [
        c
        for c in lake.resources(LambdaFunctionEventInvokeConfig.TF_RESOURCE_TYPE).values()
        if c["function_name"] == f"${{aws_lambda_function.{exporter_id}.function_name}}"
    ]
    assert _ref(config["destination_config"]["on_failure"]["destination"])[0] == "aws_sqs_queue"


def test_exporter_gets_the_bucket_it_writes_to(lake: LakeStack) -> None:
    _, exporter = _exporter(lake)
    variables = exporter["environment"]["variables"]
    assert _ref(variables["IMGMGR_BUCKET"])[0::2] == ("aws_s3_bucket", "bucket")


# --------------------------------------------------------------------------------------- subscriptions


def test_every_event_source_log_group_is_subscribed_with_the_sinks_pattern(lake: LakeStack) -> None:
    # GIVEN the subscription filters
    filters = lake.resources(CloudwatchLogSubscriptionFilter.TF_RESOURCE_TYPE)
    exporter_id, _ = _exporter(lake)
    groups = {
        _ref(f["log_group_name"])[1]: f
        for f in filters.values()
        if f["destination_arn"] == f"${{aws_lambda_function.{exporter_id}.arn}}"
    }
    # THEN the steps and the API (the functions that emit events) send exactly the event lines
    names = sorted(lake.resources("aws_cloudwatch_log_group")[group]["name"] for group in groups)
    assert names == [f"/aws/lambda/lake-{name}" for name in ("api", "categorize", "compress", "thumbnail")]
    assert {f["filter_pattern"] for f in filters.values()} == {SUBSCRIPTION_FILTER_PATTERN}


def test_logs_may_invoke_the_exporter_only_from_the_subscribed_groups(lake: LakeStack) -> None:
    # GIVEN the permissions given to CloudWatch Logs
    permissions = [
        p for p in lake.resources("aws_lambda_permission").values() if p["principal"] == "logs.amazonaws.com"
    ]
    # THEN there is one per subscribed log group, scoped to that group's streams and to this account
    assert len(permissions) == 4
    for permission in permissions:
        assert re.fullmatch(r"\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:\*", permission["source_arn"])
        assert permission["source_account"].startswith("${data.aws_caller_identity.")


def test_each_subscription_waits_for_its_permission(lake: LakeStack) -> None:
    for subscription in lake.resources(CloudwatchLogSubscriptionFilter.TF_RESOURCE_TYPE).values():
        [dependency] = subscription["depends_on"]
        assert dependency.startswith("aws_lambda_permission.")


# ----------------------------------------------------------------------------------------- catalog


def test_database_is_named_after_the_prefix_without_dashes(lake: LakeStack) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        lake.json_text, GlueCatalogDatabase.TF_RESOURCE_TYPE, {"name": "lake_analytics"}
    )


def test_events_table_projects_daily_partitions_over_the_exporters_prefix(lake: LakeStack) -> None:
    table = lake.only("aws_glue_catalog_table")
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.dt.type"] == "date"
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert parameters["projection.dt.range"] == "2026-01-01,NOW"
    assert parameters["projection.dt.interval.unit"] == "DAYS"
    assert table["partition_keys"] == [{"name": "dt", "type": "string", "comment": "UTC day"}]
    descriptor = table["storage_descriptor"]
    assert descriptor["location"] == "s3://${aws_s3_bucket.pipeline_bucket_731EBE2F.bucket}/analytics/events/"
    assert descriptor["ser_de_info"]["serialization_library"] == "org.openx.data.jsonserde.JsonSerDe"


def test_both_tables_have_the_declared_columns_and_the_day_partition(full_lake: LakeStack) -> None:
    # GIVEN the declared fields of the event (their Glue types and comments)
    declared = [{"name": item.name, "type": item.type.glue, "comment": item.comment} for item in EVENT_FIELDS]
    partition = {"name": DAY_PARTITION.name, "type": DAY_PARTITION.glue, "comment": DAY_PARTITION.comment}
    # THEN the JSON and the Parquet tables have exactly those columns, in that order, partitioned by day
    tables = {t["name"]: t for t in full_lake.resources("aws_glue_catalog_table").values()}
    assert sorted(tables) == ["events", "events_parquet"]
    for table in tables.values():
        assert table["storage_descriptor"]["columns"] == declared
        assert table["partition_keys"] == [partition]
    assert [{"name": name, "type": kind, "comment": comment} for name, kind, comment in EVENT_COLUMNS] == declared


def test_no_crawler_job_or_quicksight_by_default(lake: LakeStack) -> None:
    for kind in (
        "aws_glue_crawler",
        "aws_glue_job",
        "aws_quicksight_data_source",
        QuicksightDataSet.TF_RESOURCE_TYPE,
        QuicksightAnalysis.TF_RESOURCE_TYPE,
        QuicksightDashboard.TF_RESOURCE_TYPE,
    ):
        assert lake.resources(kind) == {}, kind


# ------------------------------------------------------------------------------------------- athena


def test_workgroup_enforces_an_encrypted_result_location_and_a_cutoff(lake: LakeStack) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        lake.json_text,
        AthenaWorkgroup.TF_RESOURCE_TYPE,
        {
            "name": "lake-analytics",
            "configuration": {
                "enforce_workgroup_configuration": True,
                "bytes_scanned_cutoff_per_query": 1024**3,
                "result_configuration": {
                    "output_location": "s3://${aws_s3_bucket.pipeline_bucket_731EBE2F.bucket}/athena-results/",
                    "encryption_configuration": {"encryption_option": "SSE_S3"},
                },
            },
        },
    )


def test_every_saved_query_is_a_named_query_over_the_events_table(lake: LakeStack) -> None:
    # GIVEN the named queries
    queries = {q["name"]: q for q in lake.resources("aws_athena_named_query").values()}
    # THEN each SQL file is one, reading the catalog table, in the lake's workgroup and database
    assert sorted(queries) == sorted(NAMES)
    for name, query in queries.items():
        assert query["query"] == load(name).render('"lake_analytics"."events"')
        assert query["description"] == load(name).description
        assert _ref(query["workgroup"])[0] == "aws_athena_workgroup"
        assert _ref(query["database"])[0] == "aws_glue_catalog_database"


def test_the_default_stack_passes_checkov(lake: LakeStack) -> None:
    # GIVEN the test stack and the project's reviewed skips
    # WHEN checkov scans it
    report = run_checkov(lake.path, read_skips())
    # THEN nothing fails
    failed = report["results"].get("failed_checks", [])
    assert report["summary"]["parsing_errors"] == 0
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']}" for c in failed)


# ------------------------------------------------------------------------------------------ options


def test_options_set_the_cutoff_and_database_name(full_lake: LakeStack) -> None:
    workgroup = full_lake.only("aws_athena_workgroup")
    assert workgroup["configuration"]["bytes_scanned_cutoff_per_query"] == 100 * 1024 * 1024
    assert full_lake.only("aws_glue_catalog_database")["name"] == "usage_lake"
    query = next(iter(full_lake.resources("aws_athena_named_query").values()))
    assert '"usage_lake"."events"' in query["query"]


def test_crawler_only_records_partitions_of_the_events_table(full_lake: LakeStack) -> None:
    crawler = full_lake.only("aws_glue_crawler")
    assert crawler["catalog_target"] == [
        {"database_name": "${aws_glue_catalog_database.analytics_database_BEC7AB95.name}", "tables": ["events"]}
    ]
    assert crawler["schema_change_policy"] == {"delete_behavior": "LOG", "update_behavior": "LOG"}
    assert crawler["schedule"] == "cron(0 3 * * ? *)"
    assert _ref(crawler["security_configuration"])[0] == "aws_glue_security_configuration"
    statements = {s["sid"]: s for s in _policy_of_role(full_lake, "lake-crawler")}
    assert statements["UpdateEventsTable"]["resources"][-1].endswith(":table/usage_lake/events")
    assert statements["ReadEvents"]["resources"] == ["${aws_s3_bucket.pipeline_bucket_731EBE2F.arn}/analytics/events/*"]


def test_parquet_job_reads_the_events_and_writes_only_the_parquet_prefix(full_lake: LakeStack) -> None:
    job = full_lake.only("aws_glue_job")
    bucket = "s3://${aws_s3_bucket.pipeline_bucket_731EBE2F.bucket}"
    assert job["default_arguments"]["--source"] == f"{bucket}/analytics/events/"
    assert job["default_arguments"]["--target"] == f"{bucket}/analytics/parquet/"
    script = full_lake.only("aws_s3_object")
    assert re.fullmatch(rf"{re.escape(bucket)}/\$\{{aws_s3_object\.[^.]+\.key\}}", job["command"]["script_location"])
    assert 'partitionBy("dt")' in script["content"]
    # AND it reads the events with the declared types (the partition's last), as the table does
    [schema] = re.findall(r'^SCHEMA = "([^"]*)"', script["content"], flags=re.MULTILINE)
    assert schema.split(", ") == [f"`{column.name}` {column.glue.upper()}" for column in TABLE_COLUMNS]
    statements = {s["sid"]: s for s in _policy_of_role(full_lake, "lake-prepare-job")}
    assert statements["WriteParquet"]["resources"] == [
        "${aws_s3_bucket.pipeline_bucket_731EBE2F.arn}/analytics/parquet/*"
    ]
    tables = {t["name"]: t for t in full_lake.resources("aws_glue_catalog_table").values()}
    assert tables["events_parquet"]["storage_descriptor"]["location"] == f"{bucket}/analytics/parquet/"


def test_quicksight_reads_the_events_through_the_workgroup(full_lake: LakeStack) -> None:
    source = full_lake.only("aws_quicksight_data_source")
    assert source["type"] == "ATHENA"
    assert _ref(source["parameters"]["athena"]["work_group"])[0] == "aws_athena_workgroup"
    assert source["permission"][0]["principal"] == QUICKSIGHT_USER
    [data_set] = [
        d
        for d in full_lake.resources(QuicksightDataSet.TF_RESOURCE_TYPE).values()
        if d["data_set_id"] == "lake-analytics-events"
    ]
    assert data_set["import_mode"] == "DIRECT_QUERY"
    table = data_set["physical_table_map"][0]["relational_table"]
    assert (table["schema"], table["name"]) == ("usage_lake", "events")
    # AND its columns are the declared scalar ones, partition included (QuickSight takes no arrays or maps)
    scalars = [column for column in TABLE_COLUMNS if "<" not in column.glue]
    assert {"event_type", "owner", "bytes_in", "dt"} <= {column.name for column in scalars}
    assert [(column["name"], column["type"]) for column in table["input_columns"]] == [
        (column.name, "STRING" if column.glue == "string" else "INTEGER") for column in scalars
    ]


def _blocks(node: Any) -> list[dict[str, Any]]:
    """Every object nested in ``node``, itself included."""
    if isinstance(node, dict):
        return [node, *(block for value in node.values() for block in _blocks(value))]
    if isinstance(node, list):
        return [block for value in node for block in _blocks(value)]
    return []


def _data_set_columns(stack: LakeStack, arn: str) -> set[str]:
    """The column names of the synthesized data set whose ``arn`` reference is given."""
    kind, name, attr = _ref(arn)
    assert (kind, attr) == (QuicksightDataSet.TF_RESOURCE_TYPE, "arn")
    [table] = stack.resources(kind)[name]["physical_table_map"]
    source = table.get("custom_sql") or table["relational_table"]
    return {column["name"] for column in source.get("columns") or source["input_columns"]}


def _views(stack: LakeStack) -> dict[str, dict[str, Any]]:
    """The analysis and the dashboard, by resource type."""
    return {
        kind: stack.only(kind) for kind in (QuicksightAnalysis.TF_RESOURCE_TYPE, QuicksightDashboard.TF_RESOURCE_TYPE)
    }


def test_quicksight_analysis_and_dashboard_show_the_saved_queries_figures(full_lake: LakeStack) -> None:
    # GIVEN the lake with QuickSight on
    views = _views(full_lake)
    analysis = views[QuicksightAnalysis.TF_RESOURCE_TYPE]
    dashboard = views[QuicksightDashboard.TF_RESOURCE_TYPE]
    # THEN the analysis and the dashboard are defined in Terraform (no template), with the same definition
    assert "source_entity" not in analysis and "source_entity" not in dashboard
    assert analysis["definition"] == dashboard["definition"]
    assert (analysis["analysis_id"], dashboard["dashboard_id"]) == ("lake-analytics", "lake-analytics")
    # AND one sheet charts each saved query's result: bars over the days, or ranked bars
    [sheet] = analysis["definition"]["sheets"]
    charted = {}
    for visual in sheet["visuals"]:
        [(kind, body)] = visual.items()
        assert kind == "bar_chart_visual", body["visual_id"]
        refs = [b for b in _blocks(body) if set(b) == {"data_set_identifier", "column_name"}]
        charted[body["visual_id"]] = {ref["data_set_identifier"] for ref in refs}
    assert set().union(*charted.values()) == set(NAMES)
    assert all(len(read) == 1 for read in charted.values()), charted
    laid_out = sheet["layouts"]["configuration"]["grid_layout"]["elements"]
    assert [element["element_id"] for element in laid_out] == list(charted)


def test_every_visual_reads_a_data_set_the_analysis_declares(full_lake: LakeStack) -> None:
    for kind, view in _views(full_lake).items():
        # GIVEN the data sets the definition declares, and the column references of its visuals
        declared = {d["identifier"]: d["data_set_arn"] for d in view["definition"]["data_set_identifiers_declarations"]}
        refs = [b for b in _blocks(view["definition"]) if set(b) == {"data_set_identifier", "column_name"}]
        # THEN it declares one data set per saved query, each one of the stack's, and every reference names one
        assert set(declared) == set(NAMES), kind
        for arn in declared.values():
            assert _ref(arn)[1] in full_lake.resources(QuicksightDataSet.TF_RESOURCE_TYPE), arn
        assert refs and {ref["data_set_identifier"] for ref in refs} == set(declared), kind


def test_every_column_a_visual_uses_exists_in_that_data_set(full_lake: LakeStack) -> None:
    for kind, view in _views(full_lake).items():
        declared = {d["identifier"]: d["data_set_arn"] for d in view["definition"]["data_set_identifiers_declarations"]}
        columns = {identifier: _data_set_columns(full_lake, arn) for identifier, arn in declared.items()}
        for visual in view["definition"]["sheets"][0]["visuals"]:
            # GIVEN each visual's column references
            refs = [b for b in _blocks(visual) if set(b) == {"data_set_identifier", "column_name"}]
            # THEN each referenced column is a column of the synthesized data set it names
            assert refs, visual
            for ref in refs:
                assert ref["column_name"] in columns[ref["data_set_identifier"]], (kind, ref)
            # AND nothing is computed in QuickSight: the saved query's result is the figure
            assert not [block for block in _blocks(visual) if "expression" in block], (kind, visual)
        assert "filter_groups" not in view["definition"], kind


def test_quicksight_analysis_and_dashboard_are_shared_with_the_principal(full_lake: LakeStack) -> None:
    views = _views(full_lake)
    # GIVEN the analysis's and the dashboard's permissions
    [analysis] = views[QuicksightAnalysis.TF_RESOURCE_TYPE]["permissions"]
    [dashboard] = views[QuicksightDashboard.TF_RESOURCE_TYPE]["permissions"]
    # THEN both name the configured principal: owner actions on the analysis, viewer actions on the dashboard
    assert analysis == {"principal": QUICKSIGHT_USER, "actions": list(QUICKSIGHT_ANALYSIS_ACTIONS)}
    assert {"quicksight:UpdateAnalysisPermissions", "quicksight:DeleteAnalysis"} <= set(analysis["actions"])
    assert dashboard == {"principal": QUICKSIGHT_USER, "actions": list(QUICKSIGHT_DASHBOARD_ACTIONS)}
    assert not any(action.startswith(("quicksight:Update", "quicksight:Delete")) for action in dashboard["actions"])
    # AND so do the data sets the analysis reads
    for data_set in full_lake.resources(QuicksightDataSet.TF_RESOURCE_TYPE).values():
        assert [p["principal"] for p in data_set["permissions"]] == [QUICKSIGHT_USER]


def test_analysis_data_sets_are_the_saved_queries_through_the_data_source(full_lake: LakeStack) -> None:
    # GIVEN the data sets of the analysis (custom SQL over the events table)
    sets = {
        d["physical_table_map"][0]["custom_sql"]["name"]: d
        for d in full_lake.resources(QuicksightDataSet.TF_RESOURCE_TYPE).values()
        if "custom_sql" in d["physical_table_map"][0]
    }
    # THEN there is one per saved query, and no other
    assert set(sets) == set(NAMES) and len(sets) == len(FIGURES)
    for name, data_set in sets.items():
        custom = data_set["physical_table_map"][0]["custom_sql"]
        query = load(name)
        # AND each is a direct query through the Athena data source, whose SQL is the saved query over the lake's table
        assert data_set["import_mode"] == "DIRECT_QUERY"
        assert _ref(custom["data_source_arn"])[0] == "aws_quicksight_data_source"
        assert custom["sql_query"] == query.render('"usage_lake"."events"')
        # AND whose columns are the query's declared ones, with their QuickSight types
        assert [(c["name"], c["type"]) for c in custom["columns"]] == [
            (column, RESULT_QUICKSIGHT_TYPES[kind]) for column, kind in query.columns
        ]


# -------------------------------------------------------------------------------------------- props


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"bytes_scanned_cutoff_per_query": 1024},
            "bytes_scanned_cutoff_per_query: 1024 must be an integer of at least",
        ),
        ({"database_name": "my-lake"}, "database_name: 'my-lake' must be lowercase"),
        ({"projection_start_date": "2026-13-01"}, "projection_start_date: '2026-13-01' must be a date"),
        ({"crawler_schedule": "cron(0 3 * * ? *)"}, "crawler_schedule: set only with enable_crawler=True"),
        ({"enable_crawler": True, "crawler_schedule": "daily"}, "crawler_schedule: 'daily' must look like"),
        ({"quicksight_principal_arn": "analyst"}, "quicksight_principal_arn: 'analyst' must be a QuickSight"),
        ({"exporter_size": FunctionSize(memory_mb=64, timeout_seconds=60)}, r"exporter_size\.memory_mb: 64"),
    ],
)
def test_bad_props_are_refused_naming_the_prop(lake: LakeStack, options: dict[str, Any], message: str) -> None:
    with pytest.raises(PropsError, match=message):
        AnalyticsLakeProps(pipeline=lake.pipeline, **options)


def test_props_need_a_pipeline() -> None:
    with pytest.raises(PropsError, match="pipeline: expected an ImagePipeline, got str"):
        AnalyticsLakeProps(pipeline="imgmgr")  # type: ignore[arg-type]


def test_redrive_may_replay_failed_payloads_on_the_exporter(lake: LakeStack) -> None:
    # GIVEN the statements of the redrive function's role
    exporter_id, _ = _exporter(lake)
    statements = {s["sid"]: s for s in _policy_of_role(lake, "lake-redrive", single=False)}
    # THEN it may invoke the exporter, which sends its failed payloads to the queue that redrive drains
    assert statements["ReplayExporter"]["actions"] == ["lambda:InvokeFunction"]
    assert statements["ReplayExporter"]["resources"] == [f"${{aws_lambda_function.{exporter_id}.arn}}"]
