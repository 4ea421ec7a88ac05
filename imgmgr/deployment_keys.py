"""API keys of a deployment: API Gateway keys bound to the stack's usage plan, one owner per key.

On a deployment API Gateway checks the key (``x-api-key``) and the usage plan meters it (throttle and
daily quota); the API takes the owner of the images from the key's id (``requestContext.identity.
apiKeyId``, ``lambdas.api.auth``). So each end user gets a key of their own: ``create`` makes one in
the usage plan of the deployment named by its name prefix (the plan ``<prefix>-default``) and shows its
value once; ``list`` shows the plan's keys (never their values); ``revoke`` disables a key (API Gateway
refuses it from then on; its id, the owner of its images, stays known, and the key may be enabled again
in the console).
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

#: A key's note: what API Gateway accepts as a name, kept short.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@+=-]{0,63}$")


class DeploymentKeysError(Exception):
    """A key operation on a deployment that cannot be done (no such deployment or key, AWS refused)."""


@dataclass(frozen=True, slots=True)
class DeploymentKey:
    """One API key of the usage plan; ``key_id`` is the owner of the images uploaded with it."""

    key_id: str
    name: str
    enabled: bool
    created_at: str


class DeploymentKeys:
    """The keys of the usage plan ``<prefix>-default`` of a deployment, through ``client`` (boto3
    ``apigateway``)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._plan_id: str | None = None

    @property
    def usage_plan_id(self) -> str:
        """The id of the deployment's usage plan; ``DeploymentKeysError`` when there is none."""
        if self._plan_id is None:
            name = f"{self._prefix}-default"
            plans = [plan for plan in self._items("get_usage_plans") if plan.get("name") == name]
            if len(plans) != 1:
                found = "no" if not plans else f"{len(plans)}"
                raise DeploymentKeysError(
                    f"{found} usage plan named {name!r} in this account and region: is {self._prefix!r} the "
                    "deployment's name_prefix, and the region (AWS_REGION) its region?"
                )
            self._plan_id = str(plans[0]["id"])
        return self._plan_id

    def create(self, name: str) -> tuple[str, DeploymentKey]:
        """A new enabled key in the usage plan, named ``<prefix>-<name>``: its value (shown once) and its
        record."""
        if not _NAME.match(name):
            raise DeploymentKeysError(
                f"name: {name!r} must be 1-64 letters, digits, spaces or ._@+=- (starting with a letter or digit)"
            )
        plan_id = self.usage_plan_id
        created = self._call(
            "create_api_key",
            name=f"{self._prefix}-{name}",
            description=f"End-user key of {self._prefix}",
            enabled=True,
            tags={"Project": self._prefix},
        )
        try:
            self._call("create_usage_plan_key", usagePlanId=plan_id, keyId=created["id"], keyType="API_KEY")
        except DeploymentKeysError:
            # A key outside the plan would be refused by API Gateway anyway: leave none behind.
            self._client.delete_api_key(apiKey=created["id"])
            raise
        return str(created["value"]), _key(created)

    def list(self) -> builtins.list[DeploymentKey]:
        """The keys of the usage plan, oldest first (their values are never read)."""
        ids = [item["id"] for item in self._items("get_usage_plan_keys", usagePlanId=self.usage_plan_id)]
        keys = [_key(self._call("get_api_key", apiKey=key_id, includeValue=False)) for key_id in ids]
        return sorted(keys, key=lambda key: (key.created_at, key.key_id))

    def revoke(self, key_id: str) -> DeploymentKey:
        """Disable the key ``key_id`` of the usage plan; ``DeploymentKeysError`` for a key not in it."""
        if key_id not in {key.key_id for key in self.list()}:
            raise DeploymentKeysError(f"no key {key_id!r} in the usage plan of {self._prefix!r}")
        updated = self._call(
            "update_api_key", apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
        )
        return _key(updated)

    def _items(self, operation: str, **kwargs: Any) -> builtins.list[dict[str, Any]]:
        """Every item of a paginated listing."""
        return self._call("_paginated", operation, **kwargs)

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            if operation == "_paginated":
                pages = self._client.get_paginator(args[0]).paginate(**kwargs)
                return [item for page in pages for item in page.get("items", [])]
            return getattr(self._client, operation)(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DeploymentKeysError(
                f"API Gateway refused {operation}: {error.get('Code')}: {error.get('Message')}"
            ) from exc
        except BotoCoreError as exc:
            raise DeploymentKeysError(f"API Gateway could not be reached: {exc}") from exc


def _key(item: dict[str, Any]) -> DeploymentKey:
    created = item.get("createdDate")
    return DeploymentKey(
        key_id=str(item["id"]),
        name=str(item.get("name", "")),
        enabled=bool(item.get("enabled", False)),
        created_at=created.isoformat() if isinstance(created, datetime) else str(created or ""),
    )
