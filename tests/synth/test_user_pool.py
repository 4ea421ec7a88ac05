"""The Cognito user pool option (``ImagePipelineProps.cognito``) in the ready stack, and its absence by default."""

from __future__ import annotations

from typing import Any

import cdktf
from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
from cdktf_cdktf_provider_aws.cognito_user_pool import CognitoUserPool
from cdktf_cdktf_provider_aws.cognito_user_pool_client import CognitoUserPoolClient
from cdktf_cdktf_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain

from lambdas.contract import Env
from tests.synth.support import Synthesized
from tests.synth.test_image_pipeline import _method_paths

#: The routes that reach the users' data: a Cognito token is required on exactly these.
DATA_ROUTES = {("/v1/{proxy+}", "ANY"), ("/{proxy+}", "ANY")}
COGNITO_TYPES = (
    CognitoUserPool.TF_RESOURCE_TYPE,
    CognitoUserPoolClient.TF_RESOURCE_TYPE,
    CognitoUserPoolDomain.TF_RESOURCE_TYPE,
    ApiGatewayAuthorizer.TF_RESOURCE_TYPE,
)


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.values()))


def _api_environment(synthesized: Synthesized) -> dict[str, str]:
    functions = synthesized.resources("aws_lambda_function").values()
    api = next(f for f in functions if f["function_name"] == "imgmgr-api")
    return api["environment"]["variables"]


# ------------------------------------------------------------------------------------------ off by default


def test_the_default_stack_has_no_user_pool_and_no_authorizer(synthesized: Synthesized) -> None:
    # GIVEN the default synthesis THEN none of the option's resources, outputs or variables are in it
    for resource_type in COGNITO_TYPES:
        assert synthesized.resources(resource_type) == {}
    assert not [name for name in synthesized.document["output"] if name.startswith("user_pool")]
    assert not [name for name in _api_environment(synthesized) if "COGNITO" in name]
    # AND every method still authorizes by key alone, with no sign-in route
    methods = _method_paths(synthesized)
    assert {method["authorization"] for method in methods.values()} == {"NONE"}
    assert ("/v1/sign-in", "GET") not in methods


# ------------------------------------------------------------------------------------------------ the pool


def test_the_pool_signs_in_by_verified_email_with_strong_passwords(synthesized_cognito: Synthesized) -> None:
    # GIVEN the stack with the option THEN its one pool has the secure defaults
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized_cognito.json_text,
        CognitoUserPool.TF_RESOURCE_TYPE,
        {
            "name": "imgmgr-users",
            "username_attributes": ["email"],
            "auto_verified_attributes": ["email"],
            "username_configuration": {"case_sensitive": False},
            "password_policy": {
                "minimum_length": 12,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": True,
                "temporary_password_validity_days": 3,
            },
            "mfa_configuration": "OPTIONAL",
            "software_token_mfa_configuration": {"enabled": True},
            "account_recovery_setting": {"recovery_mechanism": [{"name": "verified_email", "priority": 1}]},
            "deletion_protection": "ACTIVE",
        },
    )


def test_the_pool_stays_in_the_free_tier_and_admits_only_admin_created_users(synthesized_cognito: Synthesized) -> None:
    # GIVEN the pool THEN it is on the Lite plan, without threat protection, and sign-up is closed by default
    pool = _only(synthesized_cognito.resources(CognitoUserPool.TF_RESOURCE_TYPE))
    assert pool["user_pool_tier"] == "LITE"
    assert pool["user_pool_add_ons"] == {"advanced_security_mode": "OFF"}
    assert pool["admin_create_user_config"] == {"allow_admin_create_user_only": True}


