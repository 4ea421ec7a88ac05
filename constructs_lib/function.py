"""``FunctionBlock``: one Lambda function with its log group, execution role, role policy and asynchronous
invocation settings, built the same way for every function of every construct.

The block is no construct of its own: its resources are children of the construct that owns the function,
with the ids ``<name>-logs``, ``<name>-trust``, ``<name>-role``, ``<name>-policy``, ``<name>-function``,
``<name>-async`` and ``<name>-policy-document``, so that their Terraform addresses are the ones those
constructs always gave them (another address would replace the resource).

Statements granted to the block are collected and attached once, merged (``grants.merge``), as the role's
one inline policy (``attach_policy``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import (
    LambdaFunctionEventInvokeConfig,
    LambdaFunctionEventInvokeConfigDestinationConfig,
    LambdaFunctionEventInvokeConfigDestinationConfigOnFailure,
    LambdaFunctionEventInvokeConfigDestinationConfigOnSuccess,
)
from constructs import Construct

from constructs_lib import grants
from constructs_lib.grants import Statement
from constructs_lib.iam import service_trust_policy
from constructs_lib.props import LOG_RETENTION_DAYS, FunctionSize, PropsError


@dataclass(frozen=True, kw_only=True)
class FunctionCode:
    """What a function runs: one archive and its dependencies layer, built for one runtime and
    architecture (every function of the stack runs the pipeline's, ``ImagePipeline.code``)."""

    filename: str
    """Path of the function archive (a Terraform asset's ``path``). Default: none (required)."""

    source_code_hash: str
    """Base64-encoded SHA-256 of the archive. Default: none (required)."""

    layer_arn: str
    """ARN of the layer version with the third-party packages. Default: none (required)."""

    runtime: str
    """Lambda runtime the layer is built for (``"python3.12"``). Default: none (required)."""

    architecture: str
    """Instruction set the layer is built for (``"arm64"``). Default: none (required)."""


@dataclass(frozen=True, kw_only=True)
class FunctionBlockProps:
    """Options of ``FunctionBlock``."""

    function_name: str
    """Name of the function; its log group is ``/aws/lambda/<function_name>`` and its role policy
    ``<function_name>-permissions``. Default: none (required)."""

    role_name: str
    """Name of the execution role (``iam.account_wide_name``: role names are unique per account).
    Default: none (required)."""

    description: str
    """What the function does. Default: none (required)."""

    handler: str
    """Entry point inside the archive (``"lambdas.handlers.compress.handler"``). Default: none (required)."""

    code: FunctionCode
    """Archive, layer, runtime and architecture. Default: none (required)."""

    size: FunctionSize
    """Memory and timeout. Default: none (required)."""

    environment: Mapping[str, str]
    """Environment variables, in the order given. Default: none (required)."""

    log_retention_days: int
    """Days the log group keeps the function's logs (a CloudWatch retention value). Default: none (required)."""

    def __post_init__(self) -> None:
        self.size.validate("size")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise PropsError(f"log_retention_days: {self.log_retention_days!r} is not a CloudWatch retention value")


class FunctionBlock:
    """A Lambda function with its log group (``log_group``), execution role (``role``) whose inline policy
    (``policy``) holds what is granted to it (``grant``), and, once ``invoke_asynchronously`` is called,
    its retries and destinations (``async_config``). Its resources are children of ``scope``, their ids
    start with ``name``."""

    def __init__(self, scope: Construct, name: str, *, props: FunctionBlockProps) -> None:
        self.props = props
        self._scope = scope
        self._name = name
        function_name = props.function_name
        self.log_group = CloudwatchLogGroup(
            scope, f"{name}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=props.log_retention_days
        )
        trust = service_trust_policy(scope, f"{name}-trust", "lambda.amazonaws.com")
        self.role = IamRole(
            scope,
            f"{name}-role",
            name=props.role_name,
            description=f"Execution role of {function_name}: only what it does",
            assume_role_policy=trust.json,
        )
        # The document is attached once every grant is known (attach_policy).
        self.policy = IamRolePolicy(
            scope, f"{name}-policy", role=self.role.id, name=f"{function_name}-permissions", policy="{}"
        )
        self._statements: list[Statement] | None = [grants.write_logs(self.log_group.arn), grants.write_traces()]
        code = props.code
        self._environment = dict(props.environment)
        self.function = LambdaFunction(
            scope,
            f"{name}-function",
            function_name=function_name,
            description=props.description,
            role=self.role.arn,
            runtime=code.runtime,
            architectures=[code.architecture],
            handler=props.handler,
            filename=code.filename,
            source_code_hash=code.source_code_hash,
            layers=[code.layer_arn],
            memory_size=props.size.memory_mb,
            timeout=props.size.timeout_seconds,
            environment=LambdaFunctionEnvironment(variables=dict(self._environment)),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            logging_config=LambdaFunctionLoggingConfig(log_format="Text", log_group=self.log_group.name),
            # The log group exists (with its retention) before the function can write to it, and the
            # permissions before the first invocation.
            depends_on=[self.log_group, self.policy],
        )
        self.async_config: LambdaFunctionEventInvokeConfig | None = None

    @property
    def policy_attached(self) -> bool:
        """Whether ``attach_policy`` was called (a grant is refused from then on)."""
        return self._statements is None

    def grant(self, *statements: Statement) -> None:
        """Adds ``statements`` to the role's policy; raises ``RuntimeError`` once it is attached."""
        if self._statements is None:
            raise RuntimeError(f"grant: the policy of {self.props.function_name} is attached already")
        self._statements.extend(statements)

    def invoke_asynchronously(
        self,
        *,
        retry_attempts: int,
        max_event_age_seconds: int,
        dead_letter_queue_arn: str,
        on_success: FunctionBlock | None = None,
    ) -> LambdaFunctionEventInvokeConfig:
        """Retries and destinations of asynchronous invocations: after ``retry_attempts`` retries, or
        ``max_event_age_seconds``, an event goes to the queue ``dead_letter_queue_arn``; a success invokes
        ``on_success``'s function when given (default: no success destination). Lambda sends to a
        destination with the function's own role, so the role is granted both."""
        self.grant(grants.send_to_queue(dead_letter_queue_arn, sid="SendToDeadLetterQueue"))
        if on_success is not None:
            self.grant(grants.invoke_functions([on_success.function.arn]))
        self.async_config = LambdaFunctionEventInvokeConfig(
            self._scope,
            f"{self._name}-async",
            function_name=self.function.function_name,
            maximum_retry_attempts=retry_attempts,
            maximum_event_age_in_seconds=max_event_age_seconds,
            destination_config=LambdaFunctionEventInvokeConfigDestinationConfig(
                on_success=LambdaFunctionEventInvokeConfigDestinationConfigOnSuccess(
                    destination=on_success.function.arn
                )
                if on_success is not None
                else None,
                on_failure=LambdaFunctionEventInvokeConfigDestinationConfigOnFailure(destination=dead_letter_queue_arn),
            ),
            depends_on=[self.policy],
        )
        return self.async_config

    def add_environment(self, variables: Mapping[str, str]) -> None:
        """Adds ``variables`` to the function's environment, for a construct that uses the function after
        its owner built it; ``PropsError`` for a name the function has already."""
        taken = sorted(set(variables) & set(self._environment))
        if taken:
            raise PropsError(f"environment: {', '.join(taken)} of {self.props.function_name} are set already")
        self._environment.update(variables)
        self.function.put_environment(variables=dict(self._environment))

    def add_policy(self, name: str, statements: Sequence[Statement]) -> IamRolePolicy:
        """A further inline policy of the role, ``<function>-<name>`` (ids ``<block>-<name>-policy`` and
        ``-policy-document``), for a construct that grants the function more once its owner attached the
        role's own policy."""
        document = grants.policy_document(self._scope, f"{self._name}-{name}-policy-document", grants.merge(statements))
        return IamRolePolicy(
            self._scope,
            f"{self._name}-{name}-policy",
            role=self.role.id,
            name=f"{self.props.function_name}-{name}",
            policy=document.json,
        )

    def attach_policy(self) -> IamRolePolicy:
        """Attaches every statement granted so far, merged, as the role's policy (its document is
        ``<name>-policy-document``); raises ``RuntimeError`` when called twice."""
        if self._statements is None:
            raise RuntimeError(f"attach_policy: the policy of {self.props.function_name} is attached already")
        statements, self._statements = grants.merge(self._statements), None
        document = grants.policy_document(self._scope, f"{self._name}-policy-document", statements)
        self.policy.policy = document.json
        return self.policy
