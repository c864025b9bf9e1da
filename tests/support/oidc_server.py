"""panva's oidc-provider (an OpenID Certified server from npm) on 127.0.0.1, for tests/conformance.

tests/support/oidc/ holds its package.json (the exact version pinned) and server.mjs (its
configuration). `scripts/test` installs it there from npm (idempotent); node_modules is
git-ignored. `CertifiedServer` starts it on an ephemeral port, waits until it says where it
listens, and stops it when the test is done.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def pinned_version() -> str:
    data = json.loads((HERE / "package.json").read_text())
    return str(data["dependencies"]["oidc-provider"])


def installed_version() -> str | None:
    try:
        data = json.loads((HERE / "node_modules" / "oidc-provider" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return str(data.get("version"))


def missing_reason() -> str | None:
    """Why the server cannot run here (None when it can)."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if installed_version() != pinned_version():
        return (
            f"oidc-provider {pinned_version()} is not installed in {HERE} "
            f"(run: npm install --no-audit --no-fund --package-lock=false --prefix {HERE})"
        )
    return None


class CertifiedServer:
    """One running oidc-provider. `issuer`, `client_id`, `name`, `version` once started."""

    def __init__(self, *, scopes: str | None = None) -> None:
        self._scopes = scopes
        self._process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.stderr_path: Path | None = None

    @property
    def issuer(self) -> str:
        return str(self.info["issuer"])

    @property
    def client_id(self) -> str:
        return str(self.info["client_id"])

    @property
    def description(self) -> str:
        return f"{self.info['name']} {self.info['version']}"

    def start(self, log_dir: Path) -> CertifiedServer:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["NODE_ENV"] = "test"
        if self._scopes is not None:
            env["OIDC_SCOPES"] = self._scopes
        self.stderr_path = log_dir / "oidc-provider.stderr"
        with open(self.stderr_path, "wb") as err:
            self._process = subprocess.Popen(
                ["node", str(HERE / "server.mjs")],
                cwd=HERE,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        assert self._process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._process.stdout], [], [], max(0.0, left))
            if not ready:
                self.stop()
                raise RuntimeError(f"oidc-provider did not start within {START_TIMEOUT} s")
            chunk = os.read(self._process.stdout.fileno(), 4096)
            if not chunk:
                self.stop()
                raise RuntimeError(f"oidc-provider exited: {self.stderr_path.read_text()[-2000:]}")
            line += chunk
        self.info = json.loads(line)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # server.mjs exits when its stdin ends
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()

    # -- what the tests ask the server ------------------------------------------------------------

    def events(self) -> dict[str, Any]:
        """Counters kept by server.mjs: refresh grants, refresh-token replays, grant errors."""
        with _opener().open(f"{self.issuer}/_test/events", timeout=10) as response:
            return dict(json.loads(response.read()))

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 introspection, as the confidential "introspector" client."""
        client = self.info["introspector"]
        credentials = base64.b64encode(f"{client['id']}:{client['secret']}".encode()).decode()
        request = urllib.request.Request(
            f"{self.issuer}/token/introspection",
            data=urllib.parse.urlencode({"token": token}).encode(),
            headers={"Authorization": f"Basic {credentials}"},
        )
        with _opener().open(request, timeout=10) as response:
            return dict(json.loads(response.read()))


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))
