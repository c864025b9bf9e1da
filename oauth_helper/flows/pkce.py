"""PKCE (RFC 7636, S256 only), `state`, `nonce`, and the authorization request URL."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse

from .. import redact
from ..providers import Provider
from ..record import field, record

VERIFIER_BYTES = 48  # 64 characters once base64url-encoded; RFC 7636 allows 43..128


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge_for(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))): the S256 code challenge.

    >>> challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")  # RFC 7636 appendix B
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@record
class AuthorizationRequest:
    """One attempt: its secrets (verifier) and the values the callback must echo (state)."""

    verifier: str = field(repr=False)
    state: str
    nonce: str

    @classmethod
    def new(cls) -> AuthorizationRequest:
        verifier = _b64url(secrets.token_bytes(VERIFIER_BYTES))
        state = secrets.token_urlsafe(24)
        nonce = secrets.token_urlsafe(24)
        redact.register(verifier)
        return cls(verifier=verifier, state=state, nonce=nonce)

    @property
    def challenge(self) -> str:
        return challenge_for(self.verifier)

    def url(
        self,
        provider: Provider,
        client_id: str,
        scopes: tuple[str, ...],
        login_hint: str | None,
        redirect_uri: str,
        *,
        select_account: bool = False,
    ) -> str:
        """The authorization endpoint URL the user's browser must visit.

        `login_hint` None sends none (organisations whose sign-in page rejects hints);
        `select_account` asks for the account picker (several accounts in one browser).
        """
        endpoint = provider.authorization_endpoint
        if endpoint is None:  # callers check first; keep mypy and the message honest
            raise ValueError(f"provider {provider.name} has no authorization_endpoint")
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        if login_hint is not None:
            params["login_hint"] = login_hint
        prompts: list[str] = []
        if "openid" in scopes:
            params["nonce"] = self.nonce
            if "offline_access" in scopes and provider.offline_needs_consent:
                # OpenID Connect Core §11: without prompt=consent a server MUST ignore
                # offline_access, so no refresh token would come back.
                prompts.append("consent")
        extra = dict(provider.authorize_params)
        prompts.extend(extra.pop("prompt", "").split())
        if select_account:
            prompts.insert(0, "select_account")
        if prompts:  # OpenID Connect Core §3.1.2.1: a space-separated list, each value once
            params["prompt"] = " ".join(dict.fromkeys(prompts))
        params.update(extra)
        separator = "&" if urllib.parse.urlsplit(endpoint).query else "?"
        return endpoint + separator + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
