"""A local OAuth2 / OpenID Connect provider for the tests and benchmarks.

Everything runs on 127.0.0.1 in a background thread (stdlib ``ThreadingHTTPServer``)::

    with LocalProvider(rotation="strict") as p:
        p.register_client("cli", None)             # public client
        token = p.seed_refresh_token("alice@example.com", "cli")
        ...                                          # point the tool at p.base_url

Endpoints (relative to ``base_url``, which is also the issuer):

- ``GET /.well-known/openid-configuration``, ``GET /.well-known/oauth-authorization-server``
- ``GET /authorize`` (code + PKCE S256 only; auto-approves for ``signed_in_user``)
- ``POST /token`` (authorization_code, refresh_token, device_code grants)
- ``POST /device/code`` (RFC 8628) and ``GET /device`` (the verification page: visiting it with
  ``?user_code=...`` approves the device for ``signed_in_user``, like a signed-in browser would)
- ``POST /revoke`` (RFC 7009), ``POST /introspect`` (RFC 7662), ``GET``/``POST /userinfo``

Anything the provider does not expect from a well-behaved client (unknown paths, wrong methods,
missing ``state``, PKCE ``plain``, a public client sending a secret, a reused code, a wrong PKCE
verifier, reuse of a rotated refresh token in ``strict`` mode, polling the device endpoint faster
than ``interval``...) is answered as a real provider would and also appended to ``unexpected``,
so a test can assert ``p.unexpected == []``.

Run ``python -m tests.support.provider --help`` for the stand-alone mode used by benchmarks.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import signal
import socketserver
import ssl
import stat
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ROTATION_MODES = ("none", "rotate", "strict")
FAULT_KINDS = frozenset(
    {
        "500",
        "502",
        "503_html",
        "429",
        "hang",
        "garbage",
        "truncated",
        "invalid_grant",
        "close",
        "empty_200",
        "error_json",
        "echo",  # 400 whose error_description quotes the request body as received
        "drip_headers",  # the whole answer one byte per `interval` seconds (default 1)
        "drip_body",  # headers at once, then the body one byte per `interval` seconds
    }
)
DEFAULT_SCOPES = ("openid", "email", "offline_access", "https://mail.example.com/")
AUTH_CODE_LIFETIME = 60.0

_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels, as RFC 8628 section 6.1 suggests
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_FORM = "application/x-www-form-urlencoded"
_PUBLIC_CLIENT_SECRET_ERROR = (
    "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' "
    "should be presented."
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)), the S256 code challenge of RFC 7636."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def subject_of(user: str) -> str:
    """The stable ``sub`` claim the provider uses for ``user``."""
    return "sub-" + hashlib.sha256(user.lower().encode("utf-8")).hexdigest()[:20]


def _parse_params(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse a query string or form body; returns (single values, names given more than once)."""
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    out: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name in out and name not in repeated:
            repeated.append(name)
        out[name] = value
    return out, repeated


def _is_loopback_redirect(uri: str | None) -> bool:
    if not uri:
        return False
    try:
        parts = urllib.parse.urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in ("127.0.0.1", "localhost")
        and not parts.fragment
        and not parts.username
        and not parts.password
    )


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: str = ""  # "headers" or "body": send that part (and what follows) byte by byte
    drip_interval: float = 1.0


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    user: str
    exp: float
    nonce: str | None
    used: bool = False


@dataclass
class _Refresh:
    user: str
    client_id: str
    scopes: list[str]
    grant: str
    exp: float | None = None
    active: bool = True
    superseded: bool = False
    grace_left: int = 0


@dataclass
class _Access:
    user: str
    client_id: str
    scopes: list[str]
    exp: float
    refresh_token: str | None
    grant: str | None
    active: bool = True


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    exp: float
    last_poll: float | None = None
    status: str = "pending"  # pending, approved, denied, expired, done
    user: str | None = None


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    repeated: list[str]
    headers: dict[str, str]
    lower_headers: dict[str, str]
    is_form: bool
    raw_body: bytes = b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    provider: LocalProvider

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves the host name (socket.getfqdn), which can stall
        # for seconds without DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        self.provider._record_unexpected("provider error: " + traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    server_version = "LocalProvider/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # The client died mid-request (a kill -9 test): nothing to judge, nobody to answer.
            self.close_connection = True
            return
        headers = dict(self.headers.items())
        reply = self.server.provider._handle(self.command, self.path, headers, body)
        if reply is None:  # drop the connection without an answer
            self.close_connection = True
            return
        try:
            if reply.drip:
                self._drip(reply)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _drip(self, reply: _Reply) -> None:
        head = f"HTTP/1.0 {reply.status} Drip\r\n".encode()
        for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            head += f"{name}: {value}\r\n".encode()
        head += b"\r\n"
        slow = head + reply.body
        if reply.drip == "body":
            self.wfile.write(head)
            self.wfile.flush()
            slow = reply.body
        stopping = self.server.provider._stopping
        for byte in slow:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if stopping.wait(reply.drip_interval):
                break
        self.close_connection = True

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_DELETE = _dispatch
    do_PATCH = _dispatch
    do_HEAD = _dispatch
    do_OPTIONS = _dispatch


