"""Who signed in: the id_token's claims (validated), userinfo, and the check that it is ACCOUNT.

The id_token is validated as OpenID Connect Core §3.1.3.7 asks of a client that receives it
straight from the token endpoint over TLS (point 6: the TLS server validation may stand in for
the signature check, which is therefore not done): `iss` is the provider's issuer, `aud`
contains our client ID (and `azp`, when present or when there are several audiences, is our
client ID), `exp` is in the future (a small skew allowed), and `nonce` is present and equal to
the one this authorization sent.
"""

from __future__ import annotations

import time
from typing import Any

from . import http, redact
from .errors import AuthorizationRequired, TransientError
from .hints import printable
from .jsondata import json_object, jwt_claims
from .providers import Provider
from .record import record

NAME_CLAIMS = ("email", "preferred_username", "upn")
CLOCK_SKEW = 300.0  # seconds: clocks of laptops and providers disagree by minutes, not hours


class IdentityMismatch(AuthorizationRequired):
    """The browser signed in to another account than the one being authorized (exit 77)."""


class IdentityUnknown(AuthorizationRequired):
    """Neither the id_token nor userinfo names the account that signed in (exit 77)."""


class InvalidIdToken(AuthorizationRequired):
    """The token endpoint answered with an id_token that cannot be read, or for another request."""


@record
class SignedIn:
    """Who signed in: the name (None when nothing said it), where it came from, the subject."""

    name: str | None
    source: str  # "id_token", "userinfo" or "" (nothing named the account)
    subject: str | None = None


def decode_claims(id_token: str) -> dict[str, Any]:
    """The payload of a JWT (header.payload.signature) as a dict; InvalidIdToken if unreadable."""
    if len(id_token.split(".")) != 3:
        raise InvalidIdToken("the id_token from the token endpoint is not a JWT")
    claims = jwt_claims(id_token)
    if claims is None:
        raise InvalidIdToken("the id_token from the token endpoint cannot be decoded")
    return claims


def _refuse(what: str) -> InvalidIdToken:
    return InvalidIdToken(
        f"the id_token from the token endpoint {what}; nothing was stored, "
        "run the command again (a provider or proxy may be misconfigured)"
    )


def validate(
    claims: dict[str, Any],
    provider: Provider,
    client_id: str,
    nonce: str | None,
    *,
    now: float | None = None,
) -> None:
    """OpenID Connect Core §3.1.3.7 points 2-3, 9 and 11 (see the module docstring).

    `nonce` is the one the authorization request sent; None when the flow sends none (the
    device flow), and then a nonce in the id_token is not compared.
    """
    issuers = provider.accepted_id_token_issuers()
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss:
        raise _refuse("has no issuer (iss)")
    if issuers:
        if iss.rstrip("/") not in {i.rstrip("/") for i in issuers}:
            raise _refuse(f"was issued by {printable(iss, 100)!r}, not {issuers[0]!r}")
    elif not iss.startswith("https://"):
        raise _refuse(f"has an issuer that is not an https URL ({printable(iss, 100)!r})")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise _refuse(f"is not for this client (aud is not {client_id!r})")
    azp = claims.get("azp")
    if (azp is not None or len(audiences) > 1) and azp != client_id:
        raise _refuse(f"was issued to another party (azp is not {client_id!r})")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise _refuse("has no expiry (exp)")
    if exp + CLOCK_SKEW < (time.time() if now is None else now):
        raise _refuse("has expired (check this machine's clock)")
    if nonce is not None:
        if "nonce" not in claims:
            raise _refuse("carries no nonce although this sign-in sent one")
        if claims["nonce"] != nonce:
            raise InvalidIdToken(
                "the id_token was issued for another sign-in (nonce mismatch); "
                "nothing was stored, run the command again"
            )


def signed_in_name(claims: dict[str, Any]) -> str | None:
    """The sign-in name in the claims: email, else preferred_username, else upn."""
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return "".join(c for c in value.strip() if c.isprintable())[:320]
    return None


def same_account(name: str, account: str) -> bool:
    return name.strip().casefold() == account.strip().casefold()


def check(
    account: str,
    who: SignedIn,
    *,
    allow_other: bool,
    allow_unverified: bool = False,
    provider: str = "the provider",
) -> str | None:
    """What to record as signed_in_as: None when the signed-in name is ACCOUNT; else the name.

    A different name is an IdentityMismatch unless `allow_other` (Microsoft UPN vs alias); no
    name at all is IdentityUnknown unless `allow_unverified`.
    """
    name = who.name
    if name is None:
        if allow_unverified:
            return None
        raise IdentityUnknown(
            f"{provider} did not say which account signed in (no email, preferred_username or upn "
            f"in the id_token or at userinfo), so it cannot be checked that it was {account}: "
            "nothing was stored. Ask for the email scope (identity_scopes) in the provider's "
            "config, or, if you are sure, run the command again with --allow-unverified-identity"
        )
    if same_account(name, account):
        return None
    if not allow_other:
        raise IdentityMismatch(
            f"the browser signed in as {name}, not {account}: nothing was stored. Sign out of "
            f"{name} (or use a private window) and run the command again; if {name} is the "
            f"sign-in name of {account}, add --allow-other-identity"
        )
    return name


def userinfo(endpoint: str, access_token: str, *, timeout: float) -> dict[str, Any] | None:
    """The claims of an OpenID userinfo endpoint for the access token; None when it cannot tell."""
    redact.register(access_token)
    try:
        response = http.request(
            "GET", endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=timeout
        )
    except TransientError:
        return None
    if response.status != 200:
        return None
    return json_object(response.body)


def signed_in(
    id_claims: dict[str, Any] | None,
    userinfo_endpoint: str | None,
    access_token: str,
    *,
    timeout: float,
) -> SignedIn:
    """The id_token's name first; else userinfo's, whose `sub` must be the id_token's (§5.3.2)."""
    subject = id_claims.get("sub") if id_claims else None
    subject = subject if isinstance(subject, str) else None
    if id_claims is not None:
        name = signed_in_name(id_claims)
        if name is not None:
            return SignedIn(name, "id_token", subject)
    if userinfo_endpoint is None:
        return SignedIn(None, "", subject)
    data = userinfo(userinfo_endpoint, access_token, timeout=timeout)
    if data is None:
        return SignedIn(None, "", subject)
    if id_claims is not None and data.get("sub") != subject:
        raise InvalidIdToken(
            "the userinfo endpoint answered for another user than the id_token "
            "(sub differs); nothing was stored, run the command again"
        )
    found = data.get("sub")
    return SignedIn(signed_in_name(data), "userinfo", found if isinstance(found, str) else subject)
