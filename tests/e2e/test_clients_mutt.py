"""mutt and neomutt with the shipped contrib files and with `oauth-helper snippet`: IMAP and
SMTP, XOAUTH2 and OAUTHBEARER.

Sending runs the client in batch mode (``-s SUBJECT -- RCPT < body``); reading runs it on a
pseudo-terminal and drives it with pushed keys: open the INBOX, pipe the first message to a
file, quit. mutt's Gmail file uses OAUTHBEARER (listed first), neomutt's XOAUTH2 (listed first
for its token-size limits), the Outlook files XOAUTH2.
"""

from __future__ import annotations

import subprocess
import urllib.parse
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
    run_in_terminal,
)
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

GMAIL = "alice@example.test"  # stands for alice@gmail.com
OUTLOOK = "bob@example.test"  # stands for bob@contoso.com
RCPT = "rcpt@example.org"

# (client, contrib file, account, mechanism the client should use)
CASES = [
    ("mutt", "mutt/muttrc-gmail", GMAIL, "OAUTHBEARER"),
    ("mutt", "mutt/muttrc-outlook", OUTLOOK, "XOAUTH2"),
    ("neomutt", "neomutt/neomuttrc-gmail", GMAIL, "XOAUTH2"),
    ("neomutt", "neomutt/neomuttrc-outlook", OUTLOOK, "XOAUTH2"),
]
IDS = [case[1].split("/")[1] for case in CASES]


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, GMAIL)
    return make_account(tmp_path, provider, OUTLOOK, env=env)


def server(bed: MailBed, relpath: str) -> dict[str, str]:
    """The only strings replaced: the test bed's hosts, ports and CA."""
    if "gmail" in relpath:
        subs = {
            "imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}",
        }
    else:
        subs = {
            "outlook.office365.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.office365.com:587": f"{bed.host}:{bed.submission_port}",
        }
    return {**subs, SYSTEM_CAFILE: bed.cafile}


def rcfile(tmp_path: Path, bed: MailBed, relpath: str, text: str | None = None) -> Path:
    """contrib/RELPATH for the test accounts, or `text` (a snippet) for the bed."""
    if text is None:
        if "gmail" in relpath:
            address, user = {"alice@gmail.com": GMAIL}, {"alice%40gmail.com": GMAIL}
        else:
            address, user = {"bob@contoso.com": OUTLOOK}, {"bob%40contoso.com": OUTLOOK}
        subs = server(bed, relpath)
        if relpath.startswith("mutt/"):  # mutt has no smtp_user: the user is in the URL
            subs = {k: urllib.parse.quote(v, safe="") for k, v in user.items()} | subs
        text = render_contrib(relpath, {**subs, **address})
    path = tmp_path / Path(relpath).name
    path.write_text(text)
    return path


def send(
    client: str, rc: Path, env: dict[str, str], subject: str
) -> subprocess.CompletedProcess[bytes]:
    binary = require_binary(client)
    return run_client(
        [binary, "-n", "-F", str(rc), "-e", "set sleep_time=0", "-s", subject, "--", RCPT],
        env,
        input=b"sent in batch mode\n",
    )


def read_first_message(
    client: str, rc: Path, env: dict[str, str], out: Path
) -> tuple[int | None, bytes]:
    binary = require_binary(client)
    keys = f"<pipe-message>cat > {out}<enter><quit>"
    return run_in_terminal(
        [
            binary,
            "-n",
            "-F",
            str(rc),
            "-e",
            "set wait_key=no quit=yes sleep_time=0",
            "-e",
            f'push "{keys}"',
        ],
        env,
        # A failed login leaves the client running with "No mailbox is open" (the failing
        # <pipe-message> cancels the rest of the pushed keys): a user would read the error
        # and quit, so do that.
        answers=[(b"No mailbox is open", b"q")],
    )


@pytest.mark.parametrize(("client", "relpath", "user", "mechanism"), CASES, ids=IDS)
def test_send_over_smtp(
    tmp_path: Path,
    bed: MailBed,
    env: dict[str, str],
    client: str,
    relpath: str,
    user: str,
    mechanism: str,
) -> None:
    rc = rcfile(tmp_path, bed, relpath)
    subject = f"{client} smtp {mechanism}"
    result = send(client, rc, env, subject)
    assert result.returncode == 0, outcome(result)
    delivered = bed.wait_delivered(RCPT)
    assert [m["Subject"] for m in delivered] == [subject]
    assert delivered[0]["X-Sink-Mail-From"] == f"<{user}>"
    bed.wait_for_log(f"user=<{user}>, method={mechanism}")
    assert bed.login_succeeded(user, mechanism, "submission"), bed.log_text()


