"""Known provider errors and the one-line fix for each. Every command that meets them uses this table."""

from __future__ import annotations

from .record import record


@record
class Hint:
    marker: str  # matched case-insensitively against the error code and description
    explanation: str
    reauthorize: bool = True  # False: authorizing again will not help, something else must change


KNOWN_ERRORS: tuple[Hint, ...] = (
    # Google
    Hint(
        "Token has been expired or revoked",
        'Google expired or revoked the refresh token (apps in "Testing" get 7-day tokens: publish '
        'the app to "In production"; a password change or revoked access also ends it)',
    ),
    Hint(
        "invalid_rapt", "Google Workspace requires you to sign in again (reauthentication policy)"
    ),
    Hint(
        "admin_policy_enforced",
        "a Google Workspace administrator blocked this OAuth client",
        reauthorize=False,
    ),
    Hint(
        "deleted_client",
        "the OAuth client was deleted in the Google Cloud console; create a new one",
        reauthorize=False,
    ),
    # Microsoft (AADSTS codes)
    Hint("AADSTS700082", "the refresh token expired after 90 days of inactivity"),
    Hint("AADSTS50173", "the password changed, so Microsoft revoked the refresh token"),
    Hint("AADSTS50076", "multi-factor authentication is now required (policy or MFA change)"),
    Hint("AADSTS50079", "multi-factor authentication enrolment is required"),
    Hint("AADSTS65001", "consent for the mail permissions is missing or was withdrawn"),
    Hint("AADSTS7000112", "the application is disabled in the tenant", reauthorize=False),
    Hint(
        "AADSTS700016",
        "the client ID is not registered in this tenant (check client_id and tenant)",
        reauthorize=False,
    ),
    Hint(
        "AADSTS90023",
        "the request was malformed for this endpoint (public vs confidential client, "
        "tenant or redirect URI mismatch)",
        reauthorize=False,
    ),
    Hint(
        "AADSTS7000218",
        'the app registration does not allow public client flows: enable "Allow public client '
        'flows", or configure client_secret',
        reauthorize=False,
    ),
    Hint(
        "AADSTS700025",
        "a public client must not send client_secret: remove it from the config",
        reauthorize=False,
    ),
    Hint("AADSTS70008", "the authorization code or refresh token expired"),
    Hint("AADSTS50158", "an external security challenge (conditional access) must be completed"),
    Hint(
        "AADSTS50020",
        "the account signed in is not in this tenant (a personal or guest account): sign in with "
        "an account of the tenant, or use --tenant common / consumers",
    ),
    Hint(
        "AADSTS50194",
        "the app registration is single-tenant: use the tenant's ID or domain (--tenant) instead "
        "of common",
        reauthorize=False,
    ),
    Hint("AADSTS7000012", "the grant was obtained for another tenant: authorize with --tenant"),
    Hint(
        "AADSTS50011",
        "the redirect URI does not match the app registration: add http://localhost under "
        '"Mobile and desktop applications" (Authentication)',
        reauthorize=False,
    ),
    Hint(
        "AADSTS500113",
        "the app registration has no redirect URI: add http://localhost under "
        '"Mobile and desktop applications" (Authentication)',
        reauthorize=False,
    ),
    Hint(
        "AADSTS900971",
        "the app registration has no redirect URI: add http://localhost under "
        '"Mobile and desktop applications" (Authentication)',
        reauthorize=False,
    ),
    Hint(
        "AADSTS53000",
        "conditional access requires a compliant (managed) device; ask the tenant administrator",
        reauthorize=False,
    ),
    Hint(
        "AADSTS53001",
        "conditional access requires a domain-joined device; ask the tenant administrator",
        reauthorize=False,
    ),
    Hint(
        "AADSTS53002",
        "conditional access allows only approved client apps; ask the tenant administrator to "
        "allow this app registration",
        reauthorize=False,
    ),
    Hint(
        "AADSTS53003",
        "conditional access blocked the sign-in; ask the tenant administrator",
        reauthorize=False,
    ),
    Hint(
        "AADSTS53004",
        "Microsoft wants you to finish registering multi-factor authentication "
        "(https://aka.ms/mfasetup) before signing in",
    ),
    # Generic OAuth2 (RFC 6749 §5.2)
    Hint(
        "invalid_client", "the provider does not accept this client ID or secret", reauthorize=False
    ),
    Hint("unauthorized_client", "this client may not use this grant type", reauthorize=False),
    Hint("invalid_scope", "the provider refused the requested scopes"),
    Hint("consent_required", "consent is required"),
    Hint("interaction_required", "the provider wants you to sign in interactively"),
    Hint("invalid_grant", "the refresh token is no longer valid"),
)


