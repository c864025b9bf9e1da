"""Pure parsing of what comes back from the provider: a redirect's query, a pasted URL, a bare code.

No I/O here. Malformed input raises CallbackError (a UsageError); the provider's `error=`
answers become Callback.error and are judged by `code_from`.
"""

from __future__ import annotations

import re
import urllib.parse

from .. import hints
from ..errors import OAuthHelperError, ProviderError, TransientError
from ..hints import printable
from ..providers import Provider
from ..record import field, record
from .common import AuthorizationDenied, CallbackError, StateMismatch

MAX_CODE_LENGTH = 4096  # Microsoft's codes are long (~1-2 KB); nothing real comes close to this
MAX_PASTE_LENGTH = 16384
_CODE_RE = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no spaces
_QUERY_MARKERS = re.compile(r"(?:^|[?&#])(?:code|error|state)=")
_DENIED = (
    "access_denied",
    "authorization_declined",
    "login_required",
    "consent_required",
    "interaction_required",
    "account_selection_required",
)
_TRANSIENT = ("server_error", "temporarily_unavailable")


@record
class Callback:
    """The parameters of one authorization response (RFC 6749 §4.1.2), as received."""

    code: str | None = field(default=None, repr=False)
    state: str | None = None
    error: str | None = None
    error_description: str | None = None
    iss: str | None = None
    bare: bool = False  # a code pasted alone: no state, no iss to check (the user vouches for it)


def parse_query(query: str) -> Callback:
    """The parameters of a redirect's query string (without the leading '?')."""
    try:
        pairs = urllib.parse.parse_qsl(
            query, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=64
        )
    except ValueError:  # bad percent-encoding of UTF-8, or an absurd number of fields
        raise CallbackError(
            "the redirect URL is malformed (bad encoding or too many parameters)"
        ) from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise CallbackError(f"the redirect URL carries {printable(name)!r} more than once")
        values[name] = value
    code = values.get("code")
    error = values.get("error")
    if code is None and error is None:
        raise CallbackError("the redirect URL carries neither code= nor error=")
    if code is not None:
        code = _check_code(code)
    return Callback(
        code=code,
        state=values.get("state"),
        error=printable(error) if error is not None else None,
        error_description=printable(values["error_description"])
        if "error_description" in values
        else None,
        iss=values.get("iss"),
    )


def parse_pasted(text: str) -> Callback:
    """What the user pasted: the whole URL the browser ended on, its query, or only the code."""
    if len(text) > MAX_PASTE_LENGTH:
        raise CallbackError("the pasted text is far too long to be a redirect URL or a code")
    stripped = text.strip().strip("\"'<>").strip()
    if not stripped:
        raise CallbackError("nothing was pasted")
    if "\n" in stripped or "\r" in stripped:
        raise CallbackError("paste the URL (or the code) on one line")
    if _QUERY_MARKERS.search(stripped):
        _, question, after = stripped.partition("?")
        query = after if question else stripped
        query, _, fragment = query.partition("#")
        if not _QUERY_MARKERS.search("?" + query) and _QUERY_MARKERS.search("#" + fragment):
            query = fragment  # a provider that answered in the fragment (response_mode=fragment)
        return parse_query(query.lstrip("?#&"))
    if "://" in stripped or stripped.lower().startswith(("http:", "https:")):
        raise CallbackError(
            "the pasted URL has no code= in it: paste the URL of the page the "
            "browser ended on after signing in"
        )
    return Callback(code=_check_code(stripped), bare=True)


def code_from(callback: Callback, state: str, *, provider: Provider | None = None) -> str:
    """The code of a callback for the attempt that sent `state`; an error for anything else.

    A redirect (or a pasted URL) must carry our state; only a code pasted alone has none. With
    RFC 9207 advertised by the provider (`iss_in_authorization_response`), it must carry `iss`
    too, and any `iss` must be the provider's issuer.
    """
    issuer = provider.issuer if provider is not None else None
    if callback.bare:
        return callback.code or ""
    if callback.state is None:
        raise StateMismatch(
            "the redirect URL carries no state parameter, so it cannot be checked that it belongs "
            "to this authorization; nothing was stored. Paste the whole URL (or only the code)"
        )
    if callback.state != state:
        raise StateMismatch(
            "the state parameter does not match this authorization (a URL from another attempt?)"
        )
    if callback.iss is None and provider is not None and provider.iss_in_authorization_response:
        raise CallbackError(
            f"the redirect carries no iss parameter although {provider.name} always sends one "
            "(RFC 9207): it may come from another provider (a mix-up attack); nothing was stored"
        )
    if (
        callback.iss is not None
        and issuer is not None
        and callback.iss.rstrip("/") != issuer.rstrip("/")
    ):
        raise CallbackError(
            f"the redirect comes from issuer {printable(callback.iss)!r}, not "
            f"{issuer!r}; nothing was stored"
        )
    if callback.error is not None:
        raise error_for_callback(callback.error, callback.error_description or "")
    if callback.code is None:  # parse_query guarantees code or error
        raise CallbackError("the redirect carries no code")
    return callback.code


def error_for_callback(code: str, description: str) -> OAuthHelperError:
    """An `error=` in the authorization response, as one of our errors (RFC 6749 §4.1.2.1)."""
    short = hints.short_description(description)
    detail = f"{code}: {short}" if short else code
    hint = hints.lookup(code, description)
    if code in _TRANSIENT:
        return TransientError(
            f"the provider could not complete the sign-in ({detail}); try again later"
        )
    if code in _DENIED:
        why = "the sign-in was declined or not completed"
        return AuthorizationDenied(f"{why} ({detail}); run the command again to retry")
    if hint is not None:
        return ProviderError(
            f"the provider refused the authorization: {hint.explanation} ({detail})"
        )
    return ProviderError(f"the provider refused the authorization request ({detail})")


def _check_code(code: str) -> str:
    if "%" in code and _is_ascii(code):
        try:
            code = urllib.parse.unquote(code, errors="strict")
        except ValueError:  # %-escapes that are not UTF-8
            raise CallbackError("the code is not correctly %-encoded") from None
    if not code:
        raise CallbackError("the code is empty")
    if len(code) > MAX_CODE_LENGTH:
        raise CallbackError("the code is too long to be an authorization code")
    if not _CODE_RE.fullmatch(code):
        raise CallbackError(
            "that does not look like an authorization code (it contains spaces or "
            "characters a code never has)"
        )
    return code


def _is_ascii(text: str) -> bool:
    return all(ord(c) < 128 for c in text)
