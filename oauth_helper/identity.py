"""Who signed in: the id_token's claims, and the check that it is the account being authorized.

The id_token is decoded without checking its signature: it came straight from the token
endpoint over TLS in answer to our own request (OpenID Connect Core §3.1.3.7, point 6).
"""

from __future__ import annotations

from typing import Any

from . import http, redact
from .errors import AuthorizationRequired, TransientError
from .jsondata import json_object, jwt_claims

NAME_CLAIMS = ("email", "preferred_username", "upn")
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"


class IdentityMismatch(AuthorizationRequired):
    """The browser signed in to another account than the one being authorized (exit 77)."""


class InvalidIdToken(AuthorizationRequired):
    """The token endpoint answered with an id_token that cannot be read, or for another request."""


def decode_claims(id_token: str) -> dict[str, Any]:
    """The payload of a JWT (header.payload.signature) as a dict; InvalidIdToken if unreadable."""
    if len(id_token.split(".")) != 3:
        raise InvalidIdToken("the id_token from the token endpoint is not a JWT")
    claims = jwt_claims(id_token)
    if claims is None:
        raise InvalidIdToken("the id_token from the token endpoint cannot be decoded")
    return claims


def signed_in_name(claims: dict[str, Any]) -> str | None:
    """The sign-in name in the claims: email, else preferred_username, else upn."""
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return "".join(c for c in value.strip() if c.isprintable())[:320]
    return None


def same_account(name: str, account: str) -> bool:
    return name.strip().casefold() == account.strip().casefold()


def check(account: str, name: str | None, *, allow_other: bool) -> str | None:
    """What to record as signed_in_as: None when `name` is ACCOUNT (or unknown); else the name.

    A different name is an IdentityMismatch unless `allow_other` (Microsoft UPN vs alias).
    """
    if name is None or same_account(name, account):
        return None
    if not allow_other:
        raise IdentityMismatch(
            f"the browser signed in as {name}, not {account}: nothing was stored. Sign out of "
            f"{name} (or use a private window) and run the command again; if {name} is the "
            f"sign-in name of {account}, add --allow-other-identity")
    return name


def check_nonce(claims: dict[str, Any], nonce: str | None) -> None:
    """An id_token carrying a nonce must carry ours."""
    if nonce is not None and "nonce" in claims and claims["nonce"] != nonce:
        raise InvalidIdToken("the id_token was issued for another sign-in (nonce mismatch); "
                             "nothing was stored, run the command again")


def userinfo_name(endpoint: str, access_token: str, *, timeout: float) -> str | None:
    """The sign-in name from an OpenID userinfo endpoint; None when it cannot tell."""
    redact.register(access_token)
    try:
        response = http.request("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"},
                                timeout=timeout)
    except TransientError:
        return None
    if response.status != 200:
        return None
    data = json_object(response.body)
    return signed_in_name(data) if data is not None else None
