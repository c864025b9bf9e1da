"""`oauth-helper test` against the local Dovecot (IMAP and submission), tokens from the local provider.

Dovecot validates every token by introspection at the provider, requires the scope ``mail``
(``scope = mail`` in its oauth2 passdb) and that the introspected username is the login user.
Dovecot answers the same ``{"status":"401",...}`` for every refusal, so the decoded reasons
checked here come from oauth-helper's own look at the token after the refusal.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ACCOUNT
from tests.support.cli_env import cache_file, make_account, run_cli
from tests.support.mailbed import MailBed, revoke_token
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e
CLIENT = "test-client"


@pytest.fixture(scope="module")
def mail_provider() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        yield p


@pytest.fixture(scope="module")
def bed(
    tmp_path_factory: pytest.TempPathFactory, mail_provider: LocalProvider
) -> Iterator[MailBed]:
    with MailBed(
        tmp_path_factory.mktemp("bed"), mail_provider.introspection_endpoint, required_scope="mail"
    ) as b:
        yield b


@pytest.fixture
def env(tmp_path: Path, mail_provider: LocalProvider, bed: MailBed) -> dict[str, str]:
    # Non-standard ports in the config: `test` has to find out which one speaks TLS at once.
    servers = f'smtp = "127.0.0.1:{bed.submission_port}"\nimap = "127.0.0.1:{bed.imaps_port}"'
    return make_account(tmp_path, mail_provider, ACCOUNT, account_extra=servers)


def check(env: dict[str, str], bed: MailBed, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli(env, "test", ACCOUNT, "--cafile", bed.cafile, *args)


def lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    return result.stdout.decode().splitlines()


def cached_token(env: dict[str, str]) -> str:
    token: str = json.loads(cache_file(env, ACCOUNT).read_text())["access_token"]
    return token


def replace_cached_token(env: dict[str, str], token: str) -> None:
    """Put another access token into a valid cache entry (fingerprint and expiry kept)."""
    path = cache_file(env, ACCOUNT)
    entry = json.loads(path.read_text())
    entry["access_token"] = token
    entry["expires_at"] = time.time() + 3000
    path.write_text(json.dumps(entry))


def assert_no_secret(result: subprocess.CompletedProcess[bytes], *secrets: str) -> None:
    for secret in secrets:
        assert secret.encode() not in result.stdout + result.stderr


def test_pass_with_a_good_token(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    result = check(env, bed)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert lines(result) == [
        f"SMTP 127.0.0.1:{bed.submission_port} PASS (XOAUTH2)",
        f"IMAP 127.0.0.1:{bed.imaps_port} PASS (XOAUTH2)",
    ]
    bed.wait_for_log("submission-login: Info: Login")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "imap")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "submission")
    token = cached_token(env)
    assert_no_secret(result, token)
    assert mail_provider.unexpected == []


@pytest.mark.parametrize("mechanism", ["xoauth2", "oauthbearer"])
def test_explicit_tls_modes_and_mechanisms(
    env: dict[str, str], bed: MailBed, mechanism: str
) -> None:
    result = check(
        env,
        bed,
        "--smtp",
        f"smtps://127.0.0.1:{bed.submissions_port}",
        "--imap",
        f"imap://127.0.0.1:{bed.imap_port}",
        "--mechanism",
        mechanism,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert lines(result) == [
        f"SMTP 127.0.0.1:{bed.submissions_port} PASS ({mechanism.upper()})",
        f"IMAP 127.0.0.1:{bed.imap_port} PASS ({mechanism.upper()})",
    ]


def test_revoked_token_fails_with_the_reason(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    token = cached_token(env)
    revoke_token(mail_provider.revocation_endpoint, token, CLIENT)
    result = check(env, bed)
    assert result.returncode == 77, result.stdout.decode() + result.stderr.decode()
    out = lines(result)
    assert len(out) == 2
    for line in out:
        assert " FAIL (XOAUTH2): the provider says the token is no longer active" in line
        assert "status=401" in line  # the decoded challenge
        assert f"oauth-helper token {ACCOUNT} --force-refresh" in line
    assert_no_secret(result, token)


def test_token_without_the_mail_scope(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    token = mail_provider.issue_access_token(ACCOUNT, CLIENT, ["openid", "email"])
    replace_cached_token(env, token)
    result = check(env, bed)
    assert result.returncode == 77, result.stdout.decode() + result.stderr.decode()
    for line in lines(result):
        assert "FAIL (XOAUTH2): the token lacks the scope mail (it has: openid email)" in line
        assert f"oauth-helper authorize {ACCOUNT}" in line
    assert "Token is not valid for scope 'mail'" in bed.log_text()
    assert_no_secret(result, token)


def test_another_users_token(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    token = mail_provider.issue_access_token("mallory@example.com", CLIENT, ["mail"])
    replace_cached_token(env, token)
    result = check(env, bed)
    assert result.returncode == 77, result.stdout.decode() + result.stderr.decode()
    out = lines(result)
    assert [line.split(" FAIL")[0] for line in out] == [
        f"SMTP 127.0.0.1:{bed.submission_port}",
        f"IMAP 127.0.0.1:{bed.imaps_port}",
    ]
    for line in out:
        assert f"the token belongs to mallory@example.com, not {ACCOUNT}" in line
        assert f"sign in as {ACCOUNT}" in line
    assert_no_secret(result, token)


def test_unreachable_server_exits_75(env: dict[str, str], bed: MailBed) -> None:
    from tests.support.mailbed import free_port

    port = free_port()
    result = check(
        env, bed, "--smtp", f"smtps://127.0.0.1:{port}", "--imap", f"127.0.0.1:{bed.imaps_port}"
    )
    assert result.returncode == 75, result.stdout.decode() + result.stderr.decode()
    smtp, imap = lines(result)
    assert smtp.startswith(f"SMTP 127.0.0.1:{port} FAIL: connection failed")
    assert imap == f"IMAP 127.0.0.1:{bed.imaps_port} PASS (XOAUTH2)"


def test_untrusted_certificate_says_cafile(env: dict[str, str], bed: MailBed) -> None:
    result = run_cli(env, "test", ACCOUNT, "--imap", f"imaps://127.0.0.1:{bed.imaps_port}")
    assert result.returncode == 69
    out = lines(result)
    assert (
        f"IMAP 127.0.0.1:{bed.imaps_port} FAIL: the server's TLS certificate is not trusted"
        in out[-1]
    )
    assert "--cafile" in out[-1]


def test_only_oauthbearer_offered(tmp_path: Path, mail_provider: LocalProvider) -> None:
    with MailBed(
        tmp_path / "bed", mail_provider.introspection_endpoint, mechanisms=["oauthbearer"]
    ) as only_bearer:
        env = make_account(tmp_path, mail_provider, ACCOUNT)
        result = run_cli(
            env,
            "test",
            ACCOUNT,
            "--cafile",
            only_bearer.cafile,
            "--imap",
            f"imaps://127.0.0.1:{only_bearer.imaps_port}",
            "--smtp",
            f"smtp://127.0.0.1:{only_bearer.submission_port}",
        )
        assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
        assert [line.rsplit(" ", 1)[1] for line in lines(result)] == ["(OAUTHBEARER)"] * 2
        forced = run_cli(
            env,
            "test",
            ACCOUNT,
            "--cafile",
            only_bearer.cafile,
            "--mechanism",
            "xoauth2",
            "--imap",
            f"imaps://127.0.0.1:{only_bearer.imaps_port}",
        )
        assert forced.returncode == 69
        assert "the server offers OAUTHBEARER, not XOAUTH2 — try --mechanism oauthbearer" in (
            forced.stdout.decode()
        )


def test_reauthorization_needed_prints_nothing_on_stdout(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    mail_provider.fail_next("invalid_grant")
    result = check(env, bed)
    assert result.returncode == 77
    assert result.stdout == b""
    assert f"oauth-helper authorize {ACCOUNT}" in result.stderr.decode()
