"""Strict rotation under load: 64 concurrent `token` callers across 10 expiry cycles.

The provider invalidates each refresh token the first time it is used ("strict" rotation), so
one caller that refreshed with a token another caller had already spent would get
`invalid_grant` and the account would need `authorize` again. The per-account lock, the
re-check of the cache under it, and saving the rotated token before releasing the lock must
make that impossible.

Each cycle expires the cached token, then starts 64 callers spread over a few hundred
milliseconds, while the provider takes `token_delay` to answer: some callers find the lock
held, some arrive after the new token is cached (the hot path), one refreshes.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    make_account,
    oauth_helper_cmd,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

CALLERS = 64
CYCLES = 10
TOKEN_DELAY = 0.2
SPREAD = 0.4  # callers start at random moments within this many seconds


def _expire(env: dict[str, str]) -> None:
    path = cache_file(env, ACCOUNT)
    entry = json.loads(path.read_text())
    entry["expires_at"] = time.time() - 10
    path.write_text(json.dumps(entry))


def test_64_callers_10_expiries_strict_rotation(
    tmp_path: Path,
    provider: LocalProvider,
    record_property: Callable[[str, object], None],
) -> None:
    rng = random.Random(1234)
    provider.rotation = "strict"
    env = make_account(tmp_path, provider, ACCOUNT)
    provider.token_delay = TOKEN_DELAY
    spent: list[str] = []
    calls = 0
    started = time.monotonic()
    for cycle in range(CYCLES):
        before = stored_refresh_token(env, ACCOUNT)
        assert before is not None
        if cycle:
            _expire(env)
        refreshes = provider.counts["token:refresh_token"]
        starts = sorted(rng.uniform(0, SPREAD) for _ in range(CALLERS))
        t0 = time.monotonic()
        procs = []
        for at in starts:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            procs.append(
                subprocess.Popen(
                    [oauth_helper_cmd(), "token", ACCOUNT],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        printed = set()
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            calls += 1
            assert proc.returncode == 0, f"cycle {cycle}: exit {proc.returncode}: {err.decode()}"
            assert err == b"", err.decode()
            text = out.decode()
            assert text.endswith("\n") and text.count("\n") == 1, repr(text)
            printed.add(text.strip())
        assert len(printed) == 1, f"cycle {cycle}: {len(printed)} different tokens"
        assert provider.counts["token:refresh_token"] == refreshes + 1, f"cycle {cycle}"
        after = stored_refresh_token(env, ACCOUNT)
        assert after is not None and after != before
        assert not provider.is_refresh_token_valid(before) and provider.is_refresh_token_valid(
            after
        )
        assert provider.introspect(printed.pop())["active"] is True
        spent.append(before)
    elapsed = time.monotonic() - started

    invalid_grants = provider.counts["stale_refresh"]
    print(
        f"rotation load: {calls} calls ({CALLERS} callers x {CYCLES} expiry cycles) in "
        f"{elapsed:.1f} s, {provider.counts['token:refresh_token']} refreshes, "
        f"{invalid_grants} reuses of a spent refresh token"
    )
    record_property("calls", calls)
    record_property("refreshes", provider.counts["token:refresh_token"])
    record_property("invalid_grant", invalid_grants)
    assert calls == CALLERS * CYCLES == 640
    assert invalid_grants == 0 and provider.unexpected == []
    assert provider.counts["token:refresh_token"] == CYCLES
    assert len(set(spent)) == CYCLES
    final = stored_refresh_token(env, ACCOUNT)
    assert final is not None and provider.is_refresh_token_valid(final)
