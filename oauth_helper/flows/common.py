"""What every flow shares: the context, its errors, and the code exchange at the token endpoint."""

from __future__ import annotations

import sys
from collections.abc import Callable

from .. import identity, oauth, redact
from ..errors import AuthorizationRequired, OAuthHelperError, TransientError, UsageError
from ..providers import Provider
from ..record import field, record

Say = Callable[[str], None]


def say_stderr(message: str) -> None:
    """Every prompt and message of `authorize` goes to stderr: stdout is for tokens only."""
    sys.stderr.write(redact.scrub(message) + "\n")
    sys.stderr.flush()


@record
class FlowContext:
    """Everything a flow needs to know. The client secret is never shown by repr()."""

    account: str
    provider: Provider  # endpoints resolved (discovery done)
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()
    timeout: float = 300.0  # how long to wait for the user (browser, paste, device approval)
    http_timeout: float = 15.0  # one request to the provider
    port: int | None = None  # fixed redirect listener port, else an ephemeral one
    login_hint: bool = True  # send login_hint=ACCOUNT (some organisations' sign-in rejects it)
    select_account: bool = False  # prompt=select_account: the provider's account picker
    say: Say = say_stderr

    def client_form(self) -> dict[str, str]:
        """client_id, plus client_secret only when there is one (public clients must not send it)."""
        form = {"client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


class CallbackError(UsageError):
    """A redirect URL or pasted code that cannot be used (malformed, repeated parameters)."""


class StateMismatch(CallbackError):
    """The `state` of a redirect is not the one this authorization sent: it belongs to another attempt."""


class AuthorizationDenied(AuthorizationRequired):
    """The provider or the user refused the authorization (`error=access_denied` and friends)."""


class AuthorizationTimeout(TransientError):
    """Nobody completed the sign-in within the time allowed."""


class FlowUnavailable(UsageError):
    """The chosen flow cannot be used with this provider (Google and the device flow)."""


def exchange_code(
    ctx: FlowContext, code: str, code_verifier: str, redirect_uri: str, nonce: str | None = None
) -> oauth.TokenResponse:
    """Trade an authorization code (+ PKCE verifier) for tokens; errors sorted like refresh errors.

    An id_token in the answer is validated (identity.validate) against `nonce`, the one the
    authorization request sent.
    """
    redact.register(code, code_verifier)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    form.update(ctx.client_form())
    try:
        response = oauth.token_request(ctx.provider, form, timeout=ctx.http_timeout)
    except TransientError:
        raise
    except AuthorizationRequired as e:
        raise AuthorizationDenied(
            f"the provider refused the authorization code ({_short(e)}); run the command again"
        ) from None
    except OAuthHelperError as e:
        raise type(e)(f"the code exchange failed: {_short(e)}") from None
    register_tokens(response)
    check_id_token(ctx, response, nonce)
    return response


def register_tokens(response: oauth.TokenResponse) -> None:
    redact.register(response.access_token, response.refresh_token, response.id_token)


def check_id_token(ctx: FlowContext, response: oauth.TokenResponse, nonce: str | None) -> None:
    """Refuse an id_token that is not for this provider, this client, now and this sign-in."""
    if response.id_token:
        identity.validate(
            identity.decode_claims(response.id_token), ctx.provider, ctx.client_id, nonce
        )


def _short(error: Exception) -> str:
    return redact.scrub(str(error).splitlines()[0] if str(error) else type(error).__name__)
