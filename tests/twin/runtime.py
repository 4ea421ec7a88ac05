"""The deployment twin's runtime: the real handlers run on what Terraform applied to the emulator.

Everything a function needs is read back from the emulator, never from project constants: its handler,
environment, timeout, role and log group (``GetFunctionConfiguration``), its role's inline and managed
policies (IAM), its asynchronous invocation config (retries, destinations), who may invoke it (its
resource policy), the bucket's notifications and policy, the log groups' subscription filters, and the
REST API's resources, methods, integrations, stage, usage plan and keys.

What AWS does between the functions, the twin does, in AWS's event shapes:

- **Lambda**: an invocation runs the handler in this process in the function's own environment and
  credentials, as if in a fresh container (the project's client caches are reset). Asynchronous
  invocations are queued and retried ``MaximumRetryAttempts`` times; the on-success and on-failure
  destinations receive the invocation record, with the ``$LATEST``-qualified ARN, sent with the
  function's own role as Lambda does. The function's log lines go to its log group, written with its role.
- **S3**: ``ObjectCreated`` events for every notification whose prefix/suffix filters match, after the
  bucket's own resource check that S3 may invoke the function.
- **CloudWatch Logs**: log lines that a subscription filter's pattern matches go to its destination.
- **API Gateway**: a request reaches a resource and method only if they were applied; ``apiKeyRequired``
  is checked against the usage plan's keys; ``AWS_PROXY`` integrations get the REST proxy event.
- **Presigned POST**: the policy's signature, expiry and every condition are enforced, and the signer's
  role must allow ``s3:PutObject`` on the key.

Every AWS call a function makes is authorized by :mod:`tests.twin.iam` against that function's policies;
a denied call answers ``AccessDenied`` as AWS would and is recorded in :attr:`Twin.denials`.

Size: the twin's runtime is one harness (invocation, IAM evaluation, destinations, emulator gaps);
its parts share the recorded state of one run.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import copy
import gzip
import hashlib
import hmac
import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlparse

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.twin import iam
from tests.twin.athena import TwinAthena
from tests.twin.filter_pattern import matches as pattern_matches

#: botocore's service names -> the prefix of their IAM actions, where they differ.
_ERROR_CODES = {"s3": "AccessDenied", "sqs": "AccessDenied"}


def _error_code(service: str) -> str:
    return _ERROR_CODES.get(service, "AccessDeniedException")


@dataclass(frozen=True)
class Identity:
    """The credentials a function's container gets, and the role they stand for."""

    function: str
    role_arn: str
    access_key: str
    secret_key: str
    session_token: str


@dataclass
class Call:
    """One AWS call a function made, the IAM requests it needed and IAM's decision for each."""

    function: str
    service: str
    operation: str
    decisions: list[iam.Decision]

    @property
    def allowed(self) -> bool:
        return all(decision.allowed for decision in self.decisions)


@dataclass
class Invocation:
    """One run of a handler: the event, what it returned or raised, and the log lines it printed."""

    function: str
    event: Any
    result: Any = None
    error: BaseException | None = None
    lines: list[str] = field(default_factory=list)
    duration_s: float = 0.0


class TwinError(AssertionError):
    """Something AWS would have refused or done differently; fails the test that caused it."""


