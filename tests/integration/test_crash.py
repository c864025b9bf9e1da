"""Crash safety: `token` killed with SIGKILL at random moments of a refresh, 50 times.

After every kill: the cache is either absent, the old token or the new one (never a partial
file); the refresh-token file is whole and still accepted by the provider; the per-account lock
is free; and the next `token` succeeds with a token the provider accepts.

Kill points are chosen two ways, so both the slow parts (start-up, the HTTP wait widened by the
provider's `token_delay`) and the short write window after the answer arrives (store save,
cache rename) are hit:

- "anywhere": a uniformly random delay over the whole measured duration of a refresh;
- "after the answer": the test watches the provider issue the access token, then waits a random
  0-15 ms (about the time the client needs to save the rotated refresh token and write the cache).

The provider rotates refresh tokens with a grace period (as Microsoft does): a kill between the
provider's answer and the store save then costs nothing. With *strict* rotation that window
cannot be closed by any client (the old token is dead, the new one died with the process); the
test counts how often a kill landed there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from oauth_helper.paths import file_name
from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    lock_is_free,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

CYCLES = 50
TOKEN_DELAY = 0.15  # the provider sits on each refresh this long: a wide "in flight" window
AFTER_ANSWER_WINDOW = 0.015


def _lock_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CACHE_HOME"]) / "oauth-helper" / f"{file_name(ACCOUNT)}.lock"


def _cached_token(env: dict[str, str]) -> str | None:
    """The cached access token; fails the test if the file is there but not a whole entry."""
    path = cache_file(env, ACCOUNT)
    if not path.exists():
        return None
    raw = path.read_bytes()
    entry = json.loads(raw)  # a partial write would not parse
    assert isinstance(entry["access_token"], str) and entry["access_token"], raw
    assert isinstance(entry["expires_at"], (int, float)), raw
    assert (path.stat().st_mode & 0o777) == 0o600
    token: str = entry["access_token"]
    return token


def _wait_for_new_access_token(provider: LocalProvider, count: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(provider.issued_access_tokens) > count:
            return True
        time.sleep(0.001)
    return False


def test_kill_9_during_refresh_50_times(
    tmp_path: Path,
    provider: LocalProvider,
    record_property: Callable[[str, object], None],
) -> None:
    rng = random.Random(os.environ.get("CRASH_SEED", str(time.time_ns())))
    provider.rotation = "rotate"
    env = make_account(tmp_path, provider, ACCOUNT)
    first = run_cli(env, "token", ACCOUNT)
    assert first.returncode == 0, first.stderr.decode()
    provider.token_delay = TOKEN_DELAY
    # How long one uninterrupted forced refresh takes here, start-up included.
    started = time.monotonic()
    assert run_cli(env, "token", ACCOUNT, "--force-refresh").returncode == 0
    full = time.monotonic() - started

    outcomes: Counter[str] = Counter()
    killed = 0
    for cycle in range(CYCLES):
        old_cache = _cached_token(env)
        old_refresh = stored_refresh_token(env, ACCOUNT)
        issued_before = len(provider.issued_access_tokens)
        refreshes_before = provider.counts["token:refresh_token"]
        proc = subprocess.Popen(
            [oauth_helper_cmd(), "token", ACCOUNT, "--force-refresh"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if cycle % 2 == 0:
            time.sleep(rng.uniform(0.0, full * 1.1))
        else:
            _wait_for_new_access_token(provider, issued_before, full * 3)
            time.sleep(rng.uniform(0.0, AFTER_ANSWER_WINDOW))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            killed += 1
            assert out in (b"", out.rstrip(b"\n") + b"\n"), out
        else:
            assert proc.returncode == 0, err.decode()  # it finished before the signal

        # What the kill left behind.
        new_cache = _cached_token(env)
        issued_now = provider.issued_access_tokens[issued_before:]
        assert new_cache in (old_cache, *issued_now), f"cycle {cycle}: foreign cache content"
        refresh = stored_refresh_token(env, ACCOUNT)  # raises if the file is not whole
        assert refresh is not None and provider.is_refresh_token_valid(refresh)
        assert lock_is_free(_lock_file(env)), f"cycle {cycle}: lock still held"
        if provider.counts["token:refresh_token"] == refreshes_before:
            outcome = "before the request"
        elif refresh == old_refresh:
            outcome = "request sent, rotated refresh token not saved"
        elif new_cache == old_cache:
            outcome = "refresh token saved, cache not yet written"
        else:
            outcome = "cache written"
        outcomes[outcome] += 1
        if provider.counts["token:refresh_token"] > refreshes_before:
            # The provider may still be answering the dead client: let it finish first.
            _wait_for_new_access_token(provider, issued_before, TOKEN_DELAY + 1)

        nxt = run_cli(env, "token", ACCOUNT)
        assert nxt.returncode == 0, f"cycle {cycle}: {nxt.stderr.decode()}"
        assert provider.introspect(nxt.stdout.decode().strip())["active"] is True

    temp_left = [p.name for p in cache_file(env, ACCOUNT).parent.iterdir() if p.suffix == ".tmp"]
    temp_left += [
        p.name
        for p in (Path(env["XDG_DATA_HOME"]) / "oauth-helper").iterdir()
        if p.suffix == ".tmp"
    ]
    summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
    print(
        f"crash: {CYCLES} kill points, {killed} processes killed mid-run: {summary}; "
        f"{len(temp_left)} temporary files left behind"
    )
    record_property("kill_points", CYCLES)
    record_property("killed_mid_run", killed)
    record_property("outcomes", dict(outcomes))
    record_property("temp_files_left", len(temp_left))
    assert sum(outcomes.values()) == CYCLES
    assert killed >= CYCLES // 2, f"only {killed} of {CYCLES} kills landed mid-run"
    # Kills landed both before the provider answered and after it did.
    assert (
        outcomes["before the request"] + outcomes["request sent, rotated refresh token not saved"]
        >= 1
    )
    assert provider.unexpected == []
