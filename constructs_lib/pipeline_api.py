"""The REST API in front of the API function: routes, API key and usage plan, stage with logs and tracing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.api_gateway_api_key import ApiGatewayApiKey
from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_usage_plan_key import ApiGatewayUsagePlanKey
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.iam import account_wide_name, service_trust_policy
from constructs_lib.props import ImagePipelineProps


@dataclass(frozen=True)
class Route:
    """One method of the REST API, proxied to the API function."""

    path: str
    """Resource path (``/``, ``/v1/health``, ``/v1/{proxy+}``)."""

    method: str
    """HTTP method, or ``ANY``."""

    api_key_required: bool
    """Whether API Gateway refuses the request without a valid API key of the usage plan."""


#: Every route of the API. Only the static web page (which holds no data: each data call it makes sends
#: the key), the API reference and its OpenAPI document, and the health check answer without a key;
#: everything else, including paths not listed, needs one.
ROUTES = (
    Route("/", "GET", api_key_required=False),
    Route("/static/{proxy+}", "GET", api_key_required=False),
    Route("/docs", "GET", api_key_required=False),
    Route("/openapi.json", "GET", api_key_required=False),
    Route("/v1/health", "GET", api_key_required=False),
    Route("/v1/{proxy+}", "ANY", api_key_required=True),
    Route("/{proxy+}", "ANY", api_key_required=True),
)

#: With ``cors_allowed_origins``, browsers' preflights of the data routes reach the API function without a
#: key (a preflight never carries one); the function answers them for the configured origins only.
CORS_ROUTES = (Route("/v1/{proxy+}", "OPTIONS", api_key_required=False),)

#: Refusals of API Gateway itself (missing or unknown key, throttling, quota, integration errors) that get
#: ``Access-Control-Allow-Origin`` with ``cors_allowed_origins``, so another origin's page can read why.
CORS_GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")


#: With ``cognito``: how the page learns the managed login's URL and client id (no data, no key, no token).
SIGN_IN_ROUTES = (Route("/v1/sign-in", "GET", api_key_required=False),)


def routes(props: ImagePipelineProps) -> tuple[Route, ...]:
    """The routes of a deployment with ``props``: ``ROUTES``, ``SIGN_IN_ROUTES`` with a user pool, and
    ``CORS_ROUTES`` when other origins are allowed."""
    return (
        ROUTES
        + (SIGN_IN_ROUTES if props.cognito is not None else ())
        + (CORS_ROUTES if props.cors_allowed_origins else ())
    )


def is_data_route(route: Route) -> bool:
    """Whether ``route`` reaches the users' data (it needs a key, and with a user pool a token of it)."""
    return route.api_key_required


#: Access log line: one JSON object per request (``$context`` variables of API Gateway).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "apiKeyId": "$context.identity.apiKeyId",
        "requestTime": "$context.requestTimeEpoch",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "errorMessage": "$context.error.message",
        "xrayTraceId": "$context.xrayTraceId",
    },
    sort_keys=True,
    separators=(",", ":"),
)

#: The AWS managed policy that lets API Gateway write CloudWatch logs for every API of the account.
API_GATEWAY_LOGS_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def snapshot_hash(parts: Sequence[TerraformResource]) -> str:
    """A Terraform expression: the SHA-1 of every attribute of ``parts`` (the API, its validator, resources,
    methods and integrations: what a deployment snapshot holds), as the deployment's redeployment trigger.

    Attributes that are null or empty are left out of the hash: the provider stores an unset map or list
    as null on create and reads it back as empty, which would otherwise replace the deployment on the
    plan after every first apply. A changed integration URI, method setting or validator changes the
    hash, so the stage never keeps serving an old snapshot.
    """
    addresses = ", ".join(f"{part.terraform_resource_type}.{part.friendly_unique_id}" for part in parts)
    present = "{for key, value in part : key => value if value != null && !try(length(value) == 0, false)}"
    return f"${{sha1(jsonencode([for part in [{addresses}] : {present}]))}}"


def _construct_id(path: str) -> str:
    """A short stable id of a path: ``/v1/{proxy+}`` -> ``v1-proxy``; ``/`` -> ``root``."""
    parts = [part.strip("{}+").replace(".", "-") for part in path.strip("/").split("/") if part]
    return "-".join(parts) or "root"


