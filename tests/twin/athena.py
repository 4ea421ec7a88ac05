"""Athena for the twin: queries answered by DuckDB over the bucket's objects, under the caller's IAM.

moto's Athena records a query and answers canned rows; it reads no data and checks nothing of what Athena
does with the caller's credentials. Here ``StartQueryExecution`` is authorized as AWS authorizes it, with
the requests Athena makes for the caller (the workgroup; the Glue database and table; the table's objects
listed and read; the result object written to the workgroup's enforced output location), then runs at
once: the objects under the table's location are copied into a directory with their keys, DuckDB reads
them as the lake's JSON lines (``imgmgr.adapters.analytics``), the ``?`` of the query take the
``ExecutionParameters`` (literals, as Athena substitutes them) and ``"<database>"."<table>"`` names the
view. ``GetQueryExecution``, ``GetQueryResults`` (header row first, values as ``VarCharValue``, Athena's
type names) and ``StopQueryExecution`` are authorized on the query's workgroup.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgmgr.adapters.analytics import EVENTS_VIEW, LAKE_PATTERN, connect
from tests.twin.iam import AuthzRequest

#: DuckDB's result types by Athena's names for them.
_ATHENA_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "VARCHAR": "varchar",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
}


@dataclass
class _Execution:
    workgroup: str
    output_bucket: str
    output_key: str
    state: str = "SUCCEEDED"
    reason: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class TwinAthena:
    """Athena's query calls for the functions of the twin; ``admin(service)`` is a client that sees all."""

    def __init__(self, admin: Callable[[str], Any], *, region: str, account: str) -> None:
        self._admin = admin
        self._region = region
        self._account = account
        self._executions: dict[str, _Execution] = {}
        #: The objects read so far, by bucket, key and ETag (the lake's objects are written once).
        self._objects: dict[tuple[str, str, str], bytes] = {}

    def call(self, operation: str, params: dict[str, Any]) -> tuple[list[AuthzRequest], Callable[[], dict[str, Any]]]:
        """The IAM requests of one call (for ``StartQueryExecution``, with those Athena makes for the
        caller), and what answers it once they are allowed."""
        if operation == "StartQueryExecution":
            return self._plan(params)
        return self._requests(operation, params), lambda: self._answer(operation, params)

    def _requests(self, operation: str, params: dict[str, Any]) -> list[AuthzRequest]:
        execution = self._executions[params["QueryExecutionId"]]
        action = f"athena:{operation}"
        requests = [AuthzRequest(action, self._workgroup_arn(execution.workgroup))]
        if operation == "GetQueryResults":
            requests.append(
                AuthzRequest("s3:GetObject", f"arn:aws:s3:::{execution.output_bucket}/{execution.output_key}")
            )
        return requests

    def _plan(self, params: dict[str, Any]) -> tuple[list[AuthzRequest], Callable[[], dict[str, Any]]]:
        workgroup = params["WorkGroup"]
        database = params["QueryExecutionContext"]["Database"]
        [table] = set(re.findall(rf'"{re.escape(database)}"\."([a-z0-9_]+)"', params["QueryString"]))
        location = self._admin("glue").get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"][
            "Location"
        ]
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        output = self._admin("athena").get_work_group(WorkGroup=workgroup)["WorkGroup"]["Configuration"][
            "ResultConfiguration"
        ]["OutputLocation"]
        output_bucket, _, output_prefix = output.removeprefix("s3://").partition("/")
        execution_id = str(uuid.uuid4())
        execution = _Execution(workgroup, output_bucket, f"{output_prefix.rstrip('/')}/{execution_id}.csv")
        listed = [
            (item["Key"], item["ETag"])
            for page in self._admin("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        keys = [key for key, _ in listed]
        glue = f"arn:aws:glue:{self._region}:{self._account}"

        def start() -> dict[str, Any]:
            self._executions[execution_id] = execution
            self._run(execution, params, bucket, listed, prefix, f'"{database}"."{table}"')
            return {"QueryExecutionId": execution_id}

        requests = [
            AuthzRequest("athena:StartQueryExecution", self._workgroup_arn(workgroup)),
            AuthzRequest("glue:GetDatabase", f"{glue}:catalog"),
            AuthzRequest("glue:GetDatabase", f"{glue}:database/{database}"),
            AuthzRequest("glue:GetTable", f"{glue}:catalog"),
            AuthzRequest("glue:GetTable", f"{glue}:database/{database}"),
            AuthzRequest("glue:GetTable", f"{glue}:table/{database}/{table}"),
            AuthzRequest("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"),
            AuthzRequest("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix}),
            *(AuthzRequest("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}") for key in keys),
            AuthzRequest("s3:GetBucketLocation", f"arn:aws:s3:::{output_bucket}"),
            AuthzRequest("s3:PutObject", f"arn:aws:s3:::{output_bucket}/{execution.output_key}"),
        ]
        return requests, start

    def _workgroup_arn(self, workgroup: str) -> str:
        return f"arn:aws:athena:{self._region}:{self._account}:workgroup/{workgroup}"

    # ---------------------------------------------------------------------------------- answer side

    def _answer(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        execution_id = params["QueryExecutionId"]
        execution = self._executions[execution_id]
        if operation == "GetQueryExecution":
            status = {"State": execution.state, **({"StateChangeReason": execution.reason} if execution.reason else {})}
            return {
                "QueryExecution": {"QueryExecutionId": execution_id, "Status": status, "WorkGroup": execution.workgroup}
            }
        if operation == "StopQueryExecution":
            return {}
        if operation == "GetQueryResults":
            header = {"Data": [{"VarCharValue": name} for name, _ in execution.columns]}
            rows = [
                {"Data": [{} if value is None else {"VarCharValue": str(value)} for value in row]}
                for row in execution.rows
            ]
            return {
                "ResultSet": {
                    "Rows": [header, *rows],
                    "ResultSetMetadata": {"ColumnInfo": [{"Name": n, "Type": t} for n, t in execution.columns]},
                }
            }
        raise NotImplementedError(f"athena:{operation} is not part of the twin")

    def _run(
        self,
        execution: _Execution,
        params: dict[str, Any],
        bucket: str,
        listed: list[tuple[str, str]],
        prefix: str,
        relation: str,
    ) -> None:
        import duckdb

        s3 = self._admin("s3")
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            for key, etag in listed:
                if (bucket, key, etag) not in self._objects:
                    self._objects[(bucket, key, etag)] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                target = root / key.removeprefix(prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._objects[(bucket, key, etag)])
            sql = params["QueryString"].replace(relation, EVENTS_VIEW)
            pieces = sql.split("?")
            literals = list(params.get("ExecutionParameters", []))
            if len(pieces) - 1 != len(literals):
                execution.state, execution.reason = "FAILED", f"{len(pieces) - 1} parameters, {len(literals)} given"
                return
            sql = pieces[0] + "".join(literal + piece for literal, piece in zip(literals, pieces[1:], strict=True))
            connection = connect(root, LAKE_PATTERN)
            try:
                cursor = connection.execute(sql)
                execution.columns = [
                    (name, _ATHENA_TYPES.get(str(kind), str(kind).lower())) for name, kind, *_ in cursor.description
                ]
                execution.rows = cursor.fetchall()
            except duckdb.Error as exc:
                execution.state, execution.reason = "FAILED", str(exc)
            finally:
                connection.close()
