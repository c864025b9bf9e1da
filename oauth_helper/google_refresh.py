"""Refreshing Google tokens through google-auth, with a transport whose timeouts we control.

google-auth's own requests transport waits up to 120 s and cannot be told otherwise from
`Credentials.refresh`; this transport sends through http.request with our timeout and keeps
the last raw response, so failures are sorted by the same code as every other provider.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from . import http, oauth, redact
from .config import Account
from .errors import ConfigError, OAuthHelperError, TransientError

# google-auth retries these statuses itself (three tries, about 3 s); we must not retry them again.
_LIBRARY_RETRIED = frozenset({408, 429, 500, 503, 504})


class _Response:
    def __init__(self, response: http.Response) -> None:
        self.status = response.status
        self.headers = dict(response.headers)
        self.data = response.body


class _Transport:
    """A google.auth.transport.Request: our HTTP with our timeout, remembering the last response."""

    def __init__(self, timeout: float, deadline: float) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.last: http.Response | None = None

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        remaining = max(1.0, min(self.timeout, self.deadline - time.monotonic()))
        self.last = http.request(method, url, body=body, headers=headers, timeout=remaining)
        return _Response(self.last)


def refresh(
    account: Account, refresh_token: str, client_secret: str | None, *, timeout: float
) -> oauth.TokenResponse:
    if not account.client_id or not client_secret:
        raise ConfigError(
            f"account {account.name}: Google desktop clients need client_id and client_secret; "
            f"run: {account.authorize_command()} --client-id ID (it asks for the secret)"
        )
    redact.register(refresh_token, client_secret)
    deadline = time.monotonic() + 2 * timeout
    return oauth.with_retries(
        lambda: _refresh_once(account, refresh_token, client_secret, timeout, deadline),
        deadline=deadline,
    )


def _refresh_once(
    account: Account, refresh_token: str, client_secret: str, timeout: float, deadline: float
) -> oauth.TokenResponse:
    from google.auth import exceptions  # lazy: google-auth costs ~250 ms; only Google refreshes
    from google.oauth2.credentials import Credentials  # lazy: google-auth, as above

    endpoint = account.provider.token_endpoint
    if endpoint is None:  # the built-in Google provider has one; a config cannot take it away
        raise ConfigError(f"provider {account.provider.name} has no token_endpoint")
    transport = _Transport(timeout, deadline)
    credentials = Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=refresh_token,
        token_uri=endpoint,
        client_id=account.client_id,
        client_secret=client_secret,
    )
    try:
        credentials.refresh(transport)  # type: ignore[no-untyped-call]
    except OAuthHelperError:
        raise
    except (exceptions.GoogleAuthError, TypeError, ValueError, KeyError, AttributeError) as e:
        # google-auth raises a bare TypeError on a non-JSON 200, so catch broadly and let the
        # raw response decide what happened.
        if transport.last is None:
            raise TransientError(f"Google token refresh failed: {type(e).__name__}") from None
        try:
            oauth.parse_token_response(transport.last, oauth.host_of(endpoint))
        except TransientError as transient:
            if transport.last.status in _LIBRARY_RETRIED:
                transient.retry = False
            raise
        # A 200 the library could not use, or a shape we do not know: treat as transient.
        raise TransientError(
            f"Google token endpoint gave an unusable answer ({type(e).__name__})"
        ) from None
    assert transport.last is not None
    # The raw answer carries what Credentials drops (refresh_token_expires_in) and is the truth.
    return oauth.parse_token_response(transport.last, oauth.host_of(endpoint))
