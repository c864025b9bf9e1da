"""`oauth-helper status` as a user runs it, against the local provider."""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path

from tests.conftest import ACCOUNT
from tests.support.cli_env import make_account, run_cli
from tests.support.provider import LocalProvider
from tests.unit.test_status_schema import assert_documented_shape

SEVEN_DAYS = 7 * 86400


def status_json(env: dict[str, str], *args: str) -> dict[str, object]:
    result = run_cli(env, "status", "--json", *args)
    assert result.returncode == 0, result.stderr.decode()
    report: dict[str, object] = json.loads(result.stdout)
    assert_documented_shape(report)
    return report


def test_google_testing_app_warning_after_refresh_token_expires_in(
    tmp_path: Path, provider: LocalProvider
) -> None:
    provider.refresh_token_expires_in = SEVEN_DAYS  # what Google sends for apps in "Testing"
    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        provider_name="google",
        client_id="g-client",
        client_secret="g-secret",
    )
    before = status_json(env)
    assert before["accounts"][0]["warnings"] == []  # type: ignore[index]

    started = time.time()
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    report = status_json(env)

    [account] = report["accounts"]  # type: ignore[misc]
    assert account["provider"] == "google"
    dies = account["refresh_token"]["expires_at"]
    dies_at = calendar.timegm(time.strptime(dies, "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(dies_at - (started + SEVEN_DAYS)) < 60
    [warning] = account["warnings"]
    assert warning["code"] == "google_testing_app"
    assert warning["message"].startswith("the refresh token dies on ")
    assert (
        "In production" in warning["fix"] and f"oauth-helper authorize {ACCOUNT}" in warning["fix"]
    )
    assert account["last_refresh"]["ok"] is True
    assert account["access_token"]["usable"] is True

    human = run_cli(env, "status", ACCOUNT)
    assert human.returncode == 0
    text = human.stdout.decode()
    assert "WARNING: the refresh token dies on" in text and "Publish app" in text
    assert human.stderr == b""


def test_failed_refresh_shows_with_its_hint(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.fail_next("invalid_grant")
    assert run_cli(account_env, "token", ACCOUNT).returncode == 77
    [account] = status_json(account_env)["accounts"]  # type: ignore[misc]
    assert account["last_refresh"]["ok"] is False
    assert "expired or revoked" in account["last_refresh"]["message"]
    assert [w["code"] for w in account["warnings"]] == ["last_refresh_failed"]


def test_keyring_account_without_a_session_bus(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, store="keyring", seed=False)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    [account] = status_json(env)["accounts"]  # type: ignore[misc]
    assert account["store"]["reachable"] is False
    codes = [w["code"] for w in account["warnings"]]
    assert codes == ["store_unreachable", "keyring_unreachable_from_cron"]
    text = run_cli(env, "status").stdout.decode()
    assert "NOT reachable" in text and "DBUS_SESSION_BUS_ADDRESS is not set" in text


def test_unknown_account_exits_67(account_env: dict[str, str]) -> None:
    result = run_cli(account_env, "status", "nobody@example.com")
    assert result.returncode == 67 and result.stdout == b""


def test_no_secret_in_status_output(account_env: dict[str, str]) -> None:
    token = run_cli(account_env, "token", ACCOUNT).stdout.decode().strip()
    for args in ((), ("--json",)):
        result = run_cli(account_env, "status", *args)
        assert token.encode() not in result.stdout + result.stderr
        assert b"rt-" not in result.stdout + result.stderr  # the local provider's refresh tokens
