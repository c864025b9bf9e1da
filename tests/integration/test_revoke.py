"""`oauth-helper revoke` against the local provider: RFC 7009, local deletion, --forget."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    run_cli,
    seed_refresh_token,
    stored_refresh_token,
    user_env,
)
from tests.support.mailbed import free_port
from tests.support.provider import LocalProvider

BOB = "bob@example.com"
CAROL = "carol@example.com"


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""  # revoke prints nothing on stdout
    return result.stderr.decode()


def test_revoke_kills_the_grant_and_deletes_local_tokens(
    account_env: dict[str, str], provider: LocalProvider
) -> None:
    refresh_token = stored_refresh_token(account_env, ACCOUNT)
    assert refresh_token is not None
    got = run_cli(account_env, "token", ACCOUNT)
    assert got.returncode == 0
    access_token = got.stdout.decode().strip()
    assert provider.introspect(access_token)["active"] is True

    stderr = ok(run_cli(account_env, "revoke", ACCOUNT))

    assert f"{ACCOUNT}: revoked at local" in stderr
    assert provider.introspect(access_token) == {"active": False}
    assert not provider.is_refresh_token_valid(refresh_token)
    assert stored_refresh_token(account_env, ACCOUNT) is None
    assert not cache_file(account_env, ACCOUNT).exists()
    revoke_requests = [r for r in provider.requests if r["path"] == "/revoke"]
    assert [r["form"]["token_type_hint"] for r in revoke_requests] == ["refresh_token"]
    for secret in (refresh_token, access_token):
        assert secret not in stderr
    again = run_cli(account_env, "token", ACCOUNT)
    assert again.returncode == 77
    assert again.stdout == b""
    assert f"oauth-helper authorize {ACCOUNT}" in again.stderr.decode()
    assert provider.unexpected == []


def test_provider_without_revocation_endpoint_is_said_and_local_tokens_go(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = user_env(tmp_path)
    provider.register_client("ms-client")
    path = config_file(env)
    path.parent.mkdir(parents=True)
    path.write_text(
        "timeout = 3\n\n"
        "[providers.microsoft]\n"
        f'token_endpoint = "{provider.token_endpoint}"\n'
        'scopes = ["mail", "offline_access"]\n\n'
        f'[accounts."{ACCOUNT}"]\nprovider = "microsoft"\nclient_id = "ms-client"\n'
        'store = "file"\n'
    )
    seed_refresh_token(
        env, ACCOUNT, provider.seed_refresh_token(ACCOUNT, "ms-client", ["mail", "offline_access"])
    )
    assert run_cli(env, "token", ACCOUNT).returncode == 0

    stderr = ok(run_cli(env, "revoke", ACCOUNT))

    assert "microsoft has no token revocation endpoint" in stderr
    assert "https://myaccount.microsoft.com/" in stderr
    assert stored_refresh_token(env, ACCOUNT) is None
    assert not cache_file(env, ACCOUNT).exists()
    assert [r for r in provider.requests if r["path"] == "/revoke"] == []


def test_unreachable_revocation_endpoint_deletes_nothing(
    tmp_path: Path, provider: LocalProvider
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/revoke"
    env = make_account(tmp_path, provider, ACCOUNT, extra_config=f'revocation_endpoint = "{dead}"')
    # provider_config already wrote the real revocation_endpoint: make the dead one win.
    path = config_file(env)
    text = path.read_text()
    real = f'revocation_endpoint = "{provider.revocation_endpoint}"\n'
    path.write_text(text.replace(real, ""))
    before = stored_refresh_token(env, ACCOUNT)

    result = run_cli(env, "revoke", ACCOUNT)

    assert result.returncode == 75, result.stderr.decode()
    assert "nothing was deleted" in result.stderr.decode()
    assert stored_refresh_token(env, ACCOUNT) == before


def test_revoke_unknown_account_exits_67(account_env: dict[str, str]) -> None:
    result = run_cli(account_env, "revoke", "nobody@example.com")
    assert result.returncode == 67
    assert result.stdout == b""


def test_revoke_twice_is_harmless(account_env: dict[str, str], provider: LocalProvider) -> None:
    ok(run_cli(account_env, "revoke", ACCOUNT))
    stderr = ok(run_cli(account_env, "revoke", ACCOUNT))
    assert "no refresh token stored, nothing to revoke" in stderr


def test_forget_removes_only_that_account(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, BOB)
    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        env=env,
        account_extra="# alice's own comment\nsigned_in_as = 'alice@example.com'  # x",
    )
    env = make_account(tmp_path, provider, CAROL, env=env)
    path = config_file(env)
    original = "# my mail accounts\n" + path.read_text().replace("timeout = 3", "timeout = 3  # s")
    path.write_text(original)
    start = original.index(f'[accounts."{ACCOUNT}"]')
    end = original.index(f'[accounts."{CAROL}"]')
    block = original[start:end]  # the table and the blank line after it

    ok(run_cli(env, "revoke", ACCOUNT, "--forget"))

    after = path.read_bytes().decode()
    assert after in (original.replace(block, ""), original.replace(block.rstrip("\n") + "\n", ""))
    for other in (BOB, CAROL):
        assert run_cli(env, "token", other).returncode == 0
    assert run_cli(env, "token", ACCOUNT).returncode == 67
