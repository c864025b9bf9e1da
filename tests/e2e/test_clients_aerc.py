"""aerc 0.14 with the shipped contrib/aerc/accounts.conf, driven for real inside tmux.

aerc is a full-screen program: each test starts it in a detached tmux session on a private
socket (``-a SECTION`` picks one account of the file), reads the screen with ``capture-pane``,
types commands with ``send-keys`` and quits with ``:quit``; the tmux server is killed in a
``finally``. Go's TLS stack trusts the bed's certificate through ``SSL_CERT_FILE``, so the
shipped file needs no CA setting. The Gmail section uses OAUTHBEARER for IMAP and SMTP (aerc
itself sends); the Outlook section XOAUTH2 for IMAP and sends through msmtp, with the shipped
contrib/msmtp/msmtprc.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Sequence
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
)
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

GMAIL = "alice@example.test"  # stands for alice@gmail.com
OUTLOOK = "bob@example.test"  # stands for bob@contoso.com
RCPT = "rcpt@example.org"
EXIT_MARK = "AERC-EXIT="

# (section of accounts.conf, account, mechanism aerc uses for IMAP)
CASES = [("Gmail", GMAIL, "OAUTHBEARER"), ("Outlook", OUTLOOK, "XOAUTH2")]
IDS = [case[0] for case in CASES]


class Tmux:
    """A private tmux server running one command in a detached session."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.tmux = require_binary("tmux")
        self.socket = directory / "tmux.sock"
        self.env = env
        self.server_pid: int | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-S", str(self.socket), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    def start(self, command: str, cols: int = 120, rows: int = 30) -> None:
        # "-f /dev/null": no user or system tmux configuration.
        argv = [self.tmux, "-S", str(self.socket), "-f", "/dev/null", "new-session", "-d"]
        started = subprocess.run(
            [*argv, "-x", str(cols), "-y", str(rows), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert started.returncode == 0, started.stderr
        pid = self._run("display-message", "-p", "#{pid}").stdout.strip()
        self.server_pid = int(pid) if pid.isdigit() else None

    def keys(self, *keys: str) -> None:
        """Type ``keys``: literal text, except tmux key names such as ``Enter``."""
        for key in keys:
            if key in ("Enter", "Escape"):
                self._run("send-keys", key)
            else:
                self._run("send-keys", "-l", key)

    def command(self, text: str) -> None:
        """Run an aerc command (``:text`` then Enter)."""
        self.keys(":" + text, "Enter")

    def screen(self) -> str:
        return self._run("capture-pane", "-p").stdout

    def wait_for(self, *needles: str, timeout: float = 10.0) -> str:
        """The screen once it shows one of ``needles``; fails with the screen after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if any(n in text for n in needles) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        assert any(n in text for n in needles), f"waited for {needles!r}; screen:\n{text}"
        return text

    def kill(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            self._run("kill-server")
        pid, self.server_pid = self.server_pid, None
        if pid is None:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def bed(tmp_path: Path, provider: LocalProvider) -> Iterator[MailBed]:
    with MailBed(tmp_path / "bed", provider.introspection_endpoint) as b:
        b.seed_message(GMAIL, "seeded for aerc gmail", "hello aerc")
        b.seed_message(OUTLOOK, "seeded for aerc outlook", "hello aerc")
        b.make_folder(OUTLOOK, "Sent Items")
        yield b


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider, bed: MailBed) -> dict[str, str]:
    env = make_account(tmp_path, provider, GMAIL)
    env = make_account(tmp_path, provider, OUTLOOK, env=env)
    gmail_url, outlook_url = (urllib.parse.quote(a, safe="") for a in (GMAIL, OUTLOOK))
    accounts = render_contrib(
        "aerc/accounts.conf",
        {
            "alice%40gmail.com": gmail_url,
            "alice@gmail.com": GMAIL,
            "bob%40contoso.com": outlook_url,
            "bob@contoso.com": OUTLOOK,
            "imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}",
            "outlook.office365.com:993": f"{bed.host}:{bed.imaps_port}",
        },
    )
    msmtprc = render_contrib(
        "msmtp/msmtprc",
        {
            "smtp.gmail.com": bed.host,
            "smtp.office365.com": bed.host,
            "port 587": f"port {bed.submission_port}",
            "port 465": f"port {bed.submissions_port}",
            "alice@gmail.com": GMAIL,
            "bob@contoso.com": OUTLOOK,
            SYSTEM_CAFILE: bed.cafile,
        },
    )
    return configure(tmp_path, env, bed, {"aerc/accounts.conf": accounts, "msmtp/config": msmtprc})


def configure(
    tmp_path: Path, env: dict[str, str], bed: MailBed, files: dict[str, str]
) -> dict[str, str]:
    """Write the client configs (below XDG_CONFIG_HOME) and aerc's environment."""
    config = Path(env["XDG_CONFIG_HOME"])
    for relpath, text in files.items():
        path = config / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o600)
    runtime = tmp_path / "runtime"  # aerc's control socket: not the real user's
    runtime.mkdir(mode=0o700)
    env.update(
        {
            "XDG_RUNTIME_DIR": str(runtime),
            "SSL_CERT_FILE": bed.cafile,
            "EDITOR": "true",  # the composer's editor returns at once: straight to review
            "TERM": "xterm-256color",
        }
    )
    return env


@contextlib.contextmanager
def aerc(tmp_path: Path, env: dict[str, str], section: str) -> Iterator[Tmux]:
    binary = require_binary("aerc")
    require_binary("msmtp")
    tmux = Tmux(tmp_path, env)
    try:
        # The shell stays a moment after aerc so that its exit status can be read.
        tmux.start(f"{shlex.quote(binary)} -a {section}; echo {EXIT_MARK}$?; sleep 20")
        yield tmux
    finally:
        tmux.kill()


def quit_aerc(tmux: Tmux) -> None:
    tmux.command("quit")
    assert f"{EXIT_MARK}0" in tmux.wait_for(EXIT_MARK, timeout=10)


def login_lines(bed: MailBed, user: str, protocol: str) -> Sequence[str]:
    return [line for line in bed.logins(protocol) if f"user=<{user}>" in line]


@pytest.mark.parametrize(("section", "user", "mechanism"), CASES, ids=IDS)
def test_aerc_reads_and_sends(
    tmp_path: Path, bed: MailBed, env: dict[str, str], section: str, user: str, mechanism: str
) -> None:
    subject = f"sent by aerc {section}"
    with aerc(tmp_path, env, section) as tmux:
        screen = tmux.wait_for(f"seeded for aerc {section.lower()}", "error", timeout=15)
        assert f"seeded for aerc {section.lower()}" in screen, screen
        bed.wait_for_log(f"user=<{user}>, method={mechanism}")
        assert bed.login_succeeded(user, mechanism, "imap"), bed.log_text()

        tmux.command(f'compose -H "To: {RCPT}" -H "Subject: {subject}" hello')
        tmux.wait_for("Send this email?")
        tmux.keys("y")
        sent = bed.wait_delivered(RCPT, timeout=10)
        assert [m["Subject"] for m in sent] == [subject], tmux.screen() + bed.log_text()
        assert user in sent[0]["From"]
        # Gmail: aerc itself over implicit TLS; Outlook: msmtp (STARTTLS), both through oauth-helper.
        smtp_mechanism = "OAUTHBEARER" if section == "Gmail" else "XOAUTH2"
        bed.wait_for_log("submission-login: Info: Login")
        assert bed.login_succeeded(user, smtp_mechanism, "submission"), bed.log_text()
        quit_aerc(tmux)


def test_aerc_snippet_reads_and_sends(
    tmp_path: Path, provider: LocalProvider, bed: MailBed
) -> None:
    """`oauth-helper snippet aerc` for a Google account: OAUTHBEARER for IMAP and SMTPS."""
    env = make_flavoured_account(tmp_path, provider, GMAIL, "google")
    accounts = render_snippet(
        env,
        "aerc",
        GMAIL,
        {
            "imap.gmail.com:993": f"{bed.host}:{bed.imaps_port}",
            "smtp.gmail.com:465": f"{bed.host}:{bed.submissions_port}",
        },
    )
    env = configure(tmp_path, env, bed, {"aerc/accounts.conf": accounts})
    with aerc(tmp_path, env, "Gmail") as tmux:
        screen = tmux.wait_for("seeded for aerc gmail", "error", timeout=15)
        assert "seeded for aerc gmail" in screen, screen
        tmux.command(f'compose -H "To: {RCPT}" -H "Subject: snippet" hello')
        tmux.wait_for("Send this email?")
        tmux.keys("y")
        sent = bed.wait_delivered(RCPT, timeout=10)
        assert [m["Subject"] for m in sent] == ["snippet"], tmux.screen() + bed.log_text()
        bed.wait_for_log("submission-login: Info: Login")
        assert bed.login_succeeded(GMAIL, "OAUTHBEARER", "imap"), bed.log_text()
        assert bed.login_succeeded(GMAIL, "OAUTHBEARER", "submission"), bed.log_text()
        quit_aerc(tmux)


@pytest.mark.parametrize(("section", "user", "mechanism"), CASES, ids=IDS)
def test_aerc_shows_a_rejected_token(
    tmp_path: Path,
    bed: MailBed,
    env: dict[str, str],
    provider: LocalProvider,
    section: str,
    user: str,
    mechanism: str,
) -> None:
    printed = run_cli(env, "token", user)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    with aerc(tmp_path, env, section) as tmux:
        screen = tmux.wait_for(f"{section}: {mechanism} authentication error", timeout=15)
        assert "seeded for aerc" not in screen
        assert not login_lines(bed, user, "imap")
        quit_aerc(tmux)
