"""Faults at the token endpoint: every one ends in bounded time with the right exit code.

Issue 8: 500, 502, 503 (HTML body), 429 with Retry-After, a hang past the timeout, a 200 with
garbage or truncated JSON, connection refused, a TLS failure — each ends within the documented
bound with exit 75 (or 77 where the provider said the grant is dead), stdout empty, one stderr
line, the stored refresh token unchanged (and still valid at the provider).

Each case runs through both refresh paths: our RFC 6749 client ("local" provider) and
google-auth (the built-in "google" provider pointed at the local one). The module records what
it tried and `test_every_fault_was_tried` checks the tally when the whole module ran.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from oauth_helper.oauth import RETRY_ATTEMPTS
from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider
from tests.support.tls import NotTLSServer, UntrustedTLSServer

TIMEOUT = 3  # the config's `timeout`: seconds per request
# The documented bound: one refresh gives up after 2 x timeout, plus the backoff between tries
# (0.5 s + 1 s, or a Retry-After capped at 5 s) and the interpreter's start-up.
BOUND = 2 * TIMEOUT + 4.0
FLAVOURS = ("local", "google")

# (name, expected exit code, how to provoke it)
# provoke: "provider:KIND" uses the provider's fault injection; anything else is special-cased.
CASES: list[tuple[str, int, str]] = [
    ("http-500", 75, "provider:500"),
    ("http-502", 75, "provider:502"),
    ("http-503-html", 75, "provider:503_html"),
    ("http-429-retry-after-1", 75, "provider:429"),
    ("http-429-retry-after-3600", 75, "provider:429:3600"),
    ("hang-past-timeout", 75, "provider:hang"),
    ("200-garbage", 75, "provider:garbage"),
    ("200-truncated-json", 75, "provider:truncated"),
    ("200-empty-object", 75, "provider:empty_200"),
    ("connection-closed", 75, "provider:close"),
    ("connection-refused", 75, "refused"),
    ("tls-untrusted-certificate", 75, "tls-untrusted"),
    ("tls-not-tls", 75, "tls-plain"),
    ("invalid-grant", 77, "provider:invalid_grant"),
    ("invalid-grant-aadsts700082", 77, "provider:aadsts700082"),
]

# Filled in by each test: (case, flavour) -> what happened. Checked by the last test.
TRIED: dict[tuple[str, str], dict[str, float]] = {}


def _account(tmp_path: Path, provider: LocalProvider, flavour: str) -> dict[str, str]:
    if flavour == "google":
        return make_account(
            tmp_path,
            provider,
            ACCOUNT,
            provider_name="google",
            client_id="g-client",
            client_secret="g-secret-0123456789",
            timeout=TIMEOUT,
        )
    return make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT)


def _point_token_endpoint_at(env: dict[str, str], provider: LocalProvider, url: str) -> None:
    path = config_file(env)
    text = path.read_text()
    assert provider.token_endpoint in text
    path.write_text(
        text.replace(f'token_endpoint = "{provider.token_endpoint}"', f'token_endpoint = "{url}"')
    )


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there now: connections are refused


@contextmanager
def _provoke(how: str, env: dict[str, str], provider: LocalProvider) -> Iterator[Callable[[], int]]:
    """Arrange the fault; yields a function giving how many attempts reached the endpoint."""
    if how.startswith("provider:"):
        _, kind, *rest = how.split(":")
        if kind == "aadsts700082":
            provider.fail_next(
                "error_json",
                count=10,
                status=400,
                body={
                    "error": "invalid_grant",
                    "error_description": "AADSTS700082: The refresh token has expired due to "
                    "inactivity. The token was issued on 2024-01-01.",
                },
            )
        elif kind == "429":
            provider.fail_next("429", count=10, retry_after=int(rest[0]) if rest else 1)
        else:
            provider.fail_next(kind, count=10, seconds=30)
        before = provider.counts["token"]
        yield lambda: provider.counts["token"] - before
    elif how == "refused":
        _point_token_endpoint_at(env, provider, f"http://127.0.0.1:{_closed_port()}/token")
        yield lambda: 1  # a refused connection leaves no trace to count; the exit code shows it
    elif how in ("tls-untrusted", "tls-plain"):
        server_cls = UntrustedTLSServer if how == "tls-untrusted" else NotTLSServer
        with server_cls() as server:
            _point_token_endpoint_at(env, provider, server.url + "/token")
            yield lambda: server.connections
            if isinstance(server, UntrustedTLSServer):
                assert server.handshakes_completed == 0, "the client accepted an untrusted cert"
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(("name", "expected", "how"), CASES, ids=[c[0] for c in CASES])
def test_fault_at_the_token_endpoint(
    tmp_path: Path,
    provider: LocalProvider,
    flavour: str,
    name: str,
    expected: int,
    how: str,
    record_property: Callable[[str, object], None],
) -> None:
    provider.rotation = "strict"  # a refresh token that reached the grant would be consumed
    env = _account(tmp_path, provider, flavour)
    before = stored_refresh_token(env, ACCOUNT)
    assert before is not None
    with _provoke(how, env, provider) as attempts:
        started = time.monotonic()
        result = run_cli(env, "token", ACCOUNT, timeout=60)
        elapsed = time.monotonic() - started
        tried = attempts()
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == expected, f"{name}/{flavour}: exit {result.returncode}: {err}"
    assert result.stdout == b"", f"{name}/{flavour}: stdout {result.stdout!r}"
    assert err.endswith("\n") and err.count("\n") == 1, f"{name}/{flavour}: stderr {err!r}"
    assert "Traceback" not in err and err.startswith("oauth-helper: ")
    assert elapsed < BOUND, f"{name}/{flavour}: took {elapsed:.1f} s (bound {BOUND:.0f} s)"
    assert 1 <= tried <= RETRY_ATTEMPTS * 3, f"{name}/{flavour}: {tried} attempts"
    if expected == 77:
        assert f"oauth-helper authorize {ACCOUNT}" in err
        assert tried == 1, "a dead grant is not retried"
    # The refresh token is neither lost nor replaced, and the provider still honours it.
    after = stored_refresh_token(env, ACCOUNT)
    assert after == before
    if expected == 75:
        assert provider.is_refresh_token_valid(before)
    assert not cache_file(env, ACCOUNT).exists()
    # No secret of the account in the one line (the provider's descriptions included).
    assert not re.search(r"rt-[A-Za-z0-9_-]{20,}", err)
    assert "g-secret-0123456789" not in err
    record_property("attempts", tried)
    record_property("elapsed_s", round(elapsed, 2))
    TRIED[(name, flavour)] = {"exit": result.returncode, "attempts": tried, "elapsed": elapsed}


def test_every_fault_was_tried(record_property: Callable[[str, object], None]) -> None:
    """The tally: every fault on both paths (skipped when only part of the module was run)."""
    wanted = {(name, flavour) for name, _, _ in CASES for flavour in FLAVOURS}
    if not wanted <= set(TRIED):
        pytest.skip(f"only {len(TRIED)} of {len(wanted)} fault runs happened in this session")
    attempts = sum(int(v["attempts"]) for v in TRIED.values())
    slowest = max(v["elapsed"] for v in TRIED.values())
    record_property("fault_runs", len(TRIED))
    record_property("endpoint_attempts", attempts)
    record_property("slowest_s", round(slowest, 2))
    print(f"faults: {len(TRIED)} runs, {attempts} endpoint attempts, slowest {slowest:.1f} s")
    assert len(TRIED) == len(CASES) * len(FLAVOURS) == 30
    assert slowest < BOUND
