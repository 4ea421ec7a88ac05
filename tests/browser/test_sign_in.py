"""The page on a deployment with a user pool: it signs in with the managed login (authorization code +
PKCE), sends the ID token on its data calls, and signs out, against a local stand-in issuer.

The stand-in implements the three endpoints of Cognito's managed login the page uses (``/oauth2/authorize``
redirecting back with a code, ``/oauth2/token`` checking the PKCE verifier, ``/logout``); the API is the
local app whose ``Authenticator`` plays API Gateway's Cognito authorizer (the token decides the owner).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from starlette.requests import Request

from imgmgr.config import DataDir
from imgmgr.server import build_runtime
from lambdas.api.errors import ApiError
from lambdas.api.services import SignIn
from tests.browser.conftest import WebDriverWait
from tests.fakes import FakeLabeler

CLIENT_ID = "page-client-0123456789"
EMAIL = "alice@example.com"
SUB = "5b5e6d42-a1b2-43c4-8d9e-0f1a2b3c4d5e"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Issuer:
    """What the stand-in saw and issued."""

    url: str = ""
    authorizations: list[dict[str, str]] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    id_tokens: set[str] = field(default_factory=set)


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict | None = None, location: str | None = None) -> None:
            self.send_response(status)
            # Cognito's token endpoint answers pages of any origin (the page is on another one).
            self.send_header("Access-Control-Allow-Origin", "*")
            if location:
                self.send_header("Location", location)
            payload = json.dumps(body or {}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            if url.path == "/oauth2/authorize":
                issuer.authorizations.append(query)
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    return self._send(400, {"error": "invalid_request"})
                code = secrets.token_urlsafe(16)
                issuer.codes[code] = query
                back = urlencode({"code": code, "state": query.get("state", "")})
                return self._send(302, location=f"{query['redirect_uri']}?{back}")
            if url.path == "/logout":
                issuer.logouts.append(query)
                return self._send(302, location=query["logout_uri"])
            return self._send(404)

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/oauth2/token":
                return self._send(404)
            length = int(self.headers.get("Content-Length", "0"))
            form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
            issuer.exchanges.append(form)
            asked = issuer.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            if (
                asked is None
                or form.get("grant_type") != "authorization_code"
                or form.get("client_id") != CLIENT_ID
                or form.get("redirect_uri") != asked["redirect_uri"]
                or asked.get("code_challenge_method") != "S256"
                or _b64url(hashlib.sha256(verifier.encode()).digest()) != asked.get("code_challenge")
            ):
                return self._send(400, {"error": "invalid_grant"})
            claims = {"sub": SUB, "email": EMAIL, "token_use": "id", "aud": CLIENT_ID}
            id_token = ".".join(
                (_b64url(b'{"alg":"none"}'), _b64url(json.dumps(claims).encode()), _b64url(b"signature"))
            )
            issuer.id_tokens.add(id_token)
            return self._send(
                200,
                {
                    "id_token": id_token,
                    "access_token": "access-" + secrets.token_urlsafe(8),
                    "refresh_token": "refresh-" + secrets.token_urlsafe(8),
                    "expires_in": 3600,
                    "token_type": "Bearer",
                },
            )

    return Handler


class TokenAuthenticator:
    """API Gateway's Cognito authorizer, played locally: a token the issuer gave is its subject, else 401."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.seen: list[str] = []

    def owner(self, request: Request) -> str:
        token = request.headers.get("authorization", "")
        self.seen.append(token)
        if token not in self.issuer.id_tokens:
            raise ApiError(401, "Auth.MissingToken", "a token of the user pool is required")
        return SUB


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()


@pytest.fixture
def pool_site(tmp_path: Path, issuer: Issuer) -> Iterator[tuple[str, TokenAuthenticator]]:
    """The local app told that its deployment has a pool (the stand-in), with tokens alone on data calls."""
    runtime = build_runtime(DataDir.resolve(tmp_path / "data"), labeler=FakeLabeler())
    authenticator = TokenAuthenticator(issuer)
    runtime.app.state.services = replace(
        runtime.app.state.services,
        authenticator=authenticator,
        sign_in=SignIn(login_url=issuer.url, client_id=CLIENT_ID, api_key_required=False),
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(runtime.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", authenticator
    server.should_exit = True
    thread.join(10)


def test_the_page_signs_in_with_code_and_pkce_and_sends_the_id_token(pool_site, issuer, browser):
    site, authenticator = pool_site
    wait = WebDriverWait(browser, 30)
    # GIVEN the page of a deployment with a pool: it offers to sign in, not a key
    browser.get(site)
    wait.until(ec.visibility_of_element_located((By.ID, "sign-in")))
    assert not browser.find_element(By.ID, "key-form").is_displayed()
    # WHEN the user signs in (the stand-in signs anyone in at once and sends them back with a code)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.visibility_of_element_located((By.ID, "drop")))
    # THEN the page asked for a code with an S256 challenge and a state, back to its own URL
    (asked,) = issuer.authorizations
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["state"]) >= 32 and len(asked["code_challenge"]) == 43
    assert asked["redirect_uri"] == site
    assert asked["scope"] == "openid email"
    # AND exchanged it with the verifier of that challenge (the stand-in refuses any other)
    (exchange,) = issuer.exchanges
    assert exchange["grant_type"] == "authorization_code"
    assert _b64url(hashlib.sha256(exchange["code_verifier"].encode()).digest()) == asked["code_challenge"]
    # AND its data calls carry the ID token, the code is gone from the URL and the verifier from storage
    assert issuer.id_tokens & set(authenticator.seen)
    assert "code=" not in browser.current_url
    assert browser.execute_script("return sessionStorage.getItem('imgmgr.pkce')") is None
    assert EMAIL in browser.find_element(By.ID, "who").text
    # WHEN the user signs out THEN the page goes through the pool's /logout and offers to sign in again
    browser.find_element(By.ID, "sign-out").click()
    wait.until(ec.visibility_of_element_located((By.ID, "sign-in")))
    (logout,) = issuer.logouts
    assert (logout["client_id"], logout["logout_uri"]) == (CLIENT_ID, site)
    assert browser.execute_script("return sessionStorage.getItem('imgmgr.tokens')") is None


def test_a_code_the_page_did_not_ask_for_is_not_exchanged(pool_site, issuer, browser):
    site, _authenticator = pool_site
    wait = WebDriverWait(browser, 30)
    # GIVEN a link back to the page with a code and a state this tab never started (a login CSRF)
    browser.get(site + "?" + urlencode({"code": "stolen-code", "state": "not-ours"}))
    # THEN the page refuses it without calling the token endpoint, and offers to sign in
    wait.until(ec.visibility_of_element_located((By.ID, "sign-in")))
    assert "Sign-in failed" in browser.find_element(By.ID, "who").text
    assert issuer.exchanges == []
    assert "code=" not in browser.current_url


def test_a_refused_token_signs_in_again(pool_site, issuer, browser):
    site, _authenticator = pool_site
    wait = WebDriverWait(browser, 30)
    # GIVEN a tab that holds a token the API no longer accepts, and no refresh token
    browser.get(site)
    wait.until(ec.visibility_of_element_located((By.ID, "sign-in")))
    browser.execute_script("sessionStorage.setItem('imgmgr.tokens', JSON.stringify({id: 'expired.e30.x'}))")
    # WHEN the page loads again THEN its first data call is refused and it offers to sign in again
    browser.get(site)
    wait.until(lambda d: "sign in again" in d.find_element(By.ID, "who").text)
    assert browser.find_element(By.ID, "sign-in").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('imgmgr.tokens')") is None
