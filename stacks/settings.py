"""Deployment settings: declared once, read from cdktf.json context and the environment, validated.

Precedence (highest first): environment variables ``IMGMGR_<FIELD>``, then the ``"imgmgr"`` object of
the ``context`` section of ``cdktf.json``, then the defaults below. A bad value raises
``SettingsError`` whose message starts with the setting's name and says where the value came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "IMGMGR_"
CONTEXT_KEY = "imgmgr"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class SettingsError(ValueError):
    """A setting has a bad value; the message starts with the setting's name."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a deployment can be configured with."""

    region: str = "us-east-1"
    """AWS region of every resource. Default: ``us-east-1``."""

    name_prefix: str = "imgmgr"
    """Prefix of every resource name: 3-20 characters, lowercase letters, digits and dashes. Default: ``imgmgr``."""

    stack_name: str = "imgmgr"
    """Name of the synthesized stack (``cdktf.out/stacks/<stack_name>``). Default: ``imgmgr``."""

    alert_emails: tuple[str, ...] = ()
    """E-mail addresses subscribed to budget and alarm notifications (comma-separated in the
    environment). Default: none (alerts go to the SNS topic only)."""

    monthly_budget_usd: float = 5.0
    """Monthly cost budget in US dollars; alerts at 80% actual and 100% forecast, the brake at 100%.
    Default: ``5.0``."""

    enable_quicksight: bool = False
    """Create the QuickSight data source and data sets (QuickSight is not free). Default: ``False``."""

    manage_api_gateway_account: bool = False
    """Let this stack set the account-wide API Gateway CloudWatch role (``aws_api_gateway_account``, one
    per account and region), which the stage's access and execution logs need. Off by default, because
    two stacks that manage it take it over from each other and a destroy leaves it pointing at a deleted
    role; when off, the account must already have a role set (once per account and region: see the
    README). Default: ``False``."""

    state_bucket: str | None = None
    """S3 bucket of the Terraform state; when unset the state is a local file. Default: ``None``."""

    state_key: str = "imgmgr/terraform.tfstate"
    """Key of the state object in ``state_bucket``. Default: ``imgmgr/terraform.tfstate``."""

    state_lock_table: str | None = None
    """DynamoDB table for state locking; when unset, S3 native locking (``use_lockfile``) is used.
    Default: ``None``."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on every resource (``Project`` and ``ManagedBy`` are always set). Default: none."""

    def __post_init__(self) -> None:
        if not _REGION.match(self.region):
            raise SettingsError(f"region: {self.region!r} is not an AWS region name (e.g. 'eu-west-1')")
        if not _NAME_PREFIX.match(self.name_prefix):
            raise SettingsError(
                f"name_prefix: {self.name_prefix!r} must be 3-20 characters of lowercase letters, digits "
                "and dashes, starting with a letter"
            )
        if not _NAME_PREFIX.match(self.stack_name):
            raise SettingsError(f"stack_name: {self.stack_name!r} must be 3-20 lowercase letters, digits, dashes")
        for email in self.alert_emails:
            if not _EMAIL.match(email):
                raise SettingsError(f"alert_emails: {email!r} is not an e-mail address")
        if not (self.monthly_budget_usd > 0 and self.monthly_budget_usd < 1_000_000):
            raise SettingsError(
                f"monthly_budget_usd: {self.monthly_budget_usd!r} must be a positive amount in US dollars"
            )
        if self.state_bucket is not None and not _BUCKET.match(self.state_bucket):
            raise SettingsError(f"state_bucket: {self.state_bucket!r} is not an S3 bucket name")
        if not self.state_key or self.state_key.startswith("/"):
            raise SettingsError(f"state_key: {self.state_key!r} must be a relative object key")
        for key in self.tags:
            if key.lower().startswith("aws:"):
                raise SettingsError(f"tags: {key!r} uses the reserved 'aws:' prefix")

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags applied to every resource through the provider's ``default_tags``."""
        return {**dict(self.tags), "Project": self.name_prefix, "ManagedBy": "cdktf"}

    @classmethod
    def load(cls, context: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Builds settings from a context mapping and an environment (``os.environ`` shape).

        Raises ``SettingsError`` naming the setting and the source of a bad value.
        """
        context = dict(context or {})
        environ = environ or {}
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for name in context:
            if name not in known:
                raise SettingsError(f"{name}: unknown setting in cdktf.json context '{CONTEXT_KEY}'")
        for name in known:
            env_name = ENV_PREFIX + name.upper()
            if env_name in environ:
                raw: Any = environ[env_name]
                source = f"environment variable {env_name}"
            elif name in context:
                raw = context[name]
                source = f"cdktf.json context '{CONTEXT_KEY}.{name}'"
            else:
                continue
            try:
                values[name] = _PARSERS[name](raw)
            except (TypeError, ValueError) as error:
                raise SettingsError(f"{name}: {error} (from {source})") from None
        try:
            return cls(**values)
        except SettingsError as error:
            where = [n for n in values if str(error).startswith(n + ":")]
            if where:
                name = where[0]
                env_name = ENV_PREFIX + name.upper()
                source = (
                    f"environment variable {env_name}"
                    if env_name in environ
                    else f"cdktf.json context '{CONTEXT_KEY}.{name}'"
                )
                raise SettingsError(f"{error} (from {source})") from None
            raise

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


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError(f"expected text, got {type(raw).__name__}")
    return raw.strip()


def _optional_text(raw: Any) -> str | None:
    text = _text(raw)
    return text or None


def _emails(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(item.strip() for item in raw)
    raise TypeError("expected a list of e-mail addresses or a comma-separated string")


def _amount(raw: Any) -> float:
    if isinstance(raw, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(_text(raw))
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{raw!r} is not a boolean (use true or false)")


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise TypeError("expected an object of string tags")
    return dict(raw)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "region": _text,
    "name_prefix": _text,
    "stack_name": _text,
    "alert_emails": _emails,
    "monthly_budget_usd": _amount,
    "enable_quicksight": _flag,
    "manage_api_gateway_account": _flag,
    "state_bucket": _optional_text,
    "state_key": _text,
    "state_lock_table": _optional_text,
    "tags": _tags,
}
