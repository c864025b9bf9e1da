"""When notify_command runs: state.py's problem slots, with a real command and real files.

Every case runs the real notifier (tests/support/notify_probe.py records each run); nothing is
mocked. Processes, no sockets.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oauth_helper import grant, notify, redact, state
from oauth_helper.config import parse
from oauth_helper.errors import ConfigError
from oauth_helper.providers import GOOGLE_TESTING, MICROSOFT_INACTIVITY

PROBE = str(Path(__file__).resolve().parents[1] / "support" / "notify_probe.py")
ALICE, BOB = "alice@example.com", "bob@example.com"


@pytest.fixture
def outdir(tmp_path: Path) -> Iterator[Path]:
    """A config whose top-level notify_command records into the returned directory."""
    out = tmp_path / "notified"
    out.mkdir()
    (tmp_path / "bob-notified").mkdir()
    write_config(tmp_path, out)
    yield out
    notify.use_config(None)


def write_config(tmp_path: Path, out: Path | None) -> None:
    top = f"notify_command = {json.dumps([sys.executable, PROBE, str(out)])}\n" if out else ""
    bob = json.dumps([sys.executable, PROBE, str(tmp_path / "bob-notified")])
    path = tmp_path / "config.toml"
    path.write_text(
        f"""{top}
[providers.corp]
token_endpoint = "https://sso.corp.example/token"

[accounts."{ALICE}"]
provider = "corp"

