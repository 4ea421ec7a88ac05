"""``CognitoProps``: the user pool option's defaults and bounds (no synthesis)."""

from __future__ import annotations

import pytest

from constructs_lib.props import CognitoProps, ImagePipelineProps, PropsError


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"domain_prefix": "My_Pool"}, r"^cognito.domain_prefix: 'My_Pool' must be"),
        ({"domain_prefix": "my-cognito-users"}, r"^cognito.domain_prefix: .* without 'aws'"),
        ({"access_token_minutes": 4}, r"^cognito.access_token_minutes: 4 must be an integer from 5 to 1440"),
        ({"id_token_minutes": 1441}, r"^cognito.id_token_minutes: 1441 must be"),
        ({"refresh_token_days": 0}, r"^cognito.refresh_token_days: 0 must be an integer from 1 to 3650"),
        ({"callback_urls": ("http://example.com/",)}, r"^cognito.callback_urls: 'http://example.com/' must be"),
        ({"logout_urls": ["https://example.com/"]}, r"^cognito.logout_urls: expected a tuple"),
        ({"feature_plan": "PLUS"}, r"^cognito.feature_plan: 'PLUS' must be"),
    ],
)
def test_a_bad_cognito_prop_is_refused_with_its_name_first(changes: dict[str, object], message: str) -> None:
    with pytest.raises(PropsError, match=message):
        ImagePipelineProps(cognito=CognitoProps(**{"domain_prefix": "imgmgr-users", **changes}))  # type: ignore[arg-type]


def test_cognito_props_default_to_closed_sign_up_short_tokens_and_keys_kept() -> None:
    props = CognitoProps(domain_prefix="imgmgr-users")
    assert props.self_sign_up is False
    assert (props.access_token_minutes, props.id_token_minutes, props.refresh_token_days) == (60, 60, 1)
    assert props.require_api_key is True
    assert (props.callback_urls, props.logout_urls) == ((), ())
    assert ImagePipelineProps().cognito is None
