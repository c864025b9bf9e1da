"""The certified-server tier: panva's oidc-provider (OpenID Certified) from npm, near its defaults.

The server (tests/support/oidc_server.py) is started once per test on 127.0.0.1 and stopped
after it. Without node or the pinned package the tier skips with the reason; in CI (CI=true)
that is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import oidc_server
from tests.support.oidc_server import CertifiedServer


def _require_server() -> None:
    reason = oidc_server.missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the certified OpenID server: {reason}")
    pytest.skip(reason)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., CertifiedServer]]:
    """start_server(scopes=None) -> a running server; all of them are stopped after the test."""
    _require_server()
    started: list[CertifiedServer] = []

    def start(*, scopes: str | None = None) -> CertifiedServer:
        server = CertifiedServer(scopes=scopes).start(tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., CertifiedServer]) -> CertifiedServer:
    return start_server()
