"""curl with the shipped contrib/curl scripts: SMTP and IMAP with --oauth2-bearer.

curl picks OAUTHBEARER when the server offers it and XOAUTH2 on a server that offers only
that (the Microsoft-like bed).
"""

from __future__ import annotations

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
RCPT = "rcpt@example.org"


@pytest.fixture(params=[("xoauth2", "oauthbearer"), ("xoauth2",)], ids=["both", "xoauth2-only"])
def bed(
    tmp_path: Path, provider: LocalProvider, request: pytest.FixtureRequest
) -> Iterator[MailBed]:
    with MailBed(tmp_path / "bed", provider.introspection_endpoint, request.param) as b:
        yield b


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    require_binary("curl")
    return make_account(tmp_path, provider, ACCOUNT)


def script(tmp_path: Path, bed: MailBed, name: str) -> Path:
    server = (
        {"smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}"}
        if "smtp" in name
        else {"imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}"}
    )
    text = render_contrib(
        f"curl/{name}", {**server, "alice@gmail.com": ACCOUNT, SYSTEM_CAFILE: bed.cafile}
    )
    path = tmp_path / name
    path.write_text(text)
    return path


def expected_mechanism(bed: MailBed) -> str:
    return "OAUTHBEARER" if "oauthbearer" in bed.mechanisms else "XOAUTH2"


def test_curl_smtp_sends(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> None:
    message = tmp_path / "message.txt"
    message.write_bytes(
        f"From: {ACCOUNT}\r\nTo: {RCPT}\r\nSubject: curl smtp\r\n\r\nhi\r\n".encode()
    )
    result = run_client(["sh", str(script(tmp_path, bed, "curl-smtp.sh")), RCPT, str(message)], env)
    assert result.returncode == 0, outcome(result)
    assert [m["Subject"] for m in bed.wait_delivered(RCPT)] == ["curl smtp"]
    mechanism = expected_mechanism(bed)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method={mechanism}")
    assert bed.login_succeeded(ACCOUNT, mechanism, "submission"), bed.log_text()


def test_curl_imap_lists_and_fetches(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> None:
    bed.seed_message(ACCOUNT, "seeded for curl", "hello curl")
    path = script(tmp_path, bed, "curl-imap.sh")
    listing = run_client(["sh", str(path)], env)
    assert listing.returncode == 0, outcome(listing)
    assert b"* SEARCH 1" in listing.stdout, outcome(listing)
    fetched = run_client(["sh", str(path), "1"], env)
    assert fetched.returncode == 0, outcome(fetched)
    assert b"Subject: seeded for curl" in fetched.stdout
    assert b"hello curl" in fetched.stdout
    mechanism = expected_mechanism(bed)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method={mechanism}")
    assert bed.login_succeeded(ACCOUNT, mechanism, "imap"), bed.log_text()


def test_curl_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    result = run_client(["sh", str(script(tmp_path, bed, "curl-imap.sh"))], env)
    assert result.returncode != 0, outcome(result)
    assert b"curl: (67)" in result.stderr, outcome(result)  # CURLE_LOGIN_DENIED
    message = tmp_path / "message.txt"
    message.write_bytes(b"Subject: never\r\n\r\nx\r\n")
    result = run_client(["sh", str(script(tmp_path, bed, "curl-smtp.sh")), RCPT, str(message)], env)
    assert result.returncode != 0, outcome(result)
    assert b"curl: (67)" in result.stderr, outcome(result)
    assert bed.delivered() == []
