"""`oauth-helper test ACCOUNT`: log in to the SMTP and IMAP servers with a fresh token, and say why not.

One line per protocol on stdout:

    SMTP smtp.gmail.com:587 PASS (XOAUTH2)
    IMAP imap.gmail.com:993 FAIL (XOAUTH2): <what the server's answer means> — <the fix>

A rejected login is explained from three sources, most specific first: the provider's own view
of the token (RFC 7662 introspection, Google's tokeninfo, or the claims of a Microsoft JWT),
the server's answer (hints.SERVER_ERRORS), and the decoded XOAUTH2/OAUTHBEARER error challenge
(Gmail's base64 JSON, hints.CHALLENGE_STATUS). Neither the token nor the SASL string is ever
printed or logged.

Exit status: 0 all logins passed; 77 a server rejected the token; 69 a server cannot do an OAuth
login here (no XOAUTH2/OAUTHBEARER, no TLS, untrusted certificate); 75 a server could not be
reached. When several apply, the first in that order wins.
"""

from __future__ import annotations

import binascii
import contextlib
import imaplib
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from . import cache, config, hints, http, oauth, redact, sasl
from .config import Account
from .deadline import Deadline
from .errors import EX_NOPERM, EX_TEMPFAIL, EX_UNAVAILABLE, OAuthHelperError, UsageError
from .jsondata import json_object, jwt_claims
from .mailservice import DEFAULT_PORT, IMPLICIT_TLS, SCHEMES, tls_for_port
from .providers import mail_scopes
from .record import record, replace
from .settings import Settings
from .tokens import get_access_token

if TYPE_CHECKING:
    from .mailservice import Service

NET_TIMEOUT = 15.0  # per login dialogue, all of it: a slow server is a finding, not a hang
PROBE_WAIT = 2.0  # how long a server on an unknown port has to greet before we assume implicit TLS
MAX_AUTH_LINE = 500  # RFC 4954: above 512 octets send AUTH without the initial response

PASS, REJECTED, UNSUPPORTED, UNREACHABLE = "pass", "rejected", "unsupported", "unreachable"
_EXIT = ((REJECTED, EX_NOPERM), (UNSUPPORTED, EX_UNAVAILABLE), (UNREACHABLE, EX_TEMPFAIL))


@record
class Target:
    protocol: str  # "SMTP" or "IMAP"
    host: str
    port: int
    tls: str | None  # "implicit", "starttls", or None: find out by probing

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@record
class Outcome:
    target: Target
    status: str
    mechanism: str | None = None
    reason: str = ""
    fix: str = ""
    answer: str = ""  # the server's final answer (and decoded challenge), for people
    challenge: dict[str, str] | None = None
    token_dead: bool = False  # the provider itself confirmed the token is no longer active

    def line(self) -> str:
        head = f"{self.target.protocol} {self.target}"
        mech = f" ({self.mechanism})" if self.mechanism else ""
        if self.status == PASS:
            return f"{head} PASS{mech}"
        text = f"{head} FAIL{mech}: {self.reason}"
        if self.answer:
            text += f"; server said: {self.answer}"
        if self.fix:
            text += f" — {self.fix}"
        return redact.scrub(" ".join(text.split()))


@record
class TokenFacts:
    """What the provider (or the token itself) says about an access token."""

    source: str  # "introspection", "tokeninfo" or "jwt"
    active: bool | None = None
    scopes: tuple[str, ...] | None = None
    user: str | None = None
    audience: str | None = None


# -- the command --------------------------------------------------------------------------------


def run(
    settings: Settings,
    *,
    account: str,
    smtp: str | None,
    imap: str | None,
    mechanism: str | None,
    cafile: str | None,
    out: TextIO | None = None,
) -> int:
    cfg = config.load(settings.config_path)
    acct = cfg.account(account)
    targets = choose_targets(acct, smtp, imap)
    context = _tls_context(cafile)
    token = get_access_token(settings, acct.name)
    redact.register(token.token)
    stream = sys.stdout if out is None else out
    outcomes = []
    for target in targets:
        outcome = login(target, acct.name, token.token, mechanism, context)
        if outcome.status == REJECTED:
            outcome = explain_rejection(outcome, acct, token.token, cfg.timeout)
        outcomes.append(outcome)
        _write_line(stream, outcome.line())
    if any(o.token_dead for o in outcomes):
        _drop_dead_token(acct.name)
    return exit_status(outcomes)


