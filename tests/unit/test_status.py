"""status: gathering (file store, cache, state, in a temp XDG tree), warnings, rendering."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oauth_helper import cache, state, status
from oauth_helper.config import parse
from oauth_helper.settings import Settings
from oauth_helper.stores.base import Secret
from oauth_helper.stores.file_store import FileStore
from tests.unit.test_status_schema import assert_documented_shape

NOW = 1_800_000_000.0
CONFIG = """\
[providers.corp]
token_endpoint = "https://sso.corp.example/token"
scopes = ["mail"]

[accounts."alice@gmail.com"]
provider = "google"
client_id = "g-client"
store = "file"

[accounts."bob@corp.example"]
provider = "corp"
client_id = "c-client"
store = "file"

[accounts."carol@example.com"]
provider = "corp"
store = "keyring"
"""


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_file_account_with_testing_app_refresh_token(config_path: Path) -> None:
    cfg = parse(CONFIG, config_path)
    alice = cfg.account("alice@gmail.com")
    FileStore(alice.name).save(
        Secret("rt-secret-value", obtained_at=NOW - 3600, refresh_token_expires_at=NOW + 6 * 86400)
    )
    cache.store(
        alice.name,
        cache.CachedToken("at-secret-value", NOW + 1800, alice.fingerprint(), "", NOW - 1800),
    )
    state.record_refresh(alice.name, True)

    got = status.account_status(alice, NOW)

    assert got["store"] == {
        "kind": "file",
        "location": FileStore(alice.name).path,
        "reachable": True,
        "problem": None,
    }
    assert got["refresh_token"] == {
        "present": True,
        "obtained_at": status.iso(NOW - 3600),
        "expires_at": status.iso(NOW + 6 * 86400),
    }
    assert got["access_token"] == {
        "cached": True,
        "expires_at": status.iso(NOW + 1800),
        "expires_in": 1800,
        "usable": True,
        "problem": None,
    }
    assert got["last_refresh"]["ok"] is True
    [warning] = got["warnings"]
    assert warning["code"] == "google_testing_app" and warning["severity"] == "warning"
    assert "dies on" in warning["message"] and "6 days from now" in warning["message"]
    assert "In production" in warning["fix"]
    assert "oauth-helper authorize alice@gmail.com" in warning["fix"]
    assert "secret-value" not in json.dumps(got)


def test_dead_refresh_token_and_failed_refresh(config_path: Path) -> None:
    cfg = parse(CONFIG, config_path)
    bob = cfg.account("bob@corp.example")
    FileStore(bob.name).save(Secret("rt-x" * 4, refresh_token_expires_at=NOW - 60))
    state.record_refresh(bob.name, False, "Token has been expired or revoked.", exit_code=77)
    got = status.account_status(bob, NOW)
    codes = {w["code"]: w for w in got["warnings"]}
    assert codes["refresh_token_expires"]["message"].startswith("the refresh token died on")
    assert codes["refresh_token_expires"]["severity"] == "warning"
    assert codes["last_refresh_failed"]["fix"] == "run: oauth-helper authorize bob@corp.example"
    assert got["access_token"]["cached"] is False
    assert got["refresh_token"]["obtained_at"] is None


def test_nothing_stored(config_path: Path) -> None:
    cfg = parse(CONFIG, config_path)
    got = status.account_status(cfg.account("bob@corp.example"), NOW)
    assert [w["code"] for w in got["warnings"]] == ["no_refresh_token"]
    assert got["refresh_token"]["present"] is False and got["last_refresh"] is None


def test_cache_for_another_client_is_not_usable(config_path: Path) -> None:
    cfg = parse(CONFIG, config_path)
    bob = cfg.account("bob@corp.example")
    cache.store(bob.name, cache.CachedToken("at-secret-value", NOW + 1800, "other", "", NOW - 1800))
    got = status.account_status(bob, NOW)["access_token"]
    assert got["cached"] is True and got["usable"] is False
    assert "config changed" in got["problem"]


def test_keyring_account_without_dbus(monkeypatch: pytest.MonkeyPatch, config_path: Path) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    cfg = parse(CONFIG, config_path)
    got = status.account_status(cfg.account("carol@example.com"), NOW)
    assert got["store"]["reachable"] is False
    codes = {w["code"]: w for w in got["warnings"]}
    assert set(codes) == {"store_unreachable", "keyring_unreachable_from_cron"}
    cron = codes["keyring_unreachable_from_cron"]
    assert cron["severity"] == "warning" and "cron" in cron["message"]
    assert "--store file" in cron["fix"]


def test_cron_keyring_problem_decisions() -> None:
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in (status.cron_keyring_problem({}) or "")
    bus = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}
    locked = status.cron_keyring_problem(bus, lambda: "the keyring is locked")
    assert locked == "the keyring is unreachable here: the keyring is locked"
    reachable = status.cron_keyring_problem(bus, lambda: None)
    assert reachable is not None and "cron jobs have no DBUS_SESSION_BUS_ADDRESS" in reachable


def test_run_json_conforms_and_names_one_account(config_path: Path) -> None:
    out = io.StringIO()
    code = status.run(
        Settings(config_path=config_path),
        account="bob@corp.example",
        as_json=True,
        out=out,
        now=NOW,
    )
    assert code == 0
    report = json.loads(out.getvalue())
    assert_documented_shape(report)
    assert [a["account"] for a in report["accounts"]] == ["bob@corp.example"]
    assert report["generated_at"] == status.iso(NOW)


def test_run_all_accounts_sorted_and_rendered(
    monkeypatch: pytest.MonkeyPatch, config_path: Path, utc: None
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    out = io.StringIO()
    status.run(Settings(config_path=config_path), account=None, as_json=False, out=out, now=NOW)
    text = out.getvalue()
    blocks = text.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "alice@gmail.com",
        "bob@corp.example",
        "carol@example.com",
    ]
    assert "  refresh token none stored" in blocks[0]
    assert "NOT reachable" in blocks[2] and "WARNING:" in blocks[2]
    assert "    fix: " in blocks[2]


def test_render_human_times(utc: None) -> None:
    assert status.human_time(NOW) == "2027-01-15 08:00 UTC"
    assert status.iso(NOW) == "2027-01-15T08:00:00Z"


def test_no_accounts(tmp_path: Path) -> None:
    out = io.StringIO()
    status.run(Settings(config_path=tmp_path / "none.toml"), account=None, as_json=False, out=out)
    assert out.getvalue() == (
        f"no accounts in {tmp_path / 'none.toml'} (does not exist); add one "
        "with: oauth-helper authorize ADDRESS\n"
    )
    out = io.StringIO()
    status.run(Settings(config_path=tmp_path / "none.toml"), account=None, as_json=True, out=out)
    report = json.loads(out.getvalue())
    assert report["accounts"] == [] and report["config_exists"] is False
    assert_documented_shape(report)


# `providers` has no test file of its own in this layout; it reads the same config as status.


def test_providers_json_and_table(config_path: Path) -> None:
    from oauth_helper import providers_cmd

    out = io.StringIO()
    assert providers_cmd.run(Settings(config_path=config_path), as_json=True, out=out) == 0
    report = json.loads(out.getvalue())
    by_name = {p["name"]: p for p in report["providers"]}
    assert report["version"] == 1 and sorted(by_name) == ["corp", "google", "microsoft"]
    assert by_name["google"]["source"] == "built-in"
    assert by_name["google"]["revocation_endpoint"] == "https://oauth2.googleapis.com/revoke"
    assert by_name["google"]["smtp"] == "smtp.gmail.com:587"
    assert by_name["google"]["accounts"] == ["alice@gmail.com"]
    assert by_name["microsoft"]["revocation_endpoint"] is None
    assert by_name["microsoft"]["tenant"] == "common"
    assert by_name["corp"] == {
        **by_name["corp"],
        "source": "config",
        "scopes": ["mail"],
        "token_endpoint": "https://sso.corp.example/token",
        "accounts": ["bob@corp.example", "carol@example.com"],
    }
    out = io.StringIO()
    providers_cmd.run(Settings(config_path=config_path), as_json=False, out=out)
    text = out.getvalue()
    assert text.startswith("corp (config)\n") and "\nmicrosoft (built-in)\n" in text
    assert "  revocation    none" in text


# -- when the grant ends ------------------------------------------------------------------------

GRANT_CONFIG = """\
[providers.corp]
token_endpoint = "https://sso.corp.example/token"

