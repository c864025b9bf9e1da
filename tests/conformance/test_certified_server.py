"""The installed CLI against an independent, OpenID Certified server: panva's oidc-provider.

Server: oidc-provider 8.8.1 from npm (https://github.com/panva/node-oidc-provider, OpenID
Certified), pinned in tests/support/oidc/package.json and configured near its defaults in
tests/support/oidc/server.mjs: a public native client with PKCE (required), loopback redirect
URIs on any port (RFC 8252 §7.3), rotating refresh tokens with replay detection, the device
flow, revocation, introspection, RFC 9207 `iss` in authorization responses, and the id_token
carrying only `sub` when an access token is issued (email served at userinfo only, OIDC Core
§5.4). Its development login and consent pages are driven by a scripted browser
(tests/support/oidc_browser.py) that really submits the forms.

Each test runs `oauth-helper` as a user would (subprocess, private HOME) and checks the exit
code the README documents. The cases of issue 12 reproduced here: a stranger signing in
(item 1), no refresh token without prompt=consent (item 2), RFC 9207 and a pasted URL without
state (item 4), the mail scope not granted (item 5), a provider with an issuer and no scopes
(item 9).
"""

from __future__ import annotations

import base64
import os
import re
import select
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.cli_env import (
    cache_file,
    config_file,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.oidc_server import CertifiedServer

ACCOUNT = "alice@example.com"
BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "oidc_browser.py")
CONCURRENT = 6


