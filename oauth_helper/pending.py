"""Rotated refresh tokens the account's store could not take, kept until it can.

When the provider rotates the grant, the old refresh token is dead the moment it answers. If
the store then refuses the new one (disk full, I/O error, a failing store command), throwing
it away would mean signing in again. It is written here instead — a 0600 file in
$XDG_RUNTIME_DIR/oauth-helper (memory, usually another filesystem) and in the cache directory
(survives a reboot) — and the next call that holds the account lock moves it into the store.

A pending secret is always newer than the stored one: it is written only after the store
refused it and removed only after the store took it. Only os and securefile here: the hot
path asks `exists` on every call.
"""

from __future__ import annotations

import os
import stat

from . import paths, securefile
from .errors import OAuthHelperError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .stores.base import Secret

SUFFIX = ".pending.json"


def _runtime_dir() -> str | None:
    # Only a runtime dir the session manager made for us (0700, ours); never a /tmp fallback.
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if not base or not os.path.isabs(base):
        return None
    try:
        st = os.stat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o077:
        return None
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return None
    return os.path.join(base, paths.APP)


def paths_for(account: str) -> list[str]:
    """Where a pending secret of `account` may be, most volatile first."""
    name = paths.file_name(account) + SUFFIX
    found = [os.path.join(paths.cache_dir(), name)]
    runtime = _runtime_dir()
    if runtime is not None:
        found.insert(0, os.path.join(runtime, name))
    return found


def exists(account: str) -> bool:
    """True if some pending secret waits for the store (a stat per place; cheap)."""
    for path in paths_for(account):
        try:
            os.lstat(path)
        except OSError:
            continue
        return True
    return False


def save(account: str, secret: Secret) -> list[str]:
    """Keep `secret` in every place that takes it; the places written, [] if none did."""
    data = secret.serialize().encode()
    written = []
    for path in paths_for(account):
        try:
            securefile.write_private(path, data)
        except (OSError, OAuthHelperError):
            continue
        written.append(path)
    return written


def load(account: str) -> Secret | None:
    """The newest pending secret, or None. Unreadable or insecure copies are ignored."""
    from .stores.base import Secret

    best: Secret | None = None
    for path in paths_for(account):
        try:
            data = securefile.read_private(path)
            if data is None:
                continue
            found = Secret.deserialize(data.decode("utf-8"), path)
        except (OSError, OAuthHelperError, UnicodeDecodeError):
            continue
        if best is None or found.obtained_at > best.obtained_at:
            best = found
    return best


def clear(account: str) -> None:
    """Remove every pending copy (after the store took the secret)."""
    for path in paths_for(account):
        try:
            securefile.remove(path)
        except OAuthHelperError:
            continue
