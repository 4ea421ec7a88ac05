"""ImagePipelineProps: defaults (and what they cost), validation errors that name the prop."""

from __future__ import annotations

import dataclasses
import re

import pytest

from constructs_lib.props import FunctionSize, ImagePipelineProps, PropsError


def test_the_table_is_on_demand_by_default() -> None:
    # GIVEN / WHEN the default props / THEN the table is billed per request: a bulk upload is never
    # throttled into the dead-letter queue (bench.capacity: 5 WCU per part strands most of 500 images)
    assert ImagePipelineProps().billing_mode == "PAY_PER_REQUEST"


def test_default_provisioned_capacity_fits_the_always_free_tier() -> None:
    # GIVEN props that choose provisioned capacity and keep the default units
    props = ImagePipelineProps(billing_mode="PROVISIONED")
    # WHEN the capacity of the table and its three indexes is added up
    total_read, total_write = 4 * props.read_capacity, 4 * props.write_capacity
    # THEN it stays within the always-free 25 RCU / 25 WCU
    assert total_read <= 25
    assert total_write <= 25


def test_default_function_sizes_are_the_benchmark_ones() -> None:
    sizes = ImagePipelineProps().function_sizes
    assert {name: (s.memory_mb, s.timeout_seconds) for name, s in sizes.items()} == {
        "compress": (1769, 120),
        "thumbnail": (1024, 60),
        "categorize": (512, 30),
        "api": (512, 15),
        "redrive": (256, 300),
    }


def test_analytics_objects_expire_after_a_week_and_a_month_by_default() -> None:
    props = ImagePipelineProps()
    assert (props.athena_results_expiration_days, props.rejected_events_expiration_days) == (7, 30)


def test_analytics_objects_may_be_kept_forever() -> None:
    # GIVEN / WHEN props that turn both expirations off / THEN they are accepted as None
    props = ImagePipelineProps(athena_results_expiration_days=None, rejected_events_expiration_days=None)
    assert (props.athena_results_expiration_days, props.rejected_events_expiration_days) == (None, None)


def test_image_functions_keep_freed_memory_by_default() -> None:
    # GIVEN / WHEN default props / THEN the allocator settings are the measured ones, and can be turned off
    assert dict(ImagePipelineProps().allocator_env) == {
        "PILLOW_BLOCKS_MAX": "8",
        "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),
        "MALLOC_TRIM_THRESHOLD_": str(1024 * 1024 * 1024),
        "MALLOC_TOP_PAD_": str(64 * 1024 * 1024),
    }
    assert dict(ImagePipelineProps(allocator_env={}).allocator_env) == {}


def test_props_are_frozen() -> None:
    props = ImagePipelineProps()
    with pytest.raises(dataclasses.FrozenInstanceError):
        props.name_prefix = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name_prefix": "Bad_Prefix"}, r"^name_prefix: 'Bad_Prefix'"),
        ({"log_retention_days": 31}, r"^log_retention_days: 31 is not a CloudWatch retention"),
        ({"log_level": "TRACE"}, r"^log_level: 'TRACE'"),
        ({"metrics_namespace": "AWS/Lambda"}, r"^metrics_namespace: 'AWS/Lambda'"),
        ({"max_retry_attempts": 3}, r"^max_retry_attempts: 3 must be an integer from 0 to 2"),
        ({"max_event_age_seconds": 30}, r"^max_event_age_seconds: 30"),
        ({"dead_letter_retention_seconds": 1_209_601}, r"^dead_letter_retention_seconds: 1209601"),
        ({"max_pixels": 0}, r"^max_pixels: 0"),
        ({"max_upload_bytes": True}, r"^max_upload_bytes: True"),
        ({"compressed_format": "gif"}, r"^compressed_format: 'gif' must be one of jpeg, webp, avif"),
        ({"min_confidence": 101}, r"^min_confidence: 101"),
        ({"max_labels": 0}, r"^max_labels: 0"),
        ({"billing_mode": "ON_DEMAND"}, r"^billing_mode: 'ON_DEMAND'"),
        ({"read_capacity": 0}, r"^read_capacity: 0"),
        ({"write_capacity": -1}, r"^write_capacity: -1"),
        ({"originals": "delete"}, r"^originals: 'delete' must be one of keep, archive, expire"),
        ({"originals_after_days": 0}, r"^originals_after_days: 0 must be an integer from 1"),
        ({"noncurrent_version_expiration_days": 0}, r"^noncurrent_version_expiration_days: 0"),
        ({"athena_results_expiration_days": 0}, r"^athena_results_expiration_days: 0 must be an integer from 1"),
        ({"athena_results_expiration_days": 7.5}, r"^athena_results_expiration_days: 7.5"),
        ({"rejected_events_expiration_days": True}, r"^rejected_events_expiration_days: True"),
        ({"rejected_events_expiration_days": 36_501}, r"^rejected_events_expiration_days: 36501"),
        ({"cors_allowed_origins": ("example.com",)}, r"^cors_allowed_origins: 'example.com'"),
        ({"api_stage_name": "prod-1"}, r"^api_stage_name: 'prod-1'"),
        ({"api_throttle_rate_limit": 0}, r"^api_throttle_rate_limit: 0"),
        ({"api_throttle_burst_limit": 0}, r"^api_throttle_burst_limit: 0"),
        ({"api_daily_quota": 0}, r"^api_daily_quota: 0"),
        ({"layer_requirements": ()}, r"^layer_requirements: must name at least one requirement"),
        ({"allocator_env": {"LD_PRELOAD": "x.so"}}, r"^allocator_env: 'LD_PRELOAD' is not an allocator variable"),
        ({"allocator_env": {"PILLOW_BLOCKS_MAX": 8}}, r"^allocator_env: PILLOW_BLOCKS_MAX=8 must be a non-negative"),
        ({"allocator_env": {"MALLOC_TOP_PAD_": "-1"}}, r"^allocator_env: MALLOC_TOP_PAD_='-1' must be a non-negative"),
        ({"allocator_env": [("PILLOW_BLOCKS_MAX", "8")]}, r"^allocator_env: expected a mapping"),
        ({"compress_size": FunctionSize(memory_mb=64, timeout_seconds=10)}, r"^compress_size.memory_mb: 64"),
        ({"api_size": FunctionSize(memory_mb=512, timeout_seconds=901)}, r"^api_size.timeout_seconds: 901"),
    ],
)
def test_a_bad_prop_is_refused_with_its_name_first(changes: dict[str, object], message: str) -> None:
    # GIVEN / WHEN props with one bad value / THEN construction fails naming it
    with pytest.raises(PropsError, match=message):
        ImagePipelineProps(**changes)  # type: ignore[arg-type]


def test_every_field_documents_its_default() -> None:
    # GIVEN the source of the props class (field docstrings are not kept at run time)
    import inspect

    from constructs_lib import props as module

    source = inspect.getsource(module.ImagePipelineProps)
    # WHEN each field's docstring is found
    fields = [f.name for f in dataclasses.fields(ImagePipelineProps)]
    # THEN each one ends with "Default: ..."
    for name in fields:
        after = source.split(f"\n    {name}:", 1)[1]
        docstring = after.split('"""', 2)[1]
        assert re.search(r"Default: .+$", docstring.strip()), f"{name}: docstring does not end with 'Default: ...'"
