"""git credential helper: ``git-credential-oauth-helper get|store|erase`` (gitcredentials(7)).

git writes ``key=value`` lines, ended by a blank line or end of file, to the helper's stdin
and reads the same format back from its stdout. For a mail protocol (``smtp``, ``imaps``,
``pop3``…) and a host of a configured account, ``get`` answers ``username``, ``password``
(the access token) and ``password_expiry_utc``. Anything else gets no answer at all, so the
helper can sit in a global git config next to other helpers.

Parsing, formatting and choosing the account are pure functions; :func:`run` does the I/O.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, BinaryIO, Protocol, TextIO, cast
from urllib.parse import unquote

from oauth_helper import cache
from oauth_helper.errors import CredentialProtocolError, OAuthHelperError, UsageError
from oauth_helper.mailservice import SCHEMES, well_known_ports
from oauth_helper.redact import scrub

from .record import record

if TYPE_CHECKING:
    from oauth_helper.mailservice import Service
    from oauth_helper.settings import Settings

# Limits on what we read. git's own attributes are short; a `wwwauth[]` header or a long
# `url` may be a few KiB. Anything beyond these is not git talking to a credential helper.
MAX_LINE = 64 * 1024
MAX_INPUT = 1024 * 1024

ACTIONS = ("get", "store", "erase")

# URL schemes of mail protocols, and the service of the provider each one uses.
MAIL_PROTOCOLS: Mapping[str, Service] = {scheme: s for scheme, (s, _) in SCHEMES.items()}

_FORBIDDEN_IN_VALUE = ("\n", "\r", "\0")


# --- the wire format ------------------------------------------------------------------


def parse(data: bytes) -> dict[str, str]:
    """Parse credential attributes; stop at the first blank line.

    Bytes are taken as UTF-8; bytes that are not valid UTF-8 are kept (as surrogate escapes)
    so that a request which is not ours never fails, it just matches nothing. A trailing
    ``\\r`` is dropped from each line, as git does. A repeated key keeps its last value; a
    ``url`` attribute stands for the parts it contains, as in git-credential(1).

    >>> parse(b"protocol=smtp\\nhost=smtp.gmail.com:587\\nusername=a@gmail.com\\n\\nignored")
    {'protocol': 'smtp', 'host': 'smtp.gmail.com:587', 'username': 'a@gmail.com'}
    >>> parse(b"url=smtp://a%40b.example@mail.example:465\\n")
    {'protocol': 'smtp', 'host': 'mail.example:465', 'username': 'a@b.example'}

    Raises CredentialProtocolError (never another exception) for a line without ``=``, a NUL
    byte, or input over the limits.
    """
    if len(data) > MAX_INPUT:
        raise CredentialProtocolError(
            f"credential input is longer than {MAX_INPUT} bytes; is this git talking?"
        )
    attributes: dict[str, str] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            break
        if len(line) > MAX_LINE:
            raise CredentialProtocolError(
                f"line {number} of the credential input is longer than {MAX_LINE} bytes"
            )
        if b"\0" in line:
            raise CredentialProtocolError(f"line {number} of the credential input has a NUL byte")
        key, sep, value = line.partition(b"=")
        if not sep:
            # The line is not echoed: it might be a secret typed in the wrong place.
            raise CredentialProtocolError(f"line {number} of the credential input is not key=value")
        name = key.decode("utf-8", "surrogateescape")
        text = value.decode("utf-8", "surrogateescape")
        if name == "url":
            for part in ("protocol", "host", "path", "username", "password"):
                attributes.pop(part, None)
            attributes.update(_url_attributes(text))
        else:
            attributes[name] = text
    return attributes


def _url_attributes(url: str) -> dict[str, str]:
    """The parts of a ``url`` attribute, percent-decoded, as git would split them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return {}
    authority, _, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    parts = {"protocol": scheme, "host": unquote(hostport)}
    if at:
        user, colon, password = userinfo.partition(":")
        parts["username"] = unquote(user)
        if colon:
            parts["password"] = unquote(password)
    if path:
        parts["path"] = unquote(path)
    # A percent-encoded line break must not smuggle a line into our answer (CVE-2020-5260).
    return {k: v for k, v in parts.items() if v and not any(c in v for c in _FORBIDDEN_IN_VALUE)}


