"""A grant is never lost (issue 11): each way a refresh token used to be lost, reproduced
against the local provider with strict rotation (the old refresh token dies the moment the
provider answers), with real files, real tmpfs mounts for full disks and real signals.

After each case either the call succeeded, or it failed with a clear message and the grant
still works once the cause is fixed: the next `token` exits 0 without a new `authorize`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.com"
REFRESHES = "token:refresh_token"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")


@pytest.fixture
def strict() -> Iterator[LocalProvider]:
    with LocalProvider("strict") as p:
        yield p


@pytest.fixture
def env(tmp_path: Path, strict: LocalProvider) -> dict[str, str]:
    return make_account(tmp_path, strict, ACCOUNT)


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "oauth-helper"


def expire(env: dict[str, str]) -> None:
    cache_file(env, ACCOUNT).unlink(missing_ok=True)


def printed(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1
    return out[:-1]


def grant_works(env: dict[str, str], provider: LocalProvider, store: str = "file") -> None:
    """The stored refresh token is the live one: a refresh with it succeeds, no authorize."""
    expire(env)
    before = provider.counts[REFRESHES]
    token = printed(run_cli(env, "token", ACCOUNT))
    assert provider.counts[REFRESHES] == before + 1
    assert provider.introspect(token)["active"] is True
    if store == "file":
        stored = stored_refresh_token(env, ACCOUNT)
        assert stored is not None and provider.is_refresh_token_valid(stored)
    assert provider.unexpected == []


def need_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: tmpfs mounts are needed here")
        pytest.skip("mounting a small tmpfs needs root")


@contextlib.contextmanager
def full_tmpfs(directory: Path) -> Iterator[Path]:
    """Put `directory` (contents kept) on a 64 KiB tmpfs; yield the filler that makes it full."""
    need_root()
    saved = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(directory)],
        check=True,
        timeout=10,
    )
    try:
        for name, data in saved.items():
            (directory / name).write_bytes(data)
            (directory / name).chmod(0o600)
        filler = directory / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
        yield filler
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, timeout=10)


# -- 1. a loose data directory: refused before the refresh token is spent ---------------------


def test_loose_data_directory_is_refused_before_the_refresh(
    env: dict[str, str], strict: LocalProvider
) -> None:
    data_dir(env).chmod(0o755)
    done = run_cli(env, "token", ACCOUNT)
    err = done.stderr.decode()
    assert done.returncode == 78 and done.stdout == b"", err
    assert f"chmod 700 {data_dir(env)}" in err and err.count("\n") == 1
    assert strict.counts[REFRESHES] == 0  # the old refresh token was never sent
    status = run_cli(env, "status", ACCOUNT, "--json")
    store = json.loads(status.stdout)["accounts"][0]["store"]
    assert store["reachable"] is False and "chmod 700" in store["problem"]
    data_dir(env).chmod(0o700)  # the printed fix really fixes it
    grant_works(env, strict)


def test_read_only_data_filesystem_is_refused_before_the_refresh(
    env: dict[str, str], strict: LocalProvider
) -> None:
    directory = data_dir(env)
    with full_tmpfs(directory) as filler:
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True, timeout=10)
        done = run_cli(env, "token", ACCOUNT)
        err = done.stderr.decode()
        assert done.returncode == 78 and done.stdout == b"", err
        assert "read-only file system" in err and strict.counts[REFRESHES] == 0
        subprocess.run(["mount", "-o", "remount,rw", str(directory)], check=True, timeout=10)
        grant_works(env, strict)


# -- 2. the data filesystem full: the rotated token is kept aside, then moved in ---------------


def test_full_data_filesystem_keeps_the_rotated_token(
    env: dict[str, str], strict: LocalProvider
) -> None:
    old = stored_refresh_token(env, ACCOUNT)
    with full_tmpfs(data_dir(env)) as filler:
        done = run_cli(env, "token", ACCOUNT)
        token = printed(done)  # the access token just obtained is still printed
        err = done.stderr.decode()
        assert "could not save the new refresh token" in err and "No space left" in err
        assert strict.introspect(token)["active"] is True
        assert not strict.is_refresh_token_valid(old or "")  # strict rotation: the old one is dead
        assert stored_refresh_token(env, ACCOUNT) == old  # the store could not take the new one
        pending = list(Path(env["XDG_CACHE_HOME"], "oauth-helper").glob("*.pending.json"))
        assert len(pending) == 1 and oct(pending[0].stat().st_mode & 0o777) == "0o600"
        # Still full: later calls keep working from the pending token.
        expire(env)
        printed(run_cli(env, "token", ACCOUNT))
        filler.unlink()  # space is freed
        moved = run_cli(env, "token", ACCOUNT)
        assert printed(moved)
        assert "moved the kept refresh token" in moved.stderr.decode()
        assert not list(Path(env["XDG_CACHE_HOME"], "oauth-helper").glob("*.pending.json"))
        assert strict.is_refresh_token_valid(stored_refresh_token(env, ACCOUNT) or "")
        grant_works(env, strict)


# -- 3. the cache filesystem full: the token is printed, the grant kept -------------------------


def test_full_cache_filesystem_prints_the_token(env: dict[str, str], strict: LocalProvider) -> None:
    printed(run_cli(env, "token", ACCOUNT))  # lock and state files exist
    cache_dir = cache_file(env, ACCOUNT).parent
    expire(env)
    with full_tmpfs(cache_dir) as filler:
        for _ in range(2):
            done = run_cli(env, "token", ACCOUNT)
            token = printed(done)
            assert strict.introspect(token)["active"] is True
            err = done.stderr.decode()
            assert "was not cached" in err and "No space left" in err and err.count("\n") == 1
            assert strict.is_refresh_token_valid(stored_refresh_token(env, ACCOUNT) or "")
        filler.unlink()
        printed(run_cli(env, "token", ACCOUNT))
        before = strict.counts[REFRESHES]
        printed(run_cli(env, "token", ACCOUNT))
        assert strict.counts[REFRESHES] == before  # cached again
        grant_works(env, strict)


# -- 4. signals during the write of a rotated token by the command store ------------------------


def command_store_env(
    tmp_path: Path, provider: LocalProvider, write_delay: float
) -> dict[str, str]:
    secret = tmp_path / "secret.json"
    marker = tmp_path / "writing"
    write = f"touch {marker}; sleep {write_delay}; cat > {secret}.tmp && mv {secret}.tmp {secret}"
    extra = (
        f'store_read = ["sh", "-c", "cat {secret} 2>/dev/null || true"]\n'
        f'store_write = ["sh", "-c", "{write}"]\n'
    )
    env = make_account(
        tmp_path, provider, ACCOUNT, store="command", account_extra=extra, seed=False
    )
    rt = provider.seed_refresh_token(ACCOUNT, "test-client", ["mail", "offline_access"])
    secret.write_text(json.dumps({"version": 1, "refresh_token": rt}))
    return env


def command_store_token(tmp_path: Path) -> str:
    return json.loads((tmp_path / "secret.json").read_text())["refresh_token"]


def start_token(env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own process group, as a shell job is: a terminal's Ctrl-C signals the whole group.
    return subprocess.Popen(
        [oauth_helper_cmd(), "token", ACCOUNT],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_ctrl_c_while_the_store_command_writes(tmp_path: Path, strict: LocalProvider) -> None:
    env = command_store_env(tmp_path, strict, write_delay=1.0)
    proc = start_token(env)
    deadline = time.monotonic() + 20
    while not (tmp_path / "writing").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()  # honoured, once the grant was saved
    assert b"interrupted" in err and out == b""
    assert strict.is_refresh_token_valid(command_store_token(tmp_path))
    grant_works(env, strict, store="command")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_at_random_points_of_a_refresh_never_lose_the_grant(
    tmp_path: Path, strict: LocalProvider, sig: signal.Signals
) -> None:
    env = command_store_env(tmp_path, strict, write_delay=0.05)
    strict.token_delay = 0.05
    started = time.monotonic()
    printed(run_cli(env, "token", ACCOUNT))
    span = time.monotonic() - started  # how long a whole refresh takes here
    rng = random.Random(int(sig))
    outcomes = {"before": 0, "after": 0}
    for _ in range(25):
        expire(env)
        before = strict.counts[REFRESHES]
        proc = start_token(env)
        time.sleep(rng.uniform(0, span * 1.2))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.communicate(timeout=30)
        outcomes["after" if strict.counts[REFRESHES] > before else "before"] += 1
        # Whatever the moment, the stored grant is the live one.
        assert strict.is_refresh_token_valid(command_store_token(tmp_path)), outcomes
    grant_works(env, strict, store="command")
    print(f"{sig.name}: {outcomes}", file=sys.stderr)


# -- 5. authorize while a refresh is in flight ----------------------------------------------------


def test_authorize_waits_for_a_refresh_in_flight(tmp_path: Path, strict: LocalProvider) -> None:
    env = make_account(tmp_path, strict, ACCOUNT, timeout=15)  # longer than the delay below
    old_grant = strict._refresh[stored_refresh_token(env, ACCOUNT) or ""].grant
    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    strict.token_delay = 5.0  # the refresh is in flight while authorize completes
    refresh = start_token(env)
    deadline = time.monotonic() + 10
    while not any(r["form"].get("grant_type") == "refresh_token" for r in strict.requests):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    strict.token_delay = 0.0  # the code exchange answers at once
    done = run_cli(env, "authorize", ACCOUNT, "--flow", "browser", timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    _, err = refresh.communicate(timeout=30)
    assert refresh.returncode == 0, err.decode()
    stored = stored_refresh_token(env, ACCOUNT) or ""
    assert strict._refresh[stored].grant != old_grant  # the new grant, not the rotated old one
    assert strict.is_refresh_token_valid(stored)
    grant_works(env, strict)


# -- 6. unusable rotated refresh tokens never replace the stored one -------------------------------


@pytest.mark.parametrize("bad", [" ", "\u0000", "", "a b\n", "x" * 20000, 42])
def test_unusable_rotated_refresh_token_is_not_stored(
    tmp_path: Path, provider: LocalProvider, bad: object
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    old = stored_refresh_token(env, ACCOUNT)
    body = {
        "access_token": "at-from-a-broken-provider",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": bad,
    }
    provider.fail_next("error_json", status=200, body=body)
    done = run_cli(env, "token", ACCOUNT)
    assert printed(done) == "at-from-a-broken-provider"
    assert stored_refresh_token(env, ACCOUNT) == old
    grant_works(env, provider)


# -- 7. lifetimes: expired on arrival, clocks that jump back, absurd cache values ------------------


@pytest.mark.parametrize("lifetime", [0, -60, "0"])
def test_expires_in_zero_or_negative_is_expired(
    tmp_path: Path, provider: LocalProvider, lifetime: object
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    body = {"access_token": "at-dead-on-arrival", "token_type": "Bearer", "expires_in": lifetime}
    provider.fail_next("error_json", status=200, body=body)
    done = run_cli(env, "token", ACCOUNT)
    assert done.returncode == 75 and done.stdout == b"", done.stderr.decode()
    assert "already expired" in done.stderr.decode()
    grant_works(env, provider)


def test_clock_that_went_backwards_invalidates_the_cache(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    first = printed(run_cli(account_env, "token", ACCOUNT))
    path = cache_file(account_env, ACCOUNT)
    entry = json.loads(path.read_text())
    # As if the token had been obtained in an hour: now is before that, so the clock jumped back.
    entry["obtained_at"] += 3600
    entry["expires_at"] += 3600
    path.write_text(json.dumps(entry))
    second = printed(run_cli(account_env, "token", ACCOUNT))
    assert second != first and provider.counts[REFRESHES] == 2


@pytest.mark.parametrize("expires_at", ["1e999", "-1e999", "1e300", "NaN", "true", '"soon"'])
@pytest.mark.parametrize("fmt", ["token", "json", "xoauth2"])
def test_absurd_cache_values_are_refreshed_not_crashed(
    account_env: dict[str, str], provider: LocalProvider, expires_at: str, fmt: str
) -> None:
    printed(run_cli(account_env, "token", ACCOUNT))
    path = cache_file(account_env, ACCOUNT)
    text = path.read_text()
    entry = json.loads(text)
    path.write_text(text.replace(json.dumps(entry["expires_at"]), expires_at))
    done = run_cli(account_env, "token", ACCOUNT, "--format", fmt)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
    assert provider.counts[REFRESHES] == 2


# -- 8. short-lived tokens: served from the cache for most of their life ----------------------------


def test_300_second_tokens_are_served_from_the_cache(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.access_token_ttl = 300  # Keycloak's default
    first = printed(run_cli(account_env, "token", ACCOUNT))
    for _ in range(3):
        assert printed(run_cli(account_env, "token", ACCOUNT)) == first
    assert provider.counts[REFRESHES] == 1
    # With 140 s of its 300 left (inside half the lifetime) it is no longer handed out.
    path = cache_file(account_env, ACCOUNT)
    entry = json.loads(path.read_text())
    entry["expires_at"] = time.time() + 140
    entry["obtained_at"] = entry["expires_at"] - 300
    path.write_text(json.dumps(entry))
    assert printed(run_cli(account_env, "token", ACCOUNT)) != first
    assert provider.counts[REFRESHES] == 2


def test_unsatisfiable_min_validity_is_reported_not_obeyed_silently(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.access_token_ttl = 600
    done = run_cli(account_env, "token", ACCOUNT, "--min-validity", "3600")
    first = printed(done)
    err = done.stderr.decode()
    assert "--min-validity 3600 cannot be met" in err and "600 s" in err
    again = run_cli(account_env, "token", ACCOUNT, "--min-validity", "3600")
    assert printed(again) == first and again.stderr == b""  # said once, then served
    assert provider.counts[REFRESHES] == 1


# -- 10. a successful authorize clears the recorded failure ----------------------------------------


def test_authorize_clears_the_recorded_failure(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    provider.fail_next("invalid_grant")
    assert run_cli(env, "token", ACCOUNT).returncode == 77
    before = json.loads(run_cli(env, "status", ACCOUNT, "--json").stdout)["accounts"][0]
    assert before["last_refresh"]["ok"] is False
    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    done = run_cli(env, "authorize", ACCOUNT, "--flow", "browser", timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    status = run_cli(env, "status", ACCOUNT, "--json")
    after = json.loads(status.stdout)["accounts"][0]
    assert after["last_refresh"]["ok"] is True
    assert not [w for w in after["warnings"] if w["code"] == "last_refresh_failed"]
    assert "FAILED" not in run_cli(env, "status", ACCOUNT).stdout.decode()
    assert config_file(env).exists()
