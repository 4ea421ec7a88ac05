"""API Gateway (REST) in front of the functions, as applied: resources, methods, keys, proxy integrations.

A request is routed the way API Gateway routes it: the most specific applied resource (literal path
parts before ``{param}`` before ``{proxy+}``), then that resource's method (or ``ANY``); nothing else is reachable
(403 ``Missing Authentication Token``). ``apiKeyRequired`` methods need the ``x-api-key`` of an enabled
key in a usage plan of this stage (403 ``Forbidden``). ``AWS_PROXY`` integrations invoke their function
with the REST proxy event, if the function's resource policy lets API Gateway invoke it for this method.
Throttling and quotas of the usage plan are not modelled.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.twin.runtime import Twin, TwinError


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass(frozen=True)
class _Method:
    resource_id: str
    resource_path: str
    http_method: str
    api_key_required: bool
    authorization: str
    integration: dict[str, Any] = field(hash=False, compare=False)


class RestApi:
    """The applied REST API behind ``url`` (the stack's ``api_url`` output)."""

    def __init__(self, twin: Twin, url: str) -> None:
        parsed = urlparse(url)
        self.twin = twin
        self.url = url
        self.api_id = (parsed.hostname or "").split(".", 1)[0]
        self.stage = parsed.path.strip("/").split("/", 1)[0]
        self.host = parsed.hostname or ""
        self.methods = self._methods()

    def _methods(self) -> dict[str, dict[str, _Method]]:
        client = self.twin.admin("apigateway")
        stages = {stage["stageName"] for stage in client.get_stages(restApiId=self.api_id)["item"]}
        if self.stage not in stages:
            raise TwinError(f"stage {self.stage!r} of {self.url} was not applied (stages: {sorted(stages)})")
        methods: dict[str, dict[str, _Method]] = {}
        for resource in client.get_resources(restApiId=self.api_id, limit=500)["items"]:
            for http_method in resource.get("resourceMethods", {}) or {}:
                method = client.get_method(restApiId=self.api_id, resourceId=resource["id"], httpMethod=http_method)
                try:
                    integration = client.get_integration(
                        restApiId=self.api_id, resourceId=resource["id"], httpMethod=http_method
                    )
                except Exception:  # noqa: BLE001 - a method without integration answers 500 on AWS
                    integration = {}
                methods.setdefault(resource["path"], {})[http_method] = _Method(
                    resource_id=resource["id"],
                    resource_path=resource["path"],
                    http_method=http_method,
                    api_key_required=bool(method.get("apiKeyRequired")),
                    authorization=method.get("authorizationType", "NONE"),
                    integration=integration,
                )
        return methods

    # ----------------------------------------------------------------------------------------- routing

    def _route(self, path: str, http_method: str) -> tuple[_Method, dict[str, str]] | None:
        """The most specific resource matching ``path``, then its method (or ``ANY``): a method missing on
        that resource is not looked for on a less specific one, as in API Gateway."""
        parts = [part for part in path.split("/") if part]
        candidates = []
        for resource_path, methods in self.methods.items():
            parameters = _match(resource_path, parts)
            if parameters is not None:
                candidates.append((_specificity(resource_path), methods, parameters))
        if not candidates:
            return None
        _, methods, parameters = max(candidates, key=lambda item: item[0])
        method = methods.get(http_method) or methods.get("ANY")
        return (method, parameters) if method is not None else None

    def _key(self, value: str | None) -> dict[str, Any] | None:
        """The enabled key with this value that a usage plan of this stage holds."""
        if not value:
            return None
        client = self.twin.admin("apigateway")
        for key in client.get_api_keys(includeValues=True, limit=500)["items"]:
            if key.get("value") != value or not key.get("enabled", True):
                continue
            for plan in client.get_usage_plans(keyId=key["id"])["items"]:
                if any(
                    s.get("apiId") == self.api_id and s.get("stage") == self.stage for s in plan.get("apiStages", [])
                ):
                    return key
        return None

    # ---------------------------------------------------------------------------------------- requests

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        api_key: str | None = None,
    ) -> Response:
        """``method`` on ``path`` (relative to the stage, with an optional query string)."""
        headers = {**(headers or {})}
        if api_key is not None:
            headers["x-api-key"] = api_key
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("content-type", "application/json")
        parsed = urlparse(path if path.startswith("/") else f"/{path}")
        routed = self._route(parsed.path, method)
        if routed is None:
            return _gateway_error(403, "Missing Authentication Token")
        route, parameters = routed
        key = None
        if route.api_key_required:
            key = self._key(_header(headers, "x-api-key"))
            if key is None:
                return _gateway_error(403, "Forbidden")
        if route.authorization != "NONE":
            raise TwinError(
                f"{route.resource_path} {route.http_method}: authorizer {route.authorization} is not modelled"
            )
        integration = route.integration
        if integration.get("type") != "AWS_PROXY":
            raise TwinError(
                f"{route.resource_path} {route.http_method}: integration {integration.get('type')} is not modelled"
            )
        function_arn = integration["uri"].split("/functions/", 1)[1].removesuffix("/invocations")
        function = function_arn.rsplit(":", 1)[-1]
        source_arn = f"arn:aws:execute-api:{self.twin.region}:{self.twin.account}:{self.api_id}/{self.stage}/{method}{parsed.path}"
        if not self.twin.service_may_invoke(
            function, "apigateway.amazonaws.com", source_arn=source_arn, source_account=self.twin.account
        ):
            return _gateway_error(500, "Internal server error")
        event = self._event(method, parsed.path, parsed.query, headers, body, route, parameters, key)
        invocation = self.twin.invoke(function, event)
        if invocation.error is not None:
            return _gateway_error(502, "Internal server error")
        return _proxy_response(invocation.result)

    def _event(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes | None,
        route: _Method,
        parameters: dict[str, str],
        key: dict[str, Any] | None,
    ) -> dict[str, Any]:
        all_headers = {"Host": self.host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **headers}
        values = parse_qs(query, keep_blank_values=True)
        text, encoded = (None, False)
        if body is not None:
            try:
                text = body.decode()
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
        return {
            "resource": route.resource_path,
            "path": path,
            "httpMethod": method,
            "headers": dict(all_headers),
            "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
            "queryStringParameters": {name: items[-1] for name, items in values.items()} or None,
            "multiValueQueryStringParameters": values or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": route.resource_id,
                "resourcePath": route.resource_path,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "accountId": self.twin.account,
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": self.api_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "requestId": str(uuid.uuid4()),
                "identity": {
                    "sourceIp": "203.0.113.10",
                    "userAgent": all_headers.get("User-Agent", "twin"),
                    "apiKey": key["value"] if key else None,
                    "apiKeyId": key["id"] if key else None,
                },
                "domainName": self.host,
                "apiId": self.api_id,
            },
            "body": text,
            "isBase64Encoded": encoded,
        }


def _match(resource_path: str, parts: list[str]) -> dict[str, str] | None:
    template = [part for part in resource_path.split("/") if part]
    parameters: dict[str, str] = {}
    for index, piece in enumerate(template):
        if piece.startswith("{") and piece.endswith("+}"):
            rest = parts[index:]
            if not rest:
                return None
            parameters[piece[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(parts):
            return None
        if piece.startswith("{") and piece.endswith("}"):
            parameters[piece[1:-1]] = parts[index]
        elif piece != parts[index]:
            return None
    return parameters if len(template) == len(parts) else None


def _specificity(resource_path: str) -> tuple[int, int, int]:
    pieces = [part for part in resource_path.split("/") if part]
    literal = sum(1 for piece in pieces if not piece.startswith("{"))
    greedy = any(piece.endswith("+}") for piece in pieces)
    return (0 if greedy else 1, literal, len(pieces))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _gateway_error(status: int, message: str) -> Response:
    return Response(status, {"content-type": "application/json"}, json.dumps({"message": message}).encode())


def _proxy_response(result: Any) -> Response:
    if not isinstance(result, dict) or "statusCode" not in result:
        return _gateway_error(502, "Internal server error")
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(value) for value in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return Response(int(result["statusCode"]), headers, data)
