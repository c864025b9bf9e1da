"""notify_command for real: 20 concurrent failing `token` processes notify once, a successful
`authorize` once more, a hanging command never delays `token`, the watchdog kills it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from oauth_helper import notify
from tests.conftest import ACCOUNT
from tests.integration.test_refresh import revoke_at_provider
from tests.support.cli_env import (
    config_file,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

PROBE = str(Path(__file__).resolve().parents[1] / "support" / "notify_probe.py")
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")
CLIENT_SECRET = "client-secret-never-in-notify"
HANG_BOUND = 1.0  # seconds a hanging notify command may add to `token` (README says so)
NOTIFY_VARIABLES = {"OAUTH_HELPER_ACCOUNT", "OAUTH_HELPER_REASON", "OAUTH_HELPER_FIX"}


def probe_command(outdir: Path, sleep: float | None = None) -> list[str]:
    return [sys.executable, PROBE, str(outdir), *(["sleep", str(sleep)] if sleep else [])]


def notifying_account(
    tmp_path: Path, provider: LocalProvider, *, sleep: float | None = None, **kw: Any
) -> tuple[dict[str, str], Path]:
    """ACCOUNT with a client secret, and a top-level notify_command that records each run."""
    outdir = tmp_path / "notified"
    outdir.mkdir()
    env = make_account(tmp_path, provider, ACCOUNT, client_secret=CLIENT_SECRET, **kw)
    path = config_file(env)
    top = f"notify_command = {json.dumps(probe_command(outdir, sleep))}\n"
    path.write_text(top + path.read_text())
    return env, outdir


def records(outdir: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in outdir.glob("*.json")]
    return sorted(found, key=lambda r: float(r["at"]))


def wait_for_records(outdir: Path, count: int, settle: float = 1.5) -> list[dict[str, Any]]:
    """Wait (bounded) until `count` notifications ran, then a little longer for any extra."""
    deadline = time.monotonic() + 20
    while len(records(outdir)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle)
    return records(outdir)


def assert_no_secret(record: dict[str, Any], secrets: list[str]) -> None:
    text = json.dumps({"env": record["env"], "argv": record["argv"]})
    for secret in secrets:
        assert secret and secret not in text


def assert_detached(record: dict[str, Any]) -> None:
    assert set(record["env"]) <= set(notify.PASSED_ENV) | NOTIFY_VARIABLES
    assert (record["stdin"], record["stdout"], record["stderr"]) == ("/dev/null",) * 3
    assert record["session_leader"] is True and record["terminal"] is False


def test_once_for_twenty_concurrent_failures_and_once_on_recovery(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env, outdir = notifying_account(tmp_path, provider)
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    revoke_at_provider(provider, refresh_token)

    callers = [
        subprocess.Popen(
            [oauth_helper_cmd(), "token", ACCOUNT],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    outputs = [c.communicate(timeout=120) for c in callers]
    assert [c.returncode for c in callers] == [77] * 20
    assert all(out == b"" for out, _ in outputs)
    assert provider.counts["token:refresh_token"] >= 1

    [problem] = wait_for_records(outdir, 1)
    variables = problem["env"]
    assert variables["OAUTH_HELPER_ACCOUNT"] == ACCOUNT
    assert variables["OAUTH_HELPER_REASON"].startswith("authorization needed: ")
    assert "\n" not in variables["OAUTH_HELPER_REASON"]
    assert variables["OAUTH_HELPER_FIX"] == f"oauth-helper authorize {ACCOUNT}"
    assert_no_secret(problem, [refresh_token, CLIENT_SECRET])
    assert_detached(problem)

    assert run_cli(env, "token", ACCOUNT).returncode == 77  # the same problem: no second word
    assert len(wait_for_records(outdir, 1)) == 1

    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    signed_in = run_cli(env, "authorize", ACCOUNT, timeout=60)
    assert signed_in.returncode == 0, signed_in.stderr.decode()

    first, recovered = wait_for_records(outdir, 2)
    assert first == problem
    assert recovered["env"]["OAUTH_HELPER_ACCOUNT"] == ACCOUNT
    assert recovered["env"]["OAUTH_HELPER_REASON"].startswith("recovered: ")
    assert recovered["env"]["OAUTH_HELPER_FIX"] == ""
    new_refresh_token = stored_refresh_token(env, ACCOUNT)
    assert new_refresh_token is not None and new_refresh_token != refresh_token
    assert_no_secret(
        recovered, [refresh_token, new_refresh_token, CLIENT_SECRET, *provider.issued_access_tokens]
    )
    assert_detached(recovered)

    assert run_cli(env, "token", ACCOUNT, "--force-refresh").returncode == 0
    assert len(wait_for_records(outdir, 2)) == 2  # working on: nothing to say


def test_hanging_notify_command_does_not_delay_token(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env, outdir = notifying_account(tmp_path, provider, sleep=60)
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    revoke_at_provider(provider, refresh_token)

    started = time.monotonic()
    notified = run_cli(env, "token", ACCOUNT)  # pipes: an inherited stdout would block here
    with_notification = time.monotonic() - started
    assert notified.returncode == 77 and notified.stdout == b""
    wait_for_records(outdir, 1, settle=0)
    hanging = int(_pid_of(outdir))
    try:
        os.kill(hanging, 0)  # still running (sleeping 60 s) after `token` returned
        started = time.monotonic()
        plain = run_cli(env, "token", ACCOUNT)  # same failure, nothing new to notify
        without = time.monotonic() - started
        assert plain.returncode == 77
        print(
            f"token with a hanging notify command: {with_notification:.3f} s, without: {without:.3f} s"
        )
        assert with_notification - without < HANG_BOUND
    finally:
        os.kill(hanging, signal.SIGKILL)


def _pid_of(outdir: Path) -> str:
    [path] = outdir.glob("*.json")
    return path.stem


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_gone(pid: int, seconds: float) -> float:
    started = time.monotonic()
    while not _gone(pid):
        if time.monotonic() - started > seconds:
            raise AssertionError(f"process {pid} still running after {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_watchdog_kills_a_hung_command(tmp_path: Path) -> None:
    outdir = tmp_path / "notified"
    outdir.mkdir()
    started = time.monotonic()
    assert notify.send(probe_command(outdir, sleep=60), ACCOUNT, "why", "fix", timeout=1)
    send_took = time.monotonic() - started
    assert send_took < 0.5  # starting the watchdog is all the caller waits for
    [record] = wait_for_records(outdir, 1, settle=0)
    assert record["env"]["OAUTH_HELPER_REASON"] == "why"
    wait_gone(int(_pid_of(outdir)), 5)  # SIGTERM after 1 s


def test_watchdog_kills_a_command_that_ignores_sigterm(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = f'trap "" TERM; echo $$ > {pidfile}; sleep 60; sleep 60'
    assert notify.send(["/bin/sh", "-c", script], ACCOUNT, "why", "", timeout=1)
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    took = wait_gone(pid, 8)  # SIGTERM ignored; SIGKILL KILL_GRACE later
    assert took > notify.KILL_GRACE * 0.5


def test_a_missing_notify_command_changes_nothing(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    path = config_file(env)
    path.write_text(f'notify_command = "{tmp_path}/no-such-command --flag"\n' + path.read_text())
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    revoke_at_provider(provider, refresh_token)
    failed = run_cli(env, "token", ACCOUNT)
    assert failed.returncode == 77 and failed.stdout == b""
    assert len(failed.stderr.decode().splitlines()) == 1  # the one error line, nothing else


def test_google_testing_app_grant_ending_notifies_from_refresh(
    tmp_path: Path, provider: LocalProvider
) -> None:
    provider.refresh_token_expires_in = 2 * 86400  # Google, app in "Testing", 5 days in
    env, outdir = notifying_account(
        tmp_path, provider, provider_name="google", client_id="g-client"
    )
    assert run_cli(env, "refresh", "--all").returncode == 0
    [ending] = wait_for_records(outdir, 1)
    reason = ending["env"]["OAUTH_HELPER_REASON"]
    assert reason.startswith("the grant ends in 1 day 23 h") and "Testing" in reason
    assert "In production" in ending["env"]["OAUTH_HELPER_FIX"]
    assert f"oauth-helper authorize {ACCOUNT}" in ending["env"]["OAUTH_HELPER_FIX"]
    assert run_cli(env, "refresh", "--all", "--within", "4000").returncode == 0
    assert len(wait_for_records(outdir, 1)) == 1  # still ending: said already
    report = json.loads(run_cli(env, "status", "--json").stdout)
    grant = report["accounts"][0]["grant"]
    assert grant["rule"] == "google_testing_app" and 0 < grant["expires_in"] <= 2 * 86400