[accounts."dave@contoso.com"]
provider = "microsoft"
client_id = "m-client"

[accounts."erin@gmail.com"]
provider = "google"
client_id = "g-client"

[accounts."frank@corp.example"]
provider = "corp"
"""


def grant_of(
    tmp_path: Path, name: str, secret: Secret, last_success: float | None
) -> dict[str, Any]:
    cfg = parse(GRANT_CONFIG, tmp_path / "config.toml")
    account = cfg.account(name)
    FileStore(account.name).save(secret)
    if last_success is not None:
        state.record_refresh(account.name, True)
        saved = state.load(account.name)
        saved["last_success_at"] = last_success
        Path(state.path_for(account.name)).write_text(json.dumps(saved))
    return status.account_status(account, NOW)


def test_microsoft_grant_ends_90_days_after_the_last_refresh(tmp_path: Path, utc: None) -> None:
    got = grant_of(
        tmp_path,
        "dave@contoso.com",
        Secret("rt-value-1", obtained_at=NOW - 80 * 86400),
        NOW - 10 * 86400,
    )
    assert got["grant"] == {
        "expires_at": status.iso(NOW + 80 * 86400),
        "expires_in": 80 * 86400,
        "rule": "microsoft_inactivity",
        "explanation": "Microsoft ends refresh tokens unused for 90 days",
    }
    assert "grant_inactive_soon" not in {w["code"] for w in got["warnings"]}
    text = status.render({"config": "c", "accounts": [got]})
    assert "  grant         ends if unused by 2027-04-05 08:00 UTC (in 80 days): Microsoft" in text


def test_inactivity_close_to_its_end_warns(tmp_path: Path) -> None:
    got = grant_of(
        tmp_path, "dave@contoso.com", Secret("rt-value-1", obtained_at=NOW - 89 * 86400), None
    )
    assert got["grant"]["rule"] == "microsoft_inactivity" and got["grant"]["expires_in"] == 86400
    [warning] = [w for w in got["warnings"] if w["code"] == "grant_inactive_soon"]
    assert "oauth-helper refresh dave@contoso.com" in warning["fix"]


def test_google_testing_expiry_comes_before_inactivity(tmp_path: Path) -> None:
    secret = Secret("rt-value-2", obtained_at=NOW - 86400, refresh_token_expires_at=NOW + 6 * 86400)
    got = grant_of(tmp_path, "erin@gmail.com", secret, None)
    assert got["grant"]["rule"] == "google_testing_app"
    assert got["grant"]["expires_at"] == status.iso(NOW + 6 * 86400)
    published = grant_of(
        tmp_path, "erin@gmail.com", Secret("rt-value-3", obtained_at=NOW - 86400), None
    )
    assert published["grant"]["rule"] == "google_inactivity"
    assert published["grant"]["expires_in"] == 179 * 86400


def test_no_rule_and_no_date_is_null(tmp_path: Path) -> None:
    got = grant_of(
        tmp_path, "frank@corp.example", Secret("rt-value-4", obtained_at=NOW - 86400), NOW
    )
    assert got["grant"] == {
        "expires_at": None,
        "expires_in": None,
        "rule": None,
        "explanation": None,
    }
    assert_documented_shape(
        {
            "version": 1,
            "config": "c",
            "config_exists": True,
            "generated_at": status.iso(NOW),
            "accounts": [got],
        }
    )
