"""One refresh interface over the two refresh paths: google-auth for Google accounts
(google_refresh.py), the project's own RFC 6749 client for every other provider (oauth.py).

Its own module so that both paths can use oauth.py's answer parsing and retries without
oauth.py importing them back.
"""

from __future__ import annotations

from . import oauth
from .config import Account


def refresh(
    account: Account, refresh_token: str, client_secret: str | None, *, timeout: float
) -> oauth.TokenResponse:
    """Trade the refresh token for a new access token (and maybe a rotated refresh token)."""
    if account.provider.refresh_style == "google-auth":
        from . import google_refresh  # google-auth costs ~200 ms: only for Google accounts

        return google_refresh.refresh(account, refresh_token, client_secret, timeout=timeout)
    return oauth.refresh(account, refresh_token, client_secret, timeout=timeout)
