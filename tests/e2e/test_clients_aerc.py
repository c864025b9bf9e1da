"""aerc 0.14 with the shipped contrib/aerc/accounts.conf, driven for real inside tmux.

aerc is a full-screen program: each test starts it in a detached tmux session on a private
socket (``-a SECTION`` picks one account of the file), reads the screen with ``capture-pane``,
types commands with ``send-keys`` and quits with ``:quit``. Go's TLS stack trusts the bed's
certificate through ``SSL_CERT_FILE``, so the shipped file needs no CA setting. The Gmail
section uses OAUTHBEARER for IMAP and SMTP (aerc itself sends); the Outlook section XOAUTH2 for
IMAP and sends through msmtp, with the shipped contrib/msmtp/msmtprc.

Every wait ends on something aerc did, never on elapsed time, so that a loaded machine only
makes the tests slower: aerc's own log (``log-file`` in aerc.conf: connections and their
errors), the bed's Dovecot log and SMTP sink, aerc's exit status (a file a shell around aerc
writes), and the screen only for what exists nowhere else (the message list, the review
prompt, "Message sent."). A typed command is sent only once aerc echoes it on its command
line. Each wait has a deadline (DEADLINE) and fails at once when what it waits for can no
longer happen: aerc exited, or logged an error it was not expected to.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.binaries import require, require_binary
from tests.support.cli_env import make_account, make_flavoured_account, run_cli
from tests.support.mailbed import (
    SYSTEM_CAFILE,
    MailBed,
    outcome,
    render_contrib,
    render_snippet,
    revoke_token,
    substitute,
)
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

GMAIL = "alice@example.test"  # stands for alice@gmail.com
OUTLOOK = "bob@example.test"  # stands for bob@contoso.com
RCPT = "rcpt@example.org"

# (section of accounts.conf, account, mechanism aerc uses for IMAP)
CASES = [("Gmail", GMAIL, "OAUTHBEARER"), ("Outlook", OUTLOOK, "XOAUTH2")]
IDS = [case[0] for case in CASES]

# An upper bound for one step on a loaded machine, not a pause: every wait returns as soon as
# its event happened (a step takes milliseconds to a second or two).
DEADLINE = 60.0
POLL = 0.05
# What aerc installs as ~/.config/aerc/aerc.conf on first start (Debian's aerc package).
SYSTEM_AERC_CONF = Path("/usr/share/aerc/aerc.conf")
# aerc 0.14 refuses :quit while a send is in progress (commands/compose/send.go, "no-quit mode").
QUIT_REFUSED = "A task is not done yet"


class Tmux:
    """A private tmux server running one program in a detached session.

    A shell around the program writes its exit status to a file the moment it exits (renamed
    into place, so it is never read half-written): that file, not tmux, says whether and how
    the program ended. tmux's own ``pane_dead`` turns 1 when the terminal closes, before tmux
    has reaped the program (pane_dead_status still empty; tmux PR #4841), and in one run under
    load it still had no status 60 s after aerc had restored the terminal. The pane stays
    after the exit (``remain-on-exit``) for the screen to be read.
    """

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.tmux = require_binary("tmux")
        self.directory = directory
        self.socket = directory / "tmux.sock"
        self.status_path = directory / "exit-status"
        self.env = env
        self.server_pid: int | None = None
        self.pane_pid: int | None = None
        self.cols = 0

    def _run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: exit {done.returncode}: {done.stderr}")
        return done.stdout

    def start(self, argv: Sequence[str], cols: int = 120, rows: int = 30) -> None:
        # Our own configuration only (no user or system tmux.conf), read before the program
        # starts: the pane must not vanish the moment a fast-failing program exits.
        conf = self.directory / "tmux.conf"
        conf.write_text("set-option -g remain-on-exit on\n")
        size = ("-x", str(cols), "-y", str(rows))
        self.cols = cols
        record = '"$@"; echo $? >"$0.part" && mv "$0.part" "$0"'
        wrapped = ["/bin/sh", "-c", record, str(self.status_path), *argv]
        self._run("-f", str(conf), "new-session", "-d", *size, "--", *wrapped)
        server, pane = self._run("display-message", "-p", "#{pid} #{pane_pid}").split()
        self.server_pid, self.pane_pid = int(server), int(pane)

    def keys(self, *keys: str) -> None:
        """Type ``keys``: literal text, except tmux key names such as ``Enter``."""
        for key in keys:
            if key in ("Enter", "Escape"):
                self._run("send-keys", key)
            else:
                self._run("send-keys", "-l", key)

    def nudge(self) -> None:
        """Make the program redraw: resize its terminal by one column (back and forth).

        aerc 0.14 draws only when an event arrives (a key, a resize, a message from its mail
        worker): a status pushed from elsewhere, such as "Message sent.", stays invisible
        until then. Resizing redraws without touching aerc's state as a key would. Each call
        changes the size (tcell ignores a SIGWINCH that leaves the size as it was).
        """
        self.cols += 1 if self.cols % 2 == 0 else -1
        self._run("resize-window", "-x", str(self.cols))

    def state(self) -> tuple[str, str | None]:
        """(the screen, "status N" once the program has exited, else None)."""
        screen = self._run("capture-pane", "-p")
        # Read after the screen: a status means the screen is the program's last one.
        try:
            return screen, f"status {self.status_path.read_text().strip()}"
        except FileNotFoundError:
            return screen, None

    def processes(self) -> str:
        """The processes the pane runs, one line each (for failure messages)."""
        if self.pane_pid is None:
            return ""
        return "\n".join(
            _describe(pid) for pid in sorted({self.pane_pid, *_descendants(self.pane_pid)})
        )

    def kill(self) -> None:
        """Stop the server and every process the pane started, for certain (SIGKILL)."""
        pids = {pid for pid in (self.server_pid, self.pane_pid) if pid is not None}
        if self.pane_pid is not None:
            # aerc and its children (msmtp, oauth-helper): listed now, before kill-server orphans them.
            pids |= _descendants(self.pane_pid)
        with contextlib.suppress(subprocess.TimeoutExpired, OSError, AssertionError):
            self._run("kill-server", check=False)
        self.server_pid = self.pane_pid = None
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (alive := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(POLL)
        assert not alive, f"processes left after the tmux session: {alive}"


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` in the process tree (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])  # after "(comm)": state, ppid, ...
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _describe(pid: int) -> str:
    """ "PID STATE COMMAND LINE" from /proc."""
    try:
        state = Path("/proc", str(pid), "stat").read_text().rpartition(")")[2].split()[0]
        argv = Path("/proc", str(pid), "cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"{pid} gone"
    return f"{pid} {state} {b' '.join(argv).decode(errors='replace').strip()}"


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its reaper does not count)."""
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


class Aerc:
    """aerc running in tmux, with its log: what the tests act on and wait for."""

    def __init__(self, tmux: Tmux, log_path: Path, bed: MailBed, errors_expected: bool) -> None:
        self.tmux = tmux
        self.log_path = log_path
        self.bed = bed
        # Whether aerc may log ERROR lines (a rejected token); otherwise the first one fails.
        self.errors_expected = errors_expected

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:  # aerc has not opened it yet
            return ""

    def _fail(self, why: str, screen: str) -> NoReturn:
        pytest.fail(
            f"{why}\n--- screen\n{screen}\n--- processes in the pane\n{self.tmux.processes()}"
            f"\n--- aerc log\n{self.log()}\n--- dovecot log\n{self.bed.log_text()}",
            pytrace=False,
        )

    def wait(
        self,
        what: str,
        done: Callable[[str, str, str | None], bool],
        *,
        give_up: Callable[[str], bool] = lambda screen: False,
        exiting: bool = False,
        redraw: bool = False,
    ) -> tuple[str, str | None]:
        """(screen, how aerc ended or None) once ``done(screen, aerc_log, ended)`` holds.

        Fails at once when that can no longer happen: aerc exited, logged an unexpected
        ERROR line (not looked at while ``exiting``) or ``give_up(screen)``. ``redraw``: make
        aerc redraw before each new look (Tmux.nudge), for what aerc shows without an event.
        """
        deadline = time.monotonic() + DEADLINE
        while True:
            screen, ended = self.tmux.state()
            log = self.log()
            if done(screen, log, ended):
                return screen, ended
            if ended is not None:
                self._fail(f"aerc exited ({ended}) while we waited for {what}", screen)
            errors = [line for line in log.splitlines() if line.startswith("ERROR")]
            if errors and not (self.errors_expected or exiting):
                self._fail(f"aerc logged an error while we waited for {what}: {errors}", screen)
            if give_up(screen):
                self._fail(f"{what} cannot happen any more", screen)
            if time.monotonic() >= deadline:
                self._fail(f"no {what} within {DEADLINE} s", screen)
            time.sleep(POLL)
            if redraw:
                self.tmux.nudge()

    def wait_screen(
        self, text: str, give_up: Callable[[str], bool] = lambda screen: False, redraw: bool = False
    ) -> str:
        """The screen once it shows ``text``."""

        def shown(screen: str, _log: str, _ended: str | None) -> bool:
            return text in screen

        return self.wait(f"{text!r} on the screen", shown, give_up=give_up, redraw=redraw)[0]

    def wait_log(self, text: str) -> str:
        """aerc's log once it holds ``text``."""
        self.wait(f"{text!r} in aerc's log", lambda _s, log, _e: text in log)
        return self.log()

    def command(self, text: str) -> None:
        """Run the aerc command ``text``: typed, checked on aerc's command line, then Enter.

        Enter goes only once aerc shows the whole line: it took every key (none went to the
        view underneath, none is still in flight).
        """
        self.tmux.keys(":" + text)
        self.wait_screen(":" + text)
        self.tmux.keys("Enter")

    def quit(self) -> str:
        """``:quit``; how aerc ended ("status 0": a clean exit)."""
        self.command("quit")
        _, ended = self.wait(
            "aerc's exit", lambda s, _l, e: e is not None or QUIT_REFUSED in s, exiting=True
        )
        if ended is None:
            # Refused: aerc leaves its no-quit mode a moment *after* showing "Message sent."
            # (a deferred call in send.go, after removing the draft). Callers quit only once
            # every send was reported done, so nothing is left to wait for.
            self.command("quit -f")
            _, ended = self.wait("aerc's exit", lambda _s, _l, e: e is not None, exiting=True)
        assert ended is not None
        return ended

    def send(self, subject: str) -> None:
        """Compose a message to RCPT and send it; returns once aerc reported it sent."""
        self.command(f'compose -H "To: {RCPT}" -H "Subject: {subject}" hello')
        # EDITOR=true returns at once: aerc shows the review.
        self.wait_screen("Send this email?")
        self.tmux.keys("y")
        # aerc removes the composer when sending starts ("y" was taken) ...
        self.wait("the review to close", lambda s, _l, _e: "Send this email?" not in s)
        # ... and, from another goroutine (hence redraw), reports "Message sent." or reopens
        # the composer with the error on the status line.
        self.wait_screen("Message sent.", give_up=lambda s: "Send this email?" in s, redraw=True)


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
    """Write the client configs (below XDG_CONFIG_HOME) and aerc's environment.

    aerc.conf is the one aerc itself would install on first start, with its log switched on.
    """
    require(SYSTEM_AERC_CONF.is_file(), f"{SYSTEM_AERC_CONF} (Debian's aerc package) is missing")
    aerc_conf = substitute(
        SYSTEM_AERC_CONF.read_text(),
        {"#log-file=": f"log-file={tmp_path / 'aerc.log'}", "#log-level=info": "log-level=debug"},
        str(SYSTEM_AERC_CONF),
    )
    config = Path(env["XDG_CONFIG_HOME"])
    for relpath, text in {"aerc/aerc.conf": aerc_conf, **files}.items():
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
def aerc(
    tmp_path: Path, env: dict[str, str], bed: MailBed, section: str, errors_expected: bool = False
) -> Iterator[Aerc]:
    binary = require_binary("aerc")
    require_binary("msmtp")
    tmux = Tmux(tmp_path, env)
    try:
        tmux.start([binary, "-a", section])
        yield Aerc(tmux, tmp_path / "aerc.log", bed, errors_expected)
    finally:
        tmux.kill()


def login_line(protocol: str, user: str, mechanism: str) -> str:
    """A regular expression for Dovecot's line of a successful login."""
    return rf"{protocol}-login: Info: Login: user=<{re.escape(user)}>, method={mechanism}\b"


def login_lines(bed: MailBed, user: str, protocol: str) -> Sequence[str]:
    return [line for line in bed.logins(protocol) if f"user=<{user}>" in line]


def reads_and_sends(
    client: Aerc, bed: MailBed, user: str, seeded: str, subject: str, imap: str, smtp: str
) -> None:
    """The seeded message listed, one message sent, both logins with the right mechanism."""
    # The message list is drawn: aerc connected, listed INBOX and takes commands.
    client.wait_screen(seeded)
    bed.wait_for_line(login_line("imap", user, imap), timeout=DEADLINE)  # Dovecot logs async
    assert bed.login_succeeded(user, imap, "imap"), bed.log_text()

    client.send(subject)
    # The sink stored the message before its "250", which came before aerc's "Message sent.".
    sent = bed.delivered(RCPT)
    assert [m["Subject"] for m in sent] == [subject], bed.log_text()
    assert user in sent[0]["From"]
    bed.wait_for_line(login_line("submission", user, smtp), timeout=DEADLINE)
    assert bed.login_succeeded(user, smtp, "submission"), bed.log_text()
    assert client.quit() == "status 0"


@pytest.mark.parametrize(("section", "user", "mechanism"), CASES, ids=IDS)
def test_aerc_reads_and_sends(
    tmp_path: Path, bed: MailBed, env: dict[str, str], section: str, user: str, mechanism: str
) -> None:
    # Gmail: aerc itself over implicit TLS; Outlook: msmtp (STARTTLS), both through oauth-helper.
    smtp_mechanism = "OAUTHBEARER" if section == "Gmail" else "XOAUTH2"
    with aerc(tmp_path, env, bed, section) as client:
        seeded, subject = f"seeded for aerc {section.lower()}", f"sent by aerc {section}"
        reads_and_sends(client, bed, user, seeded, subject, mechanism, smtp_mechanism)


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
    with aerc(tmp_path, env, bed, "Gmail") as client:
        seeded = "seeded for aerc gmail"
        reads_and_sends(client, bed, GMAIL, seeded, "snippet", "OAUTHBEARER", "OAUTHBEARER")


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
    error = f"{mechanism} authentication error"
    with aerc(tmp_path, env, bed, section, errors_expected=True) as client:
        # aerc logs the server's refusal, then puts the same text on the status line (for
        # 10 s: looked at right after the log line).
        client.wait_log(f"[{section}] unexpected error: {error}")
        screen = client.wait_screen(f"{section}: {error}")
        assert "seeded for aerc" not in screen
        assert not login_lines(bed, user, "imap")
        assert client.quit() == "status 0"