def _drop_dead_token(account: str) -> None:
    """Like `git credential reject`: a token the provider calls dead must not be served again
    from the cache (mail clients would get it for up to an hour); the refresh token is kept."""
    try:
        dropped = cache.drop(account)
    except OAuthHelperError as e:
        sys.stderr.write(f"oauth-helper: cannot drop the cached access token: {e}\n")
        return
    if dropped:
        sys.stderr.write(
            f"oauth-helper: dropped the cached access token of {account} (the provider says it "
            "is no longer active); the next `token` call gets a new one\n"
        )


def exit_status(outcomes: list[Outcome]) -> int:
    for status, code in _EXIT:
        if any(o.status == status for o in outcomes):
            return code
    return 0


def _write_line(stream: TextIO, text: str) -> None:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.replace("—", "--").encode(encoding, "replace").decode(encoding)
    stream.write(text + "\n")
    stream.flush()


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    if cafile is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as e:
        reason = getattr(e, "strerror", None) or getattr(e, "reason", None) or type(e).__name__
        raise UsageError(
            f"--cafile {cafile}: cannot load it as a PEM CA bundle ({reason})"
        ) from None


def choose_targets(account: Account, smtp: str | None, imap: str | None) -> list[Target]:
    """The servers to try: those given, else the provider's (the account's config may override)."""
    targets = []
    for protocol, given, default in (
        ("SMTP", smtp, account.provider.smtp),
        ("IMAP", imap, account.provider.imap),
    ):
        if given is not None:
            targets.append(parse_target(protocol, given))
        elif default is not None:
            host, port = default
            targets.append(Target(protocol, host, port, tls_for_port(port)))
    if not targets:
        raise UsageError(
            f"provider {account.provider.name} names no SMTP or IMAP server: pass "
            "--smtp HOST[:PORT] and/or --imap HOST[:PORT]"
        )
    return targets


def parse_target(protocol: str, value: str) -> Target:
    """HOST[:PORT], optionally with a scheme saying how TLS starts (smtps://, imap://, ...).

    >>> parse_target("SMTP", "smtp.gmail.com")
    Target(protocol='SMTP', host='smtp.gmail.com', port=587, tls='starttls')
    >>> parse_target("IMAP", "imap://127.0.0.1:1143")
    Target(protocol='IMAP', host='127.0.0.1', port=1143, tls='starttls')
    >>> parse_target("IMAP", "localhost:10993").tls is None
    True
    """
    text = value.strip()
    tls: str | None = None
    service: Service = "smtp" if protocol == "SMTP" else "imap"
    scheme, sep, rest = text.partition("://")
    if sep:
        known = SCHEMES.get(scheme.lower())
        if known is None or known[0] != service:
            wanted = ", ".join(f"{s}://" for s, (p, _) in SCHEMES.items() if p == service)
            raise UsageError(f"--{service} {value}: unknown scheme (use {wanted})")
        tls = known[1]
        text = rest.rstrip("/")
    parsed = config.parse_hostport(text, DEFAULT_PORT[service])
    if parsed is None:
        raise UsageError(f"--{protocol.lower()} {value}: expected HOST[:PORT]")
    host, port = parsed
    return Target(protocol, host, port, tls or tls_for_port(port))


def probe_tls(target: Target, timeout: float = PROBE_WAIT, deadline: Deadline | None = None) -> str:
    """On a port of unknown kind: a server that greets in clear wants STARTTLS, a silent one TLS."""
    deadline = deadline if deadline is not None else Deadline(NET_TIMEOUT)
    timeout = min(timeout, deadline.timeout())
    with socket.create_connection((target.host, target.port), timeout=deadline.timeout()) as sock:
        sock.settimeout(timeout)
        try:
            greeting = sock.recv(4, socket.MSG_PEEK)
        except TimeoutError:
            return "implicit"
    return "starttls" if greeting else "implicit"


# -- logging in ---------------------------------------------------------------------------------


