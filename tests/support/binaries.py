"""Find the external programs the integration and end-to-end tests drive.

In CI (environment variable ``CI`` set to a true value) a missing program is a test failure:
``.ci/run`` installs every one of them, so its absence is a broken set-up, not a reason to skip.
Elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Programs that live outside PATH on Debian.
_KNOWN_PATHS = {
    "dovecot": "/usr/sbin/dovecot",
}


def in_ci() -> bool:
    """True when the environment says we run in CI (``CI=true``, ``CI=1``...)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(condition: bool, reason: str) -> None:
    """Fail (in CI) or skip (elsewhere) unless ``condition`` holds."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI: missing prerequisites are failures)", pytrace=False)
    pytest.skip(reason)


def find_binary(name: str) -> str | None:
    """Absolute path of ``name`` on PATH (or at its known Debian location), else None."""
    found = shutil.which(name)
    if found:
        return found
    known = _KNOWN_PATHS.get(name)
    if known and os.access(known, os.X_OK):
        return known
    for directory in ("/usr/sbin", "/sbin"):
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_binary(name: str) -> str:
    """Absolute path of program ``name``; skips the test (fails it in CI) when it is missing."""
    found = find_binary(name)
    require(found is not None, f"{name} is not installed")
    assert found is not None
    return found
