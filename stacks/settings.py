"""Deployment settings: declared once (a ``pydantic-settings`` model), read from the environment and the
cdktf.json context, validated.

Precedence (highest first): environment variables ``IMGMGR_<FIELD>``, then the ``"imgmgr"`` object of
the ``context`` section of ``cdktf.json``, then the defaults below. A bad value raises
``SettingsError``, one line that starts with the setting's name and says where the value came from.
"""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from constructs_lib.props import QUICKSIGHT_PRINCIPAL

ENV_PREFIX = "IMGMGR_"
CONTEXT_KEY = "imgmgr"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

#: The environment and context of the ``load`` in progress (none outside it: ``Settings()`` is the defaults).
_SOURCES: contextvars.ContextVar[tuple[Mapping[str, str], Mapping[str, Any]]] = contextvars.ContextVar(
    "imgmgr_settings_sources", default=({}, {})
)


class SettingsError(ValueError):
    """A setting has a bad value; the message starts with the setting's name."""


class Settings(BaseSettings):
    """Everything a deployment can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid", frozen=True, str_strip_whitespace=True
    )

    region: str = "us-east-1"
    """AWS region of every resource. Default: ``us-east-1``."""

    name_prefix: str = "imgmgr"
    """Prefix of every resource name: 3-20 characters, lowercase letters, digits and dashes. Default: ``imgmgr``."""

    stack_name: str = "imgmgr"
    """Name of the synthesized stack (``cdktf.out/stacks/<stack_name>``). Default: ``imgmgr``."""

    alert_emails: Annotated[tuple[str, ...], NoDecode] = ()
    """E-mail addresses subscribed to budget and alarm notifications (comma-separated in the
    environment). Default: none (alerts go to the SNS topic only)."""

    monthly_budget_usd: float = 5.0
    """Monthly cost budget in US dollars; alerts at 80% actual and 100% forecast, the brake at 100%.
    Default: ``5.0``."""

    enable_quicksight: bool = False
    """Create the QuickSight data source, the data sets, and an analysis and a dashboard of the saved
    queries' figures (``constructs_lib.quicksight_views``). QuickSight is not in the always-free tier:
    Enterprise edition costs 24 USD a month per author and 3 USD a month per reader (as
    aws.amazon.com/quicksight/pricing listed them on 2026-10-07; see that page for current prices, the
    Pro roles and reader capacity). The account must already be subscribed to QuickSight: the stack
    creates no subscription. Default: ``False``."""

    quicksight_principal_arn: str | None = None
    """QuickSight user or group (``arn:aws:quicksight:<region>:<account>:user/default/<name>``) given the
    data source and data sets, the analysis (as its owner) and the dashboard (as a viewer) when
    ``enable_quicksight`` is on; unset, only a QuickSight administrator can share them. Default: ``None``."""

    manage_api_gateway_account: bool = False
    """Let this stack set the account-wide API Gateway CloudWatch role (``aws_api_gateway_account``, one
    per account and region), which the stage's access and execution logs need. Off by default, because
    two stacks that manage it take it over from each other and a destroy leaves it pointing at a deleted
    role; when off, the account must already have a role set (once per account and region: see the
    README). Default: ``False``."""

    cognito_domain_prefix: str | None = None
    """Give the deployment a Cognito user pool for its end users (``ImagePipelineProps.cognito``), with
    its managed login at ``https://<prefix>.auth.<region>.amazoncognito.com`` (the prefix must be free in
    the region across all accounts). Unset, every API key is one owner. Default: ``None``."""

    cognito_self_sign_up: bool = False
    """With ``cognito_domain_prefix``: let anyone create an account from the page (off: the operator
    creates users with ``aws cognito-idp admin-create-user``). Default: ``False``."""

    cognito_require_api_key: bool = True
    """With ``cognito_domain_prefix``: data calls need an API key of the usage plan besides the token
    (its daily quota then meters every caller). Default: ``True``."""

    state_bucket: str | None = None
    """S3 bucket of the Terraform state; when unset the state is a local file. Default: ``None``."""

    state_key: str = "imgmgr/terraform.tfstate"
    """Key of the state object in ``state_bucket``. Default: ``imgmgr/terraform.tfstate``."""

    state_lock_table: str | None = None
    """DynamoDB table for state locking; when unset, S3 native locking (``use_lockfile``) is used.
    Default: ``None``."""

    tags: Annotated[Mapping[str, str], NoDecode] = Field(default_factory=dict)
    """Extra tags on every resource (``Project`` and ``ManagedBy`` are always set); a JSON object in the
    environment. Default: none."""

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags applied to every resource through the provider's ``default_tags``."""
        return {**dict(self.tags), "Project": self.name_prefix, "ManagedBy": "cdktf"}

    @classmethod
    def load(cls, context: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from a context mapping (cdktf.json's ``imgmgr`` object) and an environment
        (``os.environ`` shape). Raises ``SettingsError`` naming the setting and the source of a bad value."""
        context, environ = dict(context or {}), dict(environ or {})
        token = _SOURCES.set((environ, context))
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError(_one_line(error.errors()[0], environ)) from None
        finally:
            _SOURCES.reset(token)

    def with_changes(self, **changes: Any) -> Settings:
        """These settings with ``changes``, validated like the rest (``SettingsError`` naming the setting)."""
        return type(self).load({**self.model_dump(), **changes}, {})

    @classmethod
    def from_project(cls, project_dir: Path, environ: Mapping[str, str]) -> Settings:
        """Reads ``cdktf.json`` in ``project_dir`` (if present) and the environment."""
        path = project_dir / "cdktf.json"
        context: Mapping[str, Any] = {}
        if path.exists():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise SettingsError(f"cdktf.json: not valid JSON ({error.msg} at line {error.lineno})") from None
            context = document.get("context", {}).get(CONTEXT_KEY, {})
            if not isinstance(context, dict):
                raise SettingsError(f"cdktf.json: context '{CONTEXT_KEY}' must be an object")
        return cls.load(context, environ)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ, context = _SOURCES.get()
        return init_settings, _EnvironSource(settings_cls, environ), _ContextSource(settings_cls, context)

    # Values arrive as text from the environment and as JSON values from the context; these parse both.

    @field_validator("alert_emails", mode="before")
    @classmethod
    def _emails(cls, raw: Any) -> tuple[str, ...]:
        if isinstance(raw, str):
            emails = tuple(part.strip() for part in raw.split(",") if part.strip())
        elif isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
            emails = tuple(item.strip() for item in raw)
        else:
            raise ValueError("expected a list of e-mail addresses or a comma-separated string")
        for email in emails:
            if not _EMAIL.match(email):
                raise ValueError(f"{email!r} is not an e-mail address")
        return emails

    @field_validator("monthly_budget_usd", mode="before")
    @classmethod
    def _amount(cls, raw: Any) -> float:
        if isinstance(raw, bool):
            raise ValueError("expected a number, got a boolean")
        try:
            amount = float(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise ValueError(f"{raw!r} is not a number") from None
        if not 0 < amount < 1_000_000:
            raise ValueError(f"{amount!r} must be a positive amount in US dollars")
        return amount

    @field_validator(
        "enable_quicksight",
        "manage_api_gateway_account",
        "cognito_self_sign_up",
        "cognito_require_api_key",
        mode="before",
    )
    @classmethod
    def _flag(cls, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{raw!r} is not a boolean (use true or false)")

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, raw: Any) -> dict[str, str]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as error:
                raise ValueError(f"not a JSON object ({error.msg})") from None
        if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            raise ValueError("expected an object of string tags")
        for key in raw:
            if key.lower().startswith("aws:"):
                raise ValueError(f"{key!r} uses the reserved 'aws:' prefix")
        return dict(raw)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region name (e.g. 'eu-west-1')")
        return value

    @field_validator("name_prefix", "stack_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_PREFIX.match(value):
            raise ValueError(
                f"{value!r} must be 3-20 characters of lowercase letters, digits and dashes, starting with a letter"
            )
        return value

    @field_validator(
        "state_bucket", "state_lock_table", "quicksight_principal_arn", "cognito_domain_prefix", mode="before"
    )
    @classmethod
    def _optional(cls, raw: Any) -> Any:
        return raw.strip() or None if isinstance(raw, str) else raw

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and not _BUCKET.match(value):
            raise ValueError(f"{value!r} is not an S3 bucket name")
        return value

    @field_validator("quicksight_principal_arn")
    @classmethod
    def _principal(cls, value: str | None) -> str | None:
        if value is not None and not QUICKSIGHT_PRINCIPAL.match(value):
            raise ValueError(f"{value!r} is not a QuickSight user or group ARN")
        return value

    @field_validator("state_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not value or value.startswith("/"):
            raise ValueError(f"{value!r} must be a relative object key")
        return value


class _EnvironSource(EnvSettingsSource):
    """The library's environment source over a given mapping instead of ``os.environ`` (as its dotenv
    source does over a file)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class _ContextSource(PydanticBaseSettingsSource):
    """The ``imgmgr`` object of cdktf.json's context: JSON values by field name."""

    def __init__(self, settings_cls: type[BaseSettings], context: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._context = context

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._context.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        # Unknown names pass through, so that ``extra="forbid"`` refuses them by name.
        return dict(self._context)


def _one_line(error: Any, environ: Mapping[str, str]) -> str:
    """A validation error as ``<setting>: <problem> (from <source>)``."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    if error["type"] == "extra_forbidden":
        return f"{name}: unknown setting in cdktf.json context '{CONTEXT_KEY}'"
    message = str(error["msg"]).removeprefix("Value error, ")
    env_name = ENV_PREFIX + name.upper()
    source = f"environment variable {env_name}" if env_name in environ else f"cdktf.json context '{CONTEXT_KEY}.{name}'"
    return f"{name}: {message} (from {source})"