def mentions(text: str, marker: str) -> bool:
    """True when `marker` occurs in `text` as a whole word or code, case-insensitively.

    Codes are matched whole: AADSTS90023 is not in AADSTS9002331, nor 5.7.3 in 5.7.30.

    >>> mentions("AADSTS9002331: bad", "AADSTS90023"), mentions("AADSTS90023: bad", "AADSTS90023")
    (False, True)
    >>> mentions("550 5.7.30 Basic authentication", "5.7.3"), mentions("535 5.7.3 Auth", "5.7.3")
    (False, True)
    """
    import re

    pattern = r"(?<![\w.])" + re.escape(marker.lower()) + r"(?!\w)"
    return re.search(pattern, text.lower()) is not None


def lookup(code: str, description: str = "") -> Hint | None:
    """The most specific known hint for an OAuth error code and description."""
    haystack = f"{code} {description}"
    for hint in KNOWN_ERRORS:
        if mentions(haystack, hint.marker):
            return hint
    return None


def printable(text: str, limit: int = 300) -> str:
    """Provider- or server-supplied text made safe for one terminal line: no control characters,
    no escape sequences, no line breaks, bounded length.

    >>> printable("bad\\nFAKE: \\x1b[2Jgone")
    'bad?FAKE: ?[2Jgone'
    """
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def short_description(description: str) -> str:
    """The first line of a provider's error description, without Microsoft's trace/correlation IDs."""
    first = description.strip().splitlines()[0] if description.strip() else ""
    for cut in (" Trace ID:", " Correlation ID:", " Timestamp:"):
        if cut in first:
            first = first.split(cut, 1)[0]
    return printable(first.strip())


# -- mail servers ---------------------------------------------------------------------------------
# What SMTP and IMAP servers answer when they refuse an OAuth login, for `oauth-helper test`.
# `{authorize}` in a fix is replaced by the exact `oauth-helper authorize ACCOUNT` command.


@record
class ServerHint:
    marker: str  # matched case-insensitively against the server's final answer or challenge status
    reason: str  # what the answer means, one line
    fix: str  # what to do about it, one line
    rejected: bool = True  # False: not the token's fault (a limit): retrying later may help


SERVER_ERRORS: tuple[ServerHint, ...] = (
    # Microsoft 365 / Outlook.com (most specific first)
    ServerHint(
        "security defaults",
        "Microsoft: the tenant's security defaults block SMTP AUTH for this user",
        "a tenant administrator must turn off security defaults or allow SMTP AUTH through "
        "conditional access (https://aka.ms/smtp_auth_disabled)",
    ),
    ServerHint(
        "5.7.139",
        "Microsoft: SMTP AUTH is disabled for the tenant or for this mailbox",
        "an Exchange administrator must enable authenticated SMTP: Set-CASMailbox -Identity "
        "ACCOUNT -SmtpClientAuthenticationDisabled $false (or Set-TransportConfig for the "
        "tenant), see https://aka.ms/smtp_auth_disabled",
    ),
    ServerHint(
        "5.7.30",
        "Microsoft: the login used a password (basic authentication), which Microsoft no "
        "longer accepts for SMTP",
        "make the mail client log in with XOAUTH2 or OAUTHBEARER through oauth-helper "
        '(msmtp: auth xoauth2 and passwordeval "oauth-helper token ACCOUNT")',
    ),
    ServerHint(
        "5.7.3",
        "Microsoft refused the token: wrong scope or audience (e.g. a Microsoft Graph "
        "token, or SMTP.Send / IMAP.AccessAsUser.All not granted)",
        "use the https://outlook.office.com/ scopes (SMTP.Send, IMAP.AccessAsUser.All, "
        "offline_access) in the app registration and the config, then run: {authorize}",
    ),
    ServerHint(
        "User is authenticated but not connected",
        "Microsoft accepted the token but not for this mailbox (another user's token, or "
        "IMAP disabled for the mailbox)",
        "sign in as the mailbox owner ({authorize}); an administrator can enable IMAP with "
        "Set-CASMailbox -Identity ACCOUNT -ImapEnabled $true",
    ),
    # Gmail
    ServerHint(
        "Too many login attempts",
        "the server is rate-limiting logins",
        "wait a few minutes and try again",
        rejected=False,
    ),
    ServerHint(
        "Web login required",
        "Google wants an interactive sign-in first",
        "sign in at https://mail.google.com/ once in a browser, then run: {authorize}",
    ),
    ServerHint(
        "5.7.8",
        "the server did not accept the token",
        "check the token is for this account and has the mail scope, then run: {authorize}",
    ),
    ServerHint(
        "Invalid credentials",
        "the server did not accept the token",
        "check the token is for this account and has the mail scope, then run: {authorize}",
    ),
    ServerHint(
        "AUTHENTICATE failed",
        "the server did not accept the token (Microsoft gives no detail over IMAP)",
        "check IMAP is enabled for the mailbox and IMAP.AccessAsUser.All is granted, then "
        "run: {authorize}",
    ),
    # Dovecot and generic IMAP / SMTP answers
    ServerHint("AUTHENTICATIONFAILED", "the server did not accept the token", "run: {authorize}"),
    ServerHint("Authentication failed", "the server did not accept the token", "run: {authorize}"),
)

