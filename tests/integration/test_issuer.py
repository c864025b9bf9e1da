"""`authorize ACCOUNT --issuer URL`: the [providers.NAME] table written from discovery, then the
usual authorization against it."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tests.support.cli_env import config_file, run_cli, user_env
from tests.support.provider import LocalProvider

ACCOUNT = "carol@corp.example"
CLIENT = "issuer-client"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")
USER_CONFIG = "# mine\ntimeout = 5\n"


def setup(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    provider.register_client(CLIENT)
    provider.signed_in_user = ACCOUNT
    env = {
        **user_env(tmp_path),
        "BROWSER": FAKE_BROWSER,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_CONFIG)
    return env


def test_issuer_writes_the_provider_table_and_authorizes(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup(tmp_path, provider)
    done = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--issuer",
        provider.issuer,
        "--provider",
        "corp",
        "--scope",
        "mail",
        "--scope",
        "offline_access",
        "--client-id",
        CLIENT,
        "--store",
        "file",
        timeout=60,
    )
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert f"Wrote [providers.corp] to {config_file(env)}" in err
    text = config_file(env).read_text()
    assert text.startswith(USER_CONFIG)  # what the user wrote stays
    data = tomllib.loads(text)
    assert data["providers"]["corp"] == {
        "issuer": provider.issuer,
        "scopes": ["mail", "offline_access"],
    }
    assert data["accounts"][ACCOUNT]["provider"] == "corp"
    assert set((provider.last_authorize or {})["scope"].split()) >= {"mail", "offline_access"}
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    # Again: the table is there with that issuer, nothing is rewritten.
    again = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--issuer",
        provider.issuer,
        "--provider",
        "corp",
        "--client-id",
        CLIENT,
        "--store",
        "file",
        timeout=60,
    )
    assert again.returncode == 0, again.stderr.decode()
    assert b"Wrote [providers" not in again.stderr
    assert tomllib.loads(config_file(env).read_text())["providers"] == data["providers"]


def test_issuer_without_a_terminal_defaults_to_offline_access(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup(tmp_path, provider)
    done = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--issuer",
        provider.issuer,
        "--client-id",
        CLIENT,
        "--store",
        "file",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    table = tomllib.loads(config_file(env).read_text())["providers"]["127-0-0-1"]
    assert table == {"issuer": provider.issuer, "scopes": ["offline_access"]}


def test_issuer_refusals(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup(tmp_path, provider)
    cases = [
        (["--issuer", "http://issuer.example"], 64, b"plain http"),
        (["--issuer", provider.issuer, "--provider", "google"], 64, b"built in"),
        (["--scope", "mail"], 64, b"--scope goes with --issuer"),
        (["--issuer", provider.base_url + "/nothing-here"], 78, b"discovery"),
    ]
    for args, code, message in cases:
        done = run_cli(env, "authorize", ACCOUNT, *args, "--client-id", CLIENT, timeout=60)
        assert done.returncode == code, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert config_file(env).read_text() == USER_CONFIG
