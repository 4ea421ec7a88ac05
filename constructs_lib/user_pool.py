"""The end users' Cognito user pool of ``ImagePipeline`` (``ImagePipelineProps.cognito``): the pool, the
web page's public app client and the managed login's domain."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUsernameConfiguration,
    CognitoUserPoolUserPoolAddOns,
)
from cdktf_cdktf_provider_aws.cognito_user_pool_client import (
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
)
from cdktf_cdktf_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain
from constructs import Construct

from constructs_lib.props import CognitoProps
from lambdas.contract import SIGN_IN_SCOPES

#: The grant of the page: authorization code, which the page protects with PKCE (S256; Cognito checks the
#: ``code_verifier`` of a code asked for with a ``code_challenge``). No implicit grant: it puts tokens in
#: the URL.
OAUTH_FLOWS = ("code",)
#: Direct sign-in flows the client allows besides the managed login: SRP (the password never leaves the
#: browser) and refreshing tokens. No ``USER_PASSWORD_AUTH``, which sends the password itself.
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
#: Strong passwords: 12 characters of all four kinds; a temporary one (admin-created user) lasts 3 days.
PASSWORD_MIN_LENGTH = 12
TEMPORARY_PASSWORD_DAYS = 3
#: The units of ``CognitoProps``' token lifetimes.
TOKEN_VALIDITY_UNITS = {"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"}
#: The managed login's regional domain (``<prefix>.auth.<region>.<suffix>``) in the commercial partition.
MANAGED_LOGIN_SUFFIX = "amazoncognito.com"


class EndUserPool(Construct):
    """User pool (e-mail as user name, verified; strong passwords; optional TOTP MFA; recovery by e-mail;
    deletion protection), the managed login's domain and, once the page's URLs are known
    (``add_page_client``), the page's public app client."""

    def __init__(self, scope: Construct, id: str, *, props: CognitoProps, name_prefix: str, region: str) -> None:
        super().__init__(scope, id)
        self.props = props
        self.user_pool = CognitoUserPool(
            self,
            "user-pool",
            name=f"{name_prefix}-users",
            # Lite has everything used here at the lowest price past the free MAUs (CognitoProps.feature_plan).
            user_pool_tier=props.feature_plan,
            username_attributes=["email"],
            username_configuration=CognitoUserPoolUsernameConfiguration(case_sensitive=False),
            auto_verified_attributes=["email"],
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=TEMPORARY_PASSWORD_DAYS,
            ),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(enabled=True),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(name="verified_email", priority=1)
                ]
            ),
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(
                allow_admin_create_user_only=not props.self_sign_up
            ),
            # Threat protection is billed per MAU with no free tier (and needs the Plus plan).
            user_pool_add_ons=CognitoUserPoolUserPoolAddOns(advanced_security_mode="OFF"),
            # The pool holds every user's identity, and with it the ownership of their images.
            deletion_protection="ACTIVE",
        )
        self.domain = CognitoUserPoolDomain(self, "domain", domain=props.domain_prefix, user_pool_id=self.user_pool.id)
        self.login_base_url = f"https://{props.domain_prefix}.auth.{region}.{MANAGED_LOGIN_SUFFIX}"
        """The managed login's base URL (``/oauth2/authorize``, ``/oauth2/token``, ``/logout`` below it)."""
        self._name_prefix = name_prefix
        self.client: CognitoUserPoolClient | None = None

    def add_page_client(self, page_urls: Sequence[str]) -> CognitoUserPoolClient:
        """The web page's app client: public (no secret), authorization code with PKCE only, sending users
        back to ``CognitoProps.callback_urls`` / ``logout_urls``, or to ``page_urls`` when they are empty."""
        props = self.props
        self.client = CognitoUserPoolClient(
            self,
            "page-client",
            name=f"{self._name_prefix}-page",
            user_pool_id=self.user_pool.id,
            # A page's secret would be readable by anyone who opens it: PKCE protects the code instead.
            generate_secret=False,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=list(OAUTH_FLOWS),
            allowed_oauth_scopes=list(SIGN_IN_SCOPES),
            supported_identity_providers=["COGNITO"],
            explicit_auth_flows=list(EXPLICIT_AUTH_FLOWS),
            callback_urls=list(props.callback_urls or page_urls),
            logout_urls=list(props.logout_urls or page_urls),
            access_token_validity=props.access_token_minutes,
            id_token_validity=props.id_token_minutes,
            refresh_token_validity=props.refresh_token_days,
            token_validity_units=[CognitoUserPoolClientTokenValidityUnits(**TOKEN_VALIDITY_UNITS)],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
        )
        return self.client
