"""``CostGuard``: keeps a deployment inside its budget. Alerts, usage budgets, alarms, a dashboard, and
the brake.

- **Topic**: one SNS topic receives every budget notification and alarm; ``alert_emails`` subscribe to
  it (each confirms once by e-mail). It is not encrypted: AWS Budgets and CloudWatch alarms cannot
  publish to a topic under the AWS managed key ``alias/aws/sns`` (its key policy cannot be changed to
  let them), and a customer-managed key costs 1 USD a month, a fifth of the default budget. The topic
  carries only alert texts (amounts, alarm names), never image data.
- **Budgets**: a monthly COST budget of this deployment (the costs of resources tagged
  ``Project=<name_prefix>`` by default, before credits), alerting at ``actual_alert_percent`` actual and
  ``forecast_alert_percent`` forecast (to the topic and, directly, to the e-mails: Budgets needs no
  subscription confirmation), and USAGE budgets against free-tier allowances (Lambda GB-seconds,
  Rekognition images) on the usage types of the deployment's region. The tag must be activated as a
  cost allocation tag in Billing before the budget counts anything (``CostGuardProps``); until then it
  sees 0 USD.
- **The brake**: at ``brake_percent`` of the budget, actual, AWS Budgets attaches the managed policy
  ``<prefix>-cost-brake`` to every pipeline role, automatically; a second budget action does the same at
  ``brake_percent`` of the ``rekognition-images`` usage budget (any ``UsageBudget`` with ``brake``),
  because DetectLabels is billed to no taggable resource and the tag-filtered cost budget never sees it:
  at 20,000 images a month it would see about 4 of 23 USD and never brake. Both actions share the
  policy, the roles, the execution role and the automatic approval; AWS Budgets bills nothing for the
  first two action-enabled budgets of an account (``CostGuardProps.action_budget_count``, 0.10 USD a day
  for each beyond). The policy denies what costs and keeps the data readable: ``rekognition:DetectLabels``; ``s3:PutObject`` under ``uploads/`` and ``renditions/`` (no
  presigned upload can succeed, no rendition is written); and the replays of the redrive function.
  Reads, deletes and the table stay allowed, so users still see and delete their images. A step that
  is denied fails transiently (``Dependency.AccessDenied``) and its event waits in the dead-letter queue.
  Function invocations by S3 and by Lambda destinations are not denied (a denied destination would drop
  the event); without new uploads there are none. Extra roles (``GuardedPipeline.of(pipeline,
  extra_roles=...)``, the ready stack passes the analytics exporter's) get the same policy; the
  exporter's own writes under ``analytics/`` stay allowed on purpose: CloudWatch Logs invokes it
  whatever its role may do, so a denied write would only add two retries and a dead-letter message to
  each invocation, while the events it writes cost a fraction of a cent.

  The operator lifts it: raise ``monthly_budget_usd``, or the limit of the usage budget that braked (or
  wait for the next month), then reverse the action that fired (both, if both did), which detaches the
  policy::

      aws budgets describe-budget-actions-for-account --account-id <account>
      aws budgets execute-budget-action --account-id <account> --budget-name <prefix>-monthly-cost \\
          --action-id <action id> --execution-type REVERSE_BUDGET_ACTION

  (``--budget-name <prefix>-rekognition-images`` for the usage budget's action), and replays what waited with ``imgmgr redrive``. ``imgmgr`` has no command for it on purpose: lifting
  a cost brake is a decision to spend, taken with the account's own credentials.
- **Alarms** (to the topic, standard resolution), 4 alarm metrics plus one per watched function of the
  10 free (9 for the pipeline's five functions, 10 in the ready stack, which adds the exporter), metric-math metrics
  counted one by one (``alarm_metric_counts``): dead-letter queue depth above 0 (1); API 5xx above
  ``api_5xx_threshold`` (1); Lambda errors and throttles of the account and region (1 each: the
  aggregate metric without dimensions covers every function for the price of one, and the concurrency
  that throttles is the account's); the longest run of each function over ``near_timeout_ratio`` of its
  timeout, one metric-math alarm over the duration metric of each function (one each).
- **Dashboard**: one (3 are free). No custom metric is created (10 are free).

The construct creates no provider.

Size: one construct; each budget, alarm and the brake's policy is a resource with its reason beside it.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

from cdktf import TerraformStack, Token
from cdktf_cdktf_provider_aws.budgets_budget import (
    BudgetsBudget,
    BudgetsBudgetCostFilter,
    BudgetsBudgetCostTypes,
    BudgetsBudgetNotification,
)
from cdktf_cdktf_provider_aws.budgets_budget_action import (
    BudgetsBudgetAction,
    BudgetsBudgetActionActionThreshold,
    BudgetsBudgetActionDefinition,
    BudgetsBudgetActionDefinitionIamActionDefinition,
    BudgetsBudgetActionSubscriber,
)
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib import grants
from constructs_lib.cost_guard_props import CostGuardProps, PropsError, UsageBudget, regional_usage_types
from constructs_lib.iam import account_wide_name

#: Publish a notification to the alert topic (Budgets and CloudWatch, on this account's behalf only).
TOPIC_PUBLISH_ACTIONS = ("sns:Publish",)

#: Attach and detach the brake policy: all the budget action's execution role may do.
BRAKE_ATTACH_ACTIONS = ("iam:AttachRolePolicy", "iam:DetachRolePolicy")

#: Services that publish to the alert topic.
PUBLISHING_SERVICES = ("budgets.amazonaws.com", "cloudwatch.amazonaws.com")

#: Lambda's aggregate metrics (no dimension) that the account-wide alarms watch.
ACCOUNT_WIDE_LAMBDA_METRICS = ("Errors", "Throttles")


class CostGuard(Construct):
    """Alert topic, cost and usage budgets, the brake, alarms and a dashboard for one pipeline.

    Children are typed attributes: ``topic``, ``subscriptions``, ``budget``, ``usage_budgets``,
    ``brake_policy``, ``brake_role``, ``brake`` (the cost budget's action; ``None`` when ``brake_enabled``
    is off), ``usage_brakes`` (the actions of the usage budgets that brake, by name), ``alarms``,
    ``dashboard``; ``alarm_metric_counts`` says how many alarm metrics each alarm is billed for;
    ``usage_region`` is the region whose usage types the usage budgets count (``None`` when none is
    regional). Raises ``PropsError`` naming ``region`` when a usage budget is regional and the region
    is neither given nor a plain string on the stack's AWS provider.
    """

    def __init__(self, scope: Construct, id: str, *, props: CostGuardProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self._prefix = props.name_prefix
        self.caller = DataAwsCallerIdentity(self, "caller")
        self.region = DataAwsRegion(self, "region")

        self.topic = SnsTopic(
            self,
            "alerts",
            name=f"{self._prefix}-alerts",
            display_name=f"{self._prefix} cost and health alerts",
        )
        self.topic_policy = self._topic_policy()
        self.subscriptions = [
            SnsTopicSubscription(
                self,
                # Keyed by the address, not its position: removing one address replaces nothing else.
                f"alert-email-{hashlib.sha256(email.lower().encode()).hexdigest()[:10]}",
                topic_arn=self.topic.arn,
                protocol="email",
                endpoint=email,
            )
            for email in props.alert_emails
        ]
        tag = props.cost_allocation_tag
        self.budget = BudgetsBudget(
            self,
            "monthly-cost",
            name=account_wide_name(self._prefix, "monthly-cost", self.region.name),
            budget_type="COST",
            limit_amount=f"{props.monthly_budget_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            # User-defined tags are "user:<key>$<value>" in Budgets' TagKeyValue dimension.
            cost_filter=[BudgetsBudgetCostFilter(name="TagKeyValue", values=[f"user:{tag[0]}${tag[1]}"])]
            if tag
            else None,
            cost_types=BudgetsBudgetCostTypes(include_credit=props.count_credits),
            notification=self._notifications(emails=list(props.alert_emails)),
            # Budgets checks that it may publish to the topic when the budget is created.
            depends_on=[self.topic_policy],
        )
        regional = any(budget.regional for budget in props.usage_budgets)
        self.usage_region: str | None = self._usage_region() if regional else None
        self.usage_budgets = {
            budget.name: self._usage_budget(budget, self.usage_region) for budget in props.usage_budgets
        }
        self.brake_policy: IamPolicy | None = None
        self.brake_role: IamRole | None = None
        self.brake: BudgetsBudgetAction | None = None
        self.usage_brakes: dict[str, BudgetsBudgetAction] = {}
        if props.brake_enabled:
            self._brake()
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self.alarm_metric_counts: dict[str, int] = {}
        self._alarms()
        self.dashboard = self._dashboard() if props.dashboard else None

    @property
    def alarm_metric_count(self) -> int:
        """Alarm metrics billed for every alarm of this construct (10 are free each month)."""
        return sum(self.alarm_metric_counts.values())

    # ------------------------------------------------------------------------------------------ topic

    def _topic_policy(self) -> SnsTopicPolicy:
        document = DataAwsIamPolicyDocument(
            self,
            "alerts-policy-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="PublishAlertsOfThisAccount",
                    effect="Allow",
                    actions=list(TOPIC_PUBLISH_ACTIONS),
                    resources=[self.topic.arn],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=list(PUBLISHING_SERVICES)
                        )
                    ],
                    # The confused-deputy guard: only this account's budgets and alarms.
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[self.caller.account_id]
                        )
                    ],
                )
            ],
        )
        return SnsTopicPolicy(self, "alerts-policy", arn=self.topic.arn, policy=document.json)

    # ---------------------------------------------------------------------------------------- budgets

    def _notifications(self, *, emails: list[str]) -> list[BudgetsBudgetNotification]:
        props = self.props
        return [
            BudgetsBudgetNotification(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=threshold,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[self.topic.arn],
                subscriber_email_addresses=emails or None,
            )
            for kind, threshold in (
                ("ACTUAL", props.actual_alert_percent),
                ("FORECASTED", props.forecast_alert_percent),
            )
        ]

    def _usage_region(self) -> str:
        """``props.region``, or the region of the stack's default AWS provider when it is a plain string."""
        if self.props.region is not None:
            return self.props.region
        providers = [
            node
            for node in TerraformStack.of(self).node.find_all()
            if isinstance(node, AwsProvider) and node.alias is None
        ]
        region = providers[0].region if len(providers) == 1 else None
        if region is None or Token.is_unresolved(region):
            raise PropsError(
                "region: the usage budgets need the deployment's region to name its usage types, and the "
                "stack has no AWS provider (without alias) whose region is a plain string; set "
                "CostGuardProps(region=...)"
            )
        return region

    def _usage_budget(self, budget: UsageBudget, region: str | None) -> BudgetsBudget:
        usage_types = budget.usage_types
        if budget.regional and region is not None:
            usage_types = regional_usage_types(usage_types, region)
        return BudgetsBudget(
            self,
            f"usage-{budget.name}",
            name=account_wide_name(self._prefix, budget.name, self.region.name),
            budget_type="USAGE",
            limit_amount=f"{budget.limit_for(self.props.monthly_budget_usd):g}",
            limit_unit=budget.unit,
            time_unit="MONTHLY",
            cost_filter=[BudgetsBudgetCostFilter(name="UsageType", values=list(usage_types))],
            notification=self._notifications(emails=[]),
            depends_on=[self.topic_policy],
        )

    # ------------------------------------------------------------------------------------------ brake

    def _brake(self) -> None:
        props = self.props
        pipeline = props.pipeline
        statements = [
            DataAwsIamPolicyDocumentStatement(
                sid="DenyLabelDetection",
                effect="Deny",
                actions=list(grants.LABEL_DETECT_ACTIONS),
                resources=[grants.ALL_RESOURCES],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="DenyNewObjects",
                effect="Deny",
                actions=list(grants.OBJECT_WRITE_ACTIONS),
                resources=list(grants.object_arns(pipeline.bucket_arn, pipeline.paid_write_prefixes)),
            ),
        ]
        if pipeline.replay_role is not None:
            statements.append(
                DataAwsIamPolicyDocumentStatement(
                    sid="DenyReplays",
                    effect="Deny",
                    actions=list(grants.FUNCTION_INVOKE_ACTIONS),
                    resources=[pipeline.functions[name].arn for name in pipeline.replay_targets],
                    # Only the replaying role: a step's own destination invocation uses the same action,
                    # and a denied destination would drop the event instead of queueing it.
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnEquals",
                            variable="aws:PrincipalArn",
                            values=[pipeline.roles[pipeline.replay_role].arn],
                        )
                    ],
                )
            )
        deny = DataAwsIamPolicyDocument(self, "brake-document", statement=statements)
        self.brake_policy = IamPolicy(
            self,
            "brake-policy",
            name=account_wide_name(self._prefix, "cost-brake", self.region.name),
            description="Attached by the budget action at the monthly limit: stops spending, keeps data readable",
            policy=deny.json,
        )
        trust = DataAwsIamPolicyDocument(
            self,
            "brake-trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    effect="Allow",
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["budgets.amazonaws.com"]
                        )
                    ],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[self.caller.account_id]
                        )
                    ],
                )
            ],
        )
        self.brake_role = IamRole(
            self,
            "brake-role",
            name=account_wide_name(self._prefix, "cost-brake", self.region.name),
            description="Assumed by AWS Budgets to attach and detach the cost brake on the pipeline roles",
            assume_role_policy=trust.json,
        )
        roles = list(pipeline.roles.values())
        attach = DataAwsIamPolicyDocument(
            self,
            "brake-role-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="AttachTheBrakeOnly",
                    effect="Allow",
                    actions=list(BRAKE_ATTACH_ACTIONS),
                    resources=[role.arn for role in roles],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="ArnEquals", variable="iam:PolicyARN", values=[self.brake_policy.arn]
                        )
                    ],
                )
            ],
        )
        role_policy = IamRolePolicy(
            self,
            "brake-role-policy",
            role=self.brake_role.id,
            name=f"{self._prefix}-cost-brake",
            policy=attach.json,
        )
        actions = partial(
            self._brake_action, policy=self.brake_policy, execution_role=self.brake_role, roles=roles, after=role_policy
        )
        self.brake = actions("brake", self.budget)
        # Usage that no tag-filtered cost budget sees (Rekognition) brakes at its own budget, with the same
        # policy, roles, execution role and approval: one brake, two triggers.
        self.usage_brakes = {
            budget.name: actions(f"brake-{budget.name}", self.usage_budgets[budget.name])
            for budget in props.usage_budgets
            if budget.brake
        }

    def _brake_action(
        self,
        id: str,
        budget: BudgetsBudget,
        *,
        policy: IamPolicy,
        execution_role: IamRole,
        roles: list[IamRole],
        after: IamRolePolicy,
    ) -> BudgetsBudgetAction:
        """The budget action that has ``execution_role`` attach ``policy`` to ``roles`` when ``budget``'s
        actual amount reaches ``brake_percent``, once ``after`` (the execution role's permission) exists."""
        props = self.props
        subscribers = [BudgetsBudgetActionSubscriber(subscription_type="SNS", address=self.topic.arn)]
        subscribers += [
            BudgetsBudgetActionSubscriber(subscription_type="EMAIL", address=email) for email in props.alert_emails
        ]
        return BudgetsBudgetAction(
            self,
            id,
            budget_name=budget.name,
            action_type="APPLY_IAM_POLICY",
            approval_model="AUTOMATIC",
            notification_type="ACTUAL",
            action_threshold=BudgetsBudgetActionActionThreshold(
                action_threshold_type="PERCENTAGE", action_threshold_value=props.brake_percent
            ),
            definition=BudgetsBudgetActionDefinition(
                iam_action_definition=BudgetsBudgetActionDefinitionIamActionDefinition(
                    policy_arn=policy.arn, roles=[role.name for role in roles]
                )
            ),
            execution_role_arn=execution_role.arn,
            subscriber=subscribers,
            depends_on=[after],
        )

    # ----------------------------------------------------------------------------------------- alarms

    def _alarm(self, name: str, description: str, metric_count: int, **settings: Any) -> None:
        topic = [self.topic.arn]
        self.alarms[name] = CloudwatchMetricAlarm(
            self,
            f"alarm-{name}",
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            alarm_actions=topic,
            ok_actions=topic,
            **settings,
        )
        self.alarm_metric_counts[name] = metric_count

    def _alarms(self) -> None:
        props = self.props
        pipeline = props.pipeline
        period = props.alarm_period_seconds
        self._alarm(
            "dead-letters",
            "A pipeline step failed after its retries: its event waits in the dead-letter queue (imgmgr redrive)",
            1,
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": pipeline.dead_letter_queue.name},
            statistic="Maximum",
            period=period,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
        )
        self._alarm(
            "api-5xx",
            "The API answered with server errors",
            1,
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions={"ApiName": pipeline.rest_api_name, "Stage": pipeline.api_stage_name},
            statistic="Sum",
            period=period,
            comparison_operator="GreaterThanThreshold",
            threshold=props.api_5xx_threshold,
        )
        for metric in ACCOUNT_WIDE_LAMBDA_METRICS:
            self._alarm(
                f"lambda-{metric.lower()}",
                f"Lambda {metric.lower()} in this account and region (every function: one metric for all)",
                1,
                namespace="AWS/Lambda",
                metric_name=metric,
                statistic="Sum",
                period=period,
                comparison_operator="GreaterThanThreshold",
                threshold=0,
            )
        queries = []
        ratios = []
        for index, (name, function) in enumerate(sorted(pipeline.functions.items())):
            queries.append(
                CloudwatchMetricAlarmMetricQuery(
                    id=f"d{index}",
                    return_data=False,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        namespace="AWS/Lambda",
                        metric_name="Duration",
                        dimensions={"FunctionName": function.function_name},
                        stat="Maximum",
                        period=period,
                    ),
                )
            )
            # Duration is in milliseconds: the share of the timeout used by the longest run.
            ratios.append(f"d{index} / {pipeline.timeouts_seconds[name] * 1000}")
        queries.append(
            CloudwatchMetricAlarmMetricQuery(
                id="worst",
                expression=f"MAX([{', '.join(ratios)}])",
                label="Longest run as a share of its timeout",
                return_data=True,
            )
        )
        self._alarm(
            "near-timeout",
            f"A function ran longer than {props.near_timeout_ratio:.0%} of its timeout: raise its memory or timeout",
            len(pipeline.functions),
            metric_query=queries,
            comparison_operator="GreaterThanThreshold",
            threshold=props.near_timeout_ratio,
        )

    # -------------------------------------------------------------------------------------- dashboard

    def _dashboard(self) -> CloudwatchDashboard:
        pipeline = self.props.pipeline
        region = self.region.name
        functions = sorted(pipeline.functions.items())

        def lambda_metrics(metric: str, stat: str) -> list[list[Any]]:
            return [
                ["AWS/Lambda", metric, "FunctionName", function.function_name, {"stat": stat, "label": name}]
                for name, function in functions
            ]

        def widget(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "period": 300,
                    "metrics": metrics,
                },
            }

        api = ["AWS/ApiGateway"]
        api_dimensions = ["ApiName", pipeline.rest_api_name, "Stage", pipeline.api_stage_name]
        body = {
            "widgets": [
                widget("Invocations", lambda_metrics("Invocations", "Sum"), 0, 0),
                widget("Errors", lambda_metrics("Errors", "Sum"), 12, 0),
                widget("Longest run (ms)", lambda_metrics("Duration", "Maximum"), 0, 6),
                widget("Throttles", lambda_metrics("Throttles", "Sum"), 12, 6),
                widget(
                    "API requests and errors",
                    [
                        [*api, "Count", *api_dimensions, {"stat": "Sum"}],
                        [*api, "4XXError", *api_dimensions, {"stat": "Sum"}],
                        [*api, "5XXError", *api_dimensions, {"stat": "Sum"}],
                    ],
                    0,
                    12,
                ),
                widget(
                    "Dead-letter queue and Rekognition",
                    [
                        [
                            "AWS/SQS",
                            "ApproximateNumberOfMessagesVisible",
                            "QueueName",
                            pipeline.dead_letter_queue.name,
                            {"stat": "Maximum"},
                        ],
                        ["AWS/Rekognition", "SuccessfulRequestCount", "Operation", "DetectLabels", {"stat": "Sum"}],
                    ],
                    12,
                    12,
                ),
            ]
        }
        # Resource names inside the body are Terraform references, resolved at apply time.
        return CloudwatchDashboard(
            self, "dashboard", dashboard_name=f"{self._prefix}-overview", dashboard_body=json.dumps(body)
        )
