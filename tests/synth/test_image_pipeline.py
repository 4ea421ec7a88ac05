"""ImagePipeline in the ready stack: security properties, the destination chain and the API's keys."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import ApiGatewayUsagePlan
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

from constructs_lib.image_pipeline import IMAGE_FUNCTIONS, STEP_FUNCTIONS
from constructs_lib.props import ALLOCATOR_VARIABLES, DEFAULT_ALLOCATOR_ENV
from tests.synth.support import Synthesized, plain

_REFERENCE = re.compile(r"^\$\{(?P<kind>data\.)?(?P<type>[a-z0-9_]+)\.(?P<name>[^.}]+)\.(?P<attr>[a-z_]+)\}")


def _ref(value: str) -> tuple[str, str, str]:
    """``${aws_x.name.attr}`` (or ``${data.aws_x.name.attr}``) -> (type, name, attr)."""
    match = _REFERENCE.match(value)
    assert match, f"not a reference: {value!r}"
    return match["type"], match["name"], match["attr"]


def _functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The pipeline's own functions by short name (``compress``...), from ``<prefix>-<name>``."""
    pipeline = {function.friendly_unique_id for function in synthesized.stack.pipeline.functions.values()}
    return {
        f["function_name"].split("-", 1)[1]: f
        for logical_id, f in synthesized.resources("aws_lambda_function").items()
        if logical_id in pipeline
    }


