"""JSON from outside (providers, servers, tokens): a dict, or None for anything else."""

from __future__ import annotations

import binascii
import json

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any


def json_object(data: bytes | str) -> dict[str, Any] | None:
    """The JSON object in `data`; None for invalid JSON, another JSON type, or absurd nesting.

    >>> json_object(b'{"error": "invalid_grant"}'), json_object(b"[1]"), json_object(b"<html>")
    ({'error': 'invalid_grant'}, None, None)
    """
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (header.payload.signature), unverified; None if it is not one.

    >>> jwt_claims("eyJhbGciOiJub25lIn0.eyJzY3AiOiJTTVRQLlNlbmQifQ.")
    {'scp': 'SMTP.Send'}
    >>> jwt_claims("opaque-token") is None
    True
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        raw = binascii.a2b_base64(payload.replace("-", "+").replace("_", "/"))
    except (binascii.Error, ValueError):
        return None
    return json_object(raw)
