"""The token endpoint: refresh, code exchange, device polling, revocation, discovery.

Every answer is sorted here, where the HTTP response is read, into a success or one of our
errors: transient (retry later, exit 75), re-authorization needed (77), or a provider/config
problem (78). Google accounts refresh through google-auth (google_refresh.py); the rest here.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Mapping

from . import hints, http, redact
from .config import Account
from .errors import (
    AuthorizationRequired,
    ConfigError,
    OAuthHelperError,
    ProviderError,
    TransientError,
)
from .jsondata import json_object
from .providers import ENDPOINTS, Provider
from .record import field, record, replace

RETRY_ATTEMPTS = 3  # one try and two retries: enough for a blip, short enough for a mail client
RETRY_BASE_DELAY = 0.5
MAX_RETRY_AFTER = 5.0  # honour Retry-After, but a mail client is waiting
DEFAULT_EXPIRES_IN = 3600  # RFC 6749 makes expires_in optional; both big providers use an hour
MAX_EXPIRES_IN = 86400  # trust no access token for more than a day: refreshing early is harmless
MAX_REFRESH_TOKEN_LIFETIME = 10 * 366 * 86400
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")
    D = TypeVar("D")


@record
class TokenResponse:
    """A successful token endpoint answer. repr() shows no secret."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    refresh_token_expires_in: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)


