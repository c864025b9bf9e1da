"""One HTTP request with an overall deadline, for the token, device, revocation and discovery endpoints.

Network failures become TransientError here; status codes are left to the caller to judge.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import __version__, redact, urlrule
from .deadline import Deadline
from .errors import ConfigError, TransientError

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _C = TypeVar("_C", bound=http.client.HTTPConnection)

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20  # token responses are small; do not buffer a hostile endless body
USER_AGENT = f"oauth-helper/{__version__}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A token endpoint that redirects a POST is misconfigured; do not resend a secret elsewhere.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener(deadline: Deadline) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        _HTTPSHandler(deadline), _HTTPHandler(deadline), _NoRedirect()
    )


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


def _watched(cls: type[_C], deadline: Deadline) -> Callable[..., _C]:
    """A connection class whose socket the deadline shuts down (the raw socket, so the TLS
    handshake and a proxy tunnel are bounded too); urllib's proxy handling still applies."""

    def make(*args: Any, **kwargs: Any) -> _C:
        conn = cls(*args, **kwargs)

        def connect(address: tuple[str, int], *rest: Any) -> socket.socket:
            sock = socket.create_connection(address, deadline.timeout(), *rest[1:])
            deadline.watch(sock)
            return sock

        conn._create_connection = connect  # type: ignore[attr-defined]
        return conn

    return make


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        # Not HTTPSHandler.__init__: it builds a default TLS context (loading every CA) that
        # https_open would not use.
        urllib.request.AbstractHTTPHandler.__init__(self)
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        # The CAs are loaded here, when a request really is https: not for http on loopback.
        return self.do_open(
            _watched(http.client.HTTPSConnection, self._deadline), req, context=tls_context()
        )


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self._deadline), req)


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
    req = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    host = urllib.parse.urlsplit(url).netloc or url

    def too_slow() -> TransientError:
        return TransientError(f"{host} did not answer in time ({deadline.describe()})")

    with deadline.guarding():
        try:
            with _opener(deadline).open(req, timeout=deadline.timeout()) as reply:
                data = _read(reply)
                status, reply_headers = reply.status, dict(reply.headers.items())
        except urllib.error.HTTPError as e:
            try:
                data = _read(e)
            except (OSError, ValueError, http.client.HTTPException):
                data = b""
            status, reply_headers = e.code, dict(e.headers.items()) if e.headers else {}
        except TimeoutError:
            raise too_slow() from None
        except urllib.error.URLError as e:
            if deadline.expired:
                raise too_slow() from None
            raise TransientError(f"cannot reach {host}: {_reason(e.reason)}") from None
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