@pytest.mark.parametrize(("client", "relpath", "user", "mechanism"), CASES, ids=IDS)
def test_read_over_imap(
    tmp_path: Path,
    bed: MailBed,
    env: dict[str, str],
    client: str,
    relpath: str,
    user: str,
    mechanism: str,
) -> None:
    rc = rcfile(tmp_path, bed, relpath)
    bed.seed_message(user, f"seeded for {client}", f"hello {client} over {mechanism}")
    out = tmp_path / "piped.txt"
    status, screen = read_first_message(client, rc, env, out)
    shown = screen.decode(errors="replace")
    assert status is not None, f"{client} did not finish:\n{shown}"
    assert out.exists(), f"{client} did not pipe the message:\n{shown}"
    assert f"hello {client} over {mechanism}" in out.read_text()
    bed.wait_for_log(f"user=<{user}>, method={mechanism}")
    assert bed.login_succeeded(user, mechanism, "imap"), bed.log_text()


SNIPPET_CASES = [
    ("mutt", "google", "OAUTHBEARER"),
    ("mutt", "microsoft", "XOAUTH2"),
    ("neomutt", "google", "XOAUTH2"),
    ("neomutt", "microsoft", "XOAUTH2"),
]


@pytest.mark.parametrize(("client", "flavour", "mechanism"), SNIPPET_CASES)
def test_snippet_sends_and_reads(
    tmp_path: Path, provider: LocalProvider, bed: MailBed, client: str, flavour: str, mechanism: str
) -> None:
    env = make_flavoured_account(tmp_path, provider, GMAIL, flavour)
    subs = server(bed, "gmail" if flavour == "google" else "outlook")
    rc = rcfile(tmp_path, bed, f"{client}rc", render_snippet(env, client, GMAIL, subs))
    subject = f"{client} snippet {flavour}"
    result = send(client, rc, env, subject)
    assert result.returncode == 0, outcome(result)
    assert [m["Subject"] for m in bed.wait_delivered(RCPT)] == [subject]
    assert bed.login_succeeded(GMAIL, mechanism, "submission"), bed.log_text()
    bed.seed_message(GMAIL, "seeded", f"hello {client} snippet")
    out = tmp_path / "piped.txt"
    status, screen = read_first_message(client, rc, env, out)
    assert status is not None and out.exists(), screen.decode(errors="replace")
    assert f"hello {client} snippet" in out.read_text()
    bed.wait_for_log(f"user=<{GMAIL}>, method={mechanism}")
    assert bed.login_succeeded(GMAIL, mechanism, "imap"), bed.log_text()


@pytest.mark.parametrize(("client", "relpath", "user", "mechanism"), CASES, ids=IDS)
def test_rejected_token_fails_visibly(
    tmp_path: Path,
    bed: MailBed,
    env: dict[str, str],
    provider: LocalProvider,
    client: str,
    relpath: str,
    user: str,
    mechanism: str,
) -> None:
    rc = rcfile(tmp_path, bed, relpath)
    printed = run_cli(env, "token", user)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")

    result = send(client, rc, env, "never delivered")
    assert result.returncode != 0, outcome(result)
    assert b"auth" in result.stderr.lower(), outcome(result)
    assert bed.delivered() == []

    bed.seed_message(user, "not to be read", "secret body")
    out = tmp_path / "piped.txt"
    status, screen = read_first_message(client, rc, env, out)
    shown = screen.decode(errors="replace")
    assert status is not None, f"{client} hung on a rejected token:\n{shown}"
    assert not out.exists()
    assert "No mailbox is open" in shown, shown
    if client == "mutt":  # neomutt's error message is replaced before it is ever drawn
        assert f"{mechanism} authentication failed" in shown, shown
    log = bed.wait_for_line(rf"imap-login: .*method={mechanism},")
    assert f"oauth2({user},{bed.host}," in log, log
    imap_attempts = [
        line
        for line in log.splitlines()
        if "imap-login: " in line and f"method={mechanism}," in line
    ]
    assert imap_attempts, log
    assert not bed.logins(), log