def _stack_functions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Every function of the stack (the pipeline's and the analytics exporter) by short name."""
    return {f["function_name"].split("-", 1)[1]: f for f in synthesized.resources("aws_lambda_function").values()}


def _exporter(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    """The analytics lake's exporter function: its logical id and its resource."""
    logical_id = synthesized.stack.analytics.exporter.friendly_unique_id
    return logical_id, synthesized.resources("aws_lambda_function")[logical_id]


def _async_configs(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Asynchronous invocation configs by the logical id of their function."""
    return {
        _ref(config["function_name"])[1]: config
        for config in synthesized.resources(LambdaFunctionEventInvokeConfig.TF_RESOURCE_TYPE).values()
    }


def _function_name_of(synthesized: Synthesized, reference: str) -> str:
    type_, name, _ = _ref(reference)
    assert type_ == "aws_lambda_function"
    return synthesized.resources(type_)[name]["function_name"].split("-", 1)[1]


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.values()))


# ------------------------------------------------------------------------------------------------ S3


def test_bucket_blocks_every_kind_of_public_access(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        S3BucketPublicAccessBlock.TF_RESOURCE_TYPE,
        {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )


def test_bucket_owner_owns_every_object_and_acls_are_disabled(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        S3BucketOwnershipControls.TF_RESOURCE_TYPE,
        {"rule": {"object_ownership": "BucketOwnerEnforced"}},
    )


def test_bucket_encrypts_by_default_with_kms_and_a_bucket_key(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        S3BucketServerSideEncryptionConfigurationA.TF_RESOURCE_TYPE,
        {
            "rule": [
                {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}, "bucket_key_enabled": True}
            ]
        },
    )


def test_bucket_policy_denies_requests_without_tls(synthesized: Synthesized) -> None:
    # GIVEN the bucket policy and the document it is made from
    policy = _only(synthesized.resources("aws_s3_bucket_policy"))
    _, document_name, _ = _ref(policy["policy"])
    statements = synthesized.document["data"]["aws_iam_policy_document"][document_name]["statement"]
    # WHEN its statements are read / THEN one denies every S3 action over plain HTTP on bucket and objects
    insecure = next(s for s in statements if s["sid"] == "DenyInsecureTransport")
    assert insecure["effect"] == "Deny"
    assert insecure["actions"] == ["s3:*"]
    assert insecure["principals"] == [{"identifiers": ["*"], "type": "*"}]
    assert insecure["condition"] == [{"test": "Bool", "values": ["false"], "variable": "aws:SecureTransport"}]
    assert len(insecure["resources"]) == 2
    assert insecure["resources"][1] == insecure["resources"][0] + "/*"


def test_bucket_policy_is_applied_after_the_public_access_block(synthesized: Synthesized) -> None:
    policy = _only(synthesized.resources("aws_s3_bucket_policy"))
    assert [d.split(".")[0] for d in policy["depends_on"]] == ["aws_s3_bucket_public_access_block"]


def test_bucket_cors_allows_only_post_from_the_api_origin(synthesized: Synthesized) -> None:
    cors = _only(synthesized.resources("aws_s3_bucket_cors_configuration"))
    (rule,) = cors["cors_rule"]
    assert rule["allowed_methods"] == ["POST"]
    assert len(rule["allowed_origins"]) == 1
    assert re.fullmatch(
        r"https://\$\{aws_api_gateway_rest_api\.[^}]+\.id\}\.execute-api\.\$\{data\.aws_region\.[^}]+\.name\}\."
        r"\$\{data\.aws_partition\.[^}]+\.dns_suffix\}",
        rule["allowed_origins"][0],
    )


def test_bucket_lifecycle_aborts_incomplete_multipart_uploads(synthesized: Synthesized) -> None:
    lifecycle = _only(synthesized.resources("aws_s3_bucket_lifecycle_configuration"))
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort["status"] == "Enabled"
    assert abort["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
    assert abort["filter"] == [{"prefix": ""}]


def test_bucket_keeps_deleted_versions_for_a_week_only(synthesized: Synthesized) -> None:
    versioning = _only(synthesized.resources("aws_s3_bucket_versioning"))
    lifecycle = _only(synthesized.resources("aws_s3_bucket_lifecycle_configuration"))
    rule = {rule["id"]: rule for rule in lifecycle["rule"]}["expire-noncurrent-versions"]
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 7}]


def test_bucket_expires_query_results_after_a_week_and_refused_events_after_a_month(
    synthesized: Synthesized,
) -> None:
    # GIVEN the bucket's lifecycle rules by id
    lifecycle = _only(synthesized.resources("aws_s3_bucket_lifecycle_configuration"))
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    # THEN Athena's results expire after 7 days and the exporter's refused lines after 30, nothing else there
    results, rejected = rules["expire-athena-results"], rules["expire-rejected-events"]
    assert (results["status"], results["filter"], results["expiration"]) == (
        "Enabled",
        [{"prefix": "athena-results/"}],
        [{"days": 7}],
    )
    assert (rejected["status"], rejected["filter"], rejected["expiration"]) == (
        "Enabled",
        [{"prefix": "analytics/rejected/"}],
        [{"days": 30}],
    )
    assert "transition" not in results and "transition" not in rejected


def test_uploads_notify_the_compress_function_only(synthesized: Synthesized) -> None:
    # GIVEN the bucket notification
    notification = _only(synthesized.resources("aws_s3_bucket_notification"))
    # WHEN its Lambda targets are read
    (target,) = notification["lambda_function"]
    # THEN objects created under uploads/ invoke compress (and so do the originals policy's removals,
    # which it records), after the permission exists
    assert target["events"] == ["s3:ObjectCreated:*", "s3:LifecycleExpiration:*"]
    assert target["filter_prefix"] == "uploads/"
    assert _function_name_of(synthesized, target["lambda_function_arn"]) == "compress"
    assert any(d.startswith("aws_lambda_permission.") for d in notification["depends_on"])


def test_s3_may_invoke_compress_only_from_this_bucket_and_account(synthesized: Synthesized) -> None:
    permissions = [
        p for p in synthesized.resources("aws_lambda_permission").values() if p["principal"] == "s3.amazonaws.com"
    ]
    (permission,) = permissions
    assert _ref(permission["source_arn"])[0::2] == ("aws_s3_bucket", "arn")
    assert _ref(permission["source_account"])[0::2] == ("aws_caller_identity", "account_id")
    assert _ref(permission["function_name"])[0] == "aws_lambda_function"
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text, LambdaPermission.TF_RESOURCE_TYPE, {"action": "lambda:InvokeFunction"}
    )


# ------------------------------------------------------------------------------------------ DynamoDB


def test_table_has_the_key_design_of_the_adapter(synthesized: Synthesized) -> None:
    from lambdas.contract import GSI_KEYS

    table = _only(synthesized.resources(DynamodbTable.TF_RESOURCE_TYPE))
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        "pk": "S",
        "sk": "S",
        **{key: "S" for keys in GSI_KEYS.values() for key in keys},
    }
    indexes = {
        i["name"]: (i["hash_key"], i["range_key"], i["projection_type"]) for i in table["global_secondary_index"]
    }
    assert indexes == {
        "gsi1": ("gsi1pk", "gsi1sk", "KEYS_ONLY"),
        "gsi2": ("gsi2pk", "gsi2sk", "KEYS_ONLY"),
        "gsi3": ("gsi3pk", "gsi3sk", "KEYS_ONLY"),
    }


def test_table_expires_items_on_expires_at(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        DynamodbTable.TF_RESOURCE_TYPE,
        {"ttl": {"attribute_name": "expires_at", "enabled": True}},
    )


def test_default_table_takes_a_bulk_upload_without_throttling(synthesized: Synthesized) -> None:
    # GIVEN the table of the ready stack (default props)
    table = _only(synthesized.resources(DynamodbTable.TF_RESOURCE_TYPE))
    # THEN it is billed per request, with no capacity on the table or an index to run out of: provisioned
    # at the free tier's 5 WCU per part, a 500-image upload spent the 300 s burst after ~30 images and
    # sent most of the rest to the dead-letter queue (python -m bench.capacity)
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    for part in [table, *table["global_secondary_index"]]:
        assert "read_capacity" not in part
        assert "write_capacity" not in part


def test_index_writes_stay_at_one_unit(synthesized: Synthesized) -> None:
    # GIVEN the table's indexes
    table = _only(synthesized.resources(DynamodbTable.TF_RESOURCE_TYPE))
    # THEN none copies the records (an ALL projection rewrote up to 3 KB per index on every transition)
    assert {index["projection_type"] for index in table["global_secondary_index"]} == {"KEYS_ONLY"}
    assert all("non_key_attributes" not in index for index in table["global_secondary_index"])


def test_table_has_point_in_time_recovery(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text, DynamodbTable.TF_RESOURCE_TYPE, {"point_in_time_recovery": {"enabled": True}}
    )


def test_by_default_destroy_keeps_the_images_and_their_records(synthesized: Synthesized) -> None:
    # GIVEN the default stack / THEN `terraform destroy` stops at the versioned bucket while it holds any
    # object version, and at the table, which has deletion protection (force_destroy=False)
    bucket = _only(synthesized.resources("aws_s3_bucket"))
    assert bucket["force_destroy"] is False
    assert _only(synthesized.resources("aws_s3_bucket_versioning"))["versioning_configuration"]["status"] == "Enabled"
    assert _only(synthesized.resources("aws_dynamodb_table"))["deletion_protection_enabled"] is True


# -------------------------------------------------------------------------------------------- Lambda


def test_the_stack_deploys_the_five_pipeline_functions_and_the_exporter(synthesized: Synthesized) -> None:
    # GIVEN every function of the stack
    names = sorted(f["function_name"] for f in synthesized.resources("aws_lambda_function").values())
    # THEN they are the pipeline's and the analytics exporter, nothing the tests below leave out
    assert sorted(_functions(synthesized)) == ["api", "categorize", "compress", "redrive", "thumbnail"]
    assert names == [f"imgmgr-{name}" for name in ("api", "categorize", "compress", "exporter", "redrive", "thumbnail")]


def test_every_function_runs_python_312_on_arm64_with_its_handler(synthesized: Synthesized) -> None:
    functions = _functions(synthesized)
    assert sorted(functions) == ["api", "categorize", "compress", "redrive", "thumbnail"]
    for name, function in functions.items():
        assert function["runtime"] == "python3.12", name
        assert function["architectures"] == ["arm64"], name
        assert function["handler"] == f"lambdas.handlers.{name}.handler"


def test_the_exporter_runs_python_312_on_arm64_with_its_handler(synthesized: Synthesized) -> None:
    _, exporter = _exporter(synthesized)
    assert exporter["runtime"] == "python3.12"
    assert exporter["architectures"] == ["arm64"]
    assert exporter["handler"] == "lambdas.handlers.exporter.handler"


def test_function_memory_and_timeout_are_the_documented_defaults(synthesized: Synthesized) -> None:
    sizes = {name: (f["memory_size"], f["timeout"]) for name, f in _functions(synthesized).items()}
    assert sizes == {
        "compress": (1769, 120),
        "thumbnail": (1024, 60),
        "categorize": (512, 30),
        "api": (512, 15),
        "redrive": (256, 300),
    }
    _, exporter = _exporter(synthesized)
    assert (exporter["memory_size"], exporter["timeout"]) == (256, 60)


def test_functions_get_the_agreed_environment(synthesized: Synthesized) -> None:
    expected = {
        "IMGMGR_BUCKET",
        "IMGMGR_TABLE",
        "IMGMGR_DLQ_URL",
        "IMGMGR_MAX_PIXELS",
        "IMGMGR_MAX_UPLOAD_BYTES",
        "IMGMGR_COMPRESSED_FORMAT",
        "IMGMGR_MIN_CONFIDENCE",
        "IMGMGR_MAX_LABELS",
        "IMGMGR_MAX_ATTEMPTS",
        "IMGMGR_ORIGINALS",
        "IMGMGR_ORIGINALS_AFTER_DAYS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    for name, function in _functions(synthesized).items():
        variables = function["environment"]["variables"]
        allocator = set(DEFAULT_ALLOCATOR_ENV) if name in IMAGE_FUNCTIONS else set()
        # The analytics lake tells the API where its usage figures are (constructs_lib.analytics_lake).
        figures = {"IMGMGR_ANALYTICS_WORKGROUP", "IMGMGR_ANALYTICS_DATABASE", "IMGMGR_ANALYTICS_TIMEOUT_SECONDS"}
        # The API invokes a failed image's step to retry it (lambdas.adapters.aws.retrier).
        step_functions = {"IMGMGR_COMPRESS_FUNCTION", "IMGMGR_THUMBNAIL_FUNCTION", "IMGMGR_CATEGORIZE_FUNCTION"}
        api_only = figures | step_functions if name == "api" else set()
        assert set(variables) == expected | allocator | api_only, name
        assert _ref(variables["IMGMGR_BUCKET"])[0::2] == ("aws_s3_bucket", "bucket")
        assert _ref(variables["IMGMGR_DLQ_URL"])[0::2] == ("aws_sqs_queue", "url")
        # 1 + the asynchronous retries: the step's last attempt records its failure as parked
        assert variables["IMGMGR_MAX_ATTEMPTS"] == "3"


def test_the_api_names_each_steps_function(synthesized: Synthesized) -> None:
    # GIVEN the API function's environment
    functions = synthesized.resources("aws_lambda_function")
    variables = _functions(synthesized)["api"]["environment"]["variables"]
    # THEN each step's variable refers to the name of that step's function
    for step in ("compress", "thumbnail", "categorize"):
        type_, name, attribute = _ref(variables[f"IMGMGR_{step.upper()}_FUNCTION"])
        assert (type_, attribute) == ("aws_lambda_function", "function_name")
        assert functions[name]["function_name"] == f"imgmgr-{step}"


def test_image_functions_keep_freed_memory_with_the_measured_allocator_settings(synthesized: Synthesized) -> None:
    # GIVEN the functions of the default pipeline
    functions = _functions(synthesized)
    # THEN compress and thumbnail (they decode full-resolution images) get the measured allocator settings
    for name in ("compress", "thumbnail"):
        variables = functions[name]["environment"]["variables"]
        assert {key: variables[key] for key in DEFAULT_ALLOCATOR_ENV} == {
            "PILLOW_BLOCKS_MAX": "8",
            "MALLOC_MMAP_THRESHOLD_": "33554432",
            "MALLOC_TRIM_THRESHOLD_": "1073741824",
            "MALLOC_TOP_PAD_": "67108864",
        }, name
    # AND the functions that decode nothing keep the runtime's allocator
    for name in ("categorize", "api", "redrive"):
        assert not set(functions[name]["environment"]["variables"]) & ALLOCATOR_VARIABLES, name


def test_the_exporter_gets_the_bucket_table_and_logging_environment(synthesized: Synthesized) -> None:
    # GIVEN the exporter's environment (lambdas.config requires the table of every function)
    _, exporter = _exporter(synthesized)
    variables = exporter["environment"]["variables"]
    # THEN it names the pipeline's bucket and table and the Powertools settings, and no pipeline limit
    assert set(variables) == {"IMGMGR_BUCKET", "IMGMGR_TABLE", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}
    assert _ref(variables["IMGMGR_BUCKET"])[0::2] == ("aws_s3_bucket", "bucket")
    assert _ref(variables["IMGMGR_TABLE"])[0::2] == ("aws_dynamodb_table", "name")


def test_every_function_has_its_own_log_group_with_retention_created_first(synthesized: Synthesized) -> None:
    groups = synthesized.resources("aws_cloudwatch_log_group")
    for name, function in _stack_functions(synthesized).items():
        (group_ref,) = [d for d in function["depends_on"] if d.startswith("aws_cloudwatch_log_group.")]
        group = groups[group_ref.split(".")[1]]
        assert group["name"] == f"/aws/lambda/{function['function_name']}", name
        assert group["retention_in_days"] == 30, name
        assert function["logging_config"]["log_group"] == f"${{{group_ref}.name}}", name


def test_every_function_traces_with_xray(synthesized: Synthesized) -> None:
    for name, function in _stack_functions(synthesized).items():
        assert function["tracing_config"] == {"mode": "Active"}, name
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text, LambdaFunction.TF_RESOURCE_TYPE, {"tracing_config": {"mode": "Active"}}
    )


def test_no_function_reserves_concurrency(synthesized: Synthesized) -> None:
    for name, function in _stack_functions(synthesized).items():
        assert "reserved_concurrent_executions" not in function, name


def test_every_function_uses_the_dependency_layer_built_for_its_platform(synthesized: Synthesized) -> None:
    layer_name, layer = next(iter(synthesized.resources("aws_lambda_layer_version").items()))
    assert layer["compatible_runtimes"] == ["python3.12"]
    assert layer["compatible_architectures"] == ["arm64"]
    for name, function in _stack_functions(synthesized).items():
        assert function["layers"] == [f"${{aws_lambda_layer_version.{layer_name}.arn}}"], name


def test_account_wide_names_carry_the_region(synthesized: Synthesized) -> None:
    # GIVEN the resources whose names are unique per account, not per region
    kinds = ("aws_iam_role", "aws_iam_policy", "aws_budgets_budget")
    names = {kind: [r["name"] for r in synthesized.resources(kind).values()] for kind in kinds}
    # THEN each ends with the deployment's region, so one prefix deploys in two regions of one account
    assert sum(map(len, names.values())) >= 9
    assert [name for kind in kinds for name in names[kind] if not plain(name).endswith("-<region>")] == []
    assert all(len(set(names[kind])) == len(names[kind]) for kind in kinds)


def test_each_function_has_its_own_role(synthesized: Synthesized) -> None:
    roles = [function["role"] for function in _functions(synthesized).values()]
    assert len(set(roles)) == len(roles) == 5
    assert all(_ref(role)[0::2] == ("aws_iam_role", "arn") for role in roles)


def test_the_exporter_has_a_role_of_its_own(synthesized: Synthesized) -> None:
    # GIVEN the roles of the pipeline's functions and the exporter's
    pipeline_roles = {function["role"] for function in _functions(synthesized).values()}
    _, exporter = _exporter(synthesized)
    # THEN the exporter's is an IAM role that no pipeline function shares
    assert _ref(exporter["role"])[0::2] == ("aws_iam_role", "arn")
    assert exporter["role"] not in pipeline_roles
    assert plain(synthesized.resources("aws_iam_role")[_ref(exporter["role"])[1]]["name"]) == "imgmgr-exporter-<region>"


def test_steps_chain_on_success_and_fail_to_the_dead_letter_queue(synthesized: Synthesized) -> None:
    # GIVEN the asynchronous invocation configs of the pipeline's functions
    pipeline = {function.friendly_unique_id for function in synthesized.stack.pipeline.functions.values()}
    configs = [config for name, config in _async_configs(synthesized).items() if name in pipeline]
    # WHEN each is read as "function -> on success / on failure"
    chain = {}
    for config in configs:
        _, name, _ = _ref(config["function_name"])
        function = synthesized.resources("aws_lambda_function")[name]["function_name"].split("-", 1)[1]
        destinations = config["destination_config"]
        on_success = destinations.get("on_success", {}).get("destination")
        chain[function] = (
            _function_name_of(synthesized, on_success) if on_success else None,
            _ref(destinations["on_failure"]["destination"])[0::2],
        )
    # THEN compress -> thumbnail -> categorize, and every failure goes to the queue's ARN
    assert chain == {
        "compress": ("thumbnail", ("aws_sqs_queue", "arn")),
        "thumbnail": ("categorize", ("aws_sqs_queue", "arn")),
        "categorize": (None, ("aws_sqs_queue", "arn")),
    }


def test_the_exporter_sends_failed_payloads_to_the_pipelines_dead_letter_queue(synthesized: Synthesized) -> None:
    # GIVEN the exporter's asynchronous invocation config (CloudWatch Logs invokes it asynchronously)
    exporter_id, _ = _exporter(synthesized)
    destinations = _async_configs(synthesized)[exporter_id]["destination_config"]
    # THEN it chains to nothing and fails to the same queue as the pipeline's steps (redrive replays it)
    queue_id = synthesized.stack.pipeline.dead_letter_queue.friendly_unique_id
    assert "on_success" not in destinations
    assert destinations["on_failure"]["destination"] == f"${{aws_sqs_queue.{queue_id}.arn}}"


def test_async_invocations_retry_twice_within_an_hour(synthesized: Synthesized) -> None:
    # GIVEN the asynchronous invocation configs: the three steps' and the exporter's
    configs = _async_configs(synthesized)
    steps = {synthesized.stack.pipeline.functions[name].friendly_unique_id for name in STEP_FUNCTIONS}
    exporter_id, _ = _exporter(synthesized)
    # THEN there is exactly one per function invoked asynchronously, each retrying twice within an hour
    assert set(configs) == steps | {exporter_id}
    assert {(c["maximum_retry_attempts"], c["maximum_event_age_in_seconds"]) for c in configs.values()} == {(2, 3600)}


def test_dead_letter_queue_is_encrypted_and_keeps_messages_fourteen_days(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        SqsQueue.TF_RESOURCE_TYPE,
        {"sqs_managed_sse_enabled": True, "message_retention_seconds": 1_209_600},
    )


# --------------------------------------------------------------------------------------- API Gateway


def _method_paths(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """API methods by (path, HTTP method), the path rebuilt from the resource tree."""
    resources = synthesized.resources("aws_api_gateway_resource")

    def path_of(reference: str) -> str:
        type_, name, attr = _ref(reference)
        if type_ == "aws_api_gateway_rest_api":
            assert attr == "root_resource_id"
            return ""
        resource = resources[name]
        return path_of(resource["parent_id"]) + "/" + resource["path_part"]

    return {
        (path_of(m["resource_id"]) or "/", m["http_method"]): m
        for m in synthesized.resources("aws_api_gateway_method").values()
    }


def test_only_the_page_its_assets_and_health_answer_without_an_api_key(synthesized: Synthesized) -> None:
    # GIVEN every method of the REST API
    methods = _method_paths(synthesized)
    # WHEN the key requirement of each is read
    keyless = {route for route, method in methods.items() if not method["api_key_required"]}
    keyed = {route for route, method in methods.items() if method["api_key_required"]}
    # THEN exactly the static page, its assets, the API reference and health are open; every other route needs a key
    assert keyless == {
        ("/", "GET"),
        ("/static/{proxy+}", "GET"),
        ("/docs", "GET"),
        ("/openapi.json", "GET"),
        ("/v1/health", "GET"),
    }
    assert keyed == {("/v1/{proxy+}", "ANY"), ("/{proxy+}", "ANY")}


def test_every_method_validates_its_request_parameters(synthesized: Synthesized) -> None:
    validator_name, validator = next(iter(synthesized.resources("aws_api_gateway_request_validator").items()))
    assert validator["validate_request_parameters"] is True
    for route, method in _method_paths(synthesized).items():
        assert method["request_validator_id"] == f"${{aws_api_gateway_request_validator.{validator_name}.id}}", route


def test_every_method_is_proxied_to_the_api_function(synthesized: Synthesized) -> None:
    integrations = list(synthesized.resources("aws_api_gateway_integration").values())
    assert len(integrations) == len(_method_paths(synthesized))
    for integration in integrations:
        assert integration["type"] == "AWS_PROXY"
        assert integration["integration_http_method"] == "POST"
        _, name, attr = _ref(integration["uri"])
        assert attr == "invoke_arn"
        assert synthesized.resources("aws_lambda_function")[name]["function_name"].endswith("-api")


SNAPSHOT_TYPES = (
    "aws_api_gateway_rest_api",
    "aws_api_gateway_request_validator",
    "aws_api_gateway_resource",
    "aws_api_gateway_method",
    "aws_api_gateway_integration",
    "aws_api_gateway_gateway_response",
)


def test_the_deployment_is_redone_when_anything_of_its_snapshot_changes(synthesized: Synthesized) -> None:
    # GIVEN the deployment that the stage serves
    deployment = _only(synthesized.resources("aws_api_gateway_deployment"))
    (trigger,) = deployment["triggers"].values()
    # WHEN the resources its redeployment trigger hashes are read from the expression
    hashed = set(re.findall(r"\b(aws_api_gateway_[a-z_]+\.[A-Za-z0-9_-]+)\b", trigger))
    # THEN every attribute of the API, its validator, resources, methods and integrations is hashed
    # (a changed integration URI or method setting deploys a new snapshot), leaving out only what is unset
    snapshot = {f"{kind}.{name}" for kind in SNAPSHOT_TYPES for name in synthesized.resources(kind)}
    assert hashed == snapshot
    assert trigger.startswith("${sha1(jsonencode([for part in [") and "value != null" in trigger


def test_api_gateway_may_invoke_the_api_function_only_through_the_stage(synthesized: Synthesized) -> None:
    (permission,) = [
        p
        for p in synthesized.resources("aws_lambda_permission").values()
        if p["principal"] == "apigateway.amazonaws.com"
    ]
    assert re.fullmatch(r"\$\{aws_api_gateway_rest_api\.[^}]+\.execution_arn\}/prod/\*/\*", permission["source_arn"])


def test_stage_traces_and_writes_json_access_logs_to_a_retained_group(synthesized: Synthesized) -> None:
    stage = _only(synthesized.resources(ApiGatewayStage.TF_RESOURCE_TYPE))
    assert stage["xray_tracing_enabled"] is True
    _, group_name, attr = _ref(stage["access_log_settings"]["destination_arn"])
    assert attr == "arn"
    assert synthesized.resources("aws_cloudwatch_log_group")[group_name]["retention_in_days"] == 30
    assert '"requestId":"$context.requestId"' in stage["access_log_settings"]["format"]


def test_stage_publishes_metrics_and_error_logs(synthesized: Synthesized) -> None:
    settings = _only(synthesized.resources("aws_api_gateway_method_settings"))
    assert settings["method_path"] == "*/*"
    assert settings["settings"]["metrics_enabled"] is True
    assert settings["settings"]["logging_level"] == "ERROR"
    assert settings["settings"]["data_trace_enabled"] is False


def test_usage_plan_throttles_and_sets_a_daily_quota(synthesized: Synthesized) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized.json_text,
        ApiGatewayUsagePlan.TF_RESOURCE_TYPE,
        {
            "throttle_settings": {"rate_limit": 10, "burst_limit": 20},
            "quota_settings": {"limit": 5000, "period": "DAY"},
        },
    )


def test_a_first_api_key_belongs_to_the_usage_plan(synthesized: Synthesized) -> None:
    plan_key = _only(synthesized.resources("aws_api_gateway_usage_plan_key"))
    assert plan_key["key_type"] == "API_KEY"
    assert _ref(plan_key["key_id"])[0] == "aws_api_gateway_api_key"
    assert _ref(plan_key["usage_plan_id"])[0] == "aws_api_gateway_usage_plan"


# ------------------------------------------------------------------------------------------- outputs


@pytest.mark.parametrize(
    ("output", "reference"),
    [
        ("api_url", ("aws_api_gateway_stage", "invoke_url")),
        ("bucket_name", ("aws_s3_bucket", "bucket")),
        ("table_name", ("aws_dynamodb_table", "name")),
        ("dead_letter_queue_url", ("aws_sqs_queue", "url")),
        ("compress_function_name", ("aws_lambda_function", "function_name")),
        ("thumbnail_function_name", ("aws_lambda_function", "function_name")),
        ("categorize_function_name", ("aws_lambda_function", "function_name")),
        ("api_function_name", ("aws_lambda_function", "function_name")),
        ("redrive_function_name", ("aws_lambda_function", "function_name")),
        ("api_key_id", ("aws_api_gateway_api_key", "id")),
        ("exporter_function_name", ("aws_lambda_function", "function_name")),
        ("analytics_database_name", ("aws_glue_catalog_database", "name")),
        ("analytics_workgroup_name", ("aws_athena_workgroup", "name")),
        ("alert_topic_arn", ("aws_sns_topic", "arn")),
    ],
)
def test_stack_outputs_are_named_thing_attr(synthesized: Synthesized, output: str, reference: tuple[str, str]) -> None:
    value = synthesized.document["output"][output]["value"]
    assert _ref(value)[0::2] == reference


def test_the_api_url_is_the_stage_root_with_its_trailing_slash(synthesized: Synthesized) -> None:
    # GIVEN the api_url output (the stage's invoke_url has no trailing slash)
    value = synthesized.document["output"]["api_url"]["value"]
    # THEN it ends with one, so that the web page's relative links (static/..., v1/...) stay in the stage
    assert re.fullmatch(r"\$\{aws_api_gateway_stage\.[^}.]+\.invoke_url\}/", value), value


# ------------------------------------------------------------------ the construct with other props


@pytest.fixture(scope="module")
def variant() -> dict[str, Any]:
    """ImagePipeline alone in a bare stack with non-default props and a grant to a foreign role."""
    import json

    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument,
        DataAwsIamPolicyDocumentStatement,
        DataAwsIamPolicyDocumentStatementPrincipals,
    )
    from cdktf_cdktf_provider_aws.iam_role import IamRole

    from constructs_lib.image_pipeline import ImagePipeline
    from constructs_lib.props import ImagePipelineProps

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "variant")
    pipeline = ImagePipeline(
        stack,
        "pipeline",
        props=ImagePipelineProps(
            name_prefix="variant",
            billing_mode="PROVISIONED",
            point_in_time_recovery=False,
            force_destroy=True,
            originals="archive",
            originals_after_days=10,
            cors_allowed_origins=("https://app.example.com",),
            manage_api_gateway_account=True,
            athena_results_expiration_days=1,
            rejected_events_expiration_days=None,
            allocator_env={"PILLOW_BLOCKS_MAX": "4"},
        ),
    )
    trust = DataAwsIamPolicyDocument(
        stack,
        "analyst-trust",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["glue.amazonaws.com"])
                ],
            )
        ],
    )
    analyst = IamRole(stack, "analyst", name="analyst", assume_role_policy=trust.json)
    pipeline.grant_read_renditions(analyst)
    return json.loads(cdktf.Testing.synth(stack))


def test_the_allocator_settings_follow_the_props(variant: dict[str, Any]) -> None:
    # GIVEN props that set only Pillow's block cache
    functions = {f["function_name"]: f for f in variant["resource"]["aws_lambda_function"].values()}
    # THEN the image functions get exactly that, and no glibc setting
    for name in ("variant-compress", "variant-thumbnail"):
        variables = functions[name]["environment"]["variables"]
        assert {key: variables[key] for key in set(variables) & ALLOCATOR_VARIABLES} == {"PILLOW_BLOCKS_MAX": "4"}


def test_provisioned_table_capacity_fits_the_always_free_tier(variant: dict[str, Any]) -> None:
    # GIVEN a table provisioned with the default units
    (table,) = variant["resource"]["aws_dynamodb_table"].values()
    # WHEN the capacity of the table and its indexes is added up
    parts = [table, *table["global_secondary_index"]]
    # THEN every part has capacity, within 25 RCU and 25 WCU in all
    assert table["billing_mode"] == "PROVISIONED"
    assert sum(p["read_capacity"] for p in parts) <= 25
    assert sum(p["write_capacity"] for p in parts) <= 25
    assert all(p["read_capacity"] >= 1 and p["write_capacity"] >= 1 for p in parts)


def test_force_destroy_lets_destroy_delete_the_images_and_the_records(variant: dict[str, Any]) -> None:
    (bucket,) = variant["resource"]["aws_s3_bucket"].values()
    (table,) = variant["resource"]["aws_dynamodb_table"].values()
    assert bucket["force_destroy"] is True and table["deletion_protection_enabled"] is False


def test_point_in_time_recovery_can_be_turned_off(variant: dict[str, Any]) -> None:
    (table,) = variant["resource"]["aws_dynamodb_table"].values()
    assert table["point_in_time_recovery"] == {"enabled": False}


def test_archived_originals_move_to_glacier_instant_retrieval_and_are_never_deleted(variant: dict[str, Any]) -> None:
    (lifecycle,) = variant["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    originals = rules["originals-archive"]
    assert originals["filter"] == [{"and": [{"prefix": "uploads/", "tags": {"imgmgr-original": "replaceable"}}]}]
    assert originals["transition"] == [{"days": 10, "storage_class": "GLACIER_IR"}]
    assert "expiration" not in originals
    assert "originals-expire" not in rules


def test_by_default_tagged_originals_expire_30_days_after_upload_and_compress_hears_of_it(
    synthesized: Synthesized,
) -> None:
    # GIVEN the default stack's lifecycle rules, bucket notification and compress policy
    lifecycle = _only(synthesized.resources("aws_s3_bucket_lifecycle_configuration"))
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    notification = _only(synthesized.resources("aws_s3_bucket_notification"))
    # THEN only originals the compress step tagged (verified rendition) expire, after 30 days
    originals = rules["originals-expire"]
    assert originals["filter"] == [{"and": [{"prefix": "uploads/", "tags": {"imgmgr-original": "replaceable"}}]}]
    assert originals["expiration"] == [{"days": 30}]
    assert "transition" not in originals
    # AND the removal reaches the compress function, which records it
    (target,) = notification["lambda_function"]
    assert target["events"] == ["s3:ObjectCreated:*", "s3:LifecycleExpiration:*"]
    assert target["filter_prefix"] == "uploads/"
    for function in _functions(synthesized).values():
        variables = function["environment"]["variables"]
        assert (variables["IMGMGR_ORIGINALS"], variables["IMGMGR_ORIGINALS_AFTER_DAYS"]) == ("expire", "30")


def test_analytics_expirations_follow_the_props(variant: dict[str, Any]) -> None:
    # GIVEN a pipeline that keeps query results one day and refused events forever
    (lifecycle,) = variant["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
    rules = {rule["id"]: rule for rule in lifecycle["rule"]}
    # THEN results expire after one day and there is no rule on refused events
    assert rules["expire-athena-results"]["expiration"] == [{"days": 1}]
    assert "expire-rejected-events" not in rules


def test_extra_cors_origins_are_added_to_the_api_origin(variant: dict[str, Any]) -> None:
    (cors,) = variant["resource"]["aws_s3_bucket_cors_configuration"].values()
    origins = cors["cors_rule"][0]["allowed_origins"]
    assert len(origins) == 2
    assert origins[1] == "https://app.example.com"


def test_other_origins_get_preflights_past_the_key_and_cors_from_the_api(variant: dict[str, Any]) -> None:
    resources = variant["resource"]
    # GIVEN a pipeline that allows https://app.example.com
    # THEN preflights of the data routes reach the API function without a key (a browser sends none)...
    options = {name: m for name, m in resources["aws_api_gateway_method"].items() if m["http_method"] == "OPTIONS"}
    assert [m["api_key_required"] for m in options.values()] == [False]
    proxied = [
        i
        for i in resources["aws_api_gateway_integration"].values()
        if i["http_method"] == f"${{aws_api_gateway_method.{next(iter(options))}.http_method}}"
    ]
    assert len(proxied) == 1 and proxied[0]["type"] == "AWS_PROXY"
    # ...whose function answers CORS for exactly the configured origin
    (api,) = [f for f in resources["aws_lambda_function"].values() if f["function_name"] == "variant-api"]
    assert api["environment"]["variables"]["IMGMGR_CORS_ORIGINS"] == "https://app.example.com"
    # AND API Gateway's own refusals (no key, throttled) are readable by that page, and redeployed with changes
    kinds = {r["response_type"]: r for r in resources["aws_api_gateway_gateway_response"].values()}
    assert set(kinds) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in kinds.values():
        assert response["response_parameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
    (deployment,) = resources["aws_api_gateway_deployment"].values()
    assert all(
        f"aws_api_gateway_gateway_response.{name}" in deployment["triggers"]["snapshot"]
        for name in resources["aws_api_gateway_gateway_response"]
    )


def test_the_account_wide_api_gateway_setting_is_managed_when_asked(variant: dict[str, Any]) -> None:
    # GIVEN a pipeline that manages the account's API Gateway CloudWatch role
    (account,) = variant["resource"]["aws_api_gateway_account"].values()
    (attachment,) = variant["resource"]["aws_iam_role_policy_attachment"].values()
    # THEN the one managed policy is API Gateway's logging policy, on a role only API Gateway may assume
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    role_name = attachment["role"].split(".")[1]
    assert account["cloudwatch_role_arn"] == f"${{aws_iam_role.{role_name}.arn}}"


def test_a_foreign_role_gets_one_policy_document_per_grant(variant: dict[str, Any]) -> None:
    # GIVEN the inline policies attached to the analyst role
    policies = [
        p
        for p in variant["resource"]["aws_iam_role_policy"].values()
        if p["role"].startswith("${aws_iam_role.analyst.")
    ]
    # WHEN the one grant is read
    (policy,) = policies
    _, document, _ = _ref(policy["policy"])
    (statement,) = variant["data"]["aws_iam_policy_document"][document]["statement"]
    # THEN it reads renditions only
    assert statement["actions"] == ["s3:GetObject"]
    assert re.fullmatch(r"\$\{aws_s3_bucket\.[^}]+\.arn\}/renditions/\*", statement["resources"][0])
    assert len(statement["resources"]) == 1


def test_archived_originals_are_tagged_but_no_removal_is_heard(variant: dict[str, Any]) -> None:
    # GIVEN the archive variant THEN compress may tag originals, and only creations reach it (nothing expires)
    (notification,) = variant["resource"]["aws_s3_bucket_notification"].values()
    assert notification["lambda_function"][0]["events"] == ["s3:ObjectCreated:*"]
    policies = json.dumps(variant["data"]["aws_iam_policy_document"])
    assert "s3:PutObjectTagging" in policies


def test_the_keep_policy_has_no_originals_rule_no_tagging_and_hears_no_removal() -> None:
    import cdktf

    from constructs_lib.image_pipeline import ImagePipeline
    from constructs_lib.props import ImagePipelineProps

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "keeping")
    ImagePipeline(stack, "pipeline", props=ImagePipelineProps(name_prefix="keeping", originals="keep"))
    document = json.loads(cdktf.Testing.synth(stack))
    (lifecycle,) = document["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
    (notification,) = document["resource"]["aws_s3_bucket_notification"].values()
    assert not [rule["id"] for rule in lifecycle["rule"] if rule["id"].startswith("originals")]
    assert notification["lambda_function"][0]["events"] == ["s3:ObjectCreated:*"]
    assert "s3:PutObjectTagging" not in json.dumps(document["data"]["aws_iam_policy_document"])
    assert {
        f["environment"]["variables"]["IMGMGR_ORIGINALS"]
        for f in document["resource"]["aws_lambda_function"].values()
        if "IMGMGR_ORIGINALS" in f["environment"]["variables"]
    } == {"keep"}
