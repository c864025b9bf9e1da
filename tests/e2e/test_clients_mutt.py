"""mutt and neomutt with the shipped contrib files: IMAP and SMTP, XOAUTH2 and OAUTHBEARER.

Sending runs the client in batch mode (``-s SUBJECT -- RCPT < body``); reading runs it on a
pseudo-terminal and drives it with pushed keys: open the INBOX, pipe the first message to a
file, quit. The Gmail files use OAUTHBEARER (listed first) and the Outlook files XOAUTH2.
"""

from __future__ import annotations

import subprocess
import urllib.parse
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
    ("neomutt", "neomutt/neomuttrc-gmail", GMAIL, "OAUTHBEARER"),
    ("neomutt", "neomutt/neomuttrc-outlook", OUTLOOK, "XOAUTH2"),
]
IDS = [case[1].split("/")[1] for case in CASES]


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(tmp_path, provider, GMAIL)
    return make_account(tmp_path, provider, OUTLOOK, env=env)


def rcfile(tmp_path: Path, bed: MailBed, relpath: str) -> Path:
    if "gmail" in relpath:
        substitutions = {
            "imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}",
            "alice@gmail.com": GMAIL,
        }
        if relpath.startswith("mutt/"):  # mutt has no smtp_user: the user is in the URL
            substitutions = {
                "alice%40gmail.com": urllib.parse.quote(GMAIL, safe=""),
                **substitutions,
            }
    else:
        substitutions = {
            "outlook.office365.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.office365.com:587": f"{bed.host}:{bed.submission_port}",
            "bob@contoso.com": OUTLOOK,
        }
        if relpath.startswith("mutt/"):
            substitutions = {
                "bob%40contoso.com": urllib.parse.quote(OUTLOOK, safe=""),
                **substitutions,
            }
    substitutions[SYSTEM_CAFILE] = bed.cafile
    path = tmp_path / Path(relpath).name
    path.write_text(render_contrib(relpath, substitutions))
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
