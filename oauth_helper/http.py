"""One HTTP request with an overall deadline, for the token, device, revocation and discovery endpoints.

Network failures become TransientError here; status codes are left to the caller to judge.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import sys
import urllib.parse
from collections.abc import Mapping

from . import __version__, redact, urlrule
from .deadline import Deadline
from .errors import ConfigError, TransientError
from .log import get_logger
from .record import field, record

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any

log = get_logger(__name__)
MAX_BODY = 1 << 20  # token responses are small; do not buffer a hostile endless body
USER_AGENT = f"oauth-helper/{__version__}"


@record
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, with create_default_context's verification settings.

    OpenSSL parses a CA *file* whole when it is loaded (~150 certificates: 10 to 80 ms, on
    every refresh), but looks certificates up in a hashed CA *directory* (Debian's
    /etc/ssl/certs) only as a chain needs them. So when the default directory is hashed and
    SSL_CERT_FILE does not name a file to trust, the directory alone is used; otherwise
    exactly what Python does by default.
    """
    capath = ssl.get_default_verify_paths().capath  # SSL_CERT_DIR, else OpenSSL's default
    if capath and not os.environ.get("SSL_CERT_FILE") and _hashed(capath):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context()


def _hashed(directory: str) -> bool:
    """Holds OpenSSL's subject-hash names (`c_rehash`, `openssl rehash`): 8 hex digits, .N."""
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                stem, dot, n = entry.name.partition(".")
                if dot and n.isdigit() and len(stem) == 8 and _HEX.issuperset(stem):
                    return True
    except OSError:
        pass
    return False


_HEX = frozenset("0123456789abcdef")


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> Response:
    """Send one request; any HTTP status comes back as a Response, network trouble as TransientError.

    `timeout` is the deadline of the whole request (connect, TLS, headers, body), not of each
    read. A URL the one URL rule refuses (plain http off this machine) is a ConfigError, raised
    before any connection is made: the last guard, behind the config and discovery checks.
    """
    where = url.split("?", 1)[0]  # a query string may carry a code; never log it
    insecure = urlrule.insecure_reason(url)
    if insecure is not None:
        raise ConfigError(f"refusing to send a request to {where}: {insecure}")
    deadline = Deadline(timeout)
    try:
        response = _send(method, url, body, headers, deadline)
    except TransientError as e:
        log.debug("%s %s failed after %.2f s: %s", method, where, deadline.elapsed(), e)
        raise
    log.debug("%s %s -> HTTP %d (%.2f s)", method, where, response.status, deadline.elapsed())
    return response


def _send(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    deadline: Deadline,
) -> Response:
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc or url
    exchange = _through_proxy if _proxy_configured() else _direct

    def too_slow() -> TransientError:
        return TransientError(f"{host} did not answer in time ({deadline.describe()})")

    with deadline.guarding():
        try:
            status, reply_headers, data = exchange(method, parts, body, all_headers, deadline)
        except TimeoutError:
            raise too_slow() from None
        except _Unreachable as e:
            if deadline.expired:
                raise too_slow() from None
            # Exit 75 still (a captive portal passes), but trying again at once cannot change
            # the certificate: the mail client is not kept waiting for the retries.
            raise TransientError(
                f"cannot reach {host}: {_reason(e.reason)}",
                retry=not isinstance(e.reason, ssl.SSLCertVerificationError),
            ) from None
        except ssl.SSLError as e:
            if deadline.expired:
                raise too_slow() from None
            raise TransientError(f"TLS failure talking to {host}: {e.reason or e}") from None
        except (OSError, ValueError, http.client.HTTPException) as e:  # reset, bad status line...
            if deadline.expired:
                raise too_slow() from None
            raise TransientError(f"connection to {host} failed: {_reason(e)}") from None
        if deadline.expired:  # the body was cut short by the deadline: not an answer
            raise too_slow()
    return Response(status, reply_headers, data)


class _Unreachable(Exception):
    """The request could not be sent (no connection, TLS refused): `reason` says why."""

    def __init__(self, reason: object) -> None:
        super().__init__(reason)
        self.reason = reason


_Exchange = tuple[int, dict[str, str], bytes]


