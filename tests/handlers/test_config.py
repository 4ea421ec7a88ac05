"""Settings come from the environment in one place, with defaults and messages naming the variable."""

from __future__ import annotations

import pytest

from lambdas.config import Settings

BASE = {"IMGMGR_BUCKET": "b", "IMGMGR_TABLE": "t"}


def test_defaults_fill_what_the_environment_leaves_out():
    settings = Settings.from_env(BASE)
    assert (settings.min_confidence, settings.max_labels, settings.compressed_format) == (70.0, 20, "jpeg")


def test_values_are_read_and_passed_to_the_image_core():
    env = {**BASE, "IMGMGR_MAX_PIXELS": "1000", "IMGMGR_MAX_UPLOAD_BYTES": "2048", "IMGMGR_COMPRESSED_FORMAT": "webp"}
    options = Settings.from_env(env).imaging_options()
    assert (options.max_pixels, options.max_input_bytes, options.compressed_format) == (1000, 2048, "webp")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMGMGR_TABLE": "t"}, "IMGMGR_BUCKET"),
        ({**BASE, "IMGMGR_MAX_LABELS": "many"}, "IMGMGR_MAX_LABELS must be a number"),
        ({**BASE, "IMGMGR_MIN_CONFIDENCE": "101"}, "IMGMGR_MIN_CONFIDENCE must be 0..100"),
        ({**BASE, "IMGMGR_COMPRESSED_FORMAT": "bmp"}, "IMGMGR_COMPRESSED_FORMAT must be one of"),
        ({**BASE, "IMGMGR_CURSOR_SECRET": "short"}, "IMGMGR_CURSOR_SECRET must be at least 16 bytes"),
        (
            {**BASE, "IMGMGR_CORS_ORIGINS": "https://a.example, https://b.example/"},
            "IMGMGR_CORS_ORIGINS: 'https://b.example/'",
        ),
        (
            {**BASE, "IMGMGR_COMPRESS_FUNCTION": "c", "IMGMGR_CATEGORIZE_FUNCTION": "k"},
            "IMGMGR_COMPRESS_FUNCTION, IMGMGR_THUMBNAIL_FUNCTION, IMGMGR_CATEGORIZE_FUNCTION go together",
        ),
    ],
)
def test_bad_settings_fail_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_the_cursor_secret_is_read_here_and_never_shown():
    # GIVEN an operator-chosen cursor secret in the environment
    settings = Settings.from_env({**BASE, "IMGMGR_CURSOR_SECRET": "an-operator-chosen-secret"})
    # THEN the settings carry it, and their repr (in a log line or a traceback) does not
    assert settings.cursor_secret == "an-operator-chosen-secret"
    assert "an-operator-chosen-secret" not in repr(settings)


def test_without_a_cursor_secret_the_settings_leave_it_empty():
    assert Settings.from_env(BASE).cursor_secret == ""


def test_every_setting_has_its_variable_in_the_contract_and_every_variable_a_setting():
    # The constructs set the variables the contract names; the functions read exactly those.
    from dataclasses import fields

    from lambdas.config import variable
    from lambdas.contract import Env

    declared = {value for key, value in vars(Env).items() if key.isupper()}
    assert {variable(item.name) for item in fields(Settings)} == declared


def test_settings_parse_each_variable_by_its_type():
    settings = Settings.from_env(
        {
            **BASE,
            "IMGMGR_MIN_CONFIDENCE": "55.5",
            "IMGMGR_MAX_ATTEMPTS": "4",
            "IMGMGR_CORS_ORIGINS": " https://a.example ,",
        }
    )
    assert (settings.min_confidence, settings.max_attempts, settings.cors_origins) == (55.5, 4, ("https://a.example",))


def test_the_step_functions_are_named_by_step_or_not_at_all():
    # GIVEN the three step functions' names, as the pipeline sets them on the API function
    names = {"IMGMGR_COMPRESS_FUNCTION": "p-c", "IMGMGR_THUMBNAIL_FUNCTION": "p-t", "IMGMGR_CATEGORIZE_FUNCTION": "p-k"}
    # THEN the settings name each step's function; without them, none
    assert Settings.from_env({**BASE, **names}).step_functions() == {
        "compress": "p-c",
        "thumbnail": "p-t",
        "categorize": "p-k",
    }
    assert Settings.from_env(BASE).step_functions() == {}


def test_a_user_pool_makes_the_owner_the_tokens_subject():
    # GIVEN the variables ImagePipeline sets with a user pool / WHEN read / THEN the pool is used
    settings = Settings.from_env(
        {
            **BASE,
            "IMGMGR_COGNITO_LOGIN_URL": "https://acme-images.auth.us-east-1.amazoncognito.com",
            "IMGMGR_COGNITO_CLIENT_ID": "4example0client0id0abcdefg",
            "IMGMGR_COGNITO_API_KEY_REQUIRED": "false",
        }
    )
    assert settings.uses_cognito
    assert settings.cognito_api_key_required == "false"
    # AND without them the owner stays the key
    assert not Settings.from_env(BASE).uses_cognito


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMGMGR_COGNITO_CLIENT_ID": "abc"}, r"^IMGMGR_COGNITO_LOGIN_URL and IMGMGR_COGNITO_CLIENT_ID go together"),
        (
            {"IMGMGR_COGNITO_LOGIN_URL": "http://x.example", "IMGMGR_COGNITO_CLIENT_ID": "abc"},
            r"^IMGMGR_COGNITO_LOGIN_URL must be an https:// URL",
        ),
        ({"IMGMGR_COGNITO_API_KEY_REQUIRED": "yes"}, r"^IMGMGR_COGNITO_API_KEY_REQUIRED must be 'true' or 'false'"),
    ],
)
def test_bad_user_pool_settings_fail_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env({**BASE, **env})
