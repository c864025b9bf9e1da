"""What `token` prints: the raw token, a SASL string, or JSON. On the hot path: imports lazily."""

from __future__ import annotations

FORMATS = ("token", "xoauth2", "oauthbearer", "json")


def render(
    fmt: str,
    account: str,
    token: str,
    expires_at: float,
    host: str | None = None,
    port: int | None = None,
) -> str:
    """The text for stdout, without the trailing newline."""
    if fmt == "token":
        return token
    if fmt == "xoauth2":
        from .sasl import xoauth2

        return xoauth2(account, token)
    if fmt == "oauthbearer":
        from .sasl import oauthbearer

        return oauthbearer(account, token, host, port)
    import json

    return json.dumps(
        {
            "account": account,
            "access_token": token,
            "token_type": "Bearer",
            "expires_at": int(expires_at),
        }
    )
