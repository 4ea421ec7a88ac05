"""IAM documents every construct needs, built from policy documents (never hand-written JSON)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


def account_wide_name(prefix: str, name: str, region: str) -> str:
    """The name of a resource whose names are unique per account, not per region (IAM roles and managed
    policies, budgets): ``<prefix>-<name>-<region>``, so that one prefix deployed in two regions of an
    account never collides. ``region`` may be a token (the region data source's name)."""
    return f"{prefix}-{name}-{region}"


def service_trust_policy(scope: Construct, id: str, service: str) -> DataAwsIamPolicyDocument:
    """The trust policy of a role that only the AWS service ``service`` (``"lambda.amazonaws.com"``) may assume."""
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
            )
        ],
    )
