"""Every message true (issue 17): what the installed CLI says is what happened, and the one next
step it names works. revoke --local, keyring diagnoses, moving off a dead keyring, `providers`,
and config errors in one format."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_env import (
    LOCAL_SCOPES,
    cache_file,
    config_file,
    make_account,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.com"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")


def store_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "oauth-helper" / f"{ACCOUNT}.json"


# -- 4. revoke with the provider gone -----------------------------------------------------------


def test_revoke_local_forgets_an_account_whose_provider_is_gone(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    provider.stop()  # the SSO was decommissioned
    done = run_cli(env, "revoke", ACCOUNT, "--forget")
    err = done.stderr.decode()
    assert done.returncode == 75 and "nothing was deleted" in err, err
    assert f"oauth-helper revoke {ACCOUNT} --local --forget" in err
    assert store_file(env).exists() and ACCOUNT in config_file(env).read_text()

    done = run_cli(env, "revoke", ACCOUNT, "--local", "--forget")
    err = done.stderr.decode()
    assert done.returncode == 0 and done.stdout == b"", err
    assert "nothing was revoked at local" in err and "stays valid there" in err
    assert "deleted the refresh token" in err and "removed from" in err
    assert not store_file(env).exists() and not cache_file(env, ACCOUNT).exists()
    assert f'[accounts."{ACCOUNT}"]' not in config_file(env).read_text()
    assert run_cli(env, "token", ACCOUNT).returncode == 67


# -- 5. keyring diagnoses ------------------------------------------------------------------------


@pytest.fixture
def bare_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live D-Bus session bus with no Secret Service on it."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dbus-daemon is missing (package dbus)")
        pytest.skip("dbus-daemon is not installed")
    # The system's session bus without its service directories: nothing is started on demand
    # (Debian's gnome-keyring would be).
    system = Path("/usr/share/dbus-1/session.conf").read_text()
    config = Path(tmp_path_factory.mktemp("bus")) / "session.conf"
    config.write_text(system.replace("<standard_session_servicedirs />", ""))
    out = subprocess.run(
        [daemon, f"--config-file={config}", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        timeout=10,
        check=True,
        text=True,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    try:
        yield address
    finally:
        os.kill(pid, signal.SIGTERM)


def keyring_account(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, ACCOUNT, seed=False)
    path = config_file(env)
    path.write_text(path.read_text().replace('store = "file"', 'store = "keyring"'))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env


def test_a_bus_without_a_secret_service_is_not_called_no_dbus(
    tmp_path: Path, provider: LocalProvider, bare_bus: str
) -> None:
    env = keyring_account(tmp_path, provider)
    env["DBUS_SESSION_BUS_ADDRESS"] = bare_bus
    done = run_cli(env, "token", ACCOUNT)
    err = done.stderr.decode()
    assert done.returncode == 69, err
    assert "no Secret Service answers on this D-Bus session" in err
    assert "no D-Bus session" not in err
    env.pop("DBUS_SESSION_BUS_ADDRESS")
    err = run_cli(env, "token", ACCOUNT).stderr.decode()
    assert "there is no D-Bus session here (DBUS_SESSION_BUS_ADDRESS is unset)" in err


def test_moving_off_an_unreachable_keyring_says_how_to_delete_the_old_entry(
    tmp_path: Path, provider: LocalProvider
) -> None:
    provider.register_client("test-client")
    env = keyring_account(tmp_path, provider)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["BROWSER"] = FAKE_BROWSER
    done = run_cli(env, "authorize", ACCOUNT, "--store", "file", "--flow", "browser", timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "the account now uses the file store" in err
    assert f"secret-tool clear service oauth-helper username {ACCOUNT}" in err
    assert "--store file" not in err  # not the command that was just run
    assert run_cli(env, "token", ACCOUNT).returncode == 0


# -- 6. providers: one verdict on the device flow; cached discovery shown ----------------------


def test_providers_device_flow_and_cached_discovery(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = user_env(tmp_path)
    provider.register_client("test-client")
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    scopes = str(LOCAL_SCOPES).replace("'", '"')
    path.write_text(
        f'[providers.plain]\ntoken_endpoint = "{provider.token_endpoint}"\nscopes = {scopes}\n\n'
        f'[providers.idp]\nissuer = "{provider.issuer}"\nscopes = {scopes}\n\n'
        f'[accounts."{ACCOUNT}"]\nprovider = "idp"\nclient_id = "test-client"\nstore = "file"\n'
    )
    text = run_cli(env, "providers").stdout.decode()
    plain = text.split("plain (config)", 1)[1].split("\n\n", 1)[0]
    assert "device        not offered (no device_authorization_endpoint)" in plain
    assert "\n  device flow" not in text  # one line, not "device none" and "device flow yes"
    idp = text.split("idp (config)", 1)[1].split("\n\n", 1)[0]
    assert "token         from discovery (not fetched yet)" in idp

    seed = provider.seed_refresh_token(ACCOUNT, "test-client", LOCAL_SCOPES)
    from tests.support.cli_env import seed_refresh_token

    seed_refresh_token(env, ACCOUNT, seed)
    assert run_cli(env, "token", ACCOUNT).returncode == 0  # discovery runs and is cached
    idp = run_cli(env, "providers").stdout.decode().split("idp (config)", 1)[1]
    idp = idp.split("\n\n", 1)[0]
    assert f"token         {provider.token_endpoint}" in idp
    assert f"device        {provider.device_authorization_endpoint}" in idp
    assert "not fetched" not in idp


# -- 7. config errors: one format, with the line, in plain words --------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[accounts."a@b.c"]\nprovider = "google\n', 2, "a string is not closed on this line"),
        (
            '[accounts."a@b.c"]\nprovider = "google"\n[accounts."a@b.c"]\nstore = "file"\n',
            3,
            "this table is already declared above",
        ),
        (
            '[accounts."a@b.c"]\nprovider = "google"\nprovider = "x"\n',
            3,
            "this key is already set above",
        ),
        ('# mine\n[provider.corp]\nissuer = "https://x"\n', 2, "did you mean [providers.NAME]?"),
        ("timeout = 0\n", 1, "above 0 and at most 300"),
        ('[accounts."a@b.c"]\nprovder = "google"\n', 2, "did you mean 'provider'?"),
        ("x = [1, 2\n", 2, "a list is not closed"),
    ],
)
def test_config_errors_name_file_line_and_fix(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    env = user_env(tmp_path)
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    done = run_cli(env, "status")
    err = done.stderr.decode()
    assert done.returncode == 78 and err.count("\n") == 1, err
    assert err.startswith(f"oauth-helper: {path}:{line}: ") and words in err, err
    assert "(at line" not in err and "Cannot" not in err


# -- 8. status shows the granted scopes -----------------------------------------------------------


def test_status_shows_the_granted_scopes(tmp_path: Path, provider: LocalProvider) -> None:
    import json

    env = make_account(tmp_path, provider, ACCOUNT)
    before = json.loads(run_cli(env, "status", ACCOUNT, "--json").stdout)["accounts"][0]
    assert before["scopes"] == {"granted": None, "reported_by_provider": None, "at": None}
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    got = json.loads(run_cli(env, "status", ACCOUNT, "--json").stdout)["accounts"][0]["scopes"]
    assert got["granted"] == provider.last_token_response["scope"].split() == LOCAL_SCOPES
    assert got["reported_by_provider"] is True
    assert (
        "  scopes        mail offline_access\n" in run_cli(env, "status", ACCOUNT).stdout.decode()
    )
    # A provider that leaves `scope` out granted what was asked (RFC 6749 §5.1), and says so.
    body = {"access_token": "at-no-scope", "token_type": "Bearer", "expires_in": 3600}
    provider.fail_next("error_json", status=200, body=body)
    assert run_cli(env, "token", ACCOUNT, "--force-refresh").returncode == 0
    text = run_cli(env, "status", ACCOUNT).stdout.decode()
    assert "mail offline_access (as requested: the provider did not list them)" in text


# -- 9. the account picker, and no login hint ------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "prompt", "hint"),
    [
        ((), None, ACCOUNT),
        (("--select-account",), "select_account", ACCOUNT),
        (("--no-login-hint",), None, None),
        (("--select-account", "--no-login-hint"), "select_account", None),
    ],
)
def test_account_picker_and_login_hint(
    tmp_path: Path,
    provider: LocalProvider,
    flags: tuple[str, ...],
    prompt: str | None,
    hint: str | None,
) -> None:
    provider.register_client("test-client")
    env = make_account(tmp_path, provider, ACCOUNT, seed=False)
    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    done = run_cli(env, "authorize", ACCOUNT, "--flow", "browser", *flags, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    sent = provider.last_authorize or {}
    assert sent.get("login_hint") == hint
    assert (sent.get("prompt") or "").split().count("select_account") == (1 if prompt else 0)


def test_reauthorizing_does_not_revoke_the_replaced_grant(
    tmp_path: Path, provider: LocalProvider
) -> None:
    """At Google, revoking the replaced refresh token would end the new grant too (one grant
    per account and client): `authorize` again stores the new token and revokes nothing."""
    env = make_account(tmp_path, provider, ACCOUNT)
    old = stored_refresh_token(env, ACCOUNT)
    env["BROWSER"] = FAKE_BROWSER
    done = run_cli(env, "authorize", ACCOUNT, "--flow", "browser", timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    new = stored_refresh_token(env, ACCOUNT)
    assert new and new != old
    assert provider.counts["revoke"] == 0
    assert provider.revoked == set()
    assert run_cli(env, "token", ACCOUNT, "--force-refresh").returncode == 0


# -- 3. a stated wait is the real wait -----------------------------------------------------------


def test_a_hanging_token_endpoint_states_the_whole_wait(
    tmp_path: Path, provider: LocalProvider
) -> None:
    import re
    import time

    env = make_account(tmp_path, provider, ACCOUNT, timeout=2)
    provider.fail_next("hang", count=5, seconds=60)
    started = time.monotonic()
    done = run_cli(env, "token", ACCOUNT)
    elapsed = time.monotonic() - started
    err = done.stderr.decode()
    assert done.returncode == 75 and done.stdout == b"", err
    found = re.search(r"gave up after (\d) tries in ([\d.]+) s; try again later$", err.strip())
    assert found, err
    stated = float(found.group(2))
    assert stated <= elapsed < stated + 3  # the rest is starting Python