def test_the_page_client_is_public_with_the_code_grant_only(synthesized_cognito: Synthesized) -> None:
    # GIVEN the app client THEN it has no secret, only the code grant, short tokens and no user enumeration
    client = _only(synthesized_cognito.resources(CognitoUserPoolClient.TF_RESOURCE_TYPE))
    assert client["generate_secret"] is False
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["allowed_oauth_flows_user_pool_client"] is True
    assert client["allowed_oauth_scopes"] == ["openid", "email"]
    assert client["supported_identity_providers"] == ["COGNITO"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["explicit_auth_flows"]
    assert (client["access_token_validity"], client["id_token_validity"], client["refresh_token_validity"]) == (
        60,
        60,
        1,
    )
    assert client["token_validity_units"] == [
        {"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}
    ]
    assert client["prevent_user_existence_errors"] == "ENABLED"
    assert client["enable_token_revocation"] is True


def test_the_client_sends_users_back_to_the_stage_page(synthesized_cognito: Synthesized) -> None:
    # GIVEN the app client THEN its only callback and sign-out URL is the stage's page, built from the API's id
    client = _only(synthesized_cognito.resources(CognitoUserPoolClient.TF_RESOURCE_TYPE))
    (page,) = client["callback_urls"]
    assert client["logout_urls"] == [page]
    assert page.startswith("https://${aws_api_gateway_rest_api.")
    assert page.endswith("/prod/")
    # AND not from the stage, whose deployment waits for the API function that names this client
    assert "aws_api_gateway_stage" not in page


def test_the_managed_login_has_the_configured_domain(synthesized_cognito: Synthesized) -> None:
    domain = _only(synthesized_cognito.resources(CognitoUserPoolDomain.TF_RESOURCE_TYPE))
    assert domain["domain"] == "imgmgr-test-users"
    assert domain["user_pool_id"].startswith("${aws_cognito_user_pool.")


# ------------------------------------------------------------------------------------------ the authorizer


def test_the_authorizer_checks_tokens_of_the_pool(synthesized_cognito: Synthesized) -> None:
    authorizer = _only(synthesized_cognito.resources(ApiGatewayAuthorizer.TF_RESOURCE_TYPE))
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["identity_source"] == "method.request.header.Authorization"
    (arn,) = authorizer["provider_arns"]
    assert arn.startswith("${aws_cognito_user_pool.") and arn.endswith(".arn}")


def test_exactly_the_data_routes_need_a_token(synthesized_cognito: Synthesized) -> None:
    # GIVEN every method of the API with the option
    methods = _method_paths(synthesized_cognito)
    authorizer_name = next(iter(synthesized_cognito.resources(ApiGatewayAuthorizer.TF_RESOURCE_TYPE)))
    # WHEN the methods with the Cognito authorizer are picked
    authorized = {route for route, method in methods.items() if method["authorization"] == "COGNITO_USER_POOLS"}
    # THEN they are the data routes, each with the pool's authorizer and (by default) the key as well
    assert authorized == DATA_ROUTES
    for route in DATA_ROUTES:
        assert authorizer_name in methods[route]["authorizer_id"]
        assert methods[route]["api_key_required"] is True
    # AND the page, its assets, the reference, health and the sign-in route stay public
    public = set(methods) - DATA_ROUTES
    assert ("/v1/sign-in", "GET") in public and ("/v1/health", "GET") in public
    for route in public:
        assert methods[route]["authorization"] == "NONE"
        assert methods[route]["api_key_required"] is False


def test_a_change_of_the_authorizer_redeploys_the_stage(synthesized_cognito: Synthesized) -> None:
    # GIVEN the deployment's trigger THEN the authorizer is part of the hashed snapshot and deployed first
    deployment = _only(synthesized_cognito.resources("aws_api_gateway_deployment"))
    authorizer_name = next(iter(synthesized_cognito.resources(ApiGatewayAuthorizer.TF_RESOURCE_TYPE)))
    assert f"aws_api_gateway_authorizer.{authorizer_name}" in deployment["triggers"]["snapshot"]
    assert f"aws_api_gateway_authorizer.{authorizer_name}" in deployment["depends_on"]


# --------------------------------------------------------------------------------- the function and outputs


def test_the_api_function_knows_the_pool_and_its_client(synthesized_cognito: Synthesized) -> None:
    environment = _api_environment(synthesized_cognito)
    assert environment[Env.COGNITO_LOGIN_URL].startswith("https://imgmgr-test-users.auth.")
    assert environment[Env.COGNITO_LOGIN_URL].endswith(".amazoncognito.com")
    assert environment[Env.COGNITO_CLIENT_ID].startswith("${aws_cognito_user_pool_client.")
    assert environment[Env.COGNITO_API_KEY_REQUIRED] == "true"


def test_the_stack_outputs_the_pool_client_and_login_url(synthesized_cognito: Synthesized) -> None:
    outputs = synthesized_cognito.document["output"]
    assert outputs["user_pool_id"]["value"].startswith("${aws_cognito_user_pool.")
    assert outputs["user_pool_client_id"]["value"].startswith("${aws_cognito_user_pool_client.")
    assert outputs["user_pool_login_url"]["value"].startswith("https://imgmgr-test-users.auth.")
