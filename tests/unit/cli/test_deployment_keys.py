"""Keys of a deployment: API Gateway keys in the stack's usage plan (moto), one owner per key, shown once."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from imgmgr.cli import app
from imgmgr.deployment_keys import DeploymentKeys, DeploymentKeysError

PREFIX = "shop"


@pytest.fixture
def apigateway(monkeypatch):
    """moto's API Gateway holding the usage plan a deployment with the prefix ``shop`` creates, and its
    first key (the stack's ``<prefix>-default``)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("apigateway", region_name="eu-west-1")
        plan = client.create_usage_plan(name=f"{PREFIX}-default")
        client.create_usage_plan(name="other-default")
        first = client.create_api_key(name=f"{PREFIX}-default", enabled=True)
        client.create_usage_plan_key(usagePlanId=plan["id"], keyId=first["id"], keyType="API_KEY")
        yield client, plan["id"], first["id"]


def test_a_created_key_is_in_the_deployments_usage_plan_and_enabled(apigateway):
    client, plan_id, first_id = apigateway
    # WHEN a key is created for the deployment
    value, key = DeploymentKeys(client, PREFIX).create("alice laptop")
    # THEN it is enabled, bound to the deployment's plan (so API Gateway accepts and meters it) and its
    # value is the one API Gateway keeps
    in_plan = {item["id"] for item in client.get_usage_plan_keys(usagePlanId=plan_id)["items"]}
    assert in_plan == {first_id, key.key_id}
    stored = client.get_api_key(apiKey=key.key_id, includeValue=True)
    assert (stored["value"], stored["enabled"], stored["name"]) == (value, True, "shop-alice laptop")


def test_listing_shows_the_plans_keys_without_their_values(apigateway):
    client, _, first_id = apigateway
    value, key = DeploymentKeys(client, PREFIX).create("bob")
    listed = DeploymentKeys(client, PREFIX).list()
    assert {item.key_id for item in listed} == {first_id, key.key_id}
    assert all(value not in repr(item) for item in listed)


def test_a_revoked_key_is_disabled_and_a_key_of_another_plan_is_refused(apigateway):
    client, _, _ = apigateway
    keys = DeploymentKeys(client, PREFIX)
    _, key = keys.create("carol")
    stranger = client.create_api_key(name="stranger", enabled=True)
    # WHEN the key is revoked THEN API Gateway has it disabled
    assert keys.revoke(key.key_id).enabled is False
    assert client.get_api_key(apiKey=key.key_id)["enabled"] is False
    # AND a key outside the deployment's plan is not touched
    with pytest.raises(DeploymentKeysError, match=r"no key .* in the usage plan of 'shop'"):
        keys.revoke(stranger["id"])
    assert client.get_api_key(apiKey=stranger["id"])["enabled"] is True


def test_an_unknown_deployment_and_a_bad_name_are_refused(apigateway):
    client, _, _ = apigateway
    with pytest.raises(DeploymentKeysError, match="no usage plan named 'nope-default'"):
        DeploymentKeys(client, "nope").create("alice")
    with pytest.raises(DeploymentKeysError, match=r"name: '\.\./x' must be"):
        DeploymentKeys(client, PREFIX).create("../x")


def test_the_keys_commands_work_on_a_deployment(apigateway):
    client, _, _ = apigateway
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    # WHEN a key is created, listed and revoked with --deployment
    created = runner.invoke(app, ["keys", "create", "--deployment", PREFIX, "--name", "dave"], env=env)
    assert created.exit_code == 0, created.output
    value = created.stdout.strip().splitlines()[-1]
    [key] = [k for k in client.get_api_keys(includeValues=True)["items"] if k.get("value") == value]
    listed = runner.invoke(app, ["keys", "list", "--deployment", PREFIX], env=env)
    revoked = runner.invoke(app, ["keys", "revoke", key["id"], "--deployment", PREFIX], env=env)
    # THEN the value is printed once, the key listed under its id (its images' owner), then disabled
    assert key["id"] in listed.stdout and "shop-dave" in listed.stdout and value not in listed.stdout
    assert revoked.exit_code == 0, revoked.output
    assert client.get_api_key(apiKey=key["id"])["enabled"] is False
    # AND --owner, which does not apply on a deployment, is refused
    refused = runner.invoke(app, ["keys", "create", "--deployment", PREFIX, "--owner", "x"], env=env)
    assert refused.exit_code == 2 and "owner is the key's own id" in refused.output
