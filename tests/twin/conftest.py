"""The deployment twin: the session's synthesized stack applied with the real AWS provider to moto's
server, and the real handlers run on what was applied (``tests/twin/runtime.py``).

One apply per session (about a minute and a half); ``destroy`` runs when the session ends and must
leave nothing behind. Each test starts with an empty invocation queue and must end without IAM denials
it did not expect (:meth:`TwinSession.expect_denials`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.synth.support import PROJECT_DIR, Synthesized
from tests.twin.rest_api import RestApi
from tests.twin.runtime import Call, Twin
from tests.twin.terraform import Workspace


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[str]


def start_emulator() -> Emulator:
    environ = {
        **os.environ,
        # The provider attaches an AWS managed policy (API Gateway's logs role), which moto loads only so.
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        "PYTHONPATH": str(PROJECT_DIR),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.twin.emulator_server"],
        cwd=PROJECT_DIR,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("port "):
        process.kill()
        raise RuntimeError(f"the emulator did not start: {line!r}")
    return Emulator(endpoint=f"http://127.0.0.1:{int(line.split()[1])}", process=process)


@dataclass
class Applied:
    """One stack applied to the emulator: its workspace, outputs and the time each command took."""

    workspace: Workspace
    outputs: dict[str, Any]
    resources: int


def apply_stack(stack_dir: Path, into: Path, endpoint: str) -> Applied:
    workspace = Workspace.prepare(stack_dir, into, endpoint=endpoint)
    workspace.init()
    workspace.validate()
    workspace.apply()
    return Applied(workspace=workspace, outputs=workspace.outputs(), resources=len(workspace.addresses()))


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emulator = start_emulator()
    yield emulator
    emulator.process.terminate()
    emulator.process.wait(timeout=30)


@pytest.fixture(scope="session")
def applied(
    synthesized: Synthesized, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Applied]:
    """The ready stack, applied; destroyed at the end of the session (which must leave nothing)."""
    applied = apply_stack(synthesized.path.parent, tmp_path_factory.mktemp("twin") / "stack", emulator.endpoint)
    yield applied
    # By default (force_destroy off) destroy keeps the images and their records: it removes the rest and
    # stops at the bucket, which holds object versions, and at the table, which has deletion protection.
    bucket = applied.outputs["bucket_name"]
    # (one object at least, whichever tests ran: what destroy must keep)
    _admin_client(emulator.endpoint, "s3").put_object(Bucket=bucket, Key="originals/kept", Body=b"kept")
    failed = applied.workspace.run("destroy", "-no-color", "-auto-approve", "-parallelism=20", check=False)
    said = " ".join(failed.stderr.split())
    assert failed.returncode != 0 and "BucketNotEmpty" in said and "DeletionProtectionEnabled is set to True" in said
    kept = {resource.split(".")[0] for resource in _managed(applied.workspace)}
    assert kept >= {"aws_s3_bucket", "aws_dynamodb_table"} and "aws_lambda_function" not in kept, kept
    assert (
        _admin_client(emulator.endpoint, "s3").get_object(Bucket=bucket, Key="originals/kept")["Body"].read() == b"kept"
    )
    release_data(emulator.endpoint, applied.outputs)
    applied.workspace.destroy()
    assert _managed(applied.workspace) == [], "destroy left resources"
    print(f"\ntwin: terraform seconds {applied.workspace.timings}")


def _managed(workspace: Workspace) -> list[str]:
    """The managed resources of the root module left in the state (data sources are ``data.``)."""
    return [address for address in workspace.addresses() if not address.startswith(("data.", "module."))]


class TwinSession:
    """The twin for one test: delivers what the test set off, then fails it on IAM denials it did not expect
    (``drain`` itself fails on a loop of invocations)."""

    def __init__(self, twin: Twin, api: RestApi, applied: Applied) -> None:
        self.twin = twin
        self.api = api
        self.applied = applied
        self.outputs = applied.outputs
        self._start = len(twin.denials)
        self._invocations = len(twin.invocations)
        self._expected = 0

    @property
    def api_key(self) -> str:
        """The key as the operator reads it: ``terraform output -raw api_key_value``."""
        return self.outputs["api_key_value"]

    def errors(self) -> list[str]:
        """What the functions raised during this test (for assertion messages)."""
        return [
            f"{invocation.function}: {type(invocation.error).__name__}: {invocation.error}"
            for invocation in self.twin.invocations[self._invocations :]
            if invocation.error is not None
        ]

    def expect_denials(self) -> list[Call]:
        """The denials since the test began, which the test takes responsibility for."""
        taken = self.twin.denials[self._start + self._expected :]
        self._expected += len(taken)
        return taken

    def check(self) -> None:
        # What the test's last requests set off (analytics lines of the API...) is delivered too.
        self.twin.drain()
        unexpected = self.twin.denials[self._start + self._expected :]
        self.twin.faults.clear()
        assert not unexpected, "IAM denied calls:\n" + "\n".join(
            f"  {call.function} {call.service}:{call.operation}: "
            + "; ".join(d.explain() for d in call.decisions if not d.allowed)
            for call in unexpected
        )


@pytest.fixture(scope="session")
def twin_runtime(applied: Applied, emulator: Emulator) -> Iterator[tuple[Twin, RestApi]]:
    account = _account(emulator.endpoint)
    twin = Twin(emulator.endpoint, region="us-east-1", account=account)
    twin.install()
    yield twin, RestApi(twin, applied.outputs["api_url"])
    twin.uninstall()
    _print_calls(twin)


@pytest.fixture
def twin(twin_runtime: tuple[Twin, RestApi], applied: Applied) -> Iterator[TwinSession]:
    runtime, api = twin_runtime
    runtime._pending.clear()
    session = TwinSession(runtime, api, applied)
    yield session
    session.check()


def _admin_client(endpoint: str, service: str) -> Any:
    """A client of the emulator outside any function (the harness's own view)."""
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="twin-admin",
        aws_secret_access_key="twin-admin",
    )


def release_data(endpoint: str, outputs: dict[str, Any]) -> None:
    """What the operator does before destroying a deployment with its data (documented at
    ``ImagePipelineProps.force_destroy``): empty the bucket, every version and delete marker, and lift the
    table's deletion protection."""
    empty_bucket(endpoint, outputs["bucket_name"])
    _admin_client(endpoint, "dynamodb").update_table(TableName=outputs["table_name"], DeletionProtectionEnabled=False)


def empty_bucket(endpoint: str, bucket: str) -> None:
    s3 = _admin_client(endpoint, "s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def _account(endpoint: str) -> str:
    return _admin_client(endpoint, "sts").get_caller_identity()["Account"]


def _print_calls(twin: Twin) -> None:
    """The calls and actions evaluated per function, for the record."""
    by_function: dict[str, dict[str, int]] = {}
    for call in twin.calls:
        actions = by_function.setdefault(call.function, {})
        for decision in call.decisions:
            actions[decision.request.action] = actions.get(decision.request.action, 0) + 1
    print("\ntwin: IAM requests evaluated per function")
    for function, actions in sorted(by_function.items()):
        print(f"  {function}: " + ", ".join(f"{action} x{count}" for action, count in sorted(actions.items())))
    print(
        f"twin: {len(twin.calls)} calls, {len(twin.denials)} denied, {len(twin.invocations)} invocations, {time.strftime('%X')}"
    )