def _connection(
    scheme: str, host: str, port: int | None, deadline: Deadline
) -> http.client.HTTPConnection:
    """An http.client connection whose socket the deadline shuts down (the raw socket, so the
    TLS handshake and a proxy tunnel are bounded too). The CAs are loaded only for https."""
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = tls_context()
        conn = http.client.HTTPSConnection(host, port, timeout=deadline.timeout(), context=context)

        def connect_tls() -> None:  # HTTPSConnection.connect, for a connection with no tunnel
            http.client.HTTPConnection.connect(conn)
            conn.sock = context.wrap_socket(conn.sock, server_hostname=_ascii(host))

        conn.connect = connect_tls  # type: ignore[method-assign]
    else:
        conn = http.client.HTTPConnection(host, port, timeout=deadline.timeout())

    def connect(address: tuple[str, int], *rest: Any) -> socket.socket:
        sock = socket.create_connection(
            (_ascii(address[0]), address[1]),  # type: ignore[arg-type]  # getaddrinfo takes bytes
            deadline.timeout(),
            *rest[1:],
        )
        deadline.watch(sock)
        return sock

    conn._create_connection = connect  # type: ignore[attr-defined]
    return conn


def _ascii(host: str) -> str | bytes:
    """An ASCII host name as bytes: socket and ssl then use it as it is, where a str goes
    through the idna codec, whose import (stringprep, unicodedata) costs a refresh ~6 ms.
    A non-ASCII (internationalised) name is left to idna."""
    return host.encode() if host.isascii() else host


def _direct(
    method: str,
    parts: urllib.parse.SplitResult,
    body: bytes | None,
    headers: dict[str, str],
    deadline: Deadline,
) -> _Exchange:
    """One request on one connection with http.client: no redirect is followed."""
    conn = _connection(parts.scheme, parts.hostname or "", parts.port, deadline)
    selector = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        try:
            conn.request(method, selector, body, {**headers, "Connection": "close"})
        except OSError as e:  # connecting, the TLS handshake, sending
            raise _Unreachable(e) from None
        reply = conn.getresponse()
        return reply.status, dict(reply.headers.items()), _read(reply)
    finally:
        conn.close()


def _proxy_configured() -> bool:
    """A proxy may apply: urllib.request then sends the request, honouring it as it always did.

    Only then: urllib.request (with tempfile, shutil, bz2, lzma...) costs a refresh more than
    the request itself. On macOS and Windows it also reads the system's proxy settings.
    """
    if sys.platform in ("darwin", "win32"):
        return True
    return any(
        value and name.lower() in ("http_proxy", "https_proxy", "all_proxy")
        for name, value in os.environ.items()
    )


def _through_proxy(
    method: str,
    parts: urllib.parse.SplitResult,
    body: bytes | None,
    headers: dict[str, str],
    deadline: Deadline,
) -> _Exchange:
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        # A token endpoint that redirects a POST is misconfigured: never resend a secret.
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    class Handler(urllib.request.HTTPSHandler, urllib.request.HTTPHandler):
        def __init__(self) -> None:
            # Not HTTPSHandler.__init__: it loads every CA, for http requests too.
            urllib.request.AbstractHTTPHandler.__init__(self)

        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(self._connect, req)

        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(self._connect, req)

        def _connect(self, host: str, **_: object) -> http.client.HTTPConnection:
            # `host` is the proxy's; for https urllib then asks it for a tunnel (CONNECT).
            target = urllib.parse.urlsplit(f"//{host}")
            return _connection(parts.scheme, target.hostname or host, target.port, deadline)

    url = urllib.parse.urlunsplit(parts)
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    opener = urllib.request.build_opener(Handler(), NoRedirect())
    try:
        with opener.open(req, timeout=deadline.timeout()) as reply:
            return reply.status, dict(reply.headers.items()), _read(reply)
    except urllib.error.HTTPError as e:
        try:
            data = _read(e)
        except (OSError, ValueError, http.client.HTTPException):
            data = b""
        return e.code, dict(e.headers.items()) if e.headers else {}, data
    except urllib.error.URLError as e:
        raise _Unreachable(e.reason) from None


# Form fields that carry secrets: registered so nothing we print can contain them.
SECRET_FIELDS = frozenset(
    {
        "refresh_token",
        "client_secret",
        "code",
        "code_verifier",
        "device_code",
        "token",
        "password",
        "access_token",
        "assertion",
    }
)


def post_form(
    url: str, form: Mapping[str, str], *, timeout: float, headers: Mapping[str, str] | None = None
) -> Response:
    redact.register(*(value for key, value in form.items() if key in SECRET_FIELDS))
    body = urllib.parse.urlencode(form).encode()
    merged = {"Content-Type": "application/x-www-form-urlencoded"}
    merged.update(headers or {})
    return request("POST", url, body=body, headers=merged, timeout=timeout)


def _read(reply: object) -> bytes:
    read = getattr(reply, "read")  # noqa: B009 - HTTPResponse and HTTPError both have it
    data: bytes = read(MAX_BODY + 1)
    return data[:MAX_BODY]


def _reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"certificate verification failed ({reason.verify_message})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failure ({reason.reason or reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason) or type(reason).__name__
    return text.splitlines()[0][:200]