[accounts."{BOB}"]
provider = "corp"
store = "keyring"
notify_command = {bob}
"""
    )
    notify.use_config(path)


def runs(out: Path, count: int) -> list[dict[str, str]]:
    """The notify runs so far, once `count` arrived (bounded wait) and nothing more came."""
    deadline = time.monotonic() + 15
    while len(list(out.glob("*.json"))) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    found = [json.loads(p.read_text()) for p in out.glob("*.json")]
    return [r["env"] for r in sorted(found, key=lambda r: float(r["at"]))]


def test_a_refusal_notifies_once_and_its_recovery_once(outdir: Path) -> None:
    state.record_refresh(
        ALICE, False, "invalid_grant: revoked", exit_code=77, fix="oauth-helper authorize x"
    )
    state.record_refresh(ALICE, False, "invalid_grant: revoked", exit_code=77)
    [problem] = runs(outdir, 1)
    assert problem["OAUTH_HELPER_ACCOUNT"] == ALICE
    assert problem["OAUTH_HELPER_REASON"] == "authorization needed: invalid_grant: revoked"
    assert problem["OAUTH_HELPER_FIX"] == "oauth-helper authorize x"

    state.record_refresh(ALICE, False, "connection refused", exit_code=75)  # temporary: silent
    assert len(runs(outdir, 1)) == 1
    state.record_refresh(ALICE, True)
    state.record_refresh(ALICE, True)
    _, recovered = runs(outdir, 2)
    assert recovered["OAUTH_HELPER_REASON"].startswith("recovered: refreshing works again")
    assert recovered["OAUTH_HELPER_FIX"] == ""


def test_a_different_problem_is_a_new_notification(outdir: Path) -> None:
    state.record_refresh(ALICE, False, "keyring locked", exit_code=69)
    state.record_refresh(ALICE, False, "invalid_client", exit_code=78)
    # Two notifications started a moment apart may run in either order.
    client, store = sorted(runs(outdir, 2), key=lambda r: r["OAUTH_HELPER_REASON"])
    assert store["OAUTH_HELPER_REASON"] == "the secret store stopped working: keyring locked"
    assert store["OAUTH_HELPER_FIX"].endswith(f"oauth-helper authorize {ALICE} --store file")
    assert client["OAUTH_HELPER_REASON"].startswith("the provider or the configuration refused")
    assert f"oauth-helper refresh {ALICE} -v" in client["OAUTH_HELPER_FIX"]


def test_temporary_failures_and_bugs_never_notify(outdir: Path) -> None:
    for code in (75, 70, None):
        state.record_refresh(ALICE, False, "HTTP 503", exit_code=code)
    state.record_refresh(ALICE, True)  # nothing was notified, so no recovery either
    assert runs(outdir, 0) == []


def test_per_account_command_overrides_the_default(tmp_path: Path, outdir: Path) -> None:
    state.record_refresh(BOB, False, "revoked", exit_code=77)
    assert runs(outdir, 0) == []
    [bob] = runs(tmp_path / "bob-notified", 1)
    assert bob["OAUTH_HELPER_ACCOUNT"] == BOB
    assert bob["OAUTH_HELPER_FIX"] == f"oauth-helper authorize {BOB}"  # the default fix


def test_a_problem_from_before_the_command_existed_is_told_later(tmp_path: Path) -> None:
    out = tmp_path / "notified"
    out.mkdir()
    write_config(tmp_path, None)
    try:
        state.record_refresh(ALICE, False, "revoked", exit_code=77)
        write_config(tmp_path, out)
        state.record_refresh(ALICE, False, "revoked", exit_code=77)
        assert len(runs(out, 1)) == 1
        state.record_refresh(ALICE, False, "revoked", exit_code=77)
        assert len(runs(out, 1)) == 1
    finally:
        notify.use_config(None)


def test_no_secret_reaches_the_reason(outdir: Path) -> None:
    redact.register("1//0refresh-token-value")
    state.record_refresh(
        ALICE, False, "provider echoed refresh_token=1//0refresh-token-value", exit_code=77
    )
    [problem] = runs(outdir, 1)
    assert "refresh-token-value" not in json.dumps(problem)
    assert "<redacted>" in problem["OAUTH_HELPER_REASON"]


def test_grant_ending_soon_notifies_once_then_recovers(outdir: Path) -> None:
    now = time.time()
    ending = grant.Deadline(now + 2 * grant.DAY, GOOGLE_TESTING)
    state.record_grant(ALICE, ending, now)
    state.record_grant(ALICE, ending, now + 60)
    [problem] = runs(outdir, 1)
    assert problem["OAUTH_HELPER_REASON"].startswith("the grant ends in 2 days")
    assert GOOGLE_TESTING.text in problem["OAUTH_HELPER_REASON"]
    assert "In production" in problem["OAUTH_HELPER_FIX"]
    state.record_grant(ALICE, grant.Deadline(now + 7 * grant.DAY, GOOGLE_TESTING), now)
    _, recovered = runs(outdir, 2)
    assert recovered["OAUTH_HELPER_REASON"].startswith("recovered: the grant is no longer")


def test_far_or_unknown_deadlines_say_nothing(outdir: Path) -> None:
    now = time.time()
    state.record_grant(ALICE, None, now)
    state.record_grant(ALICE, grant.Deadline(now + 30 * grant.DAY, grant.PROVIDER_LIMIT), now)
    assert runs(outdir, 0) == []


def test_inactivity_notice_and_its_fix(outdir: Path) -> None:
    now = time.time()
    rule = MICROSOFT_INACTIVITY
    state.record_grant(ALICE, grant.Deadline(now + grant.DAY, rule), now)
    [problem] = runs(outdir, 1)
    assert "Microsoft ends refresh tokens unused for 90 days" in problem["OAUTH_HELPER_REASON"]
    assert (
        problem["OAUTH_HELPER_FIX"]
        == f"any successful refresh keeps the grant alive: oauth-helper refresh {ALICE} -v"
    )


def test_an_already_refused_grant_is_not_also_ending(outdir: Path) -> None:
    state.record_refresh(ALICE, False, "revoked", exit_code=77)
    now = time.time()
    state.record_grant(ALICE, grant.Deadline(now - 60, GOOGLE_TESTING), now)
    assert len(runs(outdir, 1)) == 1


def test_state_remembers_exit_code_and_fix(outdir: Path) -> None:
    state.record_refresh(ALICE, False, "HTTP 429", exit_code=75)
    saved: dict[str, Any] = state.load(ALICE)
    assert saved["last_refresh_exit_code"] == 75 and saved["last_refresh_fix"] is None
    state.record_refresh(ALICE, False, "revoked", exit_code=77, fix="oauth-helper authorize a")
    saved = state.load(ALICE)
    assert saved["last_refresh_exit_code"] == 77
    assert saved["last_refresh_fix"] == "oauth-helper authorize a"
    assert state.problems(saved)["failure"]["notified"] is True
    state.record_refresh(ALICE, True)
    saved = state.load(ALICE)
    assert saved["last_refresh_exit_code"] is None and state.problems(saved) == {}


# -- the config key ------------------------------------------------------------------------------


def test_notify_command_forms_and_inheritance(tmp_path: Path) -> None:
    cfg = parse(
        """notify_command = "notify-send 'oauth-helper'"
[providers.corp]
token_endpoint = "https://sso.corp.example/token"
[accounts."a@example.com"]
provider = "corp"
[accounts."b@example.com"]
provider = "corp"
notify_command = ["mail", "-s", "oauth-helper", "me@example.com"]
""",
        tmp_path / "c.toml",
    )
    assert cfg.account("a@example.com").notify_command == ("notify-send", "oauth-helper")
    assert cfg.account("b@example.com").notify_command[0] == "mail"


@pytest.mark.parametrize("value", ["3", '""', "[1, 2]"])
def test_bad_notify_command_names_its_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(f"timeout = 5\nnotify_command = {value}\n", tmp_path / "c.toml")
    assert "c.toml:2: notify_command" in str(caught.value)
