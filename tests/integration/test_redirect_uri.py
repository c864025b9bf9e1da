"""`redirect_uri` for a client registered with one fixed redirect URI: the listener takes its
port and path, and the provider sees exactly that URI in the request and the code exchange."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_env import config_file, provider_config, run_cli, user_env
from tests.support.mailbed import free_port
from tests.support.provider import LocalProvider

ACCOUNT = "dora@example.com"
CLIENT = "fixed-redirect-client"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")


def setup(tmp_path: Path, provider: LocalProvider, redirect_uri: str) -> dict[str, str]:
    provider.register_client(CLIENT)
    provider.signed_in_user = ACCOUNT
    env = {
        **user_env(tmp_path),
        "BROWSER": FAKE_BROWSER,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "timeout = 5\n\n"
        + provider_config(provider, "local", extra=f'redirect_uri = "{redirect_uri}"')
    )
    return env


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_registered_redirect_uri_is_used_exactly(
    tmp_path: Path, provider: LocalProvider, host: str
) -> None:
    fixed = f"http://{host}:{free_port()}/oauth/callback"
    env = setup(tmp_path, provider, fixed)
    done = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "local",
        "--client-id",
        CLIENT,
        "--store",
        "file",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert (provider.last_authorize or {})["redirect_uri"] == fixed
    assert provider.unexpected == []  # the code exchange sent the same redirect_uri
    assert run_cli(env, "token", ACCOUNT).returncode == 0


def test_a_port_flag_that_contradicts_it_is_64(tmp_path: Path, provider: LocalProvider) -> None:
    port = free_port()
    env = setup(tmp_path, provider, f"http://127.0.0.1:{port}/cb")
    done = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "local",
        "--client-id",
        CLIENT,
        "--port",
        str(port + 1),
        timeout=60,
    )
    assert done.returncode == 64 and b"contradicts redirect_uri" in done.stderr


@pytest.mark.parametrize(
    "bad", ["https://app.example/cb", "http://127.0.0.1/cb", "http://192.0.2.1:8080/cb", "x"]
)
def test_a_redirect_uri_off_this_machine_is_a_config_error(
    tmp_path: Path, provider: LocalProvider, bad: str
) -> None:
    env = setup(tmp_path, provider, bad)
    done = run_cli(env, "authorize", ACCOUNT, "--provider", "local", "--client-id", CLIENT)
    assert done.returncode == 78, done.stderr
    assert b"redirect_uri" in done.stderr and b"http://127.0.0.1:PORT/PATH" in done.stderr
