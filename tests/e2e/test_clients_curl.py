"""curl with the shipped contrib/curl/oauth-mail.sh and with `oauth-helper snippet curl`:
SMTP and IMAP with an oauth2-bearer config on stdin.

curl picks OAUTHBEARER when the server offers it and XOAUTH2 on a server that offers only
that (the Microsoft-like bed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import config_file, make_flavoured_account, run_cli
from tests.support.mailbed import (
    SYSTEM_CAFILE,
    MailBed,
    outcome,
    render_contrib,
    render_snippet,
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


@pytest.fixture(params=["contrib", "snippet"])
def env(tmp_path: Path, provider: LocalProvider, request: pytest.FixtureRequest) -> dict[str, str]:
    """The contrib script for a local-provider account, or the snippet for a Google one."""
    require_binary("curl")
    flavour = "google" if request.param == "snippet" else "local"
    return make_flavoured_account(tmp_path, provider, ACCOUNT, flavour)


def script(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> list[str]:
    server = {
        "imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}",
        "smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}",
        SYSTEM_CAFILE: bed.cafile,
    }
    if "[providers.google]" in config_file(env).read_text():
        text = render_snippet(env, "curl", ACCOUNT, server)
    else:
        text = render_contrib("curl/oauth-mail.sh", {**server, "alice@gmail.com": ACCOUNT})
    path = tmp_path / "oauth-mail.sh"
    path.write_text(text)
    return ["sh", str(path)]


def expected_mechanism(bed: MailBed) -> str:
    return "OAUTHBEARER" if "oauthbearer" in bed.mechanisms else "XOAUTH2"


def test_curl_smtp_sends(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> None:
    message = tmp_path / "message.txt"
    message.write_bytes(
        f"From: {ACCOUNT}\r\nTo: {RCPT}\r\nSubject: curl smtp\r\n\r\nhi\r\n".encode()
    )
    result = run_client([*script(tmp_path, bed, env), "send", RCPT, str(message)], env)
    assert result.returncode == 0, outcome(result)
    assert [m["Subject"] for m in bed.wait_delivered(RCPT)] == ["curl smtp"]
    mechanism = expected_mechanism(bed)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method={mechanism}")
    assert bed.login_succeeded(ACCOUNT, mechanism, "submission"), bed.log_text()


def test_curl_imap_lists_and_fetches(tmp_path: Path, bed: MailBed, env: dict[str, str]) -> None:
    bed.seed_message(ACCOUNT, "seeded for curl", "hello curl")
    argv = script(tmp_path, bed, env)
    listing = run_client([*argv, "list"], env)
    assert listing.returncode == 0, outcome(listing)
    assert b"* SEARCH 1" in listing.stdout, outcome(listing)
    fetched = run_client([*argv, "fetch", "1"], env)
    assert fetched.returncode == 0, outcome(fetched)
    assert b"Subject: seeded for curl" in fetched.stdout
    assert b"hello curl" in fetched.stdout
    mechanism = expected_mechanism(bed)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method={mechanism}")
    assert bed.login_succeeded(ACCOUNT, mechanism, "imap"), bed.log_text()


@pytest.mark.parametrize("env", ["contrib"], indirect=True)
def test_curl_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    result = run_client([*script(tmp_path, bed, env), "list"], env)
    assert result.returncode != 0, outcome(result)
    assert b"curl: (67)" in result.stderr, outcome(result)  # CURLE_LOGIN_DENIED
    message = tmp_path / "message.txt"
    message.write_bytes(b"Subject: never\r\n\r\nx\r\n")
    result = run_client([*script(tmp_path, bed, env), "send", RCPT, str(message)], env)
    assert result.returncode != 0, outcome(result)
    assert b"curl: (67)" in result.stderr, outcome(result)
    assert bed.delivered() == []