def _json(status: int, obj: dict[str, Any], extra: dict[str, str] | None = None) -> _Reply:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }
    if extra:
        headers.update(extra)
    return _Reply(status, json.dumps(obj).encode("utf-8"), headers)


def _error(status: int, error: str, description: str | None = None) -> _Reply:
    obj = {"error": error}
    if description is not None:
        obj["error_description"] = description
    return _json(status, obj)


def _html(status: int, title: str, text: str) -> _Reply:
    page = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return _Reply(status, page.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})


class LocalProvider:
    """An in-process OAuth2/OIDC provider on 127.0.0.1 with knobs and fault injection."""

    def __init__(
        self, rotation: str = "none", *, port: int = 0, tls: tuple[Path, Path] | None = None
    ) -> None:
        self._tls = tls  # (certificate, key): serve https with them
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = port
        self._base_url: str | None = None
        self._rotation = "none"
        self.rotation = rotation

        # Knobs.
        self.signed_in_user: str | None = "alice@example.com"
        self.rotation_grace = 1000
        self.access_token_ttl = 3600
        self.refresh_token_expires_in: int | None = None
        self.token_delay = 0.0
        self.invalid_grant_description = "Token has been expired or revoked."
        self.authorize_error: str | None = None
        self.slow_down_polls = 0
        self.discovery_overrides: dict[str, Any] = {}  # e.g. a hostile token_endpoint
        self.refresh_token_prefix = "rt-"  # Google's look "1//0g..."; "/+=" test every encoding
        self.device_interval: float = 1
        self.device_expires_in = 600
        self.id_token_claims_extra: dict[str, Any] = {}
        # Merged into every token response: {"token_type": "DPoP"}, {"scope": "openid"}, ...
        self.token_response_extra: dict[str, Any] = {}
        self.device_denied_error = "access_denied"  # Microsoft says authorization_declined
        self.include_email_claim = True
        self.clock_offset = 0.0
        self.id_token_key = secrets.token_bytes(32)

        # Observations.
        self.counts: collections.Counter[str] = collections.Counter()
        self.requests: list[dict[str, Any]] = []
        self.unexpected: list[str] = []
        self.revoked: set[str] = set()
        self.login_hints: list[str] = []
        self.last_authorize: dict[str, str] | None = None
        self.last_device: dict[str, Any] | None = None
        self.last_token_response: dict[str, Any] | None = None
        self.issued_access_tokens: list[str] = []

        # State.
        self._clients: dict[str, str | None] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}
        self._devices: dict[str, _Device] = {}
        self._user_codes: dict[str, str] = {}
        self._faults: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LocalProvider:
        if self._server is not None:
            raise RuntimeError("provider already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.provider = self
        scheme = "http"
        if self._tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, self._tls))
            server.socket = context.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        self._server = server
        self._base_url = f"{scheme}://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LocalProvider:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes up "hang" and token_delay sleepers
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ URLs

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("provider not started")
        return self._base_url

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def authorization_endpoint(self) -> str:
        return self.base_url + "/authorize"

    @property
    def token_endpoint(self) -> str:
        return self.base_url + "/token"

    @property
    def device_authorization_endpoint(self) -> str:
        return self.base_url + "/device/code"

    @property
    def verification_uri(self) -> str:
        return self.base_url + "/device"

    @property
    def revocation_endpoint(self) -> str:
        return self.base_url + "/revoke"

    @property
    def introspection_endpoint(self) -> str:
        return self.base_url + "/introspect"

    @property
    def userinfo_endpoint(self) -> str:
        return self.base_url + "/userinfo"

    # ------------------------------------------------------------------ knobs & helpers

    @property
    def rotation(self) -> str:
        return self._rotation

    @rotation.setter
    def rotation(self, mode: str) -> None:
        if mode not in ROTATION_MODES:
            raise ValueError(f"rotation must be one of {ROTATION_MODES}, not {mode!r}")
        self._rotation = mode

    def now(self) -> float:
        """The provider's clock (wall clock + ``clock_offset``)."""
        return time.time() + self.clock_offset

    def advance_time(self, seconds: float) -> None:
        """Move the provider's clock forward (expires tokens, codes and device codes)."""
        with self._lock:
            self.clock_offset += seconds

    def register_client(self, client_id: str, client_secret: str | None = None) -> None:
        """Register a client; ``client_secret=None`` makes it public (sending a secret fails)."""
        with self._lock:
            self._clients[client_id] = client_secret

    def fail_next(self, kind: str, count: int = 1, **kw: Any) -> None:
        """Make the next ``count`` /token requests fail with ``kind`` (see module docs)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self._lock:
            for _ in range(count):
                self._faults.append((kind, dict(kw)))

    def seed_refresh_token(self, user: str, client_id: str, scopes: list[str] | None = None) -> str:
        """A valid refresh token, as if ``user`` had authorized ``client_id``.

        An unknown client is registered as a public client.
        """
        with self._lock:
            self._clients.setdefault(client_id, None)
            return self._new_refresh(user, client_id, list(scopes or DEFAULT_SCOPES), None)

    def issue_access_token(
        self,
        user: str,
        client_id: str,
        scopes: list[str] | None = None,
        ttl: float | None = None,
    ) -> str:
        """A valid access token for ``user`` (a negative ``ttl`` gives an expired one)."""
        with self._lock:
            self._clients.setdefault(client_id, None)
            life = self.access_token_ttl if ttl is None else ttl
            return self._new_access(user, client_id, list(scopes or DEFAULT_SCOPES), None, life)

    def approve_device(self, user_code: str, user: str | None = None) -> None:
        with self._lock:
            dev = self._device_by_user_code(user_code)
            dev.status = "approved"
            dev.user = user or self.signed_in_user

    def deny_device(self, user_code: str) -> None:
        with self._lock:
            self._device_by_user_code(user_code).status = "denied"

    def expire_device(self, user_code: str) -> None:
        with self._lock:
            self._device_by_user_code(user_code).status = "expired"

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 answer for ``token`` (only access tokens can be active)."""
        with self._lock:
            rec = self._access.get(token)
            if rec is None or not rec.active or rec.exp <= self.now():
                return {"active": False}
            return {
                "active": True,
                "sub": subject_of(rec.user),
                "username": rec.user,
                "email": rec.user,
                "scope": " ".join(rec.scopes),
                "client_id": rec.client_id,
                "exp": int(rec.exp),
                "token_type": "Bearer",
            }

    def is_refresh_token_valid(self, token: str) -> bool:
        with self._lock:
            rec = self._refresh.get(token)
            return rec is not None and self._refresh_usable(rec)

    def decode_id_token(self, token: str, verify: bool = True) -> dict[str, Any]:
        """Claims of an id_token this provider issued (checks the HS256 signature)."""
        header, payload, signature = token.split(".")
        if verify:
            expected = hmac.new(
                self.id_token_key, f"{header}.{payload}".encode("ascii"), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(expected, _b64url_decode(signature)):
                raise ValueError("bad id_token signature")
        claims: dict[str, Any] = json.loads(_b64url_decode(payload))
        return claims

    # ------------------------------------------------------------------ internals: state

    def _record_unexpected(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)

    def _device_by_user_code(self, user_code: str) -> _Device:
        norm = re.sub(r"[^A-Z0-9]", "", user_code.upper())
        code = self._user_codes.get(norm)
        if code is None:
            raise KeyError(f"unknown user_code {user_code!r}")
        return self._devices[code]

    def _refresh_usable(self, rec: _Refresh) -> bool:
        if not rec.active:
            return False
        if rec.exp is not None and rec.exp <= self.now():
            return False
        return not (rec.superseded and rec.grace_left <= 0)

    def _new_refresh(self, user: str, client_id: str, scopes: list[str], grant: str | None) -> str:
        token = self.refresh_token_prefix + secrets.token_urlsafe(32)
        exp = None
        if self.refresh_token_expires_in is not None:
            exp = self.now() + self.refresh_token_expires_in
        self._refresh[token] = _Refresh(
            user=user,
            client_id=client_id,
            scopes=list(scopes),
            grant=grant or secrets.token_hex(8),
            exp=exp,
        )
        return token

    def _new_access(
        self,
        user: str,
        client_id: str,
        scopes: list[str],
        refresh_token: str | None,
        ttl: float,
    ) -> str:
        token = secrets.token_urlsafe(32)
        grant = self._refresh[refresh_token].grant if refresh_token in self._refresh else None
        self._access[token] = _Access(
            user=user,
            client_id=client_id,
            scopes=list(scopes),
            exp=self.now() + ttl,
            refresh_token=refresh_token,
            grant=grant,
        )
        self.issued_access_tokens.append(token)
        return token

    def _id_token(self, user: str, client_id: str, nonce: str | None = None) -> str:
        now = int(self.now())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": subject_of(user),
            "preferred_username": user,
            "iat": now,
            "exp": now + 3600,
        }
        if self.include_email_claim:
            claims["email"] = user
            claims["email_verified"] = True
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.id_token_claims_extra)
        claims = {k: v for k, v in claims.items() if v is not None}  # None removes a claim
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode("utf-8"))
        payload = _b64url(json.dumps(claims).encode("utf-8"))
        sig = hmac.new(self.id_token_key, f"{header}.{payload}".encode("ascii"), hashlib.sha256)
        return f"{header}.{payload}.{_b64url(sig.digest())}"

    def _token_response(
        self,
        user: str,
        client_id: str,
        scopes: list[str],
        *,
        refresh_source: str | None,
        new_refresh: str | None,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """Build a token response (under the lock)."""
        rt_for_access = new_refresh or refresh_source
        access = self._new_access(user, client_id, scopes, rt_for_access, self.access_token_ttl)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_ttl),
            "scope": " ".join(scopes),
        }
        if new_refresh is not None:
            body["refresh_token"] = new_refresh
        if self.refresh_token_expires_in is not None:
            rec = self._refresh.get(rt_for_access or "")
            if rec is not None and rec.exp is not None:
                body["refresh_token_expires_in"] = max(0, int(rec.exp - self.now()))
            else:
                body["refresh_token_expires_in"] = int(self.refresh_token_expires_in)
        if "openid" in scopes:
            body["id_token"] = self._id_token(user, client_id, nonce)
        body.update(self.token_response_extra)
        body = {k: v for k, v in body.items() if v is not None}  # None removes a field
        self.last_token_response = body
        return body

    # ------------------------------------------------------------------ internals: HTTP

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> _Reply | None:
        parts = urllib.parse.urlsplit(raw_path)
        query, repeated_q = _parse_params(parts.query)
        lower = {k.lower(): v for k, v in headers.items()}
        ctype = lower.get("content-type", "").split(";")[0].strip().lower()
        is_form = ctype == _FORM
        form: dict[str, str] = {}
        repeated_f: list[str] = []
        if method == "POST" and is_form:
            form, repeated_f = _parse_params(body.decode("utf-8", "replace"))
        req = _Request(
            method=method,
            path=parts.path,
            query=query,
            form=form if method == "POST" else query,
            repeated=repeated_f if method == "POST" else repeated_q,
            headers=headers,
            lower_headers=lower,
            is_form=is_form,
            raw_body=body,
        )
        with self._lock:
            self.requests.append(
                {
                    "path": req.path,
                    "method": method,
                    "form": dict(req.form),
                    "query": dict(query),
                    "headers": dict(headers),
                }
            )
        routes: dict[str, tuple[tuple[str, ...], Callable[[_Request], _Reply | None], str]] = {
            "/.well-known/openid-configuration": (("GET",), self._discovery, "discovery"),
            "/.well-known/oauth-authorization-server": (("GET",), self._discovery, "discovery"),
            "/authorize": (("GET",), self._authorize, "authorize"),
            "/token": (("POST",), self._token, "token"),
            "/device/code": (("POST",), self._device_authorization, "device_authorization"),
            "/device": (("GET",), self._device_page, "device"),
            "/revoke": (("POST",), self._revoke, "revoke"),
            "/introspect": (("POST",), self._introspect, "introspect"),
            "/userinfo": (("GET", "POST"), self._userinfo, "userinfo"),
        }
        route = routes.get(req.path)
        if route is None:
            self._record_unexpected(f"{method} {req.path}: unknown path")
            return _html(404, "Not Found", f"No such endpoint: {req.path}")
        methods, func, key = route
        if method not in methods:
            self._record_unexpected(f"{method} {req.path}: method not allowed")
            reply = _html(405, "Method Not Allowed", f"{req.path} wants {', '.join(methods)}")
            reply.headers["Allow"] = ", ".join(methods)
            return reply
        with self._lock:
            self.counts[key] += 1
            if key == "token" and "grant_type" in req.form:
                grant_type = req.form["grant_type"]
                short = "device_code" if grant_type == DEVICE_GRANT else grant_type
                self.counts["token:" + short] += 1
        if method == "POST" and not req.is_form:
            self._record_unexpected(
                f"POST {req.path}: Content-Type {lower.get('content-type')!r}, wanted {_FORM}"
            )
            return _error(400, "invalid_request", f"Content-Type must be {_FORM}")
        if req.repeated:
            self._record_unexpected(f"{method} {req.path}: repeated parameters {req.repeated}")
            if req.path != "/authorize":
                return _error(400, "invalid_request", f"repeated parameters {req.repeated}")
            return _html(400, "Bad Request", f"repeated parameters {req.repeated}")
        try:
            return func(req)
        except Exception:
            self._record_unexpected("provider error: " + traceback.format_exc())
            return _error(500, "server_error", "the test provider crashed")

    def _discovery(self, req: _Request) -> _Reply:
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.authorization_endpoint,
                "token_endpoint": self.token_endpoint,
                "device_authorization_endpoint": self.device_authorization_endpoint,
                "revocation_endpoint": self.revocation_endpoint,
                "introspection_endpoint": self.introspection_endpoint,
                "userinfo_endpoint": self.userinfo_endpoint,
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": [*DEFAULT_SCOPES, "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                    "none",
                ],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                **self.discovery_overrides,
                "claims_supported": ["iss", "aud", "sub", "email", "preferred_username", "nonce"],
                "authorization_response_iss_parameter_supported": True,
            },
        )

    def _client_auth(self, req: _Request, required: bool) -> tuple[str | None, _Reply | None]:
        """Check client authentication; returns (client_id, error reply or None)."""
        where = f"{req.method} {req.path}"
        basic_id: str | None = None
        basic_secret: str | None = None
        auth = req.lower_headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                raw_id, sep, raw_secret = decoded.partition(":")
                if not sep:
                    raise ValueError("no colon")
            except (ValueError, binascii.Error):
                self._record_unexpected(f"{where}: malformed Basic authorization")
                return None, _error(401, "invalid_client", "malformed Basic authorization")
            basic_id = urllib.parse.unquote_plus(raw_id)
            basic_secret = urllib.parse.unquote_plus(raw_secret)
        form_id = req.form.get("client_id")
        form_secret = req.form.get("client_secret")
        if basic_id is not None and form_secret is not None:
            self._record_unexpected(f"{where}: client authenticated with Basic and form at once")
            return None, _error(400, "invalid_request", "more than one client authentication")
        if basic_id is not None and form_id is not None and form_id != basic_id:
            self._record_unexpected(f"{where}: client_id {form_id!r} != Basic {basic_id!r}")
            return None, _error(401, "invalid_client", "client_id mismatch")
        client_id = basic_id if basic_id is not None else form_id
        if not client_id:
            if not required:
                return None, None
            self._record_unexpected(f"{where}: no client_id")
            return None, _error(401, "invalid_client", "client_id is missing")
        with self._lock:
            known = client_id in self._clients
            registered = self._clients.get(client_id)
        if not known:
            return None, _error(401, "invalid_client", f"unknown client {client_id!r}")
        sent = basic_secret if basic_id is not None else form_secret
        if basic_id is not None and sent == "":
            sent = None  # "client_id:" with an empty password carries no secret
        if registered is None:
            if sent is not None:
                self._record_unexpected(f"{where}: public client {client_id!r} sent a secret")
                return None, _error(401, "invalid_client", _PUBLIC_CLIENT_SECRET_ERROR)
        elif sent is None or not hmac.compare_digest(sent.encode(), registered.encode()):
            reply = _error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            if basic_id is not None:
                reply.headers["WWW-Authenticate"] = 'Basic realm="token"'
            return None, reply
        return client_id, None

    def _authorize(self, req: _Request) -> _Reply:
        q = req.query
        with self._lock:
            self.last_authorize = dict(q)
        client_id = q.get("client_id")
        redirect_uri = q.get("redirect_uri")
        if not client_id:
            self._record_unexpected("GET /authorize: no client_id")
            return _html(400, "Bad Request", "client_id is missing")
        with self._lock:
            known = client_id in self._clients
        if not known:
            return _html(400, "Bad Request", f"unknown client {client_id!r}")
        if redirect_uri is None or not _is_loopback_redirect(redirect_uri):
            self._record_unexpected(f"GET /authorize: redirect_uri not loopback: {redirect_uri!r}")
            return _html(400, "Bad Request", f"redirect_uri not allowed: {redirect_uri!r}")

        def redirect(params: dict[str, str]) -> _Reply:
            sep = "&" if urllib.parse.urlsplit(redirect_uri).query else "?"
            location = redirect_uri + sep + urllib.parse.urlencode(params)
            return _Reply(302, b"", {"Location": location, "Cache-Control": "no-store"})

        state = q.get("state")
        if q.get("response_type") != "code":
            self._record_unexpected(f"GET /authorize: response_type {q.get('response_type')!r}")
            params = {"error": "unsupported_response_type", "iss": self.issuer}
            if state is not None:
                params["state"] = state
            return redirect(params)
        if not state:
            self._record_unexpected("GET /authorize: no state")
            return redirect(
                {
                    "error": "invalid_request",
                    "error_description": "state is required",
                    "iss": self.issuer,
                }
            )
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method")
        if not challenge or method != "S256" or not _PKCE_CHALLENGE.match(challenge):
            self._record_unexpected(
                f"GET /authorize: PKCE code_challenge={challenge!r} method={method!r}"
            )
            return redirect(
                {
                    "error": "invalid_request",
                    "error_description": "PKCE with code_challenge_method=S256 is required",
                    "state": state,
                    "iss": self.issuer,
                }
            )
        login_hint = q.get("login_hint")
        with self._lock:
            if login_hint is not None:
                self.login_hints.append(login_hint)
            if self.authorize_error:
                return redirect({"error": self.authorize_error, "state": state, "iss": self.issuer})
            user = self.signed_in_user
            if user is None:
                return redirect({"error": "login_required", "state": state, "iss": self.issuer})
            code = "code-" + secrets.token_urlsafe(24)
            self._codes[code] = _Code(
                client_id=client_id,
                redirect_uri=redirect_uri,
                challenge=challenge,
                scopes=q.get("scope", "").split(),
                user=user,
                exp=self.now() + AUTH_CODE_LIFETIME,
                nonce=q.get("nonce"),
            )
        return redirect({"code": code, "state": state, "iss": self.issuer})

    def _pop_fault(self) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _fault_reply(self, kind: str, kw: dict[str, Any]) -> _Reply | None:
        if kind == "500":
            return _error(500, "server_error", "injected 500")
        if kind == "502":
            return _html(502, "502 Bad Gateway", "The upstream server did not answer.")
        if kind == "503_html":
            return _html(503, "503 Service Unavailable", "Please try again later.")
        if kind == "429":
            reply = _error(429, "temporarily_unavailable", "Too many requests")
            reply.headers["Retry-After"] = str(kw.get("retry_after", 1))
            return reply
        if kind == "garbage":
            return _Reply(200, b"<html>not json", {"Content-Type": "application/json"})
        if kind == "truncated":
            whole = json.dumps(
                {
                    "access_token": secrets.token_urlsafe(32),
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            ).encode("utf-8")
            return _Reply(200, whole[: len(whole) // 2], {"Content-Type": "application/json"})
        if kind == "invalid_grant":
            return _error(400, "invalid_grant", self.invalid_grant_description)
        if kind == "empty_200":
            return _json(200, {})
        if kind == "echo":
            raw = kw.get("request_body", b"").decode("latin-1")
            return _error(400, "invalid_request", f"cannot parse request body: {raw}")
        if kind in ("drip_headers", "drip_body"):
            reply = self._token_response_for_drip()
            reply.drip = kind.removeprefix("drip_")
            reply.drip_interval = float(kw.get("interval", 1.0))
            return reply
        if kind == "error_json":
            body = dict(kw.get("body", {"error": "invalid_request"}))
            return _json(int(kw.get("status", 400)), body)
        raise AssertionError(kind)

    def _token_response_for_drip(self) -> _Reply:
        # A well-formed answer, so that only its pace can make the client give up.
        body = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        return _json(200, body)

    def _token(self, req: _Request) -> _Reply | None:
        fault = self._pop_fault()
        if fault is not None:
            kind, kw = fault
            if kind == "close":
                return None
            if kind == "hang":
                # Sleep without holding the lock; stop() wakes us up.
                if self._stopping.wait(float(kw.get("seconds", 30))):
                    return None
            else:
                return self._fault_reply(kind, {**kw, "request_body": req.raw_body})
        if self.token_delay > 0 and self._stopping.wait(self.token_delay):
            return None
        client_id, err = self._client_auth(req, required=True)
        if err is not None:
            return err
        assert client_id is not None
        grant_type = req.form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._grant_code(req, client_id)
            if grant_type == "refresh_token":
                return self._grant_refresh(req, client_id)
            if grant_type == DEVICE_GRANT:
                return self._grant_device(req, client_id)
        self._record_unexpected(f"POST /token: unsupported grant_type {grant_type!r}")
        return _error(400, "unsupported_grant_type", f"grant_type {grant_type!r} not supported")

    def _grant_code(self, req: _Request, client_id: str) -> _Reply:
        code = req.form.get("code", "")
        rec = self._codes.get(code)
        if rec is None:
            self.unexpected.append(f"POST /token: unknown authorization code {code!r}")
            return _error(400, "invalid_grant", "unknown authorization code")
        if rec.used:
            self.unexpected.append("POST /token: authorization code used twice")
            return _error(400, "invalid_grant", "authorization code already used")
        rec.used = True
        if rec.exp <= self.now():
            return _error(400, "invalid_grant", "authorization code expired")
        if rec.client_id != client_id:
            self.unexpected.append(f"POST /token: code of {rec.client_id!r} used by {client_id!r}")
            return _error(400, "invalid_grant", "code was issued to another client")
        if req.form.get("redirect_uri") != rec.redirect_uri:
            self.unexpected.append(
                f"POST /token: redirect_uri {req.form.get('redirect_uri')!r} "
                f"!= {rec.redirect_uri!r}"
            )
            return _error(400, "invalid_grant", "redirect_uri does not match")
        verifier = req.form.get("code_verifier")
        if verifier is None:
            self.unexpected.append("POST /token: no code_verifier")
            return _error(400, "invalid_grant", "code_verifier is missing")
        if not _PKCE_VALUE.match(verifier):
            self.unexpected.append(f"POST /token: malformed code_verifier {verifier!r}")
            return _error(400, "invalid_grant", "malformed code_verifier")
        if not hmac.compare_digest(pkce_challenge(verifier), rec.challenge):
            self.unexpected.append("POST /token: code_verifier does not match code_challenge")
            return _error(400, "invalid_grant", "PKCE verification failed")
        refresh = self._new_refresh(rec.user, client_id, rec.scopes, None)
        body = self._token_response(
            rec.user,
            client_id,
            rec.scopes,
            refresh_source=None,
            new_refresh=refresh,
            nonce=rec.nonce,
        )
        return _json(200, body)

    def _grant_refresh(self, req: _Request, client_id: str) -> _Reply:
        token = req.form.get("refresh_token")
        if not token:
            self.unexpected.append("POST /token: refresh_token grant without refresh_token")
            return _error(400, "invalid_request", "refresh_token is missing")
        rec = self._refresh.get(token)
        if rec is None or rec.client_id != client_id or not self._refresh_usable(rec):
            if rec is not None and rec.superseded:
                self.counts["stale_refresh"] += 1
                if not rec.active and token not in self.revoked:
                    self.unexpected.append("POST /token: reuse of a rotated refresh token")
            return _error(400, "invalid_grant", self.invalid_grant_description)
        scopes = rec.scopes
        if "scope" in req.form:
            wanted = req.form["scope"].split()
            if not set(wanted) <= set(rec.scopes):
                return _error(400, "invalid_scope", f"scope {wanted} exceeds {rec.scopes}")
            scopes = wanted
        if rec.superseded:
            self.counts["stale_refresh"] += 1
            rec.grace_left -= 1
        new_refresh: str | None = None
        if self._rotation in ("rotate", "strict"):
            new_refresh = self._new_refresh(rec.user, client_id, rec.scopes, rec.grant)
            if self._rotation == "strict":
                rec.active = False
                rec.superseded = True
            elif not rec.superseded:
                rec.superseded = True
                rec.grace_left = self.rotation_grace
        body = self._token_response(
            rec.user, client_id, scopes, refresh_source=token, new_refresh=new_refresh
        )
        return _json(200, body)

    def _grant_device(self, req: _Request, client_id: str) -> _Reply:
        dev = self._devices.get(req.form.get("device_code", ""))
        if dev is None or dev.client_id != client_id or dev.status == "done":
            self.unexpected.append("POST /token: unknown or used device_code")
            return _error(400, "invalid_grant", "unknown device_code")
        now = self.now()
        previous, dev.last_poll = dev.last_poll, now
        if dev.status == "expired" or dev.exp <= now:
            dev.status = "expired"
            return _error(400, "expired_token", "the device code has expired")
        if dev.status == "denied":
            return _error(400, self.device_denied_error, "the user declined")
        if previous is not None and now - previous < self.device_interval - 0.02:
            self.unexpected.append(
                f"POST /token: device polled after {now - previous:.3f}s "
                f"(interval {self.device_interval})"
            )
            return _error(400, "slow_down", "polling too fast")
        if self.slow_down_polls > 0:
            self.slow_down_polls -= 1
            return _error(400, "slow_down", "slow down")
        if dev.status == "approved" and dev.user is not None:
            dev.status = "done"
            refresh = self._new_refresh(dev.user, client_id, dev.scopes, None)
            body = self._token_response(
                dev.user, client_id, dev.scopes, refresh_source=None, new_refresh=refresh
            )
            return _json(200, body)
        return _error(400, "authorization_pending", "waiting for the user")

    def _device_authorization(self, req: _Request) -> _Reply:
        client_id, err = self._client_auth(req, required=True)
        if err is not None:
            return err
        assert client_id is not None
        with self._lock:
            device_code = "dc-" + secrets.token_urlsafe(32)
            while True:
                raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
                if raw not in self._user_codes:
                    break
            user_code = f"{raw[:4]}-{raw[4:]}"
            self._devices[device_code] = _Device(
                device_code=device_code,
                user_code=user_code,
                client_id=client_id,
                scopes=req.form.get("scope", "").split(),
                exp=self.now() + self.device_expires_in,
            )
            self._user_codes[raw] = device_code
            interval = self.device_interval
            body: dict[str, Any] = {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": self.verification_uri,
                "verification_uri_complete": self.verification_uri
                + "?"
                + urllib.parse.urlencode({"user_code": user_code}),
                "expires_in": int(self.device_expires_in),
                "interval": int(interval) if float(interval).is_integer() else interval,
            }
            self.last_device = dict(body)
        return _json(200, body)

    def _device_page(self, req: _Request) -> _Reply:
        user_code = req.query.get("user_code")
        if not user_code:
            return _html(200, "Device sign-in", "Enter the code shown on your device.")
        with self._lock:
            try:
                dev = self._device_by_user_code(user_code)
            except KeyError:
                return _html(400, "Unknown code", f"No device is waiting for {user_code}.")
            if dev.status != "pending" or self.signed_in_user is None:
                return _html(400, "Not possible", f"Device {user_code} is {dev.status}.")
            dev.status = "approved"
            dev.user = self.signed_in_user
        return _html(200, "Device approved", "You can close this window.")

    def _revoke(self, req: _Request) -> _Reply:
        _, err = self._client_auth(req, required=False)
        if err is not None:
            return err
        token = req.form.get("token")
        if not token:
            self._record_unexpected("POST /revoke: no token")
            return _error(400, "invalid_request", "token is missing")
        with self._lock:
            rec = self._refresh.get(token)
            if rec is not None:
                grant = rec.grant
                for rt, other in self._refresh.items():
                    if other.grant == grant:
                        other.active = False
                        self.revoked.add(rt)
                for at, acc in self._access.items():
                    if acc.grant == grant or acc.refresh_token == token:
                        acc.active = False
                        self.revoked.add(at)
            acc_rec = self._access.get(token)
            if acc_rec is not None:
                acc_rec.active = False
                self.revoked.add(token)
        return _Reply(200, b"", {"Cache-Control": "no-store"})

    def _introspect(self, req: _Request) -> _Reply:
        # Client authentication is neither required nor checked (Dovecot may send Basic auth).
        token = req.form.get("token")
        if not token:
            self._record_unexpected("POST /introspect: no token")
            return _error(400, "invalid_request", "token is missing")
        return _json(200, self.introspect(token))

    def _userinfo(self, req: _Request) -> _Reply:
        auth = req.lower_headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        info = self.introspect(token) if token else {"active": False}
        if not info["active"]:
            reply = _error(401, "invalid_token", "the access token is not valid")
            reply.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return reply
        return _json(
            200,
            {"sub": info["sub"], "email": info["email"], "preferred_username": info["username"]},
        )


# ---------------------------------------------------------------------- stand-alone mode


def _stdin_is_watchable() -> bool:
    """True when EOF on stdin means "stop" (a pipe, socket or terminal; not /dev/null)."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)


def _watch_stdin(done: threading.Event) -> None:
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.provider",
        description="Run the local OAuth2/OIDC test provider on 127.0.0.1. Prints the base URL "
        "on line 1 (and a seeded refresh token on line 2 with --seed), then serves until "
        "SIGTERM/SIGINT or EOF on stdin (EOF is ignored when stdin is /dev/null or a file).",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rotation", choices=ROTATION_MODES, default="none")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID[:SECRET]",
        help="register a client (public without :SECRET); repeatable",
    )
    parser.add_argument("--access-token-ttl", type=int, default=None)
    parser.add_argument(
        "--seed",
        nargs=2,
        metavar=("USER", "CLIENT_ID"),
        help="print a refresh token for USER and CLIENT_ID on line 2",
    )
    args = parser.parse_args(argv)

    provider = LocalProvider(rotation=args.rotation, port=args.port)
    if args.access_token_ttl is not None:
        provider.access_token_ttl = args.access_token_ttl
    for spec in args.client:
        client_id, sep, secret = spec.partition(":")
        provider.register_client(client_id, secret if sep else None)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    provider.start()
    try:
        print(provider.base_url, flush=True)
        if args.seed:
            print(provider.seed_refresh_token(args.seed[0], args.seed[1]), flush=True)
        if _stdin_is_watchable():
            threading.Thread(target=_watch_stdin, args=(done,), daemon=True).start()
        while not done.wait(0.2):
            pass
    finally:
        provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