def login(
    target: Target,
    user: str,
    token: str,
    mechanism: str | None,
    context: ssl.SSLContext,
    timeout: float = NET_TIMEOUT,
) -> Outcome:
    """One login attempt, sorted into an Outcome; network and TLS trouble never raise.

    The whole dialogue (connect, greeting, STARTTLS, AUTH) has one deadline of NET_TIMEOUT:
    a server that drips its lines, or never ends a multi-line reply, is cut off there.
    """
    deadline = Deadline(timeout)
    with deadline.guarding():
        outcome = _login(target, user, token, mechanism, context, deadline)
    if deadline.expired and outcome.status != PASS:
        return Outcome(
            outcome.target,
            UNREACHABLE,
            outcome.mechanism,
            reason=f"the server did not finish the login dialogue in time ({deadline.describe()})",
            fix="check the host, the port and any firewall; try again later",
        )
    return outcome


def _login(
    target: Target,
    user: str,
    token: str,
    mechanism: str | None,
    context: ssl.SSLContext,
    deadline: Deadline,
) -> Outcome:
    try:
        if target.tls is None:
            target = replace(target, tls=probe_tls(target, deadline=deadline))
        if target.protocol == "SMTP":
            return _smtp(target, user, token, mechanism, context, deadline)
        return _imap(target, user, token, mechanism, context, deadline)
    except ssl.SSLCertVerificationError as e:
        return Outcome(
            target,
            UNSUPPORTED,
            reason=f"the server's TLS certificate is not trusted ({e.verify_message})",
            fix="pass --cafile FILE if the server uses a private CA; check the host name",
        )
    except ssl.SSLError as e:
        other = "STARTTLS" if target.tls == "implicit" else "implicit TLS"
        scheme = _scheme_for(
            target.protocol, "starttls" if target.tls == "implicit" else "implicit"
        )
        return Outcome(
            target,
            UNSUPPORTED,
            reason=f"TLS failed ({e.reason or type(e).__name__})",
            fix=f"the port may want {other}: try {scheme}{target}",
        )
    except (socket.gaierror, UnicodeError) as e:
        return Outcome(
            target,
            UNREACHABLE,
            reason=f"cannot resolve {target.host} ({e})",
            fix="check the host name and the network",
        )
    except TimeoutError:
        return Outcome(
            target,
            UNREACHABLE,
            reason=f"no answer within {NET_TIMEOUT:.0f} s",
            fix="check the host, the port and any firewall; try again later",
        )
    except _Unsupported as e:
        return Outcome(target, UNSUPPORTED, mechanism=e.mechanism, reason=e.reason, fix=e.fix)
    except (OSError, EOFError, _ProtocolError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        return Outcome(
            target,
            UNREACHABLE,
            reason=f"connection failed: {_one_line(reason)}",
            fix="check the host and port; try again later",
        )


class _Unsupported(Exception):
    def __init__(self, reason: str, fix: str, mechanism: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.fix, self.mechanism = reason, fix, mechanism


class _ProtocolError(Exception):
    """The server broke off or answered something that is not the protocol."""


def _scheme_for(protocol: str, tls: str) -> str:
    return {
        ("SMTP", "implicit"): "smtps://",
        ("SMTP", "starttls"): "smtp://",
        ("IMAP", "implicit"): "imaps://",
        ("IMAP", "starttls"): "imap://",
    }[(protocol, tls)]


def choose_mechanism(offered: set[str], wanted: str | None, protocol: str) -> str:
    """XOAUTH2 unless the server offers only OAUTHBEARER; `wanted` must be offered."""
    if wanted is not None:
        if wanted.upper() in offered:
            return wanted.upper()
        have = " or ".join(sorted(offered)) if offered else "no OAuth mechanism"
        raise _Unsupported(
            f"the server offers {have}, not {wanted.upper()}",
            f"try --mechanism {sorted(offered)[0].lower()}"
            if offered
            else f"this {protocol} server does not accept OAuth logins here",
            wanted.upper(),
        )
    for mech in ("XOAUTH2", "OAUTHBEARER"):
        if mech in offered:
            return mech
    raise _Unsupported(
        f"the server offers neither XOAUTH2 nor OAUTHBEARER over {protocol}",
        "check the server name and port (OAuth is often offered only after TLS)",
    )


def _initial_response(mech: str, user: str, token: str, target: Target) -> str:
    text = (
        sasl.xoauth2(user, token)
        if mech == "XOAUTH2"
        else sasl.oauthbearer(user, token, target.host, target.port)
    )
    redact.register(text)
    return text


def _smtp(
    target: Target,
    user: str,
    token: str,
    wanted: str | None,
    context: ssl.SSLContext,
    deadline: Deadline,
) -> Outcome:
    class BoundedSMTP(smtplib.SMTP):
        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            return deadline.connect((host, port))

    class BoundedSMTPS(smtplib.SMTP_SSL):
        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            raw = deadline.connect((host, port))
            return context.wrap_socket(raw, server_hostname=host)

    conn: smtplib.SMTP
    try:
        if target.tls == "implicit":
            conn = BoundedSMTPS(target.host, target.port, timeout=NET_TIMEOUT, context=context)
        else:
            conn = BoundedSMTP(target.host, target.port, timeout=NET_TIMEOUT)
    except smtplib.SMTPConnectError as e:
        raise _ProtocolError(
            f"the server refused the session: {e.smtp_code} {_text(e.smtp_error)}"
        ) from None
    except smtplib.SMTPServerDisconnected as e:
        raise _ProtocolError(str(e) or "the server closed the connection") from None
    try:
        code, _ = conn.ehlo()
        if code != 250:
            raise _ProtocolError(f"EHLO answered {code}")
        if target.tls == "starttls":
            if not conn.has_extn("starttls"):
                raise _Unsupported(
                    "the server does not offer STARTTLS; a token must not be sent in clear",
                    f"use the implicit-TLS port: smtps://{target.host}:{IMPLICIT_TLS['smtp']}",
                )
            code, answer = conn.starttls(context=context)
            conn.ehlo()
        offered = set(conn.esmtp_features.get("auth", "").upper().split())
        mech = choose_mechanism(offered, wanted, "SMTP")
        ir = _initial_response(mech, user, token, target)
        if len(f"AUTH {mech} {ir}") <= MAX_AUTH_LINE:
            code, answer = conn.docmd("AUTH", f"{mech} {ir}")
        else:
            code, answer = conn.docmd("AUTH", mech)
            if code == 334 and not answer.strip():
                code, answer = conn.docmd(ir)
        challenge = None
        if code == 334:
            challenge = hints.decode_challenge(answer)
            code, answer = conn.docmd(
                "" if mech == "XOAUTH2" else "AQ=="
            )  # "\x01" ends OAUTHBEARER
        if code == 235:
            _quietly(conn.quit)
            return Outcome(target, PASS, mech)
        _quietly(conn.quit)
        final = f"{code} {_text(answer)}"
        status = UNREACHABLE if 400 <= code < 500 and challenge is None else REJECTED
        return _rejected(target, mech, final, challenge, status)
    except smtplib.SMTPServerDisconnected as e:
        raise _ProtocolError(str(e) or "the server closed the connection") from None
    except smtplib.SMTPResponseException as e:
        raise _ProtocolError(f"{e.smtp_code} {_text(e.smtp_error)}") from None
    except smtplib.SMTPException as e:
        raise _ProtocolError(_one_line(str(e)) or type(e).__name__) from None
    finally:
        _quietly(conn.close)


def _imap(
    target: Target,
    user: str,
    token: str,
    wanted: str | None,
    context: ssl.SSLContext,
    deadline: Deadline,
) -> Outcome:
    class BoundedIMAP(imaplib.IMAP4):
        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            return deadline.connect((self.host, self.port))

    class BoundedIMAPS(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            raw = deadline.connect((self.host, self.port))
            return context.wrap_socket(raw, server_hostname=self.host)

    conn: imaplib.IMAP4
    try:
        if target.tls == "implicit":
            conn = BoundedIMAPS(target.host, target.port, ssl_context=context, timeout=NET_TIMEOUT)
        else:
            conn = BoundedIMAP(target.host, target.port, timeout=NET_TIMEOUT)
    except imaplib.IMAP4.error as e:
        raise _ProtocolError(f"the server refused the session: {_one_line(str(e))}") from None
    try:
        if target.tls == "starttls":
            if "STARTTLS" not in conn.capabilities:
                raise _Unsupported(
                    "the server does not offer STARTTLS; a token must not be sent in clear",
                    f"use the implicit-TLS port: imaps://{target.host}:{IMPLICIT_TLS['imap']}",
                )
            conn.starttls(ssl_context=context)
        offered = {c[5:].upper() for c in conn.capabilities if c.upper().startswith("AUTH=")}
        mech = choose_mechanism(offered, wanted, "IMAP")
        ir = _initial_response(mech, user, token, target)
        steps: list[bytes] = []

        def step(challenge: bytes) -> bytes:
            steps.append(challenge)
            if len(steps) == 1:
                return binascii.a2b_base64(ir)  # imaplib base64-encodes what we return
            return b"" if mech == "XOAUTH2" else b"\x01"

        try:
            conn.authenticate(mech, step)
        except imaplib.IMAP4.abort as e:
            raise _ProtocolError(_one_line(str(e))) from None
        except imaplib.IMAP4.error as e:
            challenge = next((c for c in (hints.decode_challenge(s) for s in steps[1:]) if c), None)
            _quietly(conn.logout)
            return _rejected(target, mech, _one_line(str(e)), challenge, REJECTED)
        # Microsoft can accept the login and fail the next command ("User is authenticated but
        # not connected"): only a mailbox that opens proves the session works. EXAMINE is
        # read-only, so nothing (not even \Recent) changes.
        try:
            status, answer = conn.select("INBOX", readonly=True)
        except imaplib.IMAP4.error as e:
            status, answer = "NO", [str(e).encode()]
        if status != "OK":
            _quietly(conn.logout)
            text = " ".join(_text(a) for a in answer if isinstance(a, (bytes, str)))
            return _rejected(
                target, mech, f"EXAMINE INBOX failed: {_one_line(text)}", None, REJECTED
            )
        _quietly(conn.logout)
        return Outcome(target, PASS, mech)
    except imaplib.IMAP4.error as e:  # includes abort: the server broke the protocol off
        raise _ProtocolError(_one_line(str(e)) or type(e).__name__) from None
    finally:
        _quietly(conn.shutdown)


def _rejected(
    target: Target, mech: str, final: str, challenge: dict[str, str] | None, status: str
) -> Outcome:
    answer = final
    if challenge:
        answer += " " + " ".join(f"{k}={v}" for k, v in challenge.items())
    server_hint = hints.lookup_server(final)
    status_hint = hints.explain_challenge(challenge) if challenge else None
    # A status from the challenge says more than a generic "Authentication failed".
    generic = server_hint is not None and server_hint.marker.lower() in (
        "authenticationfailed",
        "authentication failed",
        "5.7.8",
        "invalid credentials",
    )
    chosen = (
        status_hint if status_hint is not None and (server_hint is None or generic) else server_hint
    )
    if chosen is not None and not chosen.rejected:
        status = UNREACHABLE
    reason = chosen.reason if chosen else "the server refused the login"
    fix = chosen.fix if chosen else "{authorize}"
    return Outcome(target, status, mech, reason=reason, fix=fix, answer=answer, challenge=challenge)


def _text(answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    return _one_line(text)


def _one_line(text: str) -> str:
    """Server text for the terminal: one line, no escape sequences or control characters."""
    return hints.printable(" ".join(text.split()))


def _quietly(call: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # closing a broken session: nothing left to report
        call()


# -- explaining a rejection ---------------------------------------------------------------------


def explain_rejection(outcome: Outcome, account: Account, token: str, timeout: float) -> Outcome:
    """Refine a rejection with what the provider knows about the token; fill in the commands."""
    authorize = account.authorize_command()
    facts = None
    try:
        facts = inspect_token(account, token, timeout)
    except OAuthHelperError:
        facts = None  # the server's answer alone will have to do
    found = diagnose(facts, account, outcome.target.protocol) if facts else None
    reason, fix = found if found else (outcome.reason, outcome.fix)
    fix = hints.with_command(fix, authorize).replace("ACCOUNT", account.name)
    if fix == authorize:
        fix = f"run: {authorize}"
    dead = facts is not None and facts.active is False
    return replace(outcome, reason=reason, fix=fix, token_dead=dead)


def wanted_scopes(account: Account, protocol: str) -> list[str]:
    """The account's mail scopes that matter for this protocol (Microsoft has one per protocol)."""
    scopes = list(mail_scopes(account.scopes))
    tagged = [s for s in scopes if any(f"{p}." in s.upper() for p in ("SMTP", "IMAP", "POP"))]
    if tagged:
        return [s for s in tagged if f"{protocol}." in s.upper()]
    return scopes


def _has_scope(have: tuple[str, ...], want: str) -> bool:
    short = want.rsplit("/", 1)[-1] if not want.endswith("/") else want
    return any(h in (want, short) or h.rsplit("/", 1)[-1] == short for h in have)


def diagnose(facts: TokenFacts, account: Account, protocol: str) -> tuple[str, str] | None:
    """(reason, fix) when the provider's view of the token explains a rejection, else None."""
    authorize = account.authorize_command()
    if facts.active is False:
        return (
            "the provider says the token is no longer active (revoked or expired)",
            f"run: oauth-helper token {account.name} --force-refresh; if that exits 77, run: "
            f"{authorize}",
        )
    if facts.user:
        expected = {account.name.lower()}
        if account.signed_in_as:
            expected.add(account.signed_in_as.lower())
        if facts.user.lower() not in expected:
            return (
                f"the token belongs to {facts.user}, not {account.name}",
                f"run: {authorize} and sign in as {account.name}",
            )
    if facts.scopes is not None:
        missing = [s for s in wanted_scopes(account, protocol) if not _has_scope(facts.scopes, s)]
        if missing:
            have = " ".join(facts.scopes) or "none"
            return (
                f"the token lacks the scope {' '.join(missing)} (it has: {have})",
                f"make sure the config's scopes and the app registration include it, then "
                f"run: {authorize}",
            )
    audiences = account.provider.mail_audiences
    if (
        facts.audience
        and audiences
        and not any(facts.audience.lower().startswith(a) for a in audiences)
    ):
        name = account.provider.mail_audience_name
        return (
            f"the token is for {facts.audience}, not {name} ({audiences[0]})",
            f"use the {audiences[0]}/ scopes, then run: {authorize}",
        )
    return None


def inspect_token(account: Account, token: str, timeout: float) -> TokenFacts | None:
    """Ask the provider about the token (introspection or Google's tokeninfo), or read its JWT."""
    provider = account.provider
    if provider.introspection_endpoint is None and provider.needs_discovery():
        provider = oauth.resolve(provider, timeout=timeout)
    if provider.introspection_endpoint is not None:
        form = {"token": token, "token_type_hint": "access_token"}
        if account.client_id:
            form.update(oauth.client_form(account, account.client_secret))
        status, data = _post_json(provider.introspection_endpoint, form, timeout)
        # Only a 200 with a boolean "active" is the provider's view of the token; a 401
        # invalid_client (our client may not introspect) or a 5xx says nothing about it.
        if status != 200 or data is None or not isinstance(data.get("active"), bool):
            return None
        return facts_from_claims("introspection", data, active=data["active"])
    if provider.tokeninfo_endpoint is not None:
        status, data = _post_json(provider.tokeninfo_endpoint, {"access_token": token}, timeout)
        if data is None or status >= 500 or status in (401, 403, 429):
            return None
        if status != 200 or "error" in data or "error_description" in data:
            return TokenFacts("tokeninfo", active=False)  # Google: 400 invalid_token
        return facts_from_claims("tokeninfo", data, active=True)
    claims = jwt_claims(token)
    return facts_from_claims("jwt", claims, active=None) if claims else None


def _post_json(url: str, form: dict[str, str], timeout: float) -> tuple[int, dict[str, Any] | None]:
    response = http.post_form(url, form, timeout=timeout)
    return response.status, json_object(response.body)


def facts_from_claims(source: str, data: dict[str, Any], *, active: bool | None) -> TokenFacts:
    """TokenFacts from an introspection/tokeninfo answer or JWT claims (RFC 7662 / Azure AD names)."""
    raw_scope = data.get("scope", data.get("scp"))
    scopes = tuple(str(raw_scope).split()) if isinstance(raw_scope, str) else None
    if isinstance(raw_scope, list):
        scopes = tuple(str(s) for s in raw_scope)
    user = None
    for key in ("username", "email", "upn", "preferred_username", "unique_name"):
        value = data.get(key)
        if isinstance(value, str) and value:
            user = value
            break
    audience = data.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else None
    return TokenFacts(
        source,
        active=active if active is not False else False,
        scopes=scopes,
        user=user,
        audience=audience if isinstance(audience, str) else None,
    )
