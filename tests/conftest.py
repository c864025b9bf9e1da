"""Shared fixtures: the local OAuth provider, and a test user with an account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.cli_env import make_account
from tests.support.provider import LocalProvider

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

ACCOUNT = "alice@example.com"


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        yield p


@pytest.fixture
def account_env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    """A user whose config has ACCOUNT on the local provider, refresh token in the file store."""
    return make_account(tmp_path, provider, ACCOUNT)


@pytest.fixture(autouse=True)
def _fresh_keyring_backend() -> Iterator[None]:
    """keyring caches its backend per process; a test that pins another one must not leak it."""
    import sys

    core = sys.modules.get("keyring.core")
    if core is not None:
        core._keyring_backend = None  # type: ignore[attr-defined]
    yield
    core = sys.modules.get("keyring.core")
    if core is not None:
        core._keyring_backend = None  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_real_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # In-process code under test must never touch the real user's dirs.
    for name, sub in (
        ("XDG_CONFIG_HOME", "cfg"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(name, str(tmp_path / "inproc" / sub))
    monkeypatch.delenv("OAUTH_HELPER_CONFIG", raising=False)
    if "HOME" in os.environ and not os.environ["HOME"].startswith(str(tmp_path)):
        monkeypatch.setenv("HOME", str(tmp_path / "inproc" / "home"))


def pytest_report_header(config: pytest.Config) -> str:
    """The certified OpenID server tests/conformance runs against, by name and version."""
    from tests.support import oidc_server

    version = oidc_server.installed_version()
    return f"certified OpenID server: oidc-provider {version or '(not installed)'}"


@pytest.fixture(scope="session", autouse=True)
def _no_real_dns() -> Iterator[None]:
    """Provider detection (detect.py) asks a DNS server on 127.0.0.1 that knows no domain
    (NXDOMAIN at once), never the machine's resolver: no test leaves loopback through DNS."""
    from oauth_helper.detect import NAMESERVER_ENV
    from tests.support.dns_server import LocalDNS

    with LocalDNS({}) as server:
        saved = os.environ.get(NAMESERVER_ENV)
        os.environ[NAMESERVER_ENV] = server.address
        yield
        if saved is None:
            os.environ.pop(NAMESERVER_ENV, None)
        else:
            os.environ[NAMESERVER_ENV] = saved