class PipelineApi(Construct):
    """REST API proxied to ``function``: API key on every route but the page and health, usage plan with
    throttle and daily quota, a stage with X-Ray tracing, JSON access logs and metrics."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        props: ImagePipelineProps,
        function: LambdaFunction,
        partition: str,
        region: str,
        user_pool_arn: str | None = None,
    ) -> None:
        """``user_pool_arn`` (with ``props.cognito``) puts a Cognito authorizer of that pool on every data
        route. Default: none."""
        super().__init__(scope, id)
        prefix = props.name_prefix
        self.stage_name = props.api_stage_name
        if (props.cognito is None) != (user_pool_arn is None):
            raise ValueError("user_pool_arn: give it exactly when props.cognito is set")
        self.rest_api = ApiGatewayRestApi(
            self,
            "rest-api",
            name=f"{prefix}-api",
            description="Image management API (proxied to the api function)",
            api_key_source="HEADER",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            # Renditions never pass through the API (presigned URLs), but the web page's assets do.
            minimum_compression_size="1024",
            # A replaced API (new name) exists before the old one goes, so the URL never points nowhere.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.validator = ApiGatewayRequestValidator(
            self,
            "validator",
            name=f"{prefix}-parameters",
            rest_api_id=self.rest_api.id,
            validate_request_parameters=True,
            validate_request_body=False,
        )
        self.authorizer = (
            ApiGatewayAuthorizer(
                self,
                "authorizer",
                name=f"{prefix}-users",
                rest_api_id=self.rest_api.id,
                type="COGNITO_USER_POOLS",
                provider_arns=[user_pool_arn],
                # The page sends the ID token as it is (no "Bearer "), which API Gateway accepts.
                identity_source="method.request.header.Authorization",
            )
            if user_pool_arn is not None
            else None
        )
        keys_required = props.cognito is None or props.cognito.require_api_key
        self.methods: dict[tuple[str, str], ApiGatewayMethod] = {}
        self.resources: list[ApiGatewayResource] = []
        resources: dict[str, str] = {"/": self.rest_api.root_resource_id}
        integrations: list[ApiGatewayIntegration] = []
        for route in routes(props):
            resource_id = self._resource(route.path, resources)
            key = _construct_id(route.path) + "-" + route.method.lower()
            authorized = self.authorizer is not None and is_data_route(route)
            method = ApiGatewayMethod(
                self,
                f"method-{key}",
                rest_api_id=self.rest_api.id,
                resource_id=resource_id,
                http_method=route.method,
                authorization="COGNITO_USER_POOLS" if authorized else "NONE",
                authorizer_id=self.authorizer.id if authorized and self.authorizer else None,
                api_key_required=route.api_key_required and keys_required,
                request_validator_id=self.validator.id,
                request_parameters={"method.request.path.proxy": True} if "{proxy+}" in route.path else None,
            )
            self.methods[(route.path, route.method)] = method
            integrations.append(
                ApiGatewayIntegration(
                    self,
                    f"integration-{key}",
                    rest_api_id=self.rest_api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    type="AWS_PROXY",
                    integration_http_method="POST",
                    uri=function.invoke_arn,
                )
            )
        self.gateway_responses = [
            ApiGatewayGatewayResponse(
                self,
                f"gateway-response-{kind.lower().replace('_', '-')}",
                rest_api_id=self.rest_api.id,
                response_type=kind,
                # No data is in these answers (the reason only); any origin may read them.
                response_parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
            )
            for kind in (CORS_GATEWAY_RESPONSES if props.cors_allowed_origins else ())
        ]
        # A new deployment whenever anything a deployment snapshot holds changes; the new one is created
        # before the old one goes.
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.rest_api.id,
            triggers={
                "snapshot": snapshot_hash(
                    [
                        self.rest_api,
                        self.validator,
                        *([self.authorizer] if self.authorizer else []),
                        *self.resources,
                        *self.methods.values(),
                        *integrations,
                        *self.gateway_responses,
                    ]
                )
            },
            depends_on=[
                *([self.authorizer] if self.authorizer else []),
                *self.methods.values(),
                *integrations,
                *self.gateway_responses,
            ],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.access_logs = CloudwatchLogGroup(
            self,
            "access-logs",
            name=f"/aws/apigateway/{prefix}-api/access",
            retention_in_days=props.log_retention_days,
        )
        # API Gateway creates this group on first error unless it exists; creating it sets its retention.
        self.execution_logs = CloudwatchLogGroup(
            self,
            "execution-logs",
            name=f"API-Gateway-Execution-Logs_{self.rest_api.id}/{props.api_stage_name}",
            retention_in_days=props.log_retention_days,
        )
        self.account = self._account(prefix, partition, region) if props.manage_api_gateway_account else None
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.rest_api.id,
            deployment_id=self.deployment.id,
            stage_name=props.api_stage_name,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            depends_on=[self.execution_logs, *([self.account] if self.account else [])],
        )
        self.method_settings = ApiGatewayMethodSettings(
            self,
            "method-settings",
            rest_api_id=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
                # The stage-wide ceiling also covers the requests without a key (page, health).
                throttling_rate_limit=props.api_throttle_rate_limit,
                throttling_burst_limit=props.api_throttle_burst_limit,
            ),
        )
        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "usage-plan",
            name=f"{prefix}-default",
            description="Throttle and daily quota of every API key: the first line of cost defence",
            api_stages=[ApiGatewayUsagePlanApiStages(api_id=self.rest_api.id, stage=self.stage.stage_name)],
            throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                rate_limit=props.api_throttle_rate_limit, burst_limit=props.api_throttle_burst_limit
            ),
            quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=props.api_daily_quota, period="DAY"),
        )
        self.api_key = ApiGatewayApiKey(
            self, "default-key", name=f"{prefix}-default", description="First API key of the default usage plan"
        )
        ApiGatewayUsagePlanKey(
            self, "default-key-plan", key_id=self.api_key.id, key_type="API_KEY", usage_plan_id=self.usage_plan.id
        )
        self.permission = LambdaPermission(
            self,
            "invoke-permission",
            statement_id="AllowApiGatewayInvoke",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.rest_api.execution_arn}/{props.api_stage_name}/*/*",
        )

    @property
    def url(self) -> str:
        """URL of the stage's root, with its trailing slash
        (``https://<id>.execute-api.<region>.amazonaws.com/<stage>/``).

        The stage's ``invoke_url`` has no trailing slash, and a browser resolves the web page's relative
        links (``static/app.js``, ``v1/images``) against it as if the stage were a file, outside the stage.
        Opened without the slash anyway, the API function redirects to it
        (``lambdas.handlers.api.stage_root_redirect``).
        """
        return f"{self.stage.invoke_url}/"

    def page_url(self, region: str, dns_suffix: str) -> str:
        """The page's URL built from the API's id, without the stage (``url`` would make whatever refers
        to it wait for the deployment, and the API function's environment is part of the deployment)."""
        return f"https://{self.rest_api.id}.execute-api.{region}.{dns_suffix}/{self.stage_name}/"

    def _resource(self, path: str, resources: dict[str, str]) -> str:
        """The id of the API resource of ``path``, creating it and its parents once."""
        if path in resources:
            return resources[path]
        parent_path, _, part = path.rstrip("/").rpartition("/")
        parent_id = self._resource(parent_path or "/", resources)
        resource = ApiGatewayResource(
            self, f"resource-{_construct_id(path)}", rest_api_id=self.rest_api.id, parent_id=parent_id, path_part=part
        )
        resources[path] = resource.id
        self.resources.append(resource)
        return resource.id

    def _account(self, prefix: str, partition: str, region: str) -> ApiGatewayAccount:
        """The account-wide setting that lets API Gateway write logs (one per account and region)."""
        trust = service_trust_policy(self, "logs-trust", "apigateway.amazonaws.com")
        role = IamRole(
            self,
            "logs-role",
            name=account_wide_name(prefix, "apigateway-logs", region),
            description="Lets API Gateway write access and execution logs (account-wide setting)",
            assume_role_policy=trust.json,
        )
        IamRolePolicyAttachment(
            self, "logs-policy", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{API_GATEWAY_LOGS_POLICY}"
        )
        self.logs_role = role
        return ApiGatewayAccount(self, "account", cloudwatch_role_arn=role.arn)
