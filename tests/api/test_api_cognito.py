"""The API function of a deployment with a user pool (``ImagePipelineProps.cognito``): the owner is the
``sub`` of the token that API Gateway's Cognito authorizer checked, over moto's S3, DynamoDB and Cognito."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas import config
from lambdas.adapters.aws.dynamodb import create_table_kwargs
from lambdas.contract import Env
from lambdas.handlers import api as api_handler
from tests.api.conftest import CHELSEA
from tests.fakes import FakeLambdaContext

EVENT = Path(__file__).resolve().parents[1] / "events" / "api_gateway_rest_cognito_request.json"
BUCKET = "imgmgr-cognito-test-bucket"
TABLE = "imgmgr-cognito-test-table"
LOGIN_URL = "https://imgmgr-test-users.auth.us-east-1.amazoncognito.com"
PASSWORD = "Correct-Horse-9-Battery"
#: Every caller of these tests goes through the one key of the usage plan: only the token tells them apart.
SHARED_KEY_ID = "k1a2b3c4d5"


def _reset() -> None:
    config.reset()
    api_handler.app.cache_clear()
    api_handler._mangum.cache_clear()


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch):
    """Moto's S3, DynamoDB and a user pool with a client; the API function configured for that pool."""
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name="us-east-1").create_table(**create_table_kwargs(TABLE))
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = idp.create_user_pool(PoolName="imgmgr-users", UsernameAttributes=["email"])["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="imgmgr-page", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        for name, value in {
            Env.BUCKET: BUCKET,
            Env.TABLE: TABLE,
            Env.MAX_UPLOAD_BYTES: "5000000",
            Env.CURSOR_SECRET: "a-test-secret-of-enough-length",
            Env.COGNITO_LOGIN_URL: LOGIN_URL,
            Env.COGNITO_CLIENT_ID: client_id,
        }.items():
            monkeypatch.setenv(name, value)
        _reset()
        yield idp, pool_id, client_id
        _reset()


def claims_of_user(pool: tuple[Any, str, str], email: str) -> dict[str, str]:
    """A user created by the administrator signs in; the claims of their ID token, as API Gateway's Cognito
    authorizer hands them to the function (every value a string)."""
    idp, pool_id, client_id = pool
    idp.admin_create_user(UserPoolId=pool_id, Username=email, UserAttributes=[{"Name": "email", "Value": email}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    tokens = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    # API Gateway verified the signature; the function only reads the claims it passes on.
    payload = tokens["IdToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {name: str(value) for name, value in claims.items()}


def call(method: str, path: str, *, claims: dict[str, str] | None, body: dict | None = None):
    """Invoke the API function with a Cognito-authorized REST proxy event (``claims`` None: no authorizer)."""
    event = copy.deepcopy(json.loads(EVENT.read_text()))
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = "/prod" + path
    event["requestContext"]["identity"]["apiKeyId"] = SHARED_KEY_ID
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["claims"] = claims
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["Content-Type"] = "application/json"
        event["multiValueHeaders"]["Content-Type"] = ["application/json"]
    response = api_handler.handler(event, FakeLambdaContext("imgmgr-api"))
    text = response.get("body") or ""
    return response["statusCode"], json.loads(text) if text else None


def declare(claims: dict[str, str] | None):
    data = CHELSEA.read_bytes()
    body = {
        "filename": "chelsea.png",
        "content_type": "image/png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return call("POST", "/v1/uploads", claims=claims, body=body)


def test_the_owner_is_the_sub_of_a_real_cognito_event(pool):
    # GIVEN the Cognito-authorized event as API Gateway sends it (tests/events), with a key too
    claims = json.loads(EVENT.read_text())["requestContext"]["authorizer"]["claims"]
    # WHEN its user declares an upload
    status, body = declare(claims)
    # THEN the image belongs to the token's subject, not to the shared key
    assert status == 201
    assert body["upload"]["fields"]["key"].startswith(f"uploads/{claims['sub']}/")


def test_a_request_without_a_token_is_refused_even_with_a_key(pool):
    # GIVEN a request that reached the function with a key but no authorizer claims
    status, body = call("GET", "/v1/images", claims=None)
    # THEN it is refused: the key alone is nobody on a deployment with a user pool
    assert (status, body["code"]) == (401, "Auth.MissingToken")


def test_a_signed_in_users_token_subject_owns_their_upload(pool):
    # GIVEN alice, created by the administrator, signed in through the pool
    alice = claims_of_user(pool, "alice@example.com")
    # WHEN she declares an upload
    status, body = declare(alice)
    # THEN its owner is her pool subject
    assert status == 201
    assert alice["token_use"] == "id"
    assert body["upload"]["fields"]["key"].startswith(f"uploads/{alice['sub']}/")


def test_two_users_of_one_key_cannot_see_each_others_images(pool):
    # GIVEN alice and bob, two users of the pool calling through the same API key, and alice's image
    alice, bob = claims_of_user(pool, "alice@example.com"), claims_of_user(pool, "bob@example.com")
    assert alice["sub"] != bob["sub"]
    _status, body = declare(alice)
    image_id = body["image"]["id"]
    # WHEN each lists and opens images
    _s, alice_page = call("GET", "/v1/images", claims=alice)
    _s, bob_page = call("GET", "/v1/images", claims=bob)
    bob_open, _b = call("GET", f"/v1/images/{image_id}", claims=bob)
    bob_delete, _b = call("DELETE", f"/v1/images/{image_id}", claims=bob)
    alice_open, _b = call("GET", f"/v1/images/{image_id}", claims=alice)
    # THEN only alice sees it, and bob can neither open nor delete it
    assert [item["id"] for item in alice_page["items"]] == [image_id]
    assert bob_page["items"] == []
    assert (bob_open, bob_delete) == (404, 404)
    assert alice_open == 200


def test_the_page_learns_the_managed_login_without_identity(pool):
    # GIVEN the deployment's pool WHEN the page asks how to sign in, with neither key nor token
    _idp, _pool_id, client_id = pool
    status, body = call("GET", "/v1/sign-in", claims=None)
    # THEN it gets the managed login and the public client, and nothing else
    assert status == 200
    assert body == {
        "login_url": LOGIN_URL,
        "client_id": client_id,
        "scopes": ["openid", "email"],
        "api_key_required": True,
    }


def test_a_deployment_without_a_pool_sends_the_page_to_the_key_flow(pool, monkeypatch):
    # GIVEN the same function without the pool's variables
    monkeypatch.delenv(Env.COGNITO_LOGIN_URL)
    monkeypatch.delenv(Env.COGNITO_CLIENT_ID)
    _reset()
    # WHEN the page asks how to sign in THEN there is no pool: it asks for a key
    status, body = call("GET", "/v1/sign-in", claims=None)
    assert (status, body["code"]) == (404, "SignIn.NoUserPool")
