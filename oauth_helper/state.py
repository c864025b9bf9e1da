"""What `status` reports about past refreshes: a small non-secret JSON file per account."""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

from . import paths, redact, securefile
from .errors import OAuthHelperError
from .jsondata import json_object


def path_for(account: str) -> str:
    return os.path.join(paths.cache_dir(), paths.file_name(account) + ".state.json")


def load(account: str) -> dict[str, Any]:
    try:
        data = securefile.read_private(path_for(account))
    except OAuthHelperError:
        return {}
    return (json_object(data) if data else None) or {}


def record_refresh(account: str, ok: bool, message: str = "") -> None:
    """Remember the last refresh outcome. Never raises: bookkeeping must not fail a login."""
    state = load(account)
    now = time.time()
    state["last_refresh_at"] = now
    state["last_refresh_ok"] = ok
    state["last_refresh_message"] = redact.scrub(message)[:300]
    if ok:
        state["last_success_at"] = now
    with contextlib.suppress(OAuthHelperError, OSError):
        securefile.write_private(path_for(account), json.dumps(state).encode())


def forget(account: str) -> None:
    with contextlib.suppress(OAuthHelperError):
        securefile.remove(path_for(account))
