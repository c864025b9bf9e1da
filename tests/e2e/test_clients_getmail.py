"""getmail6 with the shipped contrib/getmail/getmailrc: XOAUTH2 via password_command.

getmail refuses to deliver as root (CI runs as root): there the test checks the login and
getmail's refusal to deliver; as any other user it checks the delivered message too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import make_account, run_cli
from tests.support.mailbed import (
    SYSTEM_CAFILE,
    MailBed,
    outcome,
    render_contrib,
    revoke_token,
    run_client,
)
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

ACCOUNT = "alice@example.test"  # stands for alice@gmail.com


@pytest.fixture
def bed(tmp_path: Path, provider: LocalProvider) -> Iterator[MailBed]:
    with MailBed(tmp_path / "bed", provider.introspection_endpoint) as b:
        yield b


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, ACCOUNT)
    for sub in ("cur", "new", "tmp"):
        (Path(env["HOME"]) / "Mail" / "gmail" / "INBOX" / sub).mkdir(parents=True)
    return env


def getmail(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> list[str]:
    text = render_contrib(
        "getmail/getmailrc",
        {
            "server = imap.gmail.com": f"server = {bed.host}",
            "port = 993": f"port = {bed.imaps_port}",
            "alice@gmail.com": ACCOUNT,
            SYSTEM_CAFILE: bed.cafile,
        },
    )
    path = tmp_path / "getmailrc"
    path.write_text(text)
    return [
        require_binary("getmail"),
        "--getmaildir",
        str(tmp_path / "getmail-state"),
        "--rcfile",
        str(path),
    ]


def test_getmail_fetches_seeded_message(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> None:
    bed.seed_message(ACCOUNT, "seeded for getmail", "hello getmail")
    (tmp_path / "getmail-state").mkdir()
    result = run_client(getmail(tmp_path, bed, env), env, timeout=30)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method=XOAUTH2")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "imap"), outcome(result) + bed.log_text()
    if os.geteuid() == 0:
        assert b"refuse to deliver mail as root" in result.stdout + result.stderr, outcome(result)
        return
    assert result.returncode == 0, outcome(result)
    inbox = Path(env["HOME"]) / "Mail" / "gmail" / "INBOX"
    files = [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]
    assert len(files) == 1 and b"hello getmail" in files[0].read_bytes(), outcome(result)


def test_getmail_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    bed.seed_message(ACCOUNT, "never fetched", "x")
    (tmp_path / "getmail-state").mkdir()
    result = run_client(getmail(tmp_path, bed, env), env, timeout=30)
    assert result.returncode != 0, outcome(result)
    assert b"AUTHENTICATIONFAILED" in result.stdout + result.stderr, outcome(result)
    assert not bed.logins()