class OAuthError(ProviderError):
    """An error answer of the token endpoint that is neither transient nor a dead grant."""

    def __init__(self, message: str, code: str = "", description: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.description = description


def parse_token_response(response: http.Response, endpoint: str) -> TokenResponse:
    """Sort one token endpoint answer into a TokenResponse or the right error."""
    status = response.status
    data = json_object(response.body)
    if status == 200:
        if data is None:
            raise TransientError(f"{endpoint} answered 200 with a body that is not a JSON object")
        return _token_from(data, endpoint)
    code = str(data.get("error", "")) if data else ""
    description = str(data.get("error_description", "")) if data else ""
    if status in TRANSIENT_STATUS or code in (
        "temporarily_unavailable",
        "server_error",
        "slow_down",
    ):
        retry_after = response.header("Retry-After")
        raise TransientError(
            f"{endpoint} answered HTTP {status}{_describe(code, description)}; try again later",
            retry_after=retry_after,
        )
    raise error_for(code or f"HTTP {status}", description, endpoint)


def error_for(code: str, description: str, endpoint: str) -> OAuthHelperError:
    """The error for an OAuth error code: dead grants need `authorize`, the rest need a fix."""
    hint = hints.lookup(code, description)
    detail = _describe(code, description)
    if code in (
        "invalid_grant",
        "consent_required",
        "interaction_required",
        "invalid_scope",
        "login_required",
        "access_denied",
        "expired_token",
    ) and (hint is None or hint.reauthorize):
        reason = hint.explanation if hint else "the provider no longer accepts the grant"
        return AuthorizationRequired(f"{reason}{detail}")
    if hint is not None:
        return OAuthError(f"{hint.explanation}{detail}", code, description)
    return OAuthError(f"{endpoint} refused the request{detail}", code, description)


def _describe(code: str, description: str) -> str:
    text = hints.printable(code, 100)
    code = text
    short = hints.short_description(description)
    if short:
        text = f"{code}: {short}" if code else short
    return f" ({text})" if text else ""


def retry_delay(error: TransientError, attempt: int) -> float:
    value = (error.retry_after or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return min(float(value), MAX_RETRY_AFTER)
    return float(RETRY_BASE_DELAY * 2.0**attempt)


def with_retries(
    call: Callable[[], T], *, deadline: float, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `call`, retrying transient failures with backoff, never past `deadline` (monotonic).

    The error that ends it says how long the whole wait really was, not only the last try.
    """
    started = time.monotonic()
    for attempt in range(RETRY_ATTEMPTS):
        try:
            return call()
        except TransientError as e:
            delay = retry_delay(e, attempt)
            final = attempt == RETRY_ATTEMPTS - 1 or not e.retry
            if final or time.monotonic() + delay + 1.0 >= deadline:
                _state_the_wait(e, attempt + 1, time.monotonic() - started)
                raise
            sleep(delay)
    raise AssertionError("unreachable")


def _state_the_wait(error: TransientError, tries: int, elapsed: float) -> None:
    """Add "gave up after N tries in S s; try again later" to the error's one line."""
    message = str(error)
    advice = "; try again later"
    base = message[: -len(advice)] if message.endswith(advice) else message
    what = "1 try" if tries == 1 else f"{tries} tries"
    error.args = (f"{base}; gave up after {what} in {elapsed:.1f} s{advice}",)


def _token_from(data: Mapping[str, Any], endpoint: str) -> TokenResponse:
    token = data.get("access_token")
    # RFC 6750 tokens are visible ASCII; anything else would be a broken password for a client.
    if (
        not isinstance(token, str)
        or not token
        or not token.isascii()
        or not token.isprintable()
        or " " in token
    ):
        raise TransientError(f"{endpoint} answered without a usable access_token")
    _check_token_type(data.get("token_type"), endpoint)
    expires_in = seconds(data.get("expires_in"), DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN)
    if _non_positive(data.get("expires_in")):
        expires_in = 0.0  # "expires in 0 s" means expired, not "no lifetime given"
    refresh = data.get("refresh_token")
    id_token = data.get("id_token")
    redact.register(token, *(v for v in (refresh, id_token) if isinstance(v, str)))
    scope = data.get("scope")
    return TokenResponse(
        access_token=token,
        expires_in=expires_in,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
        scope=scope if isinstance(scope, str) else None,
        refresh_token_expires_in=seconds(
            data.get("refresh_token_expires_in"), None, MAX_REFRESH_TOKEN_LIFETIME
        ),
        extra={
            k: v for k, v in data.items() if k not in ("access_token", "refresh_token", "id_token")
        },
    )


def _non_positive(value: object) -> bool:
    """A provider's lifetime that is a number (or a numeric string) at or below zero."""
    number = _number(value)
    return number is not None and number <= 0


class UnsupportedTokenType(ProviderError):
    """The token endpoint issued a token of another type than Bearer (e.g. DPoP): unusable (78)."""


def _check_token_type(token_type: object, endpoint: str) -> None:
    """RFC 6749 §7.1: a client must not use a token whose type it does not understand.

    Mail servers take Bearer tokens only (RFC 6750 via RFC 7628 / XOAUTH2); the type is
    case-insensitive. A response without token_type (which RFC 6749 §5.1 requires) is taken as
    Bearer: it is what every mail provider issues, and refusing it would gain nothing.
    """
    if token_type is None:
        return
    if isinstance(token_type, str) and token_type.strip().lower() == "bearer":
        return
    shown = hints.printable(str(token_type), 40)
    raise UnsupportedTokenType(
        f"{endpoint} issued a {shown!r} token, not a Bearer token; mail servers accept only "
        "Bearer tokens, so it was not used (nothing was changed). Configure the client at the "
        "provider for plain Bearer tokens (no DPoP or other sender-constrained tokens)"
    )


def missing_scopes(wanted: tuple[str, ...], granted: str | None) -> tuple[str, ...]:
    """The scopes of `wanted` that a token response's `scope` does not list.

    No `scope` means "as requested" (RFC 6749 §5.1), so nothing is missing. Compared
    case-insensitively: Microsoft's spelling of its resource URIs varies in case.

    >>> missing_scopes(("https://mail.google.com/",), "openid https://www.googleapis.com/auth/userinfo.email")
    ('https://mail.google.com/',)
    >>> missing_scopes(("mail",), None), missing_scopes(("mail",), "openid MAIL")
    ((), ())
    """
    if granted is None:
        return ()
    have = {s.casefold() for s in granted.split()}
    return tuple(s for s in wanted if s.casefold() not in have)


def seconds(value: object, default: D, limit: float) -> float | D:
    """A positive number of seconds from a provider's JSON, at most `limit`; else `default`.

    Some providers send numbers as strings: ASCII digits only (float() would take "²").
    Absurdly large values are clamped to `limit`; zero, negatives, inf, NaN give `default`.

    >>> seconds("3599", 3600.0, 86400), seconds(10**400, 3600.0, 86400), seconds(0, 3600.0, 86400)
    (3599.0, 86400.0, 3600.0)
    """
    number = _number(value)
    if number is None or not 0 < number < float("inf"):  # also refuses NaN
        return default
    return min(number, float(limit))


HUGE = 1e300


def _number(value: object) -> float | None:
    """A number from a provider's JSON: a JSON number, or a string of ASCII digits with an
    optional "-" (float() would take "²" or "1e3"); None for anything else, booleans included.
    Numbers with more digits than any lifetime has read as HUGE (clamped later, never inf)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            return None
        sign = -1 if text.startswith("-") else 1
        return sign * (float(digits) if len(digits) <= 18 else HUGE)
    if isinstance(value, int):
        return float(value) if abs(value) < HUGE else HUGE * (1 if value > 0 else -1)
    return value if isinstance(value, float) else None


# -- requests ------------------------------------------------------------------------------------


def client_form(account: Account, client_secret: str | None) -> dict[str, str]:
    """client_id, plus client_secret only when one is configured (public clients must not send it)."""
    if not account.client_id:
        raise ProviderError(
            f"account {account.name} has no client_id; run: {account.authorize_command()}"
        )
    form = {"client_id": account.client_id}
    if client_secret:
        form["client_secret"] = client_secret
    return form


def token_request(provider: Provider, form: Mapping[str, str], *, timeout: float) -> TokenResponse:
    """POST to the token endpoint with retries; a TokenResponse or one of our errors."""
    endpoint = _require(provider.token_endpoint, provider, "token_endpoint")
    deadline = time.monotonic() + 2 * timeout
    return with_retries(
        lambda: parse_token_response(
            http.post_form(endpoint, form, timeout=_remaining(deadline, timeout)), host_of(endpoint)
        ),
        deadline=deadline,
    )


def refresh(
    account: Account, refresh_token: str, client_secret: str | None, *, timeout: float
) -> TokenResponse:
    """RFC 6749 §6: the refresh token for a new access token (and maybe a rotated refresh
    token). Google accounts go through google-auth instead: see refresher.py."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    form.update(client_form(account, client_secret))
    if account.provider.scope_on_refresh and account.scopes:
        form["scope"] = " ".join(account.scopes)
    return token_request(account.provider, form, timeout=timeout)


def revoke(
    provider: Provider,
    token: str,
    hint: str,
    *,
    timeout: float,
    client: Mapping[str, str] | None = None,
) -> None:
    """RFC 7009 revocation. Raises ProviderError if the provider has no revocation endpoint."""
    endpoint = provider.revocation_endpoint
    if endpoint is None:
        raise ProviderError(f"provider {provider.name} has no revocation endpoint")
    form = {"token": token, "token_type_hint": hint}
    form.update(client or {})
    deadline = time.monotonic() + 2 * timeout

    def once() -> None:
        response = http.post_form(endpoint, form, timeout=_remaining(deadline, timeout))
        if response.status == 200:
            return
        data = json_object(response.body) or {}
        if response.status in TRANSIENT_STATUS:
            raise TransientError(
                f"{host_of(endpoint)} answered HTTP {response.status} to the revocation"
            )
        if data.get("error") == "invalid_token":
            return  # already dead: that is what we wanted
        raise error_for(
            str(data.get("error") or f"HTTP {response.status}"),
            str(data.get("error_description", "")),
            host_of(endpoint),
        )

    with_retries(once, deadline=deadline)


def discover(issuer: str, *, timeout: float) -> dict[str, Any]:
    """The provider's metadata: OpenID discovery, then RFC 8414, both under the issuer."""
    base = issuer.rstrip("/")
    scheme, _, rest = base.partition("://")
    host, _, path = rest.partition("/")
    candidates = [
        f"{base}/.well-known/openid-configuration",
        f"{scheme}://{host}/.well-known/oauth-authorization-server" + (f"/{path}" if path else ""),
    ]
    last: str = ""
    deadline = time.monotonic() + 2 * timeout
    for url in candidates:
        response = with_retries(
            functools.partial(_get_ok_or_404, url, deadline, timeout), deadline=deadline
        )
        if response is None:
            last = f"{url} not found"
            continue
        data = json_object(response.body)
        if data is None:
            raise ProviderError(f"discovery document at {url} is not a JSON object")
        check_endpoints(data, f"discovery document at {url}")
        if not isinstance(data.get("token_endpoint"), str):
            raise ProviderError(f"discovery document at {url} has no token_endpoint")
        claimed = data.get("issuer")
        # RFC 8414 §3.3 / OpenID Discovery §4.3: the document must be about the issuer we asked.
        if isinstance(claimed, str) and claimed.rstrip("/") != base:
            raise ProviderError(
                f"discovery document at {url} is for issuer {hints.printable(claimed, 100)!r}, "
                f"not {base!r}"
            )
        return data
    raise ProviderError(f"no discovery document for issuer {issuer} ({last})")


def check_endpoints(data: Mapping[str, Any], source: str) -> None:
    """Apply is_http_url and the one URL rule (urlrule) to every endpoint a document names.

    A plain-http endpoint on another host is a configuration error (exit 78), found before
    the endpoint is ever used: it would receive the refresh token and client secret in cleartext.
    """
    from . import urlrule

    for key in ENDPOINTS:
        value = data.get(key)
        if value is None:
            continue
        if not is_http_url(value):
            raise ProviderError(f"{source}: {key} is not an http(s) URL")
        insecure = urlrule.insecure_reason(value)
        if insecure is not None:
            raise ConfigError(f"{source}: {key} {hints.printable(value, 200)}: {insecure}")


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL with a host and nothing a request line could not carry.

    >>> is_http_url("https://login.example/oauth2/token"), is_http_url("https://"), is_http_url("ftp://x")
    (True, False, False)
    """
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        return False
    host = value.partition("://")[2].split("/", 1)[0]
    return bool(host) and value.isascii() and value.isprintable() and " " not in value


def _get_ok_or_404(url: str, deadline: float, timeout: float) -> http.Response | None:
    response = http.request("GET", url, timeout=_remaining(deadline, timeout))
    if response.status in (404, 400, 405):
        return None
    if response.status in TRANSIENT_STATUS:
        raise TransientError(f"{host_of(url)} answered HTTP {response.status} to discovery")
    if response.status != 200:
        raise ProviderError(f"{url} answered HTTP {response.status}")
    return response


def _require(value: str | None, provider: Provider, what: str) -> str:
    if value is None:
        raise ProviderError(f"provider {provider.name} has no {what}")
    return value


def _remaining(deadline: float, timeout: float) -> float:
    return max(1.0, min(timeout, deadline - time.monotonic()))


def host_of(url: str) -> str:
    """The host[:port] of an endpoint URL, for messages."""
    rest = url.partition("://")[2]
    return rest.split("/", 1)[0] or url


def basic_auth(client_id: str, client_secret: str) -> str:
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


DISCOVERY_TTL = 24 * 3600  # provider metadata changes rarely; re-read it daily


def resolve(provider: Provider, *, timeout: float) -> Provider:
    """The provider with endpoints filled in from discovery when the config gave only an issuer."""
    if not provider.needs_discovery() or provider.issuer is None:
        return provider
    from . import securefile

    data = cached_metadata(provider.issuer)
    if data is None:
        data = discover(provider.issuer, timeout=timeout)
        payload = json.dumps({"fetched_at": time.time(), "metadata": data}).encode()
        securefile.write_private(_discovery_cache(provider.issuer), payload, durable=False)
    return with_metadata(provider, data)


def with_metadata(provider: Provider, data: Mapping[str, Any]) -> Provider:
    """The provider's missing endpoints taken from a discovery document."""
    changes = {
        key: data[key]
        for key in ENDPOINTS
        if getattr(provider, key) is None and isinstance(data.get(key), str)
    }
    return replace(provider, **changes)


def cached_metadata(issuer: str) -> dict[str, Any] | None:
    """The issuer's discovery document if cached and fresh (no network), else None."""
    from . import securefile

    path = _discovery_cache(issuer)
    try:
        cached = json_object(securefile.read_private(path) or b"")
        fresh = cached and time.time() - float(cached.get("fetched_at", 0)) < DISCOVERY_TTL
        data = cached.get("metadata") if cached and fresh else None
    except (OAuthHelperError, TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    check_endpoints(data, f"discovery document of {issuer} (cached in {path})")
    return data


def _discovery_cache(issuer: str) -> str:
    import hashlib
    import os

    from . import paths

    key = hashlib.sha256(issuer.encode()).hexdigest()[:24]
    return os.path.join(paths.cache_dir(), f"discovery-{key}.json")