def setup_user(
    tmp_path: Path,
    server: CertifiedServer,
    *,
    scopes: str = '["mail", "offline_access"]',
    login: str = ACCOUNT,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """A user whose config names the certified server by its issuer only (discovery does the rest)."""
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["BROWSER"] = BROWSER
    env["OIDC_BROWSER_LOG"] = str(tmp_path / "browser.log")
    env["OIDC_BROWSER_LOGIN"] = login  # what the user types on the server's login page
    env.update(extra or {})
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    scope_line = f"scopes = {scopes}\n" if scopes else ""
    path.write_text(
        f'timeout = 10\n\n[providers.certified]\nissuer = "{server.issuer}"\n{scope_line}'
    )
    return env


def authorize(
    env: dict[str, str],
    server: CertifiedServer,
    *args: str,
    input: bytes = b"",
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "certified",
        "--client-id",
        server.client_id,
        "--store",
        "file",
        *args,
        input=input,
        timeout=timeout,
    )


def err(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode(errors="replace")


def assert_nothing_stored(env: dict[str, str]) -> None:
    assert stored_refresh_token(env, ACCOUNT) is None
    assert not cache_file(env, ACCOUNT).exists()
    assert ACCOUNT not in config_file(env).read_text()


def authorized(env: dict[str, str], server: CertifiedServer, *args: str) -> str:
    result = authorize(env, server, *args)
    assert result.returncode == 0, err(result)
    assert result.stdout == b""
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    return refresh_token


def token(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli(env, "token", ACCOUNT, *args, timeout=60)


# -- the flows ------------------------------------------------------------------------------------


def test_browser_flow_token_and_cache(tmp_path: Path, server: CertifiedServer) -> None:
    """Before the fix: exit 70, "returned no refresh token" (offline_access dropped, OIDC §11)."""
    env = setup_user(tmp_path, server)
    refresh_token = authorized(env, server)
    log = (tmp_path / "browser.log").read_text()
    assert "POST 303" in log and re.search(r"GET 200 http://127\.0\.0\.1:\d+/\n", log)
    info = server.introspect(refresh_token)
    assert info["active"] is True
    assert set(info["scope"].split()) == {"openid", "email", "mail", "offline_access"}
    assert info["sub"] == ACCOUNT and info["client_id"] == server.client_id
    first = token(env)
    assert first.returncode == 0, err(first)
    access = first.stdout.decode().strip()
    assert server.introspect(access)["active"] is True
    assert server.events()["refresh"] == 0  # served from the cache authorize wrote
    again = token(env)
    assert again.stdout == first.stdout and server.events()["refresh"] == 0
    sasl = token(env, "--format", "xoauth2")
    assert (
        base64.b64decode(sasl.stdout) == f"user={ACCOUNT}\x01auth=Bearer {access}\x01\x01".encode()
    )
    print(f"certified server: {server.description}")


def test_paste_flow(tmp_path: Path, server: CertifiedServer) -> None:
    saved = tmp_path / "address-bar.txt"
    env = setup_user(tmp_path, server, extra={"OIDC_BROWSER_SAVE": str(saved)})
    process = subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "certified",
            "--client-id",
            server.client_id,
            "--store",
            "file",
            "--flow",
            "paste",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = read_until(process, re.compile(r"^\s+(http://127\.0\.0\.1:\d+/auth\?\S+)$"))
        subprocess.run([BROWSER, url], env=env, timeout=30, check=True)
        assert process.stdin is not None
        process.stdin.write(saved.read_bytes())
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    assert stored_refresh_token(env, ACCOUNT) is not None
    assert token(env).returncode == 0


def test_device_flow(tmp_path: Path, server: CertifiedServer) -> None:
    env = setup_user(tmp_path, server)
    process = subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "certified",
            "--client-id",
            server.client_id,
            "--store",
            "file",
            "--flow",
            "device",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = read_until(process, re.compile(r"\(or open (http://\S+) , which carries the code\)"))
        subprocess.run([BROWSER, url], env=env, timeout=30, check=True)
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        stop(process)
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None and server.introspect(refresh_token)["active"] is True
    assert token(env).returncode == 0


def test_device_flow_declined_is_77(tmp_path: Path, server: CertifiedServer) -> None:
    env = setup_user(tmp_path, server, extra={"OIDC_BROWSER_ABORT": "1"})
    process = subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "certified",
            "--client-id",
            server.client_id,
            "--store",
            "file",
            "--flow",
            "device",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = read_until(process, re.compile(r"\(or open (http://\S+) , which carries the code\)"))
        subprocess.run([BROWSER, url], env=env, timeout=30, check=True)
        assert process.wait(timeout=60) == 77
    finally:
        stop(process)
    assert stored_refresh_token(env, ACCOUNT) is None


def test_rotation_under_concurrency_one_refresh_no_replay(
    tmp_path: Path, server: CertifiedServer
) -> None:
    """N processes with no valid cached token: one refresh; the server never sees a replay."""
    env = setup_user(tmp_path, server)
    first_refresh_token = authorized(env, server)
    cache_file(env, ACCOUNT).unlink()  # as if the cached access token had expired
    with ThreadPoolExecutor(CONCURRENT) as pool:
        results = list(pool.map(lambda _: token(env), range(CONCURRENT)))
    assert all(r.returncode == 0 for r in results), [err(r) for r in results]
    assert len({r.stdout for r in results}) == 1  # every caller got the one new token
    events = server.events()
    assert events["refresh"] == 1 and events["replay"] == 0, events
    rotated = stored_refresh_token(env, ACCOUNT)
    assert rotated is not None and rotated != first_refresh_token
    assert server.introspect(first_refresh_token)["active"] is False  # consumed by the rotation
    for _ in range(2):
        forced = token(env, "--force-refresh")
        assert forced.returncode == 0, err(forced)
    events = server.events()
    assert events["refresh"] == 3 and events["replay"] == 0 and events["grantErrors"] == []
    assert server.introspect(forced.stdout.decode().strip())["active"] is True


def test_revoke(tmp_path: Path, server: CertifiedServer) -> None:
    env = setup_user(tmp_path, server)
    refresh_token = authorized(env, server)
    result = run_cli(env, "revoke", ACCOUNT, timeout=60)
    assert result.returncode == 0, err(result)
    assert server.introspect(refresh_token)["active"] is False
    after = token(env, "--force-refresh")
    assert after.returncode == 77, err(after)
    assert "authorize" in err(after)


# -- the error cases ------------------------------------------------------------------------------


def test_someone_else_signing_in_is_refused(tmp_path: Path, server: CertifiedServer) -> None:
    """Issue 12 item 1. The id_token names only `sub`; userinfo says bob.

    Before the fix: exit 0, "did not say which account signed in", bob's grant stored as alice's.
    """
    env = setup_user(tmp_path, server, login="bob@example.com")
    result = authorize(env, server)
    assert result.returncode == 77, err(result)
    assert "signed in as bob@example.com, not alice@example.com" in err(result)
    assert_nothing_stored(env)


def test_no_name_anywhere_is_refused_unless_accepted(
    tmp_path: Path, start_server: Callable[..., CertifiedServer]
) -> None:
    """A server that does not know the email scope: nothing names the account (item 1)."""
    server = start_server(scopes="openid offline_access mail")
    env = setup_user(tmp_path, server)
    result = authorize(env, server)
    assert result.returncode == 77, err(result)
    assert "did not say which account signed in" in err(result)
    assert "--allow-unverified-identity" in err(result)
    assert_nothing_stored(env)
    accepted = authorize(env, server, "--allow-unverified-identity")
    assert accepted.returncode == 0, err(accepted)
    assert "Warning" in err(accepted) and stored_refresh_token(env, ACCOUNT) is not None


def test_mail_scope_not_granted_is_refused(
    tmp_path: Path, start_server: Callable[..., CertifiedServer]
) -> None:
    """Issue 12 item 5: the server drops the scope it does not know. Before: exit 0."""
    server = start_server(scopes="openid offline_access email")
    env = setup_user(tmp_path, server)
    result = authorize(env, server)
    assert result.returncode == 77, err(result)
    assert "did not grant mail" in err(result) and "tick" in err(result)
    assert_nothing_stored(env)


def test_no_offline_access_is_78_with_the_fix(tmp_path: Path, server: CertifiedServer) -> None:
    """Issue 12 item 2: no refresh token. Before: exit 70 with a guess."""
    env = setup_user(tmp_path, server, scopes='["mail"]')
    result = authorize(env, server)
    assert result.returncode == 78, err(result)
    assert "issued no refresh token" in err(result) and "offline_access" in err(result)
    assert_nothing_stored(env)


def test_issuer_without_scopes_is_a_configuration_error(
    tmp_path: Path, server: CertifiedServer
) -> None:
    """Issue 12 item 9: before, only `openid email` was asked for, silently."""
    env = setup_user(tmp_path, server, scopes="")
    result = authorize(env, server)
    assert result.returncode == 78, err(result)
    assert "has no scopes" in err(result) and "[providers.certified]" in err(result)
    assert not (tmp_path / "browser.log").exists()  # refused before any browser opened
    assert_nothing_stored(env)


def test_authorization_response_without_iss_is_refused(
    tmp_path: Path, server: CertifiedServer
) -> None:
    """Issue 12 item 4, RFC 9207: the server advertises `iss`; the response lost it."""
    env = setup_user(
        tmp_path,
        server,
        extra={"OIDC_BROWSER_DROP": "iss", "OIDC_BROWSER_SAVE": str(tmp_path / "url.txt")},
    )
    process = subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "certified",
            "--client-id",
            server.client_id,
            "--store",
            "file",
            "--flow",
            "paste",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = read_until(process, re.compile(r"^\s+(http://127\.0\.0\.1:\d+/auth\?\S+)$"))
        subprocess.run([BROWSER, url], env=env, timeout=30, check=True)
        tampered = (tmp_path / "url.txt").read_text()
        assert "iss=" not in tampered and "state=" in tampered
        assert process.stdin is not None
        process.stdin.write(tampered.encode())
        process.stdin.close()
        assert process.wait(timeout=30) == 64
        assert process.stderr is not None
        assert "RFC 9207" in process.stderr.read().decode()
    finally:
        stop(process)
    assert_nothing_stored(env)


def test_pasted_url_without_state_is_refused(tmp_path: Path, server: CertifiedServer) -> None:
    """Issue 12 item 4: the pasted URL had its state removed. Before: accepted."""
    env = setup_user(
        tmp_path,
        server,
        extra={"OIDC_BROWSER_DROP": "state", "OIDC_BROWSER_SAVE": str(tmp_path / "url.txt")},
    )
    process = subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "certified",
            "--client-id",
            server.client_id,
            "--store",
            "file",
            "--flow",
            "paste",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = read_until(process, re.compile(r"^\s+(http://127\.0\.0\.1:\d+/auth\?\S+)$"))
        subprocess.run([BROWSER, url], env=env, timeout=30, check=True)
        truncated = (tmp_path / "url.txt").read_text()
        assert "state=" not in truncated and "code=" in truncated
        assert process.stdin is not None
        process.stdin.write(truncated.encode())
        process.stdin.close()
        assert process.wait(timeout=30) == 64
        assert process.stderr is not None
        assert "no state parameter" in process.stderr.read().decode()
    finally:
        stop(process)
    assert_nothing_stored(env)


def test_consent_declined_is_77(tmp_path: Path, server: CertifiedServer) -> None:
    env = setup_user(tmp_path, server, extra={"OIDC_BROWSER_ABORT": "1"})
    result = authorize(env, server)
    assert result.returncode == 77, err(result)
    assert "access_denied" in err(result)
    assert_nothing_stored(env)


def test_wrong_client_is_78(tmp_path: Path, server: CertifiedServer) -> None:
    env = setup_user(tmp_path, server)
    result = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "certified",
        "--client-id",
        "no-such-client",
        "--store",
        "file",
        "--flow",
        "device",
        timeout=60,
    )
    assert result.returncode == 78, err(result)
    assert "invalid_client" in err(result)
    assert_nothing_stored(env)


# -- helpers --------------------------------------------------------------------------------------


def read_until(
    process: subprocess.Popen[bytes], pattern: re.Pattern[str], timeout: float = 30
) -> str:
    """Read the CLI's stderr until a line matches; the first group of the match."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.2)
        if not ready:
            if process.poll() is not None:
                break
            continue
        chunk = os.read(process.stderr.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
        for line in seen.decode(errors="replace").splitlines():
            found = pattern.search(line)
            if found:
                return found.group(1)
    raise AssertionError(
        f"no line matching {pattern.pattern!r} in: {seen.decode(errors='replace')}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
