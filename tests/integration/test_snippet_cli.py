"""`oauth-helper snippet` as a user runs it: exit codes, the installed path, nothing half-printed."""

from __future__ import annotations

from pathlib import Path

from oauth_helper.snippet import CLIENTS
from tests.support.cli_env import make_flavoured_account, oauth_helper_cmd, run_cli
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.test"


def test_snippet_names_the_installed_executable(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, "google", seed=False)
    for client in CLIENTS:
        done = run_cli(env, "snippet", client, ACCOUNT)
        assert done.returncode == 0, done.stderr
        text = done.stdout.decode()
        assert oauth_helper_cmd() in text, client
        assert done.stderr == b""
    assert "helper = " + str(Path(oauth_helper_cmd()).parent / "git-credential-oauth-helper") in (
        run_cli(env, "snippet", "git", ACCOUNT).stdout.decode()
    )


def test_unknown_client_lists_the_valid_ones(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, "google", seed=False)
    done = run_cli(env, "snippet", "thunderbird", ACCOUNT)
    assert done.returncode == 64
    assert done.stdout == b""
    err = done.stderr.decode()
    assert "thunderbird" in err and all(client in err for client in CLIENTS), err


def test_unknown_account_is_67(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, "google", seed=False)
    done = run_cli(env, "snippet", "msmtp", "nobody@example.test")
    assert done.returncode == 67
    assert done.stdout == b""
    assert b"nobody@example.test" in done.stderr


def test_a_provider_without_imap_is_a_config_error(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, "local", seed=False)
    done = run_cli(env, "snippet", "mbsync", ACCOUNT)
    assert done.returncode == 78
    assert done.stdout == b""
    assert b'add imap = "HOST:PORT"' in done.stderr
