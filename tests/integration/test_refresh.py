"""`oauth-helper refresh` against the local provider, as a timer runs it: request counts, exit
codes in their documented order, and `status` after a temporary failure."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.support.cli_env import cache_file, make_account, run_cli, stored_refresh_token
from tests.support.provider import LocalProvider

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


def three_accounts(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, ALICE)
    make_account(tmp_path, provider, BOB, env=env)
    make_account(tmp_path, provider, CAROL, env=env)
    return env


def refreshes(provider: LocalProvider) -> int:
    return provider.counts["token:refresh_token"]


def expire_soon(env: dict[str, str], account: str, seconds: float) -> None:
    """Make the cached token of `account` die in `seconds`, as if it had been issued long ago."""
    path = cache_file(env, account)
    entry = json.loads(path.read_text())
    lifetime = entry["expires_at"] - entry["obtained_at"]  # the provider's 3600 s
    entry["expires_at"] = time.time() + seconds
    entry["obtained_at"] = entry["expires_at"] - lifetime
    path.write_text(json.dumps(entry))  # write_text keeps the file's 0600 mode


def revoke_at_provider(provider: LocalProvider, refresh_token: str) -> None:
    """What the user does at myaccount.google.com > Security > Third-party access: revoke."""
    body = urllib.parse.urlencode({"token": refresh_token}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(provider.revocation_endpoint, data=body, timeout=10) as answer:
        assert answer.status == 200
    assert not provider.is_refresh_token_valid(refresh_token)


def test_two_near_expiry_cost_two_requests_then_none(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = three_accounts(tmp_path, provider)
    first = run_cli(env, "refresh", "--all")
    assert (first.returncode, first.stdout, first.stderr) == (0, b"", b"")
    assert refreshes(provider) == 3  # nothing was cached yet
    expire_soon(env, ALICE, 600)  # inside the default --within 900, outside token's 300 s margin
    expire_soon(env, CAROL, 120)

    second = run_cli(env, "refresh", "--all", "-v")
    assert second.returncode == 0 and second.stdout == b""
    assert refreshes(provider) == 5  # exactly two token requests
    lines = second.stderr.decode().splitlines()
    assert len(lines) == 3, lines  # one line per account with -v
    assert lines[0].startswith(f"{ALICE}: refreshed")
    assert lines[1].startswith(f"{BOB}: fresh, no request")
    assert lines[2].startswith(f"{CAROL}: refreshed")

    third = run_cli(env, "refresh", "--all")
    assert (third.returncode, third.stdout, third.stderr) == (0, b"", b"")
    assert refreshes(provider) == 5  # nothing near expiry: no request at all
    # The refreshed tokens are what `token` now serves, without a request of its own.
    served = run_cli(env, "token", ALICE)
    assert served.returncode == 0 and provider.introspect(served.stdout.decode().strip())["active"]
    assert refreshes(provider) == 5
    assert provider.unexpected == []


def test_within_decides_what_is_near(tmp_path: Path, provider: LocalProvider) -> None:
    env = three_accounts(tmp_path, provider)
    assert run_cli(env, "refresh", "--all").returncode == 0
    before = refreshes(provider)
    expire_soon(env, BOB, 2000)
    expire_soon(env, CAROL, 2000)
    assert run_cli(env, "refresh", BOB, CAROL, "--within", "1500").returncode == 0
    assert refreshes(provider) == before  # both stay valid longer than 1500 s
    assert run_cli(env, "refresh", BOB, CAROL, "--within", "2500").returncode == 0
    assert refreshes(provider) == before + 2


def test_revoked_grant_exits_77_after_refreshing_the_others(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = three_accounts(tmp_path, provider)
    revoked = stored_refresh_token(env, BOB)
    assert revoked is not None
    revoke_at_provider(provider, revoked)

    result = run_cli(env, "refresh", "--all")

    assert result.returncode == 77
    assert result.stdout == b""
    [line] = result.stderr.decode().splitlines()  # only the failure is reported without -v
    assert line.startswith(f"oauth-helper: {BOB}: ") and f"oauth-helper authorize {BOB}" in line
    assert revoked not in result.stderr.decode()
    assert refreshes(provider) == 3  # Carol, after Bob, was tried too
    for account in (ALICE, CAROL):
        assert cache_file(env, account).exists()
        served = run_cli(env, "token", account)
        assert served.returncode == 0
    assert refreshes(provider) == 3
    assert stored_refresh_token(env, BOB) == revoked  # a refused refresh token is kept, not lost


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_77_outranks_75_and_status_calls_75_temporary(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ALICE)
    # "aaron" sorts first: his temporary failure comes before Alice's refusal, and still loses.
    make_account(tmp_path, provider, "aaron@example.com", provider_name="down", env=env)
    config = Path(env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    head, down_table = config.read_text().split("[providers.down]")
    down_table = down_table.replace(
        provider.token_endpoint, f"http://127.0.0.1:{closed_port()}/token", 1
    )
    config.write_text(f"{head}[providers.down]{down_table}")
    revoked = stored_refresh_token(env, ALICE)
    assert revoked is not None
    revoke_at_provider(provider, revoked)

    result = run_cli(env, "refresh", "--all", timeout=60)
    assert result.returncode == 77, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["aaron@example.com", ALICE]

    only_down = run_cli(env, "refresh", "aaron@example.com")
    assert only_down.returncode == 75

    report = json.loads(run_cli(env, "status", "--json").stdout)
    by_name = {a["account"]: a for a in report["accounts"]}
    aaron = by_name["aaron@example.com"]
    assert aaron["last_refresh"]["exit_code"] == 75
    [warning] = [w for w in aaron["warnings"] if w["code"] == "last_refresh_failed"]
    assert warning["severity"] == "info"
    assert warning["fix"].startswith("temporary") and "authorize" not in warning["fix"]
    alice = by_name[ALICE]
    assert alice["last_refresh"]["exit_code"] == 77
    [refused] = [w for w in alice["warnings"] if w["code"] == "last_refresh_failed"]
    assert refused["fix"] == f"run: oauth-helper authorize {ALICE}"
    human = run_cli(env, "status", "aaron@example.com").stdout.decode()
    assert "fix: temporary" in human and "authorize" not in human.split("fix:", 1)[1]


def test_usage_and_unknown_accounts(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ALICE)
    for args in ((), ("--all", ALICE), ("--all", "--within", "-5")):
        result = run_cli(env, "refresh", *args)
        assert result.returncode == 64, args
        assert result.stdout == b"" and len(result.stderr.splitlines()) == 1
    mixed = run_cli(env, "refresh", "nobody@example.com", ALICE)
    assert mixed.returncode == 67
    assert cache_file(env, ALICE).exists()  # the known account was refreshed all the same
    assert b"nobody@example.com" in mixed.stderr and b"Traceback" not in mixed.stderr


def test_no_accounts_is_fine(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ALICE)
    (Path(env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml").write_text("")
    result = run_cli(env, "refresh", "--all")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
