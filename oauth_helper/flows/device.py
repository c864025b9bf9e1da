"""The device authorization grant (RFC 8628): show a code, poll the token endpoint until approved."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import http, oauth, redact
from ..errors import AuthorizationRequired, ProviderError, TransientError
from ..jsondata import json_object
from ..record import field, record
from .common import (
    AuthorizationDenied,
    FlowContext,
    FlowUnavailable,
    check_id_token,
    register_tokens,
)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5.0  # RFC 8628 §3.2: 5 seconds when the provider does not say
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5: add 5 seconds to the interval on every slow_down
MIN_INTERVAL = 0.05
DEFAULT_EXPIRES_IN = 900.0
MAX_INTERVAL = 60.0  # a provider asking for more is broken; polling once a minute still works
MAX_EXPIRES_IN = 3600.0  # nobody waits longer than an hour at a device code prompt
# RFC 8628 §3.5 says access_denied; Microsoft answers authorization_declined.
DECLINED = ("access_denied", "authorization_declined")


class DeviceCodeExpired(AuthorizationRequired):
    """The user code expired before anyone approved it."""


@record
class DeviceGrant:
    """The device authorization response. The device_code is a secret; the user_code is for showing."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float


def check_available(ctx: FlowContext) -> str:
    """The device authorization endpoint, or FlowUnavailable saying which flow to use instead."""
    provider = ctx.provider
    if not provider.device_flow:
        refusal = provider.device_flow_refusal or (
            f"provider {provider.name} does not support the device flow; use --flow browser "
            "or --flow paste"
        )
        raise FlowUnavailable(refusal)
    if not provider.device_authorization_endpoint:
        raise FlowUnavailable(
            f"provider {provider.name} has no device_authorization_endpoint; use "
            "--flow browser, or --flow paste on a machine without a browser"
        )
    return provider.device_authorization_endpoint


def request_codes(ctx: FlowContext) -> DeviceGrant:
    """POST to the device authorization endpoint (RFC 8628 §3.1-3.2)."""
    endpoint = check_available(ctx)
    form = {"scope": " ".join(ctx.scopes)}
    form.update(ctx.client_form())
    deadline = time.monotonic() + 2 * ctx.http_timeout

    response = oauth.with_retries(
        lambda: _post_transient_checked(endpoint, form, ctx.http_timeout), deadline=deadline
    )
    data = json_object(response.body)
    if response.status != 200 or data is None:
        code = str(data.get("error", "")) if data else f"HTTP {response.status}"
        description = str(data.get("error_description", "")) if data else ""
        raise oauth.error_for(code, description, oauth.host_of(endpoint))
    return parse_grant(data, oauth.host_of(endpoint))


def parse_grant(data: dict[str, Any], where: str) -> DeviceGrant:
    device_code = data.get("device_code")
    user_code = data.get("user_code")
    uri = data.get("verification_uri") or data.get("verification_url")  # Google spells it _url
    if not (
        isinstance(device_code, str)
        and device_code
        and isinstance(user_code, str)
        and user_code
        and _shown_url(uri)
    ):
        raise ProviderError(
            f"{where}: the device authorization answer lacks device_code, "
            "user_code or verification_uri"
        )
    redact.register(device_code)
    complete = data.get("verification_uri_complete")
    return DeviceGrant(
        device_code=device_code,
        user_code="".join(c for c in user_code if c.isprintable())[:64],
        verification_uri=str(uri),
        verification_uri_complete=complete if _shown_url(complete) else None,
        expires_in=oauth.seconds(data.get("expires_in"), DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN),
        interval=max(
            MIN_INTERVAL, oauth.seconds(data.get("interval"), DEFAULT_INTERVAL, MAX_INTERVAL)
        ),
    )


def run(
    ctx: FlowContext,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> oauth.TokenResponse:
    """The whole device flow: codes on stderr, then poll until approved, denied or expired."""
    grant = request_codes(ctx)
    lines = [
        f"To sign in as {ctx.account}, open {grant.verification_uri} on any device and "
        f"enter the code: {grant.user_code}"
    ]
    if grant.verification_uri_complete:
        lines.append(f"(or open {grant.verification_uri_complete} , which carries the code)")
    lines.append(
        f"Waiting for the approval (the code expires in {grant.expires_in / 60:.0f} min)..."
    )
    ctx.say("\n".join(lines))
    return poll(ctx, grant, sleep=sleep, clock=clock)


def poll(
    ctx: FlowContext,
    grant: DeviceGrant,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> oauth.TokenResponse:
    """Poll the token endpoint every `interval` seconds, honouring slow_down (RFC 8628 §3.4-3.5)."""
    endpoint = ctx.provider.token_endpoint
    if endpoint is None:
        raise ProviderError(f"provider {ctx.provider.name} has no token_endpoint")
    form = {"grant_type": GRANT_TYPE, "device_code": grant.device_code}
    form.update(ctx.client_form())
    expires_at = clock() + grant.expires_in
    interval = grant.interval
    while True:
        if clock() + interval >= expires_at:
            raise _expired(grant)
        sleep(interval)
        deadline = clock() + 2 * ctx.http_timeout
        response = oauth.with_retries(
            lambda: _post_transient_checked(endpoint, form, ctx.http_timeout), deadline=deadline
        )
        data = json_object(response.body)
        error = str(data.get("error", "")) if data and response.status != 200 else ""
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if error in DECLINED:
            raise AuthorizationDenied(
                f"the sign-in for code {grant.user_code} was declined ({error}); nothing was stored"
            )
        if error == "expired_token":
            raise _expired(grant)
        token = oauth.parse_token_response(response, oauth.host_of(endpoint))
        register_tokens(token)
        check_id_token(ctx, token, None)  # RFC 8628 sends no nonce
        return token


def _post_transient_checked(endpoint: str, form: dict[str, str], timeout: float) -> http.Response:
    response = http.post_form(endpoint, form, timeout=timeout)
    if response.status in oauth.TRANSIENT_STATUS:
        raise TransientError(
            f"{oauth.host_of(endpoint)} answered HTTP {response.status}; try again later"
        )
    return response


def _shown_url(value: object) -> bool:
    """An http(s) URL that is safe to print on a terminal (no spaces or control characters)."""
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and value.isprintable()
        and not any(c.isspace() for c in value)
        and len(value) < 2048
    )


def _expired(grant: DeviceGrant) -> DeviceCodeExpired:
    return DeviceCodeExpired(
        f"the code {grant.user_code} expired before the sign-in was approved "
        "(expired_token); run the command again for a new code"
    )
