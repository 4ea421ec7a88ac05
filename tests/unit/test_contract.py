"""The contract module is plain data: the constructs read it at synth time without boto3 or Pillow."""

from __future__ import annotations

import json
import subprocess
import sys

from lambdas import contract
from lambdas.adapters.aws.dynamodb import create_table_kwargs

HEAVY = ("boto3", "botocore", "PIL", "numpy", "cdktf")


def _modules_after_import(*modules: str) -> set[str]:
    code = f"import sys, json\nfor m in {list(modules)!r}: __import__(m)\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(output.stdout))


def test_the_contract_and_the_props_import_nothing_heavy() -> None:
    loaded = _modules_after_import("lambdas.contract", "constructs_lib.props", "constructs_lib.cost_guard_props")
    assert not {name for name in loaded if name.split(".")[0] in HEAVY}


def test_the_constructs_synthesize_without_the_functions_libraries() -> None:
    # The constructs read names and schemas from the contract, not from the adapters that use them: a
    # synthesis loads neither boto3 nor Pillow (cdktf itself is allowed here; it takes ~25 s to import).
    loaded = _modules_after_import(
        "constructs_lib.image_pipeline", "constructs_lib.analytics_lake", "constructs_lib.cost_guard"
    )
    assert "constructs_lib.analytics_lake" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("boto3", "botocore", "PIL", "numpy")}


def test_the_table_the_adapter_creates_is_the_contract_table() -> None:
    table = create_table_kwargs("t")
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == list(contract.TABLE_KEY_SCHEMA)
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == list(contract.GSI_NAMES)
    defined = {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]}
    assert defined == set(contract.ATTRIBUTE_DEFINITIONS)


def test_every_environment_name_is_distinct_and_prefixed() -> None:
    names = [value for key, value in vars(contract.Env).items() if key.isupper()]
    assert len(names) == len(set(names)) >= 13
    assert all(name.startswith("IMGMGR_") for name in names)
