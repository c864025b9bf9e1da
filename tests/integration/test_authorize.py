"""`oauth-helper authorize` end to end against the local provider: browser, paste, device flows,
the identity check, store choice, and config editing that keeps what the user wrote."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    oauth_helper_cmd,
    provider_config,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.com"
CLIENT = "authz-client"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")
NO_KEYRING = "keyring.backends.fail.Keyring"
USER_CONFIG = """\
# My oauth-helper settings. Keep this comment!
timeout = 5   # seconds

[accounts."bob@example.com"]   # Bob's account stays as written
provider = "local"
client_id = "bob-client"
store = "file"
# a comment inside Bob's table

"""


def setup_env(
    tmp_path: Path, provider: LocalProvider, *, text: str = "", browser: str | None = FAKE_BROWSER
) -> dict[str, str]:
    """A user with the local provider in the config (and `text` before it), no account yet."""
    provider.register_client(CLIENT)
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING  # never the developer's (or CI's) real keyring
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TERM"):  # no real browser, console ones included
        env.pop(name, None)
    if browser is not None:
        env["BROWSER"] = browser
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + provider_config(provider, "local"))
    return env


def authorize(
    env: dict[str, str],
    *args: str,
    account: str = ACCOUNT,
    input: bytes = b"",
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(
        env,
        "authorize",
        account,
        "--provider",
        "local",
        "--client-id",
        CLIENT,
        *args,
        input=input,
        timeout=30,
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert result.stdout == b""
    return err


def token_works(env: dict[str, str], provider: LocalProvider, account: str = ACCOUNT) -> None:
    first = run_cli(env, "token", account)
    assert first.returncode == 0, first.stderr.decode()
    assert provider.introspect(first.stdout.decode().strip())["active"] is True
    refreshes = provider.counts["token:refresh_token"]
    forced = run_cli(env, "token", account, "--force-refresh")  # the stored refresh token works
    assert forced.returncode == 0, forced.stderr.decode()
    assert provider.counts["token:refresh_token"] == refreshes + 1


# -- browser flow ---------------------------------------------------------------------------------


def test_browser_flow_end_to_end(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    log = tmp_path / "browser.log"
    env["FAKE_BROWSER_LOG"] = str(log)
    err = ok(authorize(env, "--store", "file"))
    assert "authorized" in err
    query = provider.last_authorize or {}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["login_hint"] == ACCOUNT
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert set(query["scope"].split()) == {"mail", "offline_access", "openid", "email"}
    assert provider.counts["token:authorization_code"] == 1
    assert provider.unexpected == []  # the provider checked S256, state, redirect_uri, verifier
    assert "200 http://127.0.0.1:" in log.read_text()  # the browser saw our success page
    text = config_file(env).read_text()
    assert (
        f'[accounts."{ACCOUNT}"]\nprovider = "local"\nclient_id = "{CLIENT}"\nstore = "file"\n'
        in text
    )
    assert stored_refresh_token(env, ACCOUNT) is not None
    # authorize cached the access token it got: `token` serves it without a request
    cached = run_cli(env, "token", ACCOUNT)
    assert cached.stdout.decode().strip() == provider.issued_access_tokens[-1]
    assert provider.counts["token"] == 1
    token_works(env, provider)
    assert provider.unexpected == []


def test_browser_with_arguments_and_percent_s(tmp_path: Path, provider: LocalProvider) -> None:
    import sys

    env = setup_env(tmp_path, provider, browser=f"{sys.executable} {FAKE_BROWSER} %s")
    ok(authorize(env, "--store", "file"))
    token_works(env, provider)


def test_error_in_callback_is_reported_and_nothing_stored(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, client_id=CLIENT, provider_name="local")
    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    before_config = config_file(env).read_bytes()
    before = stored_refresh_token(env, ACCOUNT)
    provider.authorize_error = "access_denied"
    result = authorize(env)
    assert result.returncode == 77, result.stderr.decode()
    assert "access_denied" in result.stderr.decode() and result.stdout == b""
    assert stored_refresh_token(env, ACCOUNT) == before  # the old grant is kept
    assert config_file(env).read_bytes() == before_config
    # It works once the user accepts; the new refresh token replaces the old one.
    provider.authorize_error = None
    ok(authorize(env))
    after = stored_refresh_token(env, ACCOUNT)
    assert after is not None and after != before and provider.is_refresh_token_valid(after)


def test_failing_browser_falls_back_to_paste(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider, browser="false")
    env.pop("TERM", None)  # else webbrowser goes on to a console browser (w3m, lynx) if installed
    proc = start(env, "--store", "file")
    url = read_authorize_url(proc)
    location = follow_to_redirect(url)
    out, err = proc.communicate(location.encode() + b"\n", timeout=30)
    # Every browser flow takes a pasted URL, so it may be taken before the launcher's failure
    # is noticed: what matters is that the paste completes the sign-in.
    assert proc.returncode == 0, err.decode()
    assert out == b"" and "authorized" in err.decode()
    token_works(env, provider)


def test_timeout_waiting_for_the_browser(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider, browser="true")  # "opens" but never visits anything
    started = time.monotonic()
    result = authorize(env, "--store", "file", "--timeout", "1")
    assert time.monotonic() - started < 10
    assert result.returncode == 75, result.stderr.decode()
    assert "no sign-in answer after 1 s" in result.stderr.decode()  # the real wait
    assert result.stdout == b"" and stored_refresh_token(env, ACCOUNT) is None


# -- paste flow -----------------------------------------------------------------------------------


def start(env: dict[str, str], *args: str, account: str = ACCOUNT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            account,
            "--provider",
            "local",
            "--client-id",
            CLIENT,
            *args,
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def read_authorize_url(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode()
        found = re.search(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)", line)
        if found:
            return found.group(1)
        if not line:
            break
    raise AssertionError("no authorization URL on stderr")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def follow_to_redirect(url: str) -> str:
    """What a browser on another machine would end on: the provider's redirect Location."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 302
        return str(e.headers["Location"])
    raise AssertionError("the provider did not redirect")


