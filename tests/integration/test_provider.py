"""Tests of the local OAuth2/OIDC provider (tests/support/provider.py), over real loopback HTTP."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.provider import LocalProvider, pkce_challenge

ROOT = Path(__file__).resolve().parents[2]
FAKE_BROWSER = ROOT / "tests" / "support" / "fake_browser.py"
USER = "alice@example.com"
REDIRECT = "http://127.0.0.1:8765/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class Resp:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    form: dict[str, str] | None = None,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5,
) -> Resp:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@pytest.fixture
def p() -> Iterator[LocalProvider]:
    with LocalProvider() as prov:
        prov.register_client("pub")
        prov.register_client("conf", "s3cret")
        yield prov


def refresh(p: LocalProvider, rt: str, client: str = "pub", **extra: str) -> Resp:
    form = {"grant_type": "refresh_token", "refresh_token": rt, "client_id": client, **extra}
    return call(p.token_endpoint, form)


def authorize(p: LocalProvider, **params: str) -> tuple[Resp, dict[str, str], str]:
    verifier = secrets.token_urlsafe(48)
    q = {
        "response_type": "code",
        "client_id": "pub",
        "redirect_uri": REDIRECT,
        "scope": "openid email https://mail.example.com/",
        "state": "st-" + secrets.token_hex(4),
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    q.update(params)
    q = {k: v for k, v in q.items() if v != "<omit>"}
    r = call(p.authorization_endpoint + "?" + urllib.parse.urlencode(q))
    loc = r.headers.get("Location") or ""
    got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    return r, got, verifier


def exchange(p: LocalProvider, code: str, verifier: str, **extra: str) -> Resp:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "pub",
        **extra,
    }
    return call(p.token_endpoint, form)


# --------------------------------------------------------------------------- discovery


def test_discovery_documents(p: LocalProvider) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        r = call(p.base_url + path)
        assert r.status == 200
        doc = r.json()
        assert doc["issuer"] == p.issuer == p.base_url
        assert doc["token_endpoint"] == p.token_endpoint
        assert doc["authorization_endpoint"] == p.authorization_endpoint
        assert doc["device_authorization_endpoint"] == p.device_authorization_endpoint
        assert doc["revocation_endpoint"] == p.revocation_endpoint
        assert doc["introspection_endpoint"] == p.introspection_endpoint
        assert doc["userinfo_endpoint"] == p.userinfo_endpoint
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert "refresh_token" in doc["grant_types_supported"]
        assert "openid" in doc["scopes_supported"]
    assert p.base_url.startswith("http://127.0.0.1:")
    assert p.counts["discovery"] == 2
    assert p.unexpected == []


def test_unknown_path_and_wrong_method_are_unexpected(p: LocalProvider) -> None:
    assert call(p.base_url + "/nope").status == 404
    assert call(p.token_endpoint).status == 405  # GET /token
    assert len(p.unexpected) == 2
    assert [r["path"] for r in p.requests] == ["/nope", "/token"]


def test_token_needs_form_content_type(p: LocalProvider) -> None:
    r = call(
        p.token_endpoint,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 400 and r.json()["error"] == "invalid_request"
    assert p.unexpected


# --------------------------------------------------------------------------- code + PKCE


def test_code_flow_with_pkce(p: LocalProvider) -> None:
    r, got, verifier = authorize(p, login_hint=USER, nonce="n-123")
    assert r.status == 302
    assert r.headers["Location"].startswith(REDIRECT + "?")
    assert got["state"] == p.last_authorize["state"]  # type: ignore[index]
    assert got["iss"] == p.issuer
    assert p.login_hints == [USER]
    tok = exchange(p, got["code"], verifier)
    assert tok.status == 200, tok.body
    body = tok.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] and body["access_token"]
    assert body["scope"] == "openid email https://mail.example.com/"
    claims = p.decode_id_token(body["id_token"])
    assert claims["iss"] == p.issuer and claims["aud"] == "pub"
    assert claims["email"] == USER and claims["preferred_username"] == USER
    assert claims["nonce"] == "n-123"
    assert p.is_refresh_token_valid(body["refresh_token"])
    assert p.introspect(body["access_token"])["active"] is True
    assert p.counts["authorize"] == 1 and p.counts["token:authorization_code"] == 1
    assert p.unexpected == []
    # The code is single use.
    again = exchange(p, got["code"], verifier)
    assert again.status == 400 and again.json()["error"] == "invalid_grant"
    assert p.unexpected


def test_code_flow_state_echoed_exactly(p: LocalProvider) -> None:
    state = "a b&c=d/é"
    _, got, _ = authorize(p, state=state)
    assert got["state"] == state


def test_wrong_verifier_and_redirect_uri_fail(p: LocalProvider) -> None:
    _, got, _ = authorize(p)
    bad = exchange(p, got["code"], secrets.token_urlsafe(48))
    assert bad.status == 400 and bad.json()["error"] == "invalid_grant"
    _, got, verifier = authorize(p)
    bad = exchange(p, got["code"], verifier, redirect_uri="http://127.0.0.1:1/other")
    assert bad.status == 400 and bad.json()["error"] == "invalid_grant"
    assert len(p.unexpected) == 2


def test_authorize_violations(p: LocalProvider) -> None:
    r, _, _ = authorize(p, redirect_uri="https://evil.example/cb")
    assert r.status == 400
    r, got, _ = authorize(p, code_challenge_method="plain")
    assert r.status == 302 and got["error"] == "invalid_request" and "state" in got
    r, got, _ = authorize(p, code_challenge="<omit>", code_challenge_method="<omit>")
    assert got["error"] == "invalid_request"
    r, got, _ = authorize(p, state="<omit>")
    assert got["error"] == "invalid_request"
    assert len(p.unexpected) == 4
    # localhost with any port and path is fine
    r, got, _ = authorize(p, redirect_uri="http://localhost:9/x/y")
    assert "code" in got
    assert len(p.unexpected) == 4


def test_authorize_error_knob_and_ms_style_identity(p: LocalProvider) -> None:
    p.authorize_error = "access_denied"
    _, got, _ = authorize(p, state="s1")
    assert got == {"error": "access_denied", "state": "s1", "iss": p.issuer}
    p.authorize_error = None
    p.include_email_claim = False
    p.signed_in_user = "bob@corp.example"
    p.id_token_claims_extra = {"upn": "bob.smith@corp.example"}
    _, got, verifier = authorize(p)
    claims = p.decode_id_token(exchange(p, got["code"], verifier).json()["id_token"])
    assert "email" not in claims
    assert claims["preferred_username"] == "bob@corp.example"
    assert claims["upn"] == "bob.smith@corp.example"


# --------------------------------------------------------------------------- refresh & clients


def test_refresh_rotation_none(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    for _ in range(3):
        r = refresh(p, rt)
        assert r.status == 200
        assert "refresh_token" not in r.json()
        assert "id_token" in r.json()
    assert p.is_refresh_token_valid(rt)
    assert p.counts["token:refresh_token"] == 3 and p.counts["token"] == 3


def test_refresh_rotation_rotate_with_grace(p: LocalProvider) -> None:
    p.rotation = "rotate"
    p.rotation_grace = 2
    rt = p.seed_refresh_token(USER, "pub")
    new = refresh(p, rt).json()["refresh_token"]
    assert new != rt
    assert refresh(p, rt).status == 200  # grace 1
    assert refresh(p, rt).status == 200  # grace 2
    r = refresh(p, rt)
    assert r.status == 400 and r.json()["error"] == "invalid_grant"
    assert refresh(p, new).status == 200
    assert p.unexpected == []


def test_refresh_rotation_strict(p: LocalProvider) -> None:
    p.rotation = "strict"
    rt = p.seed_refresh_token(USER, "pub")
    first = refresh(p, rt)
    new = first.json()["refresh_token"]
    assert not p.is_refresh_token_valid(rt) and p.is_refresh_token_valid(new)
    reuse = refresh(p, rt)
    assert reuse.status == 400
    assert reuse.json() == {
        "error": "invalid_grant",
        "error_description": p.invalid_grant_description,
    }
    assert refresh(p, new).status == 200
    assert any("rotated" in u for u in p.unexpected)


def test_refresh_bound_to_client_and_scope(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub", ["openid", "mail"])
    r = refresh(p, rt, client="conf", client_secret="s3cret")
    assert r.status == 400 and r.json()["error"] == "invalid_grant"
    r = refresh(p, rt, scope="mail")
    assert r.status == 200 and r.json()["scope"] == "mail" and "id_token" not in r.json()
    assert refresh(p, rt, scope="more").json()["error"] == "invalid_scope"
    assert refresh(p, "rt-unknown").json()["error"] == "invalid_grant"


def test_refresh_token_expires_in_and_description(p: LocalProvider) -> None:
    p.refresh_token_expires_in = 604799
    p.invalid_grant_description = "Bad Request"
    rt = p.seed_refresh_token(USER, "pub")
    body = refresh(p, rt).json()
    assert 604790 <= body["refresh_token_expires_in"] <= 604799
    p.advance_time(604800)
    r = refresh(p, rt)
    assert r.json() == {"error": "invalid_grant", "error_description": "Bad Request"}


def test_client_authentication(p: LocalProvider) -> None:
    rt_pub = p.seed_refresh_token(USER, "pub")
    r = refresh(p, rt_pub, client_secret="anything")
    assert r.status == 401 and r.json()["error"] == "invalid_client"
    assert "AADSTS700025" in r.json()["error_description"]
    assert any("public client" in u for u in p.unexpected)
    form = {"grant_type": "refresh_token", "refresh_token": rt_pub}
    r = call(p.token_endpoint, form, headers=basic("pub", "x"))
    assert r.status == 401
    rt_conf = p.seed_refresh_token(USER, "conf")
    assert refresh(p, rt_conf, client="conf").status == 401  # no secret
    assert refresh(p, rt_conf, client="conf", client_secret="wrong").status == 401
    assert refresh(p, rt_conf, client="conf", client_secret="s3cret").status == 200
    form = {"grant_type": "refresh_token", "refresh_token": rt_conf}
    assert call(p.token_endpoint, form, headers=basic("conf", "s3cret")).status == 200
    assert refresh(p, rt_pub, client="nobody").status == 401
    assert p.requests[-1]["form"]["client_id"] == "nobody"


def test_unsupported_grant(p: LocalProvider) -> None:
    r = call(p.token_endpoint, {"grant_type": "password", "client_id": "pub"})
    assert r.status == 400 and r.json()["error"] == "unsupported_grant_type"
    assert p.unexpected and p.counts["token:password"] == 1


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("kind", "kw", "status"),
    [
        ("500", {}, 500),
        ("502", {}, 502),
        ("503_html", {}, 503),
        ("429", {"retry_after": 7}, 429),
        ("garbage", {}, 200),
        ("truncated", {}, 200),
        ("invalid_grant", {}, 400),
        ("empty_200", {}, 200),
        (
            "error_json",
            {"status": 401, "body": {"error": "invalid_client", "x": "AADSTS7000112"}},
            401,
        ),
    ],
)
def test_fail_next_kinds(p: LocalProvider, kind: str, kw: dict[str, Any], status: int) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    p.fail_next(kind, 2, **kw)
    for _ in range(2):
        r = refresh(p, rt)
        assert r.status == status
        if kind == "503_html":
            assert r.body.startswith(b"<!DOCTYPE html>")
        elif kind == "429":
            assert r.headers["Retry-After"] == "7"
        elif kind == "garbage":
            assert r.body == b"<html>not json"
        elif kind == "truncated":
            assert r.body.startswith(b'{"access_token": "')
            with pytest.raises(json.JSONDecodeError):
                json.loads(r.body)
        elif kind == "invalid_grant":
            assert r.json()["error"] == "invalid_grant"
        elif kind == "empty_200":
            assert r.json() == {}
        elif kind == "error_json":
            assert r.json() == kw["body"]
    ok = refresh(p, rt)
    assert ok.status == 200 and "access_token" in ok.json()
    assert p.counts["token"] == 3
    assert p.is_refresh_token_valid(rt)


def test_fail_next_close(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    p.fail_next("close")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        refresh(p, rt)
    assert refresh(p, rt).status == 200


def test_fail_next_hang_times_out_without_blocking_others(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    p.fail_next("hang", seconds=3)
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        call(
            p.token_endpoint,
            {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "pub"},
            timeout=0.3,
        )
    assert time.monotonic() - t0 < 2
    # Other requests are served while the hang goes on.
    t0 = time.monotonic()
    assert refresh(p, rt).status == 200
    assert call(p.base_url + "/.well-known/openid-configuration").status == 200
    assert time.monotonic() - t0 < 1
    assert p.counts["token"] == 2


def test_stop_is_prompt_during_hang() -> None:
    prov = LocalProvider().start()
    rt = prov.seed_refresh_token(USER, "pub")
    prov.fail_next("hang", seconds=30)
    outcome: list[object] = []

    def hanging() -> None:
        try:
            outcome.append(
                refresh(
                    prov,
                    rt,
                ).status
            )
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=hanging, daemon=True)
    t.start()
    deadline = time.monotonic() + 3
    while prov.counts["token"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert prov.counts["token"] == 1
    t0 = time.monotonic()
    prov.stop()
    assert time.monotonic() - t0 < 2
    t.join(timeout=3)
    assert not t.is_alive()
    assert outcome and isinstance(outcome[0], BaseException)  # connection closed, no answer
    prov.stop()  # idempotent


def test_token_delay_and_concurrent_refreshes_count_exactly(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    p.token_delay = 0.05
    with ThreadPoolExecutor(32) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    refresh(
                        p,
                        rt,
                    ).status
                ),
                range(32),
            )
        )
    assert statuses == [200] * 32
    assert p.counts["token"] == 32 and p.counts["token:refresh_token"] == 32
    assert len(set(p.issued_access_tokens)) == 32


def test_strict_rotation_under_64_concurrent_refreshes(p: LocalProvider) -> None:
    p.rotation = "strict"
    rt = p.seed_refresh_token(USER, "pub")
    with ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(lambda _: refresh(p, rt).status, range(64)))
    assert sorted(statuses) == [200] + [400] * 63
    assert p.counts["token"] == 64 and p.counts["stale_refresh"] == 63


# --------------------------------------------------------------------------- device flow


def device_start(p: LocalProvider, scope: str = "openid mail") -> dict[str, Any]:
    r = call(p.device_authorization_endpoint, {"client_id": "pub", "scope": scope})
    assert r.status == 200, r.body
    return dict(r.json())


def poll(p: LocalProvider, device_code: str) -> Resp:
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": device_code,
        "client_id": "pub",
    }
    return call(p.token_endpoint, form)


def test_device_flow_slow_down_then_approve(p: LocalProvider) -> None:
    p.device_interval = 0.3
    p.slow_down_polls = 1
    d = device_start(p)
    assert d == p.last_device
    assert len(d["user_code"]) == 9 and d["user_code"][4] == "-"
    assert d["verification_uri"] == p.base_url + "/device"
    assert d["user_code"] in urllib.parse.unquote(d["verification_uri_complete"])
    assert d["expires_in"] == 600 and d["interval"] == 0.3
    assert poll(p, d["device_code"]).json()["error"] == "slow_down"
    time.sleep(0.35)
    assert poll(p, d["device_code"]).json()["error"] == "authorization_pending"
    # Polling faster than the interval -> slow_down (and noted).
    assert poll(p, d["device_code"]).json()["error"] == "slow_down"
    assert len(p.unexpected) == 1
    p.approve_device(d["user_code"].lower().replace("-", ""), user="carol@example.com")
    time.sleep(0.35)
    r = poll(p, d["device_code"])
    assert r.status == 200, r.body
    assert p.introspect(r.json()["access_token"])["email"] == "carol@example.com"
    assert p.decode_id_token(r.json()["id_token"])["email"] == "carol@example.com"
    time.sleep(0.35)
    assert poll(p, d["device_code"]).json()["error"] == "invalid_grant"
    assert p.counts["device_authorization"] == 1 and p.counts["token:device_code"] == 5


def test_device_flow_deny_expire_and_browser_approval(p: LocalProvider) -> None:
    p.device_interval = 0
    d1, d2, d3 = device_start(p), device_start(p), device_start(p)
    p.deny_device(d1["user_code"])
    p.expire_device(d2["user_code"])
    r1, r2 = poll(p, d1["device_code"]), poll(p, d2["device_code"])
    assert (r1.status, r1.json()["error"]) == (400, "access_denied")
    assert (r2.status, r2.json()["error"]) == (400, "expired_token")
    assert call(d3["verification_uri_complete"]).status == 200  # the signed-in browser approves
    r3 = poll(p, d3["device_code"])
    assert r3.status == 200 and p.introspect(r3.json()["access_token"])["username"] == USER
    d4 = device_start(p)
    p.advance_time(601)
    assert poll(p, d4["device_code"]).json()["error"] == "expired_token"
    with pytest.raises(KeyError):
        p.approve_device("ZZZZ-ZZZZ")
    assert p.unexpected == []


# --------------------------------------------------------------------------- revoke, introspect


def test_revoke_and_introspect(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    at = refresh(p, rt).json()["access_token"]
    # Introspection without client auth, and with (Dovecot-style) Basic auth.
    r = call(p.introspection_endpoint, {"token": at})
    info = r.json()
    assert info["active"] is True and info["email"] == USER and info["username"] == USER
    assert info["client_id"] == "pub" and info["token_type"] == "Bearer"
    assert info["exp"] > time.time() + 3500 and info["sub"]
    assert call(p.introspection_endpoint, {"token": at}, headers=basic("dovecot", "x")).json()[
        "active"
    ]
    assert call(p.introspection_endpoint, {"token": rt}).json() == {"active": False}
    ui = call(p.userinfo_endpoint, headers={"Authorization": "Bearer " + at})
    assert ui.status == 200 and ui.json()["email"] == USER
    assert (
        call(p.revocation_endpoint, {"token": rt, "token_type_hint": "refresh_token"}).status == 200
    )
    assert rt in p.revoked and at in p.revoked
    assert call(p.introspection_endpoint, {"token": at}).json() == {"active": False}
    assert not p.is_refresh_token_valid(rt)
    assert refresh(p, rt).json()["error"] == "invalid_grant"
    assert call(p.userinfo_endpoint, headers={"Authorization": "Bearer " + at}).status == 401
    assert call(p.revocation_endpoint, {"token": "never-issued"}).status == 200
    assert p.counts["revoke"] == 2 and p.counts["introspect"] == 4
    assert p.unexpected == []


def test_revoke_access_token_only_and_expiry(p: LocalProvider) -> None:
    rt = p.seed_refresh_token(USER, "pub")
    at = refresh(p, rt).json()["access_token"]
    assert call(p.revocation_endpoint, {"token": at, "client_id": "pub"}).status == 200
    assert not p.introspect(at)["active"]
    assert p.is_refresh_token_valid(rt)
    expired = p.issue_access_token(USER, "pub", ttl=-1)
    assert p.introspect(expired) == {"active": False}
    short = p.issue_access_token(USER, "pub", ttl=60)
    assert p.introspect(short)["active"]
    p.advance_time(61)
    assert not p.introspect(short)["active"]
    # A public client sending a secret to /revoke is refused too.
    r = call(p.revocation_endpoint, {"token": rt, "client_id": "pub", "client_secret": "x"})
    assert r.status == 401


# --------------------------------------------------------------------------- fake browser


class _Listener(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - reset per test

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = b"<html>done</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_fake_browser_follows_redirect_to_listener(p: LocalProvider, tmp_path: Path) -> None:
    _Listener.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        redirect = f"http://127.0.0.1:{server.server_port}/cb"
        verifier = secrets.token_urlsafe(48)
        q = {
            "response_type": "code",
            "client_id": "pub",
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "xyz",
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        url = p.authorization_endpoint + "?" + urllib.parse.urlencode(q)
        env = dict(
            os.environ,
            http_proxy="http://127.0.0.1:9",
            HTTP_PROXY="http://127.0.0.1:9",
            no_proxy="",
            NO_PROXY="",
            FAKE_BROWSER_LOG=str(tmp_path / "log"),
        )
        done = subprocess.run(
            [str(FAKE_BROWSER), url], env=env, timeout=20, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == b""
        assert len(_Listener.hits) == 1
        got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(_Listener.hits[0]).query))
        assert got["state"] == "xyz"
        tok = call(
            p.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": got["code"],
                "redirect_uri": redirect,
                "code_verifier": verifier,
                "client_id": "pub",
            },
        )
        assert tok.status == 200
        assert "302 " in (tmp_path / "log").read_text()
    finally:
        server.shutdown()
        server.server_close()
    bad = subprocess.run(
        [sys.executable, str(FAKE_BROWSER), "http://127.0.0.1:9/x"],
        timeout=20,
        capture_output=True,
        check=False,
    )
    assert bad.returncode == 1


# --------------------------------------------------------------------------- stand-alone mode


def test_module_main_serves_until_stdin_eof() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.provider",
            "--rotation",
            "strict",
            "--client",
            "bench",
            "--seed",
            USER,
            "bench",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        base = proc.stdout.readline().decode().strip()
        rt = proc.stdout.readline().decode().strip()
        assert base.startswith("http://127.0.0.1:")
        form = {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "bench"}
        r = call(base + "/token", form)
        assert r.status == 200 and r.json()["refresh_token"] != rt
        proc.stdin.close()
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_module_main_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.provider"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().decode().strip()
        time.sleep(0.3)
        assert proc.poll() is None  # /dev/null on stdin does not stop it
        assert call(base + "/.well-known/openid-configuration").status == 200
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
