"""`accounts`, and what a mistyped account gets: "did you mean", exit 67, no file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_env import make_account, run_cli, user_env
from tests.support.provider import LocalProvider

ALICE = "alice@example.test"
BOB = "bob@example.test"


def test_accounts_lists_the_configured_ones_in_order(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, BOB, seed=False)
    env = make_account(tmp_path, provider, ALICE, seed=False, env=env)
    done = run_cli(env, "accounts")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{BOB}\n{ALICE}\n".encode(), b"")


def test_accounts_without_a_config_prints_nothing(tmp_path: Path) -> None:
    done = run_cli(user_env(tmp_path), "accounts")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_accounts_with_a_broken_config_is_78(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ALICE, seed=False)
    config = Path(env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    config.write_text(config.read_text() + "[accounts.x\n")
    done = run_cli(env, "accounts")
    assert done.returncode == 78 and done.stdout == b""


@pytest.mark.parametrize("command", [["token"], ["status"], ["snippet", "msmtp"], ["test"]])
def test_a_typo_gets_did_you_mean_and_leaves_no_file(
    tmp_path: Path, provider: LocalProvider, command: list[str]
) -> None:
    env = make_account(tmp_path, provider, ALICE)
    cache_dir = Path(env["XDG_CACHE_HOME"]) / "oauth-helper"
    before = sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []
    done = run_cli(env, *command, "alcie@example.test")
    assert done.returncode == 67, done.stderr
    assert done.stdout == b""
    err = done.stderr.decode()
    assert f"did you mean {ALICE!r}?" in err, err
    assert len(err.strip().splitlines()) == 1, err
    after = sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []
    assert after == before  # no lock (or any other) file for an account that does not exist


def test_nothing_close_gets_the_authorize_hint(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ALICE)
    done = run_cli(env, "token", "zz@other.example")
    assert done.returncode == 67
    err = done.stderr.decode()
    assert "did you mean" not in err and "run: oauth-helper authorize zz@other.example" in err


def test_the_first_token_of_a_real_account_still_works(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ALICE)
    first = run_cli(env, "token", ALICE)
    assert first.returncode == 0, first.stderr
    assert (Path(env["XDG_CACHE_HOME"]) / "oauth-helper").exists()
    again = run_cli(env, "token", ALICE)
    assert again.stdout == first.stdout  # served from the cache