def format_credential(attributes: Mapping[str, str]) -> bytes:
    """Serialize attributes as ``key=value`` lines, in the order given.

    >>> format_credential({"username": "a@gmail.com", "password": "ya29.x"})
    b'username=a@gmail.com\\npassword=ya29.x\\n'

    Refuses (CredentialProtocolError) a key with ``=``, or any line break or NUL, which would
    let one value inject another attribute.
    """
    out = bytearray()
    for key, value in attributes.items():
        if not key or "=" in key or any(c in key for c in _FORBIDDEN_IN_VALUE):
            raise CredentialProtocolError(f"refusing to write the credential attribute {key!r}")
        if any(c in value for c in _FORBIDDEN_IN_VALUE):
            raise CredentialProtocolError(
                f"refusing to write a {key} value that contains a line break or NUL"
            )
        try:
            out += f"{key}={value}\n".encode()
        except UnicodeEncodeError:
            raise CredentialProtocolError(
                f"refusing to write a {key} value that is not valid UTF-8"
            ) from None
    return bytes(out)


# --- what git asks for ------------------------------------------------------------------


@record
class Request:
    """A credential request for a mail service, reduced to what chooses the account."""

    protocol: str
    service: Service
    host: str  # lowercase, no trailing dot, IPv6 without brackets
    port: int | None
    username: str | None


