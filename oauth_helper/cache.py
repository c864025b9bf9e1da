"""The access-token cache: one small private JSON file per account, and the per-account lock.

This module is on the hot path: it imports only os, time and securefile (json only when writing).
"""

from __future__ import annotations

import os
import time

from . import paths, securefile
from .errors import InsecureFile

DEFAULT_MIN_VALIDITY = (
    300  # never hand out a token that dies within 5 minutes: mbsync hangs on rejection
)
LOCK_TIMEOUT = 60.0  # longer than one refresh with its retries can take
MAX_LIFETIME = 86400.0  # as oauth.MAX_EXPIRES_IN: a cache entry claiming more is not ours
CLOCK_SLACK = 1.0  # obtained_at and now come from the same clock; allow float rounding only


def margin(requested: float | None, lifetime: float) -> float:
    """How long a token must stay valid to be handed out.

    The default (5 minutes) shrinks to half the token's lifetime when tokens are short-lived
    (Keycloak's 300 s tokens are served for 150 s, not refreshed on every call). An explicit
    --min-validity is obeyed when the provider's tokens live longer than it; when they do not,
    it cannot be satisfied and half the lifetime is used instead (`token` says so once).

    >>> margin(None, 3600), margin(None, 300), margin(1800, 3600), margin(7200, 3600)
    (300, 150.0, 1800, 1800.0)
    """
    if requested is None:
        return min(DEFAULT_MIN_VALIDITY, lifetime / 2)
    return requested if requested < lifetime else lifetime / 2


class CachedToken:
    """An access token as cached: the token, its expiry (epoch seconds), and what it was issued for."""

    __slots__ = ("config_stamp", "expires_at", "fingerprint", "obtained_at", "token")

    def __init__(
        self,
        token: str,
        expires_at: float,
        fingerprint: str,
        config_stamp: str,
        obtained_at: float = 0.0,
    ) -> None:
        self.token = token
        self.expires_at = expires_at
        self.fingerprint = fingerprint  # which provider/client/scopes the token belongs to
        self.config_stamp = (
            config_stamp  # the config file's identity when the fingerprint was checked
        )
        self.obtained_at = obtained_at

    def __repr__(self) -> str:
        return f"CachedToken(token=<redacted>, expires_at={self.expires_at!r})"

    @property
    def lifetime(self) -> float:
        """Seconds from when the token was obtained to its expiry (old entries: unknown, huge)."""
        if self.obtained_at <= 0:
            return MAX_LIFETIME
        return self.expires_at - self.obtained_at

    def valid_for(self, seconds: float | None, now: float | None = None) -> bool:
        """True if the token stays valid past the margin (see `margin`; None = the default).

        A clock that went backwards (now before the token was obtained) makes no token valid:
        its remaining lifetime is unknown, and a dead token makes mbsync hang for ever.
        """
        current = time.time() if now is None else now
        if current + CLOCK_SLACK < self.obtained_at:
            return False
        return self.expires_at - current > margin(seconds, self.lifetime)


def path_for(account: str) -> str:
    return os.path.join(paths.cache_dir(), paths.file_name(account) + ".json")


def lock_path_for(account: str) -> str:
    return os.path.join(paths.cache_dir(), paths.file_name(account) + ".lock")


def config_stamp(config_file: str) -> str:
    """Identifies one version of the config file cheaply (no read, no parse)."""
    try:
        st = os.stat(config_file)
    except OSError:
        return ""
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def load(account: str) -> CachedToken | None:
    """The cached token, or None if there is none or it is unreadable (it is then simply refreshed).

    An insecure cache file (loose mode, foreign owner, symlink) raises InsecureFile instead.
    """
    data = securefile.read_private(path_for(account))
    if data is None:
        return None
    try:
        entry = loads_flat(data)
        if entry is None:
            import json

            entry = json.loads(data)
        token = entry["access_token"]
        expires_at = entry["expires_at"]
        fingerprint = entry.get("fingerprint", "")
        stamp = entry.get("config_stamp", "")
        obtained_at = entry.get("obtained_at", 0.0)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # corrupted: ignore it, the refresh will overwrite it
    if not (
        isinstance(token, str)
        and token
        and token.isascii()
        and token.isprintable()
        and isinstance(expires_at, (int, float))
        and not isinstance(expires_at, bool)
        and isinstance(fingerprint, str)
        and isinstance(stamp, str)
        and isinstance(obtained_at, (int, float))
        and not isinstance(obtained_at, bool)
    ):
        return None
    # inf, NaN or an expiry beyond any real lifetime: not something we wrote; refresh instead.
    if not (0 <= obtained_at <= expires_at <= max(obtained_at, time.time()) + MAX_LIFETIME):
        return None
    return CachedToken(token, float(expires_at), fingerprint, stamp, float(obtained_at))


def loads_flat(data: bytes) -> dict[str, str | float] | None:
    """Parse the flat JSON object `store` writes (string and number values, no escapes).

    Anything else gives None and the caller uses the json module. This exists because
    `import json` is a measurable share of the hot path's cost.

    >>> loads_flat(b'{"access_token": "ya29.a0", "expires_at": 1700000000.5}')
    {'access_token': 'ya29.a0', 'expires_at': 1700000000.5}
    >>> loads_flat(b'{"a": "b\\"c"}') is None
    True
    """
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if "\\" in text or len(text) < 2 or text[0] != "{" or text[-1] != "}":
        return None
    out: dict[str, str | float] = {}
    body = text[1:-1]
    pos, end = 0, len(body)
    while True:
        pos = _skip_space(body, pos)
        if pos >= end:
            return out if not out or body.rstrip()[-1:] != "," else None
        if body[pos] != '"':
            return None
        close = body.find('"', pos + 1)
        if close < 0:
            return None
        key = body[pos + 1 : close]
        pos = _skip_space(body, close + 1)
        if pos >= end or body[pos] != ":":
            return None
        pos = _skip_space(body, pos + 1)
        if pos < end and body[pos] == '"':
            close = body.find('"', pos + 1)
            if close < 0:
                return None
            value: str | float = body[pos + 1 : close]
            pos = close + 1
        else:
            comma = body.find(",", pos)
            stop = end if comma < 0 else comma
            number = body[pos:stop].strip()
            if not number or number[0] not in "-0123456789":
                return None  # true/false/null/objects: leave them to the json module
            try:
                value = float(number)
            except ValueError:
                return None
            if value != value or value in (float("inf"), float("-inf")):
                return None
            pos = stop
        if key in out:
            return None
        out[key] = value
        pos = _skip_space(body, pos)
        if pos < end:
            if body[pos] != ",":
                return None
            pos += 1


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def load_quietly(account: str) -> CachedToken | None:
    """Like load, but an insecure file is treated as absent (the slow path will report it)."""
    try:
        return load(account)
    except InsecureFile:
        return None


def store(account: str, cached: CachedToken) -> None:
    entry = {
        "access_token": cached.token,
        "expires_at": cached.expires_at,
        "fingerprint": cached.fingerprint,
        "config_stamp": cached.config_stamp,
        "obtained_at": cached.obtained_at,
    }
    import json

    securefile.write_private(path_for(account), json.dumps(entry).encode(), durable=False)


def drop(account: str) -> bool:
    """Forget the cached access token (never the refresh token); True if there was one."""
    return securefile.remove(path_for(account))


def lock(account: str, timeout: float = LOCK_TIMEOUT) -> securefile.exclusive_lock:
    """The per-account lock that serialises refreshes across processes."""
    return securefile.exclusive_lock(lock_path_for(account), timeout)
