"""IAM documents every construct needs, built from policy documents (never hand-written JSON)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


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
