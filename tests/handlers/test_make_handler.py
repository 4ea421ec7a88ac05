"""The handler each function's handler string names is ``make_handler()``: the container's AWS ports,
built once and reused by every invocation (the other tests build theirs over fakes)."""

from __future__ import annotations

import importlib

import pytest

from lambdas import config

EMPTY = {"compress": {"Records": []}, "thumbnail": {"images": []}, "categorize": {"images": []}}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize("name", sorted(EMPTY))
def test_the_functions_handler_builds_the_containers_ports_once(aws, context, name):
    # GIVEN a fresh container (no ports built yet) and the handler its function's handler string names
    module_name, attribute = f"lambdas.handlers.{name}.handler".rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attribute)
    assert config.aws_ports.cache_info().currsize == 0
    # WHEN it is invoked twice
    assert handler(EMPTY[name], context) == {"images": []}
    assert handler(EMPTY[name], context) == {"images": []}
    # THEN both invocations asked for the AWS ports, which were built once
    info = config.aws_ports.cache_info()
    assert (info.misses, info.hits) == (1, 1)