def split_host(host: str) -> tuple[str, int | None]:
    """Split git's ``host`` attribute into a normalized host name and an optional port.

    >>> split_host("SMTP.Gmail.com:587")
    ('smtp.gmail.com', 587)
    >>> split_host("[::1]:25")
    ('::1', 25)
    >>> split_host("::1")
    ('::1', None)
    """
    name, port_text = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise CredentialProtocolError("the host attribute has an unclosed '['")
        name, rest = host[1:end], host[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise CredentialProtocolError("the host attribute has text after ']'")
            port_text = rest[1:]
    elif host.count(":") == 1:
        name, _, port_text = host.partition(":")
    elif ":" in host and not _is_ipv6(host):
        # git send-email writes "server:port" even for a bare IPv6 address.
        name, _, port_text = host.rpartition(":")
    port: int | None = None
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
            raise CredentialProtocolError("the host attribute has an invalid port")
        port = int(port_text)
    name = name.rstrip(".").lower()
    if not name:
        raise CredentialProtocolError("the host attribute has no host name")
    return name, port


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def request_from(attributes: Mapping[str, str]) -> Request | None:
    """The mail request in these attributes, or None when it is none of our business.

    >>> request_from({"protocol": "smtp", "host": "smtp.gmail.com:465", "username": "a@b"})
    Request(protocol='smtp', service='smtp', host='smtp.gmail.com', port=465, username='a@b')
    >>> request_from({"protocol": "https", "host": "github.com"}) is None
    True
    """
    protocol = attributes.get("protocol", "").lower()
    service = MAIL_PROTOCOLS.get(protocol)
    host = attributes.get("host", "")
    if service is None or not host:
        return None
    name, port = split_host(host)
    return Request(protocol, service, name, port, attributes.get("username") or None)


# --- which account ----------------------------------------------------------------------


class _Provider(Protocol):
    @property
    def smtp(self) -> tuple[str, int] | None: ...
    @property
    def imap(self) -> tuple[str, int] | None: ...
    @property
    def pop(self) -> tuple[str, int] | None: ...


class AccountLike(Protocol):
    """What choosing an account needs to know about one (config.Account has it)."""

    @property
    def name(self) -> str: ...
    @property
    def hosts(self) -> frozenset[str]: ...
    @property
    def provider(self) -> _Provider: ...


def _host_ports(account: AccountLike, host: str) -> set[int]:
    """The ports configured for this host among the account's SMTP, IMAP and POP endpoints."""
    provider = account.provider
    found = set()
    for endpoint in (provider.smtp, provider.imap, provider.pop):
        if endpoint is not None and endpoint[0].rstrip(".").lower() == host:
            found.add(int(endpoint[1]))
    return found


def serves_host(account: AccountLike, request: Request) -> bool:
    """Whether the request's host is one of the account's mail hosts."""
    return request.host in {h.rstrip(".").lower() for h in account.hosts}


def fits(account: AccountLike, request: Request) -> bool:
    """Whether the request's host, and its port when git gave one, belong to the account.

    A port fits when it is configured for that host, or is a well-known port of the
    requested service (so 465 fits an SMTP host set up with 587).
    """
    if not serves_host(account, request):
        return False
    if request.port is None:
        return True
    # A port given by git fits an account's host when it is the configured port or one of the
    # well-known ports of the same service (implicit TLS or STARTTLS, either way round).
    return request.port in well_known_ports(request.service) or request.port in _host_ports(
        account, request.host
    )


def choose_account(request: Request, accounts: Iterable[AccountLike]) -> AccountLike | None:
    """The account the request is for, or None.

    With a username, the user has named the account: the account of that name (exact, else
    the only case-insensitive match) if the host is one of its hosts, whatever the port (an
    SMTP server on a port of the user's choosing is still that server). Without one: the
    only account that fits the host and port; none when several do.
    """
    accounts = list(accounts)
    if request.username is not None:
        mine = [a for a in accounts if serves_host(a, request)]
        exact = [a for a in mine if a.name == request.username]
        if exact:
            return exact[0]
        folded = [a for a in mine if a.name.casefold() == request.username.casefold()]
        return folded[0] if len(folded) == 1 else None
    candidates = [a for a in accounts if fits(a, request)]
    return candidates[0] if len(candidates) == 1 else None


def answer(username: str, token: str, expires_at: float) -> dict[str, str]:
    """The attributes ``get`` answers with.

    >>> answer("a@gmail.com", "ya29.x", 1700000000.9)
    {'username': 'a@gmail.com', 'password': 'ya29.x', 'password_expiry_utc': '1700000000'}
    """
    return {
        "username": username,
        "password": token,
        "password_expiry_utc": str(int(expires_at)),
    }


# --- I/O ------------------------------------------------------------------------------


def read_input(stdin: BinaryIO) -> bytes:
    """Read lines up to a blank line or EOF, within the limits (so a terminal user can type).

    Raises CredentialProtocolError when the input is over the limits.
    """
    chunks: list[bytes] = []
    total = 0
    while True:
        line = stdin.readline(MAX_LINE + 2)
        if not line:
            break
        total += len(line)
        if total > MAX_INPUT:
            raise CredentialProtocolError(f"credential input is longer than {MAX_INPUT} bytes")
        if len(line) > MAX_LINE + 1 and not line.endswith(b"\n"):
            raise CredentialProtocolError(
                f"line {len(chunks) + 1} of the credential input is longer than {MAX_LINE} bytes"
            )
        chunks.append(line)
        if line in (b"\n", b"\r\n"):
            break
    return b"".join(chunks)


def _emit(stream: TextIO | BinaryIO, data: bytes) -> None:
    if isinstance(stream, io.TextIOBase):
        cast(TextIO, stream).write(data.decode("utf-8"))
    else:
        cast(BinaryIO, stream).write(data)
    stream.flush()


def _say(stderr: TextIO, message: str) -> None:
    stderr.write(f"oauth-helper: {scrub(message)}\n")
    stderr.flush()


def run(
    settings: Settings,
    action: str,
    stdin: BinaryIO,
    stdout: TextIO | BinaryIO,
    stderr: TextIO,
) -> int:
    """``git-credential-oauth-helper ACTION``: returns the exit status (git ignores it).

    stdout gets attributes or nothing; every message goes to stderr as one line. A request
    that is not ours gets no answer and status 0. Once the request is ours, a failure is
    reported on stderr together with ``quit=1``, so git stops instead of asking for a
    password that a token-only server could not take anyway. With ``--debug`` errors are
    raised for the command line to report with their traceback.
    """
    if action not in ACTIONS:
        _say(stderr, f"unknown git credential action {action!r}: use get, store or erase")
        return UsageError.exit_code
    try:
        attributes = parse(read_input(stdin))
        # `store`: git offers back what we gave it; an access token is never stored.
        request = None if action == "store" else request_from(attributes)
        if request is None:
            return 0
        from oauth_helper import config as config_module  # lazy: heavy; git asks about every host

        # A broken config file: we cannot tell whether the request was meant for us, so
        # say why and answer nothing.
        cfg = config_module.load(settings.config_path)
    except OAuthHelperError as e:
        if settings.debug:
            raise
        _say(stderr, str(e))
        return e.exit_code

    account = choose_account(request, cfg.accounts.values())
    if account is None:
        if settings.verbose:
            who = f"{request.username} at " if request.username else ""
            _say(stderr, f"no configured account for {who}{request.protocol}://{request.host}")
        return 0

    try:
        if action == "erase":
            cache.drop(account.name)
            if settings.verbose:
                _say(stderr, f"dropped the cached access token of {account.name}")
            return 0
        from oauth_helper import tokens  # lazy: the token engine, only for a request that is ours

        token = tokens.get_access_token(settings, account.name)
        _emit(stdout, format_credential(answer(account.name, token.token, token.expires_at)))
        if settings.verbose:
            _say(stderr, f"answered git with an access token for {account.name}")
        return 0
    except OAuthHelperError as e:
        if action == "get":
            _emit(stdout, b"quit=1\n")
        if settings.debug:
            raise
        _say(stderr, str(e))
        return e.exit_code
