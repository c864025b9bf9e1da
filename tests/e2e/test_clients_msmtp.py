"""msmtp with the shipped contrib/msmtp/msmtprc and with `oauth-helper snippet msmtp`:
XOAUTH2 and OAUTHBEARER, STARTTLS and SMTPS."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import make_account, make_flavoured_account, run_cli
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

GMAIL = "alice@example.test"  # stands for alice@gmail.com in the contrib file
OUTLOOK = "bob@example.test"  # stands for bob@contoso.com
RCPT = "rcpt@example.org"


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, GMAIL)
    return make_account(tmp_path, provider, OUTLOOK, env=env)


def server(bed: MailBed) -> dict[str, str]:
    """The only strings replaced: the test bed's host, ports and CA."""
    return {
        "smtp.gmail.com": bed.host,
        "smtp.office365.com": bed.host,
        "port 587": f"port {bed.submission_port}",
        "port 465": f"port {bed.submissions_port}",
        SYSTEM_CAFILE: bed.cafile,
    }


def msmtprc(tmp_path: Path, bed: MailBed, text: str | None = None) -> Path:
    """contrib/msmtp/msmtprc for the test accounts, or `text` (a snippet) for the bed."""
    if text is None:
        subs = {**server(bed), "alice@gmail.com": GMAIL, "bob@contoso.com": OUTLOOK}
        text = render_contrib("msmtp/msmtprc", subs)
    path = tmp_path / "msmtprc"
    path.write_text(text)
    path.chmod(0o600)
    return path


def message(sender: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: {RCPT}\r\nSubject: {subject}\r\n\r\nsent by msmtp\r\n").encode()


@pytest.mark.parametrize(
    ("account", "user", "mechanism"),
    [
        ("gmail", GMAIL, "OAUTHBEARER"),  # port 587, STARTTLS
        ("gmail-465", GMAIL, "XOAUTH2"),  # port 465, implicit TLS
        ("outlook", OUTLOOK, "XOAUTH2"),  # port 587, STARTTLS
    ],
)
def test_msmtp_sends(
    tmp_path: Path, bed: MailBed, env: dict[str, str], account: str, user: str, mechanism: str
) -> None:
    msmtp = require_binary("msmtp")
    rc = msmtprc(tmp_path, bed)
    subject = f"msmtp {account} {mechanism}"
    result = run_client(
        [msmtp, "-C", str(rc), "-a", account, RCPT], env, input=message(user, subject)
    )
    assert result.returncode == 0, outcome(result)
    delivered = bed.wait_delivered(RCPT)
    assert [m["Subject"] for m in delivered] == [subject]
    assert delivered[0]["X-Sink-Mail-From"] == f"<{user}>"
    bed.wait_for_log(f"user=<{user}>, method={mechanism}")
    assert bed.login_succeeded(user, mechanism, "submission"), bed.log_text()


@pytest.mark.parametrize(
    ("flavour", "label", "mechanism"),
    [
        ("google", "gmail", "OAUTHBEARER"),  # 587, STARTTLS
        ("google", "gmail-465", "XOAUTH2"),  # 465, implicit TLS
        ("microsoft", "outlook", "XOAUTH2"),  # 587, STARTTLS; Microsoft has only XOAUTH2
    ],
)
def test_msmtp_sends_with_the_snippet(
    tmp_path: Path, provider: LocalProvider, bed: MailBed, flavour: str, label: str, mechanism: str
) -> None:
    msmtp = require_binary("msmtp")
    env = make_flavoured_account(tmp_path, provider, GMAIL, flavour)
    subs = server(bed)
    del subs["smtp.office365.com" if flavour == "google" else "smtp.gmail.com"]
    if flavour == "microsoft":
        del subs["port 465"]
    rc = msmtprc(tmp_path, bed, render_snippet(env, "msmtp", GMAIL, subs))
    subject = f"msmtp snippet {label}"
    result = run_client(
        [msmtp, "-C", str(rc), "-a", label, RCPT], env, input=message(GMAIL, subject)
    )
    assert result.returncode == 0, outcome(result)
    assert [m["Subject"] for m in bed.wait_delivered(RCPT)] == [subject]
    bed.wait_for_log(f"user=<{GMAIL}>, method={mechanism}")
    assert bed.login_succeeded(GMAIL, mechanism, "submission"), bed.log_text()


@pytest.mark.parametrize("account", ["gmail", "gmail-465"])
def test_msmtp_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider, account: str
) -> None:
    msmtp = require_binary("msmtp")
    rc = msmtprc(tmp_path, bed)
    printed = run_cli(env, "token", GMAIL)
    assert printed.returncode == 0, outcome(printed)
    # The cached token still looks valid to oauth-helper, but the provider has revoked it.
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    result = run_client(
        [msmtp, "-C", str(rc), "-a", account, RCPT], env, input=message(GMAIL, "rejected")
    )
    assert result.returncode != 0, outcome(result)
    assert b"authentication failed" in result.stderr.lower(), outcome(result)
    assert bed.delivered() == []
