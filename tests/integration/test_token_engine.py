"""`oauth-helper token` against the local provider: caching, refresh, locking, rotation, failures."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

REFRESHES = "token:refresh_token"


def token(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli(env, "token", ACCOUNT, *args)


def expire_cache(env: dict[str, str], account: str = ACCOUNT, *, remaining: float = -10) -> None:
    path = cache_file(env, account)
    entry = json.loads(path.read_text())
    lifetime = entry["expires_at"] - entry["obtained_at"]  # kept: the margin depends on it
    entry["expires_at"] = time.time() + remaining
    entry["obtained_at"] = entry["expires_at"] - lifetime
    path.write_text(json.dumps(entry))


def printed(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)
    return out[:-1]


def test_first_call_refreshes_second_is_served_from_cache(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    first = printed(token(account_env))
    assert provider.counts[REFRESHES] == 1
    assert provider.introspect(first)["active"] is True
    second = printed(token(account_env))
    assert second == first
    assert provider.counts[REFRESHES] == 1  # no request at all for the second call
    assert provider.counts["token"] == 1
    assert provider.unexpected == []


def test_expired_cache_refreshes_exactly_once(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    old = printed(token(account_env))
    expire_cache(account_env)
    new = printed(token(account_env))
    assert new != old
    assert provider.counts[REFRESHES] == 2
    assert provider.introspect(new)["active"] is True
    assert printed(token(account_env)) == new
    assert provider.counts[REFRESHES] == 2


def test_token_inside_the_margin_is_never_handed_out(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    old = printed(token(account_env))
    expire_cache(account_env, remaining=200)  # valid, but inside the default 5-minute margin
    new = printed(token(account_env))
    assert new != old and provider.counts[REFRESHES] == 2
    # A caller asking for less margin gets the cached one without a request.
    expire_cache(account_env, remaining=200)
    assert printed(token(account_env, "--min-validity", "60")) == new
    assert provider.counts[REFRESHES] == 2


def test_force_refresh(account_env: dict[str, str], provider: LocalProvider) -> None:
    old = printed(token(account_env))
    new = printed(token(account_env, "--force-refresh"))
    assert new != old and provider.counts[REFRESHES] == 2


def test_32_concurrent_callers_cause_one_refresh(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.token_delay = 0.5  # keep the refresh in flight while the others arrive
    procs = [
        subprocess.Popen(
            [oauth_helper_cmd(), "token", ACCOUNT],
            env=account_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(32)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        outputs.append(out.decode())
    assert provider.counts[REFRESHES] == 1
    assert len(set(outputs)) == 1
    assert provider.introspect(outputs[0].strip())["active"] is True


def test_strict_rotation_across_20_expiries(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.rotation = "strict"
    seen = set()
    for cycle in range(20):
        before = stored_refresh_token(account_env, ACCOUNT)
        access = printed(token(account_env))
        after = stored_refresh_token(account_env, ACCOUNT)
        assert after != before, f"cycle {cycle}: refresh token not rotated in the store"
        assert after is not None and provider.is_refresh_token_valid(after)
        assert before is not None and not provider.is_refresh_token_valid(before)
        seen.add(access)
        expire_cache(account_env)
    assert len(seen) == 20 and provider.counts[REFRESHES] == 20


def test_invalid_grant_asks_for_authorize_and_keeps_the_refresh_token(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    before = stored_refresh_token(account_env, ACCOUNT)
    provider.fail_next("invalid_grant")
    result = token(account_env)
    assert result.returncode == 77
    assert result.stdout == b""
    err = result.stderr.decode()
    assert f"oauth-helper authorize {ACCOUNT}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert stored_refresh_token(account_env, ACCOUNT) == before


@pytest.mark.parametrize(
    "kind", ["500", "502", "503_html", "429", "hang", "garbage", "truncated", "close", "empty_200"]
)
def test_transient_failures_exit_75_in_bounded_time(
    account_env: dict[str, str], provider: LocalProvider, kind: str
) -> None:
    before = stored_refresh_token(account_env, ACCOUNT)
    provider.fail_next(kind, count=10, seconds=30)
    started = time.monotonic()
    result = token(account_env)
    elapsed = time.monotonic() - started
    assert result.returncode == 75, result.stderr.decode()
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert elapsed < 2 * 3 + 5  # twice the configured 3 s timeout, plus start-up and backoff
    assert stored_refresh_token(account_env, ACCOUNT) == before
    assert not cache_file(account_env, ACCOUNT).exists()


def test_connection_refused_exits_75(tmp_path: Path) -> None:
    with LocalProvider() as provider:
        env = make_account(tmp_path, provider, ACCOUNT)
        before = stored_refresh_token(env, ACCOUNT)
    result = token(env)  # the provider is gone: nothing listens on its port
    assert result.returncode == 75, result.stderr.decode()
    assert result.stdout == b"" and b"Traceback" not in result.stderr
    assert stored_refresh_token(env, ACCOUNT) == before


def test_no_stored_refresh_token_is_77(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, seed=False)
    result = token(env)
    assert result.returncode == 77
    assert b"oauth-helper authorize" in result.stderr and result.stdout == b""


def test_unknown_account_is_67(account_env: dict[str, str]) -> None:
    result = run_cli(account_env, "token", "nobody@example.com")
    assert result.returncode == 67 and result.stdout == b""
    assert b"nobody@example.com" in result.stderr


def test_bad_config_is_78_with_file_and_line(account_env: dict[str, str]) -> None:
    config = Path(account_env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    config.write_text(config.read_text() + 'bogus = "x"\n')
    result = token(account_env)
    assert result.returncode == 78
    err = result.stderr.decode()
    assert f"{config}:" in err and "bogus" in err


def test_formats(account_env: dict[str, str]) -> None:
    import base64

    raw = printed(token(account_env))
    x = base64.b64decode(printed(token(account_env, "--format", "xoauth2")))
    assert x == f"user={ACCOUNT}\x01auth=Bearer {raw}\x01\x01".encode()
    ob = base64.b64decode(
        printed(
            token(
                account_env,
                "--format",
                "oauthbearer",
                "--host",
                "imap.example.com",
                "--port",
                "993",
            )
        )
    )
    assert (
        ob
        == f"n,a={ACCOUNT},\x01host=imap.example.com\x01port=993\x01auth=Bearer {raw}\x01\x01".encode()
    )
    data = json.loads(printed(token(account_env, "--format", "json")))
    assert data["access_token"] == raw and data["expires_at"] > time.time() + 3000


def test_config_edit_elsewhere_does_not_force_a_refresh(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    first = printed(token(account_env))
    config = Path(account_env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    config.write_text(config.read_text() + "# a comment\n")
    assert printed(token(account_env)) == first
    assert provider.counts[REFRESHES] == 1


def test_changing_the_client_makes_the_cache_stale(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    first = printed(token(account_env))
    config = Path(account_env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    provider.register_client("other-client")
    config.write_text(
        config.read_text().replace('client_id = "test-client"', 'client_id = "other-client"')
    )
    result = token(account_env)
    # The stored refresh token belongs to the old client: the provider refuses it, we say authorize.
    assert result.returncode == 77 and result.stdout == b""
    assert provider.counts[REFRESHES] == 2
    assert first


def test_corrupted_cache_is_replaced(account_env: dict[str, str], provider: LocalProvider) -> None:
    printed(token(account_env))
    cache_file(account_env, ACCOUNT).write_bytes(b'{"access_token": "abc", "expires_at": ')
    fresh = printed(token(account_env))
    assert provider.introspect(fresh)["active"] is True and provider.counts[REFRESHES] == 2


def test_google_accounts_refresh_through_google_auth(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        provider_name="google",
        client_id="g-client",
        client_secret="g-secret",
    )
    provider.rotation = "strict"
    first = printed(token(env))
    assert provider.introspect(first)["active"] is True
    sent = [r for r in provider.requests if r["path"].endswith("/token")][-1]
    # google-auth identifies itself; our own client does not send this header.
    assert any(k.lower() == "x-goog-api-client" for k in sent["headers"])
    assert sent["form"]["client_secret"] == "g-secret"
    expire_cache(env)
    second = printed(token(env))
    assert second != first and provider.is_refresh_token_valid(
        stored_refresh_token(env, ACCOUNT) or ""
    )


def test_google_invalid_grant_and_garbage(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        provider_name="google",
        client_id="g-client",
        client_secret="g-secret",
    )
    provider.fail_next("invalid_grant")
    result = token(env)
    assert result.returncode == 77 and b"expired or revoked" in result.stderr
    provider.fail_next("garbage", count=5)
    result = token(env)
    assert result.returncode == 75 and result.stdout == b"" and b"Traceback" not in result.stderr


def test_public_client_sends_no_secret(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    printed(token(account_env))
    sent = [r for r in provider.requests if r["path"].endswith("/token")][-1]
    assert "client_secret" not in sent["form"]


def test_discovery_from_issuer_only(tmp_path: Path, provider: LocalProvider) -> None:
    from tests.support.cli_env import config_file, seed_refresh_token, user_env

    env = user_env(tmp_path)
    provider.register_client("disc-client")
    config_file(env).parent.mkdir(parents=True, exist_ok=True)
    config_file(env).write_text(
        f'timeout = 3\n[providers.corp]\nissuer = "{provider.issuer}"\nscopes = ["mail"]\n'
        f'[accounts."{ACCOUNT}"]\nprovider = "corp"\nclient_id = "disc-client"\nstore = "file"\n'
    )
    seed_refresh_token(env, ACCOUNT, provider.seed_refresh_token(ACCOUNT, "disc-client", ["mail"]))
    assert provider.introspect(printed(token(env)))["active"] is True
    assert provider.counts["discovery"] >= 1
    expire_cache(env)
    printed(token(env))
    assert provider.counts["discovery"] == 1  # discovery is cached


def _imported_by_token(env: dict[str, str], *args: str) -> list[str]:
    """The modules `oauth-helper token ACCOUNT ARGS` imports beyond what the interpreter (and an
    editable install) loads anyway; the command must succeed."""
    import sys

    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from oauth_helper.cli import main\n"
        f"rc = main(['token', {ACCOUNT!r}, *{list(args)!r}])\n"
        "sys.stderr.write(repr(sorted(set(sys.modules) - before)))\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.strip()
    imported: list[str] = json.loads(result.stderr.decode().replace("'", '"'))
    return imported


def _among(modules: list[str], names: tuple[str, ...]) -> list[str]:
    """The modules that are one of `names` or inside one of them."""
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_hot_path_imports_nothing_heavy(account_env: dict[str, str]) -> None:
    printed(token(account_env))
    imported = _imported_by_token(account_env, "--format", "xoauth2")
    heavy = (
        "keyring", "google", "urllib", "http", "ssl", "platformdirs", "argparse", "dataclasses", "tomllib",
        "tomli", "logging", "subprocess", "dns", "typing", "oauth_helper.oauth",
        "oauth_helper.tokens", "oauth_helper.config", "oauth_helper.stores", "oauth_helper.http",
        "oauth_helper.google_refresh", "oauth_helper.flows", "oauth_helper.authorize",
        "oauth_helper.refresher", "oauth_helper.notify", "oauth_helper.state",
        "oauth_helper.trust", "oauth_helper.deadline", "oauth_helper.detect",
        "oauth_helper.snippet", "oauth_helper.completion", "oauth_helper.signals",
        "oauth_helper.kinds", "oauth_helper.record",
    )  # fmt: skip
    assert _among(imported, heavy) == []


def test_the_installed_command_imports_nothing_before_our_code(account_env: dict[str, str]) -> None:
    """`oauth-helper` as users run it (the file pip installed, not `python -c`): with a cached
    token it imports no more than starting Python does, apart from our own modules and the few
    stdlib ones they use. pip's console-script wrapper would import `re` first (a third of
    that start-up); bin/oauth-helper is installed instead."""
    import sys

    printed(token(account_env))

    def imported(*argv: str) -> set[str]:
        env = dict(account_env, PYTHONPROFILEIMPORTTIME="1")
        result = subprocess.run(argv, env=env, capture_output=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        lines = result.stderr.decode().splitlines()
        return {ln.rsplit("|", 1)[1].strip() for ln in lines if ln.startswith("import time:")}

    bare = imported(sys.executable, "-c", "pass")
    ours = imported(oauth_helper_cmd(), "token", ACCOUNT) - bare
    assert "oauth_helper.cli" in ours
    stdlib = {m for m in ours if not m.startswith("oauth_helper")}
    assert stdlib <= {"__future__", "errno", "fcntl", "stat", "time"}, stdlib  # builtins, no re


def test_refresh_path_imports_only_what_a_refresh_needs(account_env: dict[str, str]) -> None:
    """An expired token: one token request, and none of the modules that made a refresh cost
    twice its time (docs/performance.md): no argparse, dataclasses/inspect, urllib.request,
    logging (imported only to write a message), the idna codec (host names go to socket and
    ssl as ASCII bytes), a TOML parser or typing (the parsed config is in configcache), pathlib
    (config paths are str),
    keyring or google-auth (this store and provider do not need them)."""
    printed(token(account_env))
    expire_cache(account_env)
    imported = _imported_by_token(account_env)
    assert "oauth_helper.oauth" in imported  # it did refresh
    heavy = (
        "argparse", "dataclasses", "inspect", "ast", "dis", "urllib.request", "logging",
        "keyring", "google", "platformdirs", "subprocess", "asyncio", "encodings.idna",
        "stringprep", "unicodedata", "tomllib", "tomli", "typing", "pathlib",
        "oauth_helper.flows",
        "oauth_helper.authorize", "oauth_helper.configedit", "oauth_helper.check",
    )  # fmt: skip
    assert _among(imported, heavy) == []


def test_keyring_store_end_to_end(tmp_path: Path, provider: LocalProvider) -> None:
    """The refresh token lives in a real Secret Service; `token` reads it and saves the rotation there."""
    import os

    from tests.support.binaries import require, require_binary

    require_binary("gnome-keyring-daemon")
    require(
        bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "no D-Bus session bus (see scripts/test)"
    )
    account = "keyring-user@example.com"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"
    try:
        env = make_account(tmp_path, provider, account, store="keyring")
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"
        provider.rotation = "strict"
        before = stored_refresh_token(env, account, store="keyring")
        result = run_cli(env, "token", account)
        assert result.returncode == 0, result.stderr.decode()
        after = stored_refresh_token(env, account, store="keyring")
        assert after != before and provider.is_refresh_token_valid(after or "")
    finally:
        del os.environ["PYTHON_KEYRING_BACKEND"]


def test_a_lock_held_too_long_is_a_temporary_failure_after_one_wait(
    account_env: dict[str, str],
    provider: LocalProvider,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another process stuck inside a refresh (a pinentry prompt, a dead network) holds the lock:
    the caller gives up after one lock timeout with exit 75, not after two."""
    import fcntl
    import os

    from oauth_helper import cache, cli

    printed(token(account_env))
    expire_cache(account_env)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME"):
        monkeypatch.setenv(name, account_env[name])
    monkeypatch.setattr(cache, "LOCK_TIMEOUT", 1.0)
    monkeypatch.setattr(cache.lock, "__defaults__", (1.0,))
    fd = os.open(cache.lock_path_for(ACCOUNT), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held by "another process" (another open file)
        started = time.monotonic()
        code = cli.main(["token", ACCOUNT])
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
    out, err = capsys.readouterr()
    assert code == 75 and out == ""
    assert "held" in err and err.count("\n") == 1
    assert 1.0 <= elapsed < 1.8  # one wait; two would be 2 s or more
    assert provider.counts[REFRESHES] == 1
