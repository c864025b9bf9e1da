"""SASL initial client responses for XOAUTH2 and OAUTHBEARER (RFC 7628). Pure functions."""

from __future__ import annotations

import binascii


def xoauth2(user: str, token: str) -> str:
    """Base64 XOAUTH2 initial response, as Gmail and Microsoft document it.

    >>> xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=='
    """
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return _b64(raw)


def saslname(user: str) -> str:
    """Escape a user name for a GS2 header (RFC 5801): ``=`` becomes ``=3D``, ``,`` becomes ``=2C``.

    >>> saslname("a,b=c")
    'a=2Cb=3Dc'
    """
    return user.replace("=", "=3D").replace(",", "=2C")


def oauthbearer(user: str, token: str, host: str | None = None, port: int | None = None) -> str:
    """Base64 OAUTHBEARER initial response (RFC 7628 §3.1); host and port are optional.

    >>> import base64
    >>> raw = base64.b64decode(oauthbearer("user@example.com", "vF9dft4qmTc2", "server.example.com", 143))
    >>> raw.split(b"\\x01")
    [b'n,a=user@example.com,', b'host=server.example.com', b'port=143', b'auth=Bearer vF9dft4qmTc2', b'', b'']
    """
    parts = [f"n,a={saslname(user)},"]
    if host:
        parts.append(f"host={host}")
    if port is not None:
        parts.append(f"port={port}")
    parts.append(f"auth=Bearer {token}")
    raw = "\x01".join(parts) + "\x01\x01"
    return _b64(raw)


def _b64(text: str) -> str:
    # binascii rather than base64: this runs on the hot path and base64 imports more.
    return binascii.b2a_base64(text.encode(), newline=False).decode("ascii")