# The "status" of the JSON error challenge that XOAUTH2 (Gmail's format) and OAUTHBEARER
# (RFC 7628 section 3.2.2) servers send before their final failure answer.
_BAD_TOKEN = (
    "the token is invalid, expired, revoked, or was issued for another account than the login user"
)
_SIGN_IN_AS_USER = "sign in as the login user when you run: {authorize}"
_NO_SCOPE = "the token lacks the scope the server wants"
CHALLENGE_STATUS: dict[str, ServerHint] = {
    "400": ServerHint(
        "400",
        f"{_NO_SCOPE} (Gmail: https://mail.google.com/)",
        "authorize again with the mail scope (and add it to the OAuth consent screen): {authorize}",
    ),
    "401": ServerHint("401", _BAD_TOKEN, _SIGN_IN_AS_USER),
    "invalid_token": ServerHint("invalid_token", _BAD_TOKEN, _SIGN_IN_AS_USER),
    "insufficient_scope": ServerHint(
        "insufficient_scope", _NO_SCOPE, "authorize again with the mail scope: {authorize}"
    ),
    "invalid_request": ServerHint(
        "invalid_request",
        "the server did not understand the login (malformed SASL message)",
        "try --mechanism xoauth2 or --mechanism oauthbearer",
    ),
}


def lookup_server(*answers: str) -> ServerHint | None:
    """The most specific known hint for what a mail server answered (final line, challenge text)."""
    haystack = " ".join(answers)
    for hint in SERVER_ERRORS:
        if mentions(haystack, hint.marker):
            return hint
    return None


def decode_challenge(data: bytes | str) -> dict[str, str] | None:
    """The JSON object of an XOAUTH2/OAUTHBEARER error challenge, base64 or already decoded.

    >>> decode_challenge("eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIn0=")
    {'status': '400', 'schemes': 'Bearer'}
    >>> decode_challenge(b'{"status":"invalid_token"}')
    {'status': 'invalid_token'}
    >>> decode_challenge("not a challenge") is None
    True
    """
    import binascii

    from .jsondata import json_object

    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    raw = raw.strip()
    if not raw.startswith(b"{"):
        try:
            raw = binascii.a2b_base64(raw).strip()
        except (binascii.Error, ValueError):
            return None
    try:
        parsed = json_object(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if not parsed:
        return None
    return {str(k): str(v) for k, v in parsed.items() if isinstance(v, (str, int, float))}


def explain_challenge(challenge: dict[str, str]) -> ServerHint | None:
    """The hint for a decoded error challenge's status (Gmail's "400"/"401", RFC 7628's names)."""
    return CHALLENGE_STATUS.get(challenge.get("status", "").strip().lower())


# -- refresh token lifetime -----------------------------------------------------------------------

LIMITED_REFRESH_TOKEN_FIX = (
    "the provider limits the refresh token's life: before then run: {authorize}"
)


def with_command(text: str, authorize_command: str) -> str:
    """A fix text with `{authorize}` replaced by the real command (no other formatting applied)."""
    return text.replace("{authorize}", authorize_command)