def test_paste_flow_with_the_redirected_url(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider, browser=None)  # no display, no $BROWSER: paste by default
    proc = start(env, "--store", "file")
    url = read_authorize_url(proc)
    location = follow_to_redirect(url)
    out, err = proc.communicate(b"\n  " + location.encode() + b"  \n", timeout=30)
    assert proc.returncode == 0, err.decode()
    assert out == b""
    assert provider.unexpected == []
    token_works(env, provider)


def test_paste_flow_with_a_bare_code(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    proc = start(env, "--no-browser", "--store", "file")
    location = follow_to_redirect(read_authorize_url(proc))
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    out, err = proc.communicate(code.encode() + b"\n", timeout=30)
    assert proc.returncode == 0, err.decode()
    assert out == b""
    assert code not in err.decode()  # secrets are never echoed
    token_works(env, provider)


def test_paste_flow_refuses_a_wrong_state(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    before = config_file(env).read_bytes()
    proc = start(env, "--flow", "paste", "--store", "file")
    location = follow_to_redirect(read_authorize_url(proc))
    forged = re.sub(r"state=[^&]+", "state=someone-elses-state", location)
    out, err = proc.communicate(forged.encode() + b"\n", timeout=30)
    assert proc.returncode == 64, err.decode()
    assert "state" in err.decode() and out == b""
    assert stored_refresh_token(env, ACCOUNT) is None
    assert config_file(env).read_bytes() == before
    assert provider.counts["token"] == 0  # the code was never even exchanged


def test_paste_flow_completes_through_the_listener(tmp_path: Path, provider: LocalProvider) -> None:
    # What `ssh -L PORT:127.0.0.1:PORT` gives: the browser reaches the listener while we wait
    # for a paste that never comes.
    env = setup_env(tmp_path, provider)
    proc = start(env, "--flow", "paste", "--store", "file")
    url = read_authorize_url(proc)
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10).read()
    out, err = proc.communicate(timeout=30)  # closes stdin only after the redirect arrived
    assert proc.returncode == 0, err.decode()
    assert out == b""
    token_works(env, provider)


# -- device flow ----------------------------------------------------------------------------------


def start_device(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            oauth_helper_cmd(),
            "authorize",
            ACCOUNT,
            "--provider",
            "local",
            "--client-id",
            CLIENT,
            "--flow",
            "device",
            "--store",
            "file",
            *extra,
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_device(provider: LocalProvider, polls: int = 0) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if provider.last_device and provider.counts["token:device_code"] >= polls:
            return str(provider.last_device["user_code"])
        time.sleep(0.02)
    raise AssertionError("the CLI never asked for a device code")


def test_device_flow_with_pending_and_slow_down(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    provider.device_interval = 0.2
    proc = start_device(env)
    user_code = wait_for_device(provider, polls=2)  # authorization_pending, twice
    provider.slow_down_polls = 1  # the next poll is told to slow down (+5 s, RFC 8628 §3.5)
    provider.approve_device(user_code)
    approved = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert time.monotonic() - approved > 4.5  # slow_down added 5 s to the interval
    assert out == b""
    assert user_code in err.decode() and provider.verification_uri in err.decode()
    assert provider.counts["token:device_code"] >= 4  # pending, pending, slow_down, success
    assert provider.unexpected == []  # never polled faster than the (raised) interval
    token_works(env, provider)


@pytest.mark.parametrize(("how", "word"), [("deny", "declined"), ("expire", "expired")])
def test_device_flow_denied_or_expired_exits_77(
    tmp_path: Path, provider: LocalProvider, how: str, word: str
) -> None:
    env = setup_env(tmp_path, provider)
    provider.device_interval = 0.1
    proc = start_device(env)
    user_code = wait_for_device(provider, polls=1)
    (provider.deny_device if how == "deny" else provider.expire_device)(user_code)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 77, err.decode()
    text = err.decode()
    last = text.splitlines()[-1]
    assert last.startswith("oauth-helper: ") and word in last and "Traceback" not in text
    assert out == b"" and stored_refresh_token(env, ACCOUNT) is None


def test_google_refuses_the_device_flow_up_front(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    result = run_cli(
        env,
        "authorize",
        "carol@gmail.com",
        "--flow",
        "device",
        "--client-id",
        "x",
        "--client-secret",
        "y-secret",
    )
    assert result.returncode == 64
    err = result.stderr.decode()
    assert "Google does not allow mail scopes in the device flow" in err and "--flow browser" in err
    assert "y-secret" not in err


# -- identity -------------------------------------------------------------------------------------


def test_identity_mismatch_is_refused_and_nothing_stored(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, client_id=CLIENT, provider_name="local")
    env["BROWSER"] = FAKE_BROWSER
    before = stored_refresh_token(env, ACCOUNT)
    before_config = config_file(env).read_bytes()
    provider.signed_in_user = "mallory@example.com"
    result = authorize(env)
    assert result.returncode == 77, result.stderr.decode()
    err = result.stderr.decode()
    assert "mallory@example.com" in err and ACCOUNT in err and "--allow-other-identity" in err
    assert stored_refresh_token(env, ACCOUNT) == before
    assert config_file(env).read_bytes() == before_config
    assert not cache_file(env, ACCOUNT).exists()
    # Accepting it on purpose records the signed-in name.
    ok(authorize(env, "--allow-other-identity"))
    assert 'signed_in_as = "mallory@example.com"' in config_file(env).read_text()
    assert stored_refresh_token(env, ACCOUNT) != before
    # A later authorization as the right user removes it again.
    provider.signed_in_user = ACCOUNT
    ok(authorize(env))
    assert "signed_in_as" not in config_file(env).read_text()


def test_identity_compared_case_insensitively(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    provider.signed_in_user = "Alice@Example.COM"
    ok(authorize(env, "--store", "file"))
    assert "signed_in_as" not in config_file(env).read_text()


# -- config and stores ----------------------------------------------------------------------------


def test_config_kept_across_three_authorizations(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider, text=USER_CONFIG)
    original = config_file(env).read_text()
    ok(authorize(env, "--store", "file"))
    first = config_file(env).read_text()
    assert first.startswith(original)  # everything the user wrote, byte for byte, in order
    assert first[len(original) :] == (
        f'\n[accounts."{ACCOUNT}"]\nprovider = "local"\nclient_id = "{CLIENT}"\nstore = "file"\n'
    )
    ok(authorize(env))
    assert config_file(env).read_text() == first  # nothing to change: byte-identical
    # A third authorization with another user signed in, accepted on purpose: only that line is added.
    provider.signed_in_user = "alice.smith@example.com"
    ok(authorize(env, "--allow-other-identity"))
    third = config_file(env).read_text()
    assert third == first + 'signed_in_as = "alice.smith@example.com"\n'
    token_works(env, provider)


def test_issuer_only_provider_and_default_file_store(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # A config holding only a provider known by its issuer (endpoints from discovery), no
    # account yet, no keyring: the file store is chosen and announced with its path.
    provider.register_client(CLIENT)
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    env["BROWSER"] = FAKE_BROWSER
    env.pop("TERM", None)
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    original = (
        f'[providers.local]\nissuer = "{provider.issuer}"\nscopes = ["mail", "offline_access"]'
    )
    path.write_text(original)  # no final newline: the new table still starts on its own line
    err = ok(authorize(env))
    assert "No usable keyring" in err and "oauth-helper/alice@example.com.json" in err
    text = path.read_text()
    assert text.startswith(original + "\n\n[accounts.") and 'store = "file"' in text
    assert provider.counts["discovery"] >= 1
    token_works(env, provider)


def test_microsoft_without_client_id_explains_registration(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    result = run_cli(env, "authorize", "dave@outlook.com", "--flow", "device")
    assert result.returncode == 78 and result.stdout == b""
    err = result.stderr.decode()
    assert "App registrations" in err and "tenant" in err.lower() and "http://localhost" in err
    assert not config_file(env).exists()  # nothing recorded for a failed authorization


def test_google_without_client_id_explains_registration(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    result = run_cli(env, "authorize", "carol@gmail.com")
    assert result.returncode == 78 and result.stdout == b""
    err = result.stderr.decode()
    assert "Desktop app" in err and "In production" in err and "7 days" in err


def test_unknown_provider_without_terminal_names_the_flag(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    result = run_cli(env, "authorize", "erin@corp.example", "--client-id", "x")
    assert result.returncode == 64 and "--provider" in result.stderr.decode()


# -- secrets and Google ---------------------------------------------------------------------------


def test_google_secret_kept_in_the_store_and_no_secret_on_stderr(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # Google's endpoints pointed at the local provider: a confidential desktop client.
    provider.register_client("g-client", "GOCSPX-test-secret")
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    env["BROWSER"] = FAKE_BROWSER
    env.pop("TERM", None)
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The issuer too: the redirect's iss= (RFC 9207) is checked against it.
    path.write_text(provider_config(provider, "google", extra=f'issuer = "{provider.issuer}"'))
    result = run_cli(
        env,
        "--debug",
        "authorize",
        ACCOUNT,
        "--provider",
        "google",
        "--client-id",
        "g-client",
        "--client-secret",
        "GOCSPX-test-secret",
        "--store",
        "file",
    )
    err = ok(result)
    body = provider.last_token_response or {}
    for secret in (
        "GOCSPX-test-secret",
        body["access_token"],
        body["refresh_token"],
        body["id_token"],
    ):
        assert secret not in err
    assert provider.login_hints == [ACCOUNT]
    query = provider.last_authorize or {}
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert "GOCSPX" not in path.read_text()  # the secret lives with the refresh token
    secret_file = Path(env["XDG_DATA_HOME"]) / "oauth-helper" / f"{ACCOUNT}.json"
    assert "GOCSPX-test-secret" in secret_file.read_text()
    token_works(env, provider)  # google-auth refreshes with the stored secret
    assert provider.unexpected == []


def test_debug_mismatch_shows_no_secret(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    provider.signed_in_user = "mallory@example.com"
    result = authorize(env, "--store", "file", "--debug")
    assert result.returncode == 77
    body = provider.last_token_response or {}
    err = result.stderr.decode()
    assert body["access_token"] not in err and body["refresh_token"] not in err
    assert stored_refresh_token(env, ACCOUNT) is None


def test_localhost_redirect_and_fixed_port(tmp_path: Path, provider: LocalProvider) -> None:
    # Microsoft's style: http://localhost:PORT/ as redirect URI; the listener is still 127.0.0.1.
    import socket

    env = setup_env(tmp_path, provider)
    path = config_file(env)
    path.write_text(path.read_text() + 'redirect_host = "localhost"\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ok(authorize(env, "--store", "file", "--port", str(port)))
    assert (provider.last_authorize or {})["redirect_uri"] == f"http://localhost:{port}/"
    assert provider.unexpected == []
    token_works(env, provider)


def test_without_id_token_the_userinfo_endpoint_names_the_user(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup_env(tmp_path, provider)
    path = config_file(env)
    path.write_text(path.read_text() + "identity_scopes = []\n")  # no openid: no id_token
    provider.signed_in_user = "mallory@example.com"
    result = authorize(env, "--store", "file")
    assert result.returncode == 77 and "mallory@example.com" in result.stderr.decode()
    assert provider.counts["userinfo"] == 1
    assert stored_refresh_token(env, ACCOUNT) is None
