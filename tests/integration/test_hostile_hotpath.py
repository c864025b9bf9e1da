"""The hot path under odd input (issue 13, item 8): one clear line and a documented exit code,
never a traceback; a valid 254-character address works end to end."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from oauth_helper import cache
from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    oauth_helper_cmd,
    provider_config,
    run_cli,
    user_env,
)
from tests.support.provider import LocalProvider

FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")
DOCUMENTED = {0, 64, 67, 69, 70, 75, 77, 78}


def _cache(env: dict[str, str], entry: object) -> None:
    path = cache_file(env, ACCOUNT)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(entry if isinstance(entry, str) else json.dumps(entry))
    path.chmod(0o600)


def _stamp(env: dict[str, str]) -> str:
    return cache.config_stamp(str(config_file(env)))


def _no_traceback(done: subprocess.CompletedProcess[bytes]) -> str:
    err = done.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert done.returncode in DOCUMENTED, (done.returncode, err)
    return err


def test_stdout_on_dev_full_is_one_line_and_exit_75(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    assert (
        run_cli(env, "token", ACCOUNT).returncode == 0
    )  # cached now: the next call is the hot path
    for extra in ([], ["--force-refresh"]):
        with open("/dev/full", "wb") as full:
            done = subprocess.run(
                [oauth_helper_cmd(), "token", ACCOUNT, *extra],
                env=env,
                stdout=full,
                stderr=subprocess.PIPE,
                timeout=30,
                check=False,
            )
        err = _no_traceback(done)
        assert done.returncode == 75
        assert err == "oauth-helper: cannot write the answer to stdout: No space left on device\n"


def test_undecodable_account_argument_is_one_line(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    latin1 = os.fsencode("caf") + b"\xe9@example.com"
    done = subprocess.run(
        [os.fsencode(oauth_helper_cmd()), b"token", latin1],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    err = _no_traceback(done)
    assert done.returncode == 67 and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "entry",
    [
        {"access_token": "tok-en", "expires_at": "1e999"},
        '{"access_token": "tok-en", "expires_at": 1e999, "config_stamp": "STAMP"}',
        '{"access_token": "tok-en", "expires_at": NaN, "config_stamp": "STAMP"}',
        {"access_token": ["x"], "expires_at": 9e9, "config_stamp": "STAMP"},
        {"access_token": "tok\u00e9n", "expires_at": 9e9, "config_stamp": "STAMP"},
        {"access_token": "tok-en", "expires_at": 9e9, "config_stamp": 7},
        ["not", "an", "object"],
        "[" * 100_000,
        "\xff\xfe garbage",
    ],
)
@pytest.mark.parametrize("fmt", ["token", "json", "oauthbearer"])
def test_odd_cache_values_never_give_a_traceback(
    tmp_path: Path, provider: LocalProvider, entry: object, fmt: str
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    stamp = _stamp(env)
    if isinstance(entry, str):
        entry = entry.replace("STAMP", stamp)
    elif isinstance(entry, dict):
        entry = {k: (stamp if v == "STAMP" else v) for k, v in entry.items()}
    _cache(env, entry)
    done = run_cli(env, "token", ACCOUNT, "--format", fmt, "--host", "h", "--port", "1", timeout=30)
    err = _no_traceback(done)
    assert err.count("\n") <= 1, err


def test_a_254_character_address_works_end_to_end(tmp_path: Path, provider: LocalProvider) -> None:
    account = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 53]) + ".example"
    assert len(account) == 254
    provider.register_client("long-client")
    provider.signed_in_user = account
    env = user_env(tmp_path)
    env["BROWSER"] = FAKE_BROWSER
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("timeout = 5\n" + provider_config(provider, "local"))
    done = run_cli(
        env,
        "authorize",
        account,
        "--provider",
        "local",
        "--client-id",
        "long-client",
        "--store",
        "file",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    names = [
        p.name
        for d in ("XDG_CACHE_HOME", "XDG_DATA_HOME")
        for p in (Path(env[d]) / "oauth-helper").iterdir()
    ]
    assert names and all(len(n.encode()) <= 255 for n in names)
    first = run_cli(env, "token", account)
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().strip() == provider.issued_access_tokens[-1]  # from the cache
    forced = run_cli(env, "token", account, "--force-refresh")
    assert forced.returncode == 0, forced.stderr.decode()
    assert run_cli(env, "status", account).returncode == 0
