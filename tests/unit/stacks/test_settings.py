"""Settings: defaults, precedence, and one-line errors that name the setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.settings import Settings, SettingsError


def test_defaults_fit_the_free_tier_and_local_state() -> None:
    # GIVEN no context and no environment
    # WHEN settings are loaded
    settings = Settings.load({}, {})
    # THEN the defaults apply
    assert settings.region == "us-east-1"
    assert settings.monthly_budget_usd == 5.0
    assert settings.enable_quicksight is False
    assert settings.state_bucket is None


def test_environment_overrides_context() -> None:
    # GIVEN a region in both the context and the environment
    context = {"region": "eu-west-1"}
    environ = {"IMGMGR_REGION": "eu-central-1"}
    # WHEN settings are loaded
    settings = Settings.load(context, environ)
    # THEN the environment wins
    assert settings.region == "eu-central-1"


def test_alert_emails_parse_from_a_comma_separated_variable() -> None:
    settings = Settings.load({}, {"IMGMGR_ALERT_EMAILS": "a@example.com, b@example.org"})
    assert settings.alert_emails == ("a@example.com", "b@example.org")


def test_flags_parse_from_text() -> None:
    assert Settings.load({}, {"IMGMGR_ENABLE_QUICKSIGHT": "true"}).enable_quicksight is True
    assert Settings.load({}, {"IMGMGR_ENABLE_QUICKSIGHT": "0"}).enable_quicksight is False


def test_malformed_email_names_the_setting_and_its_source() -> None:
    with pytest.raises(SettingsError, match=r"^alert_emails: 'not-an-email' .*IMGMGR_ALERT_EMAILS"):
        Settings.load({}, {"IMGMGR_ALERT_EMAILS": "not-an-email"})


def test_negative_budget_names_the_setting_and_its_source() -> None:
    with pytest.raises(SettingsError, match=r"^monthly_budget_usd: -3\.0 must be a positive amount.*context"):
        Settings.load({"monthly_budget_usd": -3}, {})


def test_non_numeric_budget_names_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"^monthly_budget_usd: 'lots' is not a number"):
        Settings.load({}, {"IMGMGR_MONTHLY_BUDGET_USD": "lots"})


def test_bad_flag_names_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"^enable_quicksight: 'maybe' is not a boolean"):
        Settings.load({}, {"IMGMGR_ENABLE_QUICKSIGHT": "maybe"})


def test_unknown_context_key_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^regoin: unknown setting"):
        Settings.load({"regoin": "us-east-1"}, {})


def test_region_and_name_prefix_are_validated() -> None:
    with pytest.raises(SettingsError, match=r"^region: 'mars-1'"):
        Settings.load({"region": "mars-1"}, {})
    with pytest.raises(SettingsError, match=r"^name_prefix: 'Bad_Prefix'"):
        Settings.load({"name_prefix": "Bad_Prefix"}, {})


def test_reserved_tag_prefix_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^tags: 'aws:owner'"):
        Settings.load({"tags": {"aws:owner": "me"}}, {})


def test_default_tags_always_name_the_project() -> None:
    settings = Settings.load({"tags": {"CostCenter": "42"}}, {})
    assert settings.default_tags == {"CostCenter": "42", "Project": "imgmgr", "ManagedBy": "cdktf"}


def test_from_project_reads_the_cdktf_json_context(tmp_path: Path) -> None:
    # GIVEN a cdktf.json with an imgmgr context
    (tmp_path / "cdktf.json").write_text(json.dumps({"context": {"imgmgr": {"monthly_budget_usd": 12}}}))
    # WHEN settings are read from that project
    settings = Settings.from_project(tmp_path, {})
    # THEN the context value is used
    assert settings.monthly_budget_usd == 12.0


def test_from_project_reports_invalid_json(tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text("{not json")
    with pytest.raises(SettingsError, match=r"^cdktf.json: not valid JSON"):
        Settings.from_project(tmp_path, {})


def test_tags_parse_from_a_json_variable_and_other_variables_are_ignored() -> None:
    # GIVEN tags as JSON in the environment, next to variables of the functions and the local host
    environ = {"IMGMGR_TAGS": '{"CostCenter": "42"}', "IMGMGR_BUCKET": "b", "IMGMGR_DATA_DIR": "/x"}
    # WHEN settings are loaded
    settings = Settings.load({}, environ)
    # THEN the tags are read and the other variables are no settings of the stack
    assert settings.tags == {"CostCenter": "42"}


def test_malformed_tags_variable_names_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"^tags: not a JSON object .*IMGMGR_TAGS\)$"):
        Settings.load({}, {"IMGMGR_TAGS": "{CostCenter: 42}"})


def test_an_empty_variable_leaves_the_context_value() -> None:
    # GIVEN an empty variable and a context value
    settings = Settings.load({"state_bucket": "acme-tf-state"}, {"IMGMGR_STATE_BUCKET": ""})
    # THEN the empty variable counts as unset
    assert settings.state_bucket == "acme-tf-state"


def test_settings_are_immutable() -> None:
    settings = Settings.load({}, {})
    with pytest.raises(ValueError, match="frozen"):
        settings.region = "eu-west-1"  # type: ignore[misc]


def test_changed_settings_are_validated_like_loaded_ones() -> None:
    settings = Settings.load({"monthly_budget_usd": 12}, {})
    changed = settings.with_changes(name_prefix="imgtwo")
    assert (changed.name_prefix, changed.monthly_budget_usd) == ("imgtwo", 12.0)
    with pytest.raises(SettingsError, match=r"^name_prefix: 'Bad_Prefix'"):
        settings.with_changes(name_prefix="Bad_Prefix")


def test_the_quicksight_principal_is_an_arn_of_a_user_or_group() -> None:
    arn = "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst"
    assert Settings.load({"quicksight_principal_arn": arn}, {}).quicksight_principal_arn == arn
    with pytest.raises(SettingsError, match=r"^quicksight_principal_arn: 'analyst' is not a QuickSight user"):
        Settings.load({}, {"IMGMGR_QUICKSIGHT_PRINCIPAL_ARN": "analyst"})


def test_the_user_pool_is_off_until_a_domain_prefix_is_given() -> None:
    # GIVEN no setting THEN no pool; GIVEN a prefix and the flags as text THEN they are read
    assert Settings.load({}, {}).cognito_domain_prefix is None
    settings = Settings.load(
        {"cognito_domain_prefix": "acme-images"},
        {"IMGMGR_COGNITO_SELF_SIGN_UP": "yes", "IMGMGR_COGNITO_REQUIRE_API_KEY": "false"},
    )
    assert (settings.cognito_domain_prefix, settings.cognito_self_sign_up, settings.cognito_require_api_key) == (
        "acme-images",
        True,
        False,
    )