class Twin:
    """The applied stack on the emulator, with the functions' runtime and the services between them."""

    def __init__(self, endpoint: str, *, region: str, account: str) -> None:
        self.endpoint = endpoint
        self.region = region
        self.account = account
        self._admin = boto3.session.Session(
            aws_access_key_id="twin-admin", aws_secret_access_key="twin-admin", region_name=region
        )
        self.calls: list[Call] = []
        self.denials: list[Call] = []
        self.invocations: list[Invocation] = []
        self.faults: dict[tuple[str, str], list[str]] = {}
        self._pending: collections.deque[tuple[str, Any, int]] = collections.deque()
        self._identities: dict[str, Identity] = {}
        self._by_access_key: dict[str, Identity] = {}
        self._active: Identity | None = None
        self._lock = threading.RLock()
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.athena = TwinAthena(self.admin, region=region, account=account)
        self._decisions: dict[tuple[str, ...], iam.Decision] = {}
        self._admin_clients: dict[str, Any] = {}
        #: What IAM and S3 answered about policies while one handler runs (None outside a handler).
        self._policy_reads: dict[tuple[str, str], Any] | None = None

    # ------------------------------------------------------------------------------------ admin side

    def admin(self, service: str) -> Any:
        """A client of the emulator that no policy restricts: the twin's own view, never a function's.

        One client per service for the whole run: the twin asks IAM, S3 and Lambda for every call a function
        makes, and building a botocore client costs more than most of those requests. The admin session is
        never hooked, so sharing its clients changes nothing of what a function's own clients see."""
        with self._lock:
            client = self._admin_clients.get(service)
            if client is None:
                client = self._admin_clients[service] = self._admin.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.endpoint,
                    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
                )
            return client

    def configuration(self, function: str) -> dict[str, Any]:
        return self.admin("lambda").get_function_configuration(FunctionName=function)

    def _read_policy(self, kind: str, name: str, read: Callable[[], Any]) -> Any:
        """``read()``, asked once per handler run: policies change only between runs (the brake is applied
        and lifted by the test, never while a function runs), and a function makes many calls."""
        reads = self._policy_reads
        if reads is None:
            return read()
        if (kind, name) not in reads:
            reads[kind, name] = read()
        return copy.deepcopy(reads[kind, name])

    def role_policies(self, role_arn: str) -> list[dict[str, Any]]:
        """The inline and attached managed policy documents of a role, as IAM holds them now."""
        return self._read_policy("role", role_arn, lambda: self._read_role_policies(role_arn))

    def _read_role_policies(self, role_arn: str) -> list[dict[str, Any]]:
        client = self.admin("iam")
        name = role_arn.rsplit("/", 1)[-1]
        documents = []
        for policy_name in client.list_role_policies(RoleName=name)["PolicyNames"]:
            documents.append(_document(client.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]))
        for attached in client.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            policy = client.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = client.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
            documents.append(_document(version["PolicyVersion"]["Document"]))
        return documents

    def resource_policy(self, request: iam.AuthzRequest) -> dict[str, Any] | None:
        """The policy of the resource a request is about (the bucket policy for S3 objects and buckets)."""
        if not request.resource.startswith("arn:aws:s3:::"):
            return None
        bucket = request.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        return self._read_policy("bucket", bucket, lambda: self._read_bucket_policy(bucket))

    def _read_bucket_policy(self, bucket: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.admin("s3").get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError:
            return None

    # -------------------------------------------------------------------------------- IAM of calls

    def identity(self, function: str) -> Identity:
        with self._lock:
            if function not in self._identities:
                role = self.configuration(function)["Role"]
                digest = hashlib.sha256(function.encode()).hexdigest().upper()
                identity = Identity(
                    function=function,
                    role_arn=role,
                    access_key=f"ASIA{digest[:16]}",
                    secret_key=hashlib.sha256(f"secret:{function}".encode()).hexdigest(),
                    session_token=hashlib.sha256(f"token:{function}".encode()).hexdigest(),
                )
                self._identities[function] = identity
                self._by_access_key[identity.access_key] = identity
            return self._identities[function]

    def authorize(self, identity: Identity, requests: list[iam.AuthzRequest], *, service: str, operation: str) -> Call:
        """IAM's decision on ``requests`` by ``identity``'s role; recorded, denials kept apart."""
        policies = self.role_policies(identity.role_arn)
        extra = {"aws:SecureTransport": "true", "aws:RequestedRegion": self.region}
        if service == "s3":
            extra["s3:TlsVersion"] = "1.3"
        decisions = []
        # One decision per request per state of the role's policies: an Athena query asks for every
        # object of the table, again for each query of a page.
        policies_key = json.dumps(policies, sort_keys=True)
        for request in requests:
            key = (
                identity.role_arn,
                policies_key,
                request.action,
                request.resource,
                json.dumps(dict(request.context), sort_keys=True),
            )
            decision = self._decisions.get(key) if service == "athena" else None
            if decision is None:
                iam.check_request(request)
                decision = iam.evaluate(
                    request,
                    identity_policies=policies,
                    resource_policy=self.resource_policy(request),
                    principal_arn=identity.role_arn,
                    account=self.account,
                    extra_context=extra,
                )
                if service == "athena":
                    self._decisions[key] = decision
            decisions.append(decision)
        call = Call(identity.function, service, operation, decisions)
        with self._lock:
            self.calls.append(call)
            if not call.allowed:
                self.denials.append(call)
        return call

    def _provide_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["twin_params"] = copy.deepcopy(params)

    def _before_call(self, model: Any, params: Any, request_signer: Any, context: dict[str, Any], **_: Any) -> Any:
        credentials = request_signer._credentials  # the signer's own credentials: who is calling
        identity = self._by_access_key.get(credentials.access_key) if credentials is not None else None
        if identity is None:
            return None  # not a function's client (the twin's admin view)
        if self._active is not None and identity != self._active:
            raise TwinError(
                f"{identity.function}'s client was used while {self._active.function} ran: a client outlived its container"
            )
        service = model.service_model.service_name
        operation = model.name
        api_params = context.get("twin_params", {})
        athena_answer = None
        if service == "athena":
            requests, athena_answer = self.athena.call(operation, api_params)
        else:
            requests = iam.requests_for(service, operation, api_params, region=self.region, account=self.account)
        call = self.authorize(identity, requests, service=service, operation=operation)
        if not call.allowed:
            message = "; ".join(d.explain() for d in call.decisions if not d.allowed)
            return _error_response(
                model, _error_code(service), f"User: {identity.role_arn} is not authorized: {message}"
            )
        faults = self.faults.get((service, operation))
        if faults:
            return _error_response(model, faults.pop(0), "fault injected by the twin")
        if service == "lambda" and operation == "Invoke":
            return self._lambda_invoke(identity, api_params, model)
        if athena_answer is not None:
            return _ok(model, athena_answer())
        if service == "rekognition":
            refusal = _rekognition_refusal(api_params)
            if refusal is not None:
                return _error_response(model, *refusal)
        return None

    def _after_call(self, model: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "s3" and model.name == "PutObject" and "Error" not in parsed:
            params = context.get("twin_params", {})
            if self._active is not None:
                self.object_created(params["Bucket"], params["Key"], "ObjectCreated:Put", self._active.role_arn)

    def _hook(self, session: boto3.session.Session) -> None:
        events = session._session.get_component("event_emitter")
        events.register("provide-client-params", self._provide_params, unique_id="twin-params")
        events.register("before-call", self._before_call, unique_id="twin-authorize")
        events.register("after-call", self._after_call, unique_id="twin-after")

    def install(self) -> None:
        """Keeps the session's default boto3 session, which each function container replaces."""
        self._outside_session = boto3.DEFAULT_SESSION

    def uninstall(self) -> None:
        boto3.DEFAULT_SESSION = self._outside_session

    # ---------------------------------------------------------------------------------------- Lambda

    def _lambda_invoke(self, caller: Identity, params: Mapping[str, Any], model: Any) -> Any:
        """Lambda's Invoke, called by a function: queued (``Event``) or run now (``RequestResponse``)."""
        target = self._function_name(params["FunctionName"])
        payload = json.loads(params.get("Payload") or b"{}")
        if params.get("InvocationType") == "Event":
            self.invoke_async(target, payload)
            return _ok(model, {"StatusCode": 202})
        invocation = self.invoke(target, payload)
        body = json.dumps(invocation.result if invocation.error is None else _error_payload(invocation)).encode()
        answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(body), "ExecutedVersion": "$LATEST"}
        if invocation.error is not None:
            answer["FunctionError"] = "Unhandled"
        return _ok(model, answer)

    def _function_name(self, name_or_arn: str) -> str:
        """A function name from a name or ARN; a qualifier other than ``$LATEST`` is not deployed here."""
        if name_or_arn.startswith("arn:"):
            parts = name_or_arn.split(":")
            name, qualifier = parts[6], parts[7] if len(parts) > 7 else None
        else:
            name, _, qualifier = name_or_arn.partition(":")
        if qualifier not in (None, "", "$LATEST"):
            raise TwinError(f"{name_or_arn}: the stack publishes no versions or aliases")
        return name

    @contextlib.contextmanager
    def _container(self, function: str, configuration: Mapping[str, Any]) -> Iterator[Identity]:
        """The function's environment and credentials around one handler run, in a fresh container."""
        from lambdas import config as function_config

        identity = self.identity(function)
        environment = {
            **configuration.get("Environment", {}).get("Variables", {}),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": identity.access_key,
            "AWS_SECRET_ACCESS_KEY": identity.secret_key,
            "AWS_SESSION_TOKEN": identity.session_token,
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": configuration["LoggingConfig"]["LogGroup"],
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{configuration['Runtime']}",
            "_HANDLER": configuration["Handler"],
            # The emulator's endpoint (botocore addresses its buckets by path, as for any IP endpoint).
            "AWS_ENDPOINT_URL": self.endpoint,
        }
        saved = dict(os.environ)
        for key in list(os.environ):
            if key.startswith(("AWS_", "IMGMGR_", "POWERTOOLS_")):
                del os.environ[key]
        os.environ.update(environment)
        _reset_containers(function_config)
        # A container is a process of its own: a new default boto3 session, which resolves the
        # function's credentials from its environment; every client built from it is hooked.
        outside = boto3.DEFAULT_SESSION
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        self._hook(boto3.DEFAULT_SESSION)
        self._active = identity
        outer_reads, self._policy_reads = self._policy_reads, {}
        try:
            yield identity
        finally:
            self._policy_reads = outer_reads
            self._active = None
            boto3.DEFAULT_SESSION = outside
            os.environ.clear()
            os.environ.update(saved)
            _reset_containers(function_config)

    def invoke(self, function: str, event: Any, *, invoked_arn: str | None = None) -> Invocation:
        """Runs ``function``'s handler once on ``event`` (a synchronous invocation)."""
        configuration = self.configuration(function)
        module_name, _, attribute = configuration["Handler"].rpartition(".")
        invocation = Invocation(function=function, event=copy.deepcopy(event))
        context = _Context(configuration, invoked_arn or configuration["FunctionArn"])
        with self._container(function, configuration), _captured_output() as output:
            started = time.monotonic()
            try:
                handler = getattr(importlib.import_module(module_name), attribute)
                invocation.result = json.loads(json.dumps(handler(copy.deepcopy(event), context)))
            except Exception as exc:  # noqa: BLE001 - Lambda reports any error of the handler as a function error
                invocation.error = exc
            invocation.duration_s = time.monotonic() - started
        invocation.lines = output.lines()
        if invocation.error is None and invocation.duration_s > configuration["Timeout"]:
            invocation.error = TimeoutError(
                f"{function} ran {invocation.duration_s:.1f} s > {configuration['Timeout']} s"
            )
        self.invocations.append(invocation)
        self._deliver_logs(function, configuration, invocation.lines)
        if configuration.get("TracingConfig", {}).get("Mode") == "Active":
            # Active tracing: the runtime's X-Ray daemon sends the segments with the function's role.
            requests = [
                iam.AuthzRequest("xray:PutTraceSegments", "*"),
                iam.AuthzRequest("xray:PutTelemetryRecords", "*"),
            ]
            self.authorize(self.identity(function), requests, service="xray", operation="PutTraceSegments(daemon)")
        return invocation

    def invoke_async(self, function: str, event: Any) -> None:
        """Queues an asynchronous invocation (``InvocationType=Event``); :meth:`drain` runs it."""
        self._pending.append((function, copy.deepcopy(event), 1))

    def drain(self, *, limit: int = 500) -> int:
        """Runs queued asynchronous invocations (and those they cause) until none is left."""
        runs = 0
        while self._pending:
            if runs >= limit:
                raise TwinError(f"more than {limit} asynchronous invocations: a loop between functions?")
            function, event, attempt = self._pending.popleft()
            runs += 1
            self._run_async(function, event, attempt)
        return runs

    def _run_async(self, function: str, event: Any, attempt: int) -> None:
        configuration = self.configuration(function)
        arn = configuration["FunctionArn"]
        invocation = self.invoke(function, event, invoked_arn=arn)
        invoke_config = self._event_invoke_config(function)
        if invocation.error is not None and attempt <= invoke_config.get("MaximumRetryAttempts", 2):
            self._pending.append((function, event, attempt + 1))
            return
        destinations = invoke_config.get("DestinationConfig", {})
        destination = (
            destinations.get("OnSuccess") if invocation.error is None else destinations.get("OnFailure")
        ) or {}
        if destination.get("Destination"):
            record = _destination_record(invocation, f"{arn}:$LATEST", attempt)
            self._send_to_destination(function, destination["Destination"], record)

    def _event_invoke_config(self, function: str) -> dict[str, Any]:
        try:
            return self.admin("lambda").get_function_event_invoke_config(FunctionName=function)
        except ClientError:
            return {"MaximumRetryAttempts": 2}

    def _send_to_destination(self, function: str, destination: str, record: dict[str, Any]) -> None:
        """Lambda sends the record with the invoking function's role (its permissions decide)."""
        identity = self.identity(function)
        if destination.startswith("arn:aws:lambda:"):
            request = iam.AuthzRequest("lambda:InvokeFunction", destination)
            call = self.authorize(identity, [request], service="lambda", operation="Invoke(destination)")
            if call.allowed:
                self.invoke_async(self._function_name(destination), record)
        elif destination.startswith("arn:aws:sqs:"):
            request = iam.AuthzRequest("sqs:SendMessage", destination)
            call = self.authorize(identity, [request], service="sqs", operation="SendMessage(destination)")
            if call.allowed:
                name = destination.rsplit(":", 1)[-1]
                url = self.admin("sqs").get_queue_url(QueueName=name)["QueueUrl"]
                self.admin("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        else:
            raise TwinError(f"{function}: destination {destination} is of a kind the twin does not deliver")

    def service_may_invoke(self, function: str, principal: str, *, source_arn: str, source_account: str) -> bool:
        """Whether the function's resource policy lets an AWS service invoke it for ``source_arn``."""
        try:
            policy = json.loads(self.admin("lambda").get_policy(FunctionName=function)["Policy"])
        except ClientError:
            return False
        arn = self.configuration(function)["FunctionArn"]
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": source_account}
        for statement in iam.statements(policy):
            services = (
                statement.get("Principal", {}).get("Service", [])
                if isinstance(statement.get("Principal"), dict)
                else []
            )
            if principal not in iam._listify(services):
                continue
            request = iam.AuthzRequest("lambda:InvokeFunction", arn)
            probe = {key: value for key, value in statement.items() if key != "Principal"}
            decision = iam.evaluate(
                request,
                identity_policies=[{"Statement": [probe]}],
                resource_policy=None,
                principal_arn=principal,
                account=self.account,
                extra_context=context,
            )
            if decision.allowed:
                return True
        return False

    # ------------------------------------------------------------------------------------------- logs

    def _deliver_logs(self, function: str, configuration: Mapping[str, Any], lines: list[str]) -> None:
        """The runtime writes the lines to the function's log group with its role; subscriptions follow."""
        if not lines:
            return
        group = configuration["LoggingConfig"]["LogGroup"]
        stream = f"{self.now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        identity = self.identity(function)
        requests = [
            iam.AuthzRequest(
                "logs:CreateLogStream",
                f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}:log-stream:{stream}",
            ),
            iam.AuthzRequest(
                "logs:PutLogEvents", f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}:log-stream:{stream}"
            ),
        ]
        if not self.authorize(identity, requests, service="logs", operation="PutLogEvents(runtime)").allowed:
            return
        logs = self.admin("logs")
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        timestamp = int(self.now().timestamp() * 1000)
        events = [{"timestamp": timestamp, "message": line} for line in lines]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        for subscription in logs.describe_subscription_filters(logGroupName=group).get("subscriptionFilters", []):
            matching = [event for event in events if pattern_matches(subscription["filterPattern"], event["message"])]
            if matching:
                self._deliver_subscription(group, stream, subscription, matching)

    def _deliver_subscription(
        self, group: str, stream: str, subscription: Mapping[str, Any], events: list[dict[str, Any]]
    ) -> None:
        destination = subscription["destinationArn"]
        if not destination.startswith("arn:aws:lambda:"):
            raise TwinError(f"subscription {subscription['filterName']}: the twin delivers to Lambda only")
        function = self._function_name(destination)
        source = f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}:*"
        if not self.service_may_invoke(function, "logs.amazonaws.com", source_arn=source, source_account=self.account):
            raise TwinError(f"CloudWatch Logs may not invoke {function} for {group}: its resource policy refuses")
        payload = {
            "messageType": "DATA_MESSAGE",
            "owner": self.account,
            "logGroup": group,
            "logStream": stream,
            "subscriptionFilters": [subscription["filterName"]],
            "logEvents": [
                {"id": f"{event['timestamp']}{index:08d}", "timestamp": event["timestamp"], "message": event["message"]}
                for index, event in enumerate(events)
            ],
        }
        data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
        self.invoke_async(function, {"awslogs": {"data": data}})

    # --------------------------------------------------------------------------------------------- S3

    def object_created(
        self, bucket: str, key: str, event_name: str, principal: str, *, size: int | None = None
    ) -> None:
        """S3 notifies every configured function whose filters match the new object."""
        s3 = self.admin("s3")
        notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
        head = s3.head_object(Bucket=bucket, Key=key)
        for target in notifications.get("LambdaFunctionConfigurations", []):
            if not any(_event_matches(pattern, event_name) for pattern in target["Events"]):
                continue
            rules = {
                rule["Name"].lower(): rule["Value"]
                for rule in target.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            }
            if not (key.startswith(rules.get("prefix", "")) and key.endswith(rules.get("suffix", ""))):
                continue
            function = self._function_name(target["LambdaFunctionArn"])
            if not self.service_may_invoke(
                function, "s3.amazonaws.com", source_arn=f"arn:aws:s3:::{bucket}", source_account=self.account
            ):
                raise TwinError(f"S3 may not invoke {function} for bucket {bucket}: its resource policy refuses")
            record = {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": self.region,
                "eventTime": self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": event_name,
                "userIdentity": {"principalId": f"AWS:{principal}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "twin"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": target.get("Id", ""),
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "twin"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size if size is not None else head["ContentLength"],
                        "eTag": head["ETag"].strip('"'),
                        "sequencer": f"{time.time_ns():016X}",
                    },
                },
            }
            self.invoke_async(function, {"Records": [record]})

    def post_object(self, url: str, fields: Mapping[str, str], data: bytes, *, filename: str = "upload") -> int:
        """A browser's presigned POST to S3: S3's checks, then the object and its event. Returns the status."""
        bucket = _bucket_of(url, self.endpoint)
        form = {key.lower(): value for key, value in fields.items()}
        policy_b64 = form.get("policy")
        if not policy_b64:
            raise PostRefused(403, "AccessDenied", "the form has no policy")
        credential = form.get("x-amz-credential", "")
        access_key, date, region, service, _ = (credential.split("/") + [""] * 5)[:5]
        identity = self._by_access_key.get(access_key)
        if identity is None:
            raise PostRefused(403, "InvalidAccessKeyId", f"{access_key!r} is not a key of this account")
        expected = _sigv4_signature(identity.secret_key, date, region, service, policy_b64)
        if not hmac.compare_digest(expected, form.get("x-amz-signature", "")):
            raise PostRefused(403, "SignatureDoesNotMatch", "the policy's signature does not match")
        policy = json.loads(base64.b64decode(policy_b64))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        if self.now() > expiration:
            raise PostRefused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        key = form.get("key", "").replace("${filename}", filename)
        _check_post_conditions(policy["conditions"], {**form, "bucket": bucket, "key": key}, len(data))
        self._authorize_browser(identity, "s3:PutObject", bucket, key, operation="PostObject")
        self.admin("s3").put_object(
            Bucket=bucket, Key=key, Body=data, ContentType=form.get("content-type", "binary/octet-stream")
        )
        self.object_created(bucket, key, "ObjectCreated:Post", identity.role_arn, size=len(data))
        return int(form.get("success_action_status", "204"))

    def _authorize_browser(self, signer: Identity, action: str, bucket: str, key: str, *, operation: str) -> None:
        """A presigned request is authorized as its signer's: S3 refuses what the signer's role may not do."""
        request = iam.AuthzRequest(action, f"arn:aws:s3:::{bucket}/{key}")
        call = self.authorize(signer, [request], service="s3", operation=operation)
        if not call.allowed:
            raise PostRefused(403, "AccessDenied", call.decisions[0].explain())

    def get_presigned(self, url: str) -> bytes:
        """Follows a presigned GET URL: not expired, and the signer's role may read the object."""
        parsed = urlparse(url)
        query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
        identity = self._by_access_key.get(query.get("X-Amz-Credential", "").split("/")[0])
        if identity is None:
            raise PostRefused(403, "InvalidAccessKeyId", "unknown signer")
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if (self.now() - signed).total_seconds() > int(query["X-Amz-Expires"]):
            raise PostRefused(403, "AccessDenied", "Request has expired")
        bucket = _bucket_of(url, self.endpoint)
        key = _key_of(url, bucket)
        self._authorize_browser(identity, "s3:GetObject", bucket, key, operation="GetObject(presigned)")
        return self.admin("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


class PostRefused(Exception):
    """S3's answer to a refused browser request."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


# ------------------------------------------------------------------------------------------ helpers


def _rekognition_refusal(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """Rekognition's input limits, which moto does not check: image bytes of at most 5 MB, JPEG or PNG,
    at least 80 px on each side (https://docs.aws.amazon.com/rekognition/latest/dg/limits.html)."""
    from PIL import Image

    data = (params.get("Image") or {}).get("Bytes")
    if data is None:
        return None
    if len(data) > 5 * 1024 * 1024:
        return "ImageTooLargeException", "image bytes above 5 MB"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
    except OSError:
        return "InvalidImageFormatException", "the image is not a JPEG or PNG"
    if kind not in ("JPEG", "PNG"):
        return "InvalidImageFormatException", f"{kind} is not a JPEG or PNG"
    if min(size) < 80:
        return "InvalidImageFormatException", f"{size[0]}x{size[1]} is below 80 px on a side"
    return None


def _document(value: Any) -> dict[str, Any]:
    """A policy document as IAM returns it (a dict from boto3, or URL-encoded JSON)."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return value


def _ok(model: Any, parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": parsed.get("StatusCode", 200)})
    return AWSResponse("twin://", parsed.get("StatusCode", 200), {}, None), parsed


def _error_response(model: Any, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    status = 403 if "Denied" in code else 400
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("twin://", status, {}, None), parsed


def _error_payload(invocation: Invocation) -> dict[str, Any]:
    error = invocation.error
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": str(uuid.uuid4()),
        "stackTrace": [],
    }


def _destination_record(invocation: Invocation, qualified_arn: str, attempts: int) -> dict[str, Any]:
    """The record Lambda sends to a destination (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)."""
    failed = invocation.error is not None
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if failed:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": qualified_arn,
            "condition": "RetriesExhausted" if failed else "Success",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": invocation.event,
        "responseContext": response_context,
        "responsePayload": _error_payload(invocation) if failed else invocation.result,
    }


def _event_matches(pattern: str, event_name: str) -> bool:
    """``s3:ObjectCreated:*`` matches ``ObjectCreated:Post``."""
    wanted = pattern.removeprefix("s3:")
    return wanted == event_name or (wanted.endswith(":*") and event_name.startswith(wanted[:-1]))


def _bucket_of(url: str, endpoint: str) -> str:
    """The bucket of a virtual-host (``<bucket>.<endpoint host>``) or path-style URL of the emulator."""
    host = urlparse(url).hostname or ""
    endpoint_host = urlparse(endpoint).hostname or ""
    if host.endswith(f".{endpoint_host}"):
        return host.removesuffix(f".{endpoint_host}")
    if host != endpoint_host:
        raise PostRefused(400, "InvalidURI", f"{url} is not an address of this deployment's S3")
    return urlparse(url).path.lstrip("/").split("/", 1)[0]


def _key_of(url: str, bucket: str) -> str:
    from urllib.parse import unquote

    path = unquote(urlparse(url).path.lstrip("/"))
    virtual_host = (urlparse(url).hostname or "").startswith(f"{bucket}.")
    return path if virtual_host else path.removeprefix(f"{bucket}/")


def _sigv4_signature(secret: str, date: str, region: str, service: str, string_to_sign: str) -> str:
    def sign(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    key = sign(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = sign(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


#: Form fields that the policy need not name (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
_UNCHECKED_FIELDS = {"policy", "x-amz-signature", "file", "bucket"}


def _check_post_conditions(conditions: list[Any], form: Mapping[str, str], size: int) -> None:
    """S3's POST policy conditions: exact matches, ``starts-with`` and ``content-length-range``; every
    form field must be named by a condition."""
    covered = set()
    for condition in conditions:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            name = name.lower()
            covered.add(name)
            if form.get(name) != value:
                raise PostRefused(
                    403,
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["eq", "${name}", "{value}"]',
                )
            continue
        operator, *arguments = condition
        if operator == "content-length-range":
            low, high = (int(a) for a in arguments)
            if not low <= size <= high:
                raise PostRefused(
                    400, "EntityTooLarge" if size > high else "EntityTooSmall", f"{size} bytes outside {low}..{high}"
                )
            continue
        name, value = arguments[0].lstrip("$").lower(), arguments[1]
        covered.add(name)
        actual = form.get(name, "")
        ok = actual == value if operator == "eq" else actual.startswith(value) if operator == "starts-with" else False
        if not ok:
            raise PostRefused(403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}")
    extra = [
        name
        for name in form
        if name not in covered and name not in _UNCHECKED_FIELDS and not name.startswith("x-ignore-")
    ]
    if extra:
        raise PostRefused(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(sorted(extra))}"
        )


class _Context:
    """The Lambda context object, from the function's applied configuration."""

    def __init__(self, configuration: Mapping[str, Any], invoked_arn: str) -> None:
        self.function_name = configuration["FunctionName"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = configuration["MemorySize"]
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = configuration["LoggingConfig"]["LogGroup"]
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]twin"
        self._deadline = time.monotonic() + configuration["Timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _Output:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def lines(self) -> list[str]:
        return [line for line in self.buffer.getvalue().splitlines() if line.strip()]


@contextlib.contextmanager
def _captured_output() -> Iterator[_Output]:
    """What the function prints (its log lines, as Lambda sends stdout to the log group)."""
    output = _Output()
    handlers = []
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream not in (sys.stderr, sys.__stderr__):
                handlers.append((handler, handler.stream))
                handler.setStream(output.buffer)
    try:
        with contextlib.redirect_stdout(output.buffer):
            yield output
    finally:
        for handler, stream in handlers:
            handler.setStream(stream)


def _reset_containers(function_config: Any) -> None:
    """A fresh container: the project's cached settings, clients, ports and API app are rebuilt."""
    function_config.reset()
    api = sys.modules.get("lambdas.handlers.api")
    if api is not None:
        api.app.cache_clear()
        api._mangum.cache_clear()
