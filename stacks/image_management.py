"""The ready-made stack: provider, backend and the wiring of the constructs from settings."""

from __future__ import annotations

import os
from pathlib import Path

from cdktf import App, LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.analytics_lake import AnalyticsLake, AnalyticsLakeProps
from constructs_lib.analytics_lake import outputs_of as analytics_outputs_of
from constructs_lib.cost_guard import CostGuard
from constructs_lib.cost_guard_props import CostGuardProps, GuardedPipeline
from constructs_lib.image_pipeline import ImagePipeline, outputs_of
from constructs_lib.props import CognitoProps, ImagePipelineProps
from stacks.settings import Settings

#: Versions of hashicorp/aws the synthesized JSON is valid for. The bindings are generated from 6.25.0,
#: but the configuration uses nothing that 5.100 lacks (``data.aws_region`` is read through ``name``,
#: which 6.x keeps as a deprecated alias of ``region``), so plain Terraform or OpenTofu may pick either.
#: The deployment twin (``tests/twin``) applies it with 5.100.0, the newest provider this project can
#: test offline.
AWS_PROVIDER_CONSTRAINT = ">= 5.100, < 7"


def local_state_path(stack: TerraformStack, stack_id: str) -> str:
    """``terraform.<stack>.tfstate`` in the project root (the directory synthesis runs in, as cdktf's own
    default), relative to the synthesized stack directory that Terraform runs in.

    Never inside the generated ``cdktf.out/``: ``make clean`` deletes it, and an apply without its state
    would try to create every existing resource again.
    """
    stack_dir = Path(App.of(stack).outdir).resolve() / "stacks" / stack_id
    return os.path.relpath(Path.cwd().resolve() / f"terraform.{stack_id}.tfstate", stack_dir)


class ImageManagementStack(TerraformStack):
    """Everything one deployment needs; the only place that creates the provider and the backend."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        self.settings = settings
        self.provider = AwsProvider(
            self,
            "aws",
            region=settings.region,
            default_tags=[AwsProviderDefaultTags(tags=settings.default_tags)],
        )
        # The bindings pin their own version exactly; admit every version the JSON is valid for.
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)
        if settings.state_bucket:
            S3Backend(
                self,
                bucket=settings.state_bucket,
                key=settings.state_key,
                region=settings.region,
                encrypt=True,
                dynamodb_table=settings.state_lock_table,
            )
            if not settings.state_lock_table:
                # S3 native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field for it.
                self.add_override("terraform.backend.s3.use_lockfile", True)
        else:
            LocalBackend(self, path=local_state_path(self, id))
        self.pipeline = ImagePipeline(
            self,
            "pipeline",
            props=ImagePipelineProps(
                name_prefix=settings.name_prefix,
                manage_api_gateway_account=settings.manage_api_gateway_account,
                cognito=CognitoProps(
                    domain_prefix=settings.cognito_domain_prefix,
                    self_sign_up=settings.cognito_self_sign_up,
                    require_api_key=settings.cognito_require_api_key,
                )
                if settings.cognito_domain_prefix
                else None,
            ),
        )
        self.analytics = AnalyticsLake(
            self,
            "analytics",
            props=AnalyticsLakeProps(
                pipeline=self.pipeline,
                enable_quicksight=settings.enable_quicksight,
                quicksight_principal_arn=settings.quicksight_principal_arn,
            ),
        )
        self.cost_guard = CostGuard(
            self,
            "cost",
            props=CostGuardProps(
                # The exporter works for the pipeline: the brake covers its role, the alarms and dashboard it.
                pipeline=GuardedPipeline.of(
                    self.pipeline,
                    extra_roles={"exporter": self.analytics.exporter_role},
                    extra_functions={
                        "exporter": (self.analytics.exporter, self.analytics.props.exporter_size.timeout_seconds)
                    },
                ),
                name_prefix=settings.name_prefix,
                monthly_budget_usd=settings.monthly_budget_usd,
                alert_emails=settings.alert_emails,
            ),
        )
        outputs = {
            **outputs_of(self.pipeline),
            **analytics_outputs_of(self.analytics),
            "alert_topic_arn": self.cost_guard.topic.arn,
        }
        for name, value in outputs.items():
            output = TerraformOutput(self, name, value=value)
            output.override_logical_id(name)
        # The key's value, for the operator to hand out: `terraform output -raw api_key_value` (sensitive:
        # never printed by plan or apply; it is in the state like every secret a resource returns).
        key_value = TerraformOutput(
            self,
            "api_key_value",
            value=self.pipeline.api.api_key.value,
            sensitive=True,
            description="Value of the default API key (send it as the x-api-key header)",
        )
        key_value.override_logical_id("api_key_value")
