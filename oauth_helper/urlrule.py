"""The one rule for where a secret may be sent: https, or plain http to this machine only.

http is allowed for loopback literals (127.0.0.0/8, ::1) and the name `localhost`, because a
local provider (a test server, an ssh tunnel's end) never crosses a network. Any other http URL
would carry a refresh token or client secret in cleartext. The rule is applied to every endpoint
from the config (exit 78 with file:line, before any connection), to every endpoint a discovery
document names (before it is used), and by http.py at the moment of sending, as a last guard.
"""

from __future__ import annotations

import socket
import urllib.parse

ALLOWED = "https://, or http:// only to 127.0.0.1, ::1 or localhost"


def is_loopback_host(host: str) -> bool:
    """A literal loopback address or the name localhost (no trailing dot, no other names).

    >>> [is_loopback_host(h) for h in ("127.0.0.1", "127.9.9.9", "::1", "localhost", "localhost.",
    ...                                 "127.0.0.1.nip.io", "10.0.0.1", "::ffff:127.0.0.1")]
    [True, True, True, True, False, False, False, False]
    """
    if host.lower() == "localhost":
        return True
    # inet_pton, not the ipaddress module (~5 ms to import on every refresh): it takes only
    # the strict literal forms, and a form it refuses is simply not allowed plain http.
    try:
        return socket.inet_pton(socket.AF_INET, host)[0] == 127
    except (OSError, ValueError):
        pass
    try:
        return socket.inet_pton(socket.AF_INET6, host) == _IPV6_LOOPBACK
    except (OSError, ValueError):
        return False


_IPV6_LOOPBACK = bytes(15) + b"\x01"


def insecure_reason(url: str) -> str | None:
    """Why `url` must not be used for a request carrying secrets; None if it may.

    >>> insecure_reason("https://login.example/token") is None
    True
    >>> insecure_reason("http://127.0.0.1:8080/token") is None
    True
    >>> insecure_reason("http://sso.example/token").split(" (")[0]
    'plain http to sso.example would send secrets in cleartext'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"not a valid URL (allowed: {ALLOWED})"
    scheme = parts.scheme.lower()
    if scheme == "https" and host:
        return None
    if scheme == "http" and host:
        if is_loopback_host(host):
            return None
        return f"plain http to {host} would send secrets in cleartext (allowed: {ALLOWED})"
    return f"not an https URL (allowed: {ALLOWED})"
