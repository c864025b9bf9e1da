"""A second local user for attack tests: created for the test, removed afterwards.

`useradd --system --no-create-home` with a random name; she acts through
`setpriv --reuid/--regid --clear-groups`. Needs root: skipped when not root, except in CI
(`CI=true`), where CI runs as root and a skip would hide a missing promise.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class OtherUser:
    name: str
    uid: int
    gid: int

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 30,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `argv` as her (no supplementary groups, a minimal environment)."""
        return subprocess.run(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", *argv],
            env=env if env is not None else {"PATH": "/usr/bin:/bin", "HOME": "/"},
            capture_output=True,
            timeout=timeout,
            check=check,
        )

    def sh(self, script: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return self.run(["sh", "-c", script], **kwargs)  # type: ignore[arg-type]


def create() -> Iterator[OtherUser]:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("attack tests need root in CI (useradd, setpriv)")
        pytest.skip("needs root to create a second local user")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is missing")
            pytest.skip(f"{tool} is missing")
    name = "ohmal" + secrets.token_hex(4)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
        timeout=30,
    )
    try:
        import pwd

        entry = pwd.getpwnam(name)
        yield OtherUser(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True, timeout=30)
