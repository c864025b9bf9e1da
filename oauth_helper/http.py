"""One HTTP request with an explicit timeout, for the token, device, revocation and discovery endpoints.

Network failures become TransientError here; status codes are left to the caller to judge.
"""

from __future__ import annotations

import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import __version__, redact
from .errors import TransientError

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


def _opener() -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
) -> Response:
    """Send one request; any HTTP status comes back as a Response, network trouble as TransientError."""
    started = time.monotonic()
    where = url.split("?", 1)[0]  # a query string may carry a code; never log it
    try:
        response = _send(method, url, body, headers, timeout)
    except TransientError as e:
        log.debug("%s %s failed after %.2f s: %s", method, where, time.monotonic() - started, e)
        raise
    log.debug(
        "%s %s -> HTTP %d (%.2f s)", method, where, response.status, time.monotonic() - started
    )
    return response


def _send(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None, timeout: float
) -> Response:
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    host = urllib.parse.urlsplit(url).netloc or url
    try:
        with _opener().open(req, timeout=timeout) as reply:
            return Response(reply.status, dict(reply.headers.items()), _read(reply))
    except urllib.error.HTTPError as e:
        try:
            data = _read(e)
        except (OSError, TimeoutError):
            data = b""
        return Response(e.code, dict(e.headers.items()) if e.headers else {}, data)
    except TimeoutError:
        raise TransientError(f"{host} did not answer within {timeout:.0f} s") from None
    except urllib.error.URLError as e:
        raise TransientError(f"cannot reach {host}: {_reason(e.reason)}") from None
    except ssl.SSLError as e:
        raise TransientError(f"TLS failure talking to {host}: {e.reason or e}") from None
    except (
        OSError,
        ValueError,
    ) as e:  # connection reset, http.client.IncompleteRead, bad status line
        raise TransientError(f"connection to {host} failed: {_reason(e)}") from None


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
