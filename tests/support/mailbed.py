"""A private Dovecot (IMAP, POP3, submission) that validates OAuth2 tokens by introspection.

    with MailBed(tmp_path, provider.introspection_endpoint) as bed:
        imaplib.IMAP4_SSL("127.0.0.1", bed.imaps_port, ssl_context=bed.ssl_context())

Everything lives under ``workdir``: the configuration, a self-signed certificate for 127.0.0.1
and localhost (``bed.cafile``), the base directory with Dovecot's sockets, the log
(``bed.log_text()``), every user's Maildir and the Maildir of the SMTP sink the submission
service relays to (``bed.delivered()``). Dovecot runs in the foreground (``dovecot -F``) as a
child of the test process and is stopped by ``stop()`` / leaving the ``with`` block.

All virtual users map to the uid running the tests (root in CI). Tokens are checked by
Dovecot's ``oauth2`` passdb with RFC 7662 introspection (``introspection_mode = post``); the
introspection answer's ``username`` must equal the SASL user. With ``required_scope``
(``MailBed(..., required_scope="mail")``) the passdb also requires that scope in the
introspection answer (Dovecot's ``scope`` setting in the oauth2 passdb's file).
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import email.utils
import fcntl
import grp
import os
import pty
import pwd
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import termios
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from tests.support.binaries import require_binary
from tests.support.smtp_sink import SmtpSink

HOST = "127.0.0.1"
_MECHANISMS = ("xoauth2", "oauthbearer")


_port_cursor: list[int] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    scripts/test runs the Pythons in parallel and gives each run its own range below the
    kernel's ephemeral ports (OAUTH_HELPER_TEST_PORTS=LOW-HIGH): between this check and the
    server's bind, neither the other run's bind(0) nor anyone's outgoing connection can take
    the port. Ports are handed out in turn, so two calls in a row never return the same one.
    """
    span = os.environ.get("OAUTH_HELPER_TEST_PORTS", "")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if span:
            low, high = (int(bound) for bound in span.split("-"))
            if not _port_cursor:
                _port_cursor.append(low + os.getpid() % (high - low + 1))
            for _ in range(high - low + 1):
                port = _port_cursor[0]
                _port_cursor[0] = low if port >= high else port + 1
                try:
                    s.bind((HOST, port))
                except OSError:  # taken, or in TIME_WAIT from an earlier test
                    continue
                return port
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def make_certificate(
    directory: Path, names: str = "IP:127.0.0.1,DNS:localhost"
) -> tuple[Path, Path]:
    """A fresh self-signed P-256 certificate for `names` (subjectAltName): (cert, key)."""
    openssl = require_binary("openssl")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            f"subjectAltName={names}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    key.chmod(0o600)
    return cert, key


class MailBed:
    """Dovecot 2.3 with XOAUTH2/OAUTHBEARER over IMAP, POP3 and submission, plus an SMTP sink."""

    host = HOST

    def __init__(
        self,
        workdir: Path,
        introspection_url: str,
        mechanisms: Iterable[str] = _MECHANISMS,
        *,
        username_attribute: str = "username",
        required_scope: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.introspection_url = introspection_url
        self.mechanisms = tuple(m.lower() for m in mechanisms)
        unknown = set(self.mechanisms) - set(_MECHANISMS)
        if unknown or not self.mechanisms:
            raise ValueError(f"unsupported mechanisms: {sorted(unknown) or 'none'}")
        self.username_attribute = username_attribute
        if required_scope is not None and (not required_scope.strip() or "\n" in required_scope):
            raise ValueError(f"required_scope must be a non-empty line: {required_scope!r}")
        self.required_scope = required_scope
        self.imap_port = self.imaps_port = 0
        self.submission_port = self.submissions_port = 0
        self.pop3s_port = 0
        self.cafile = ""
        self.log_path = self.workdir / "dovecot.log"
        self.mail_root = self.workdir / "mail"
        self.sink = SmtpSink(self.workdir / "sink")
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> MailBed:
        dovecot = require_binary("dovecot")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.mail_root.mkdir(exist_ok=True)
        cert, key = make_certificate(self.workdir)
        self.cafile = str(cert)
        self.sink.start()
        try:
            last_error = ""
            for _attempt in range(3):  # a port picked as free may be taken by the time we bind
                self._pick_ports()
                config = self._write_config(cert, key)
                self.log_path.write_text("")
                self._proc = subprocess.Popen(
                    [dovecot, "-F", "-c", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                last_error = self._wait_ready(timeout)
                if not last_error:
                    return self
                self._terminate()
                if "Address already in use" not in last_error:
                    break
            raise RuntimeError(f"dovecot did not start: {last_error}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._terminate()
        self.sink.stop()

    def __enter__(self) -> MailBed:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            # Every process of the instance at once, without ceremony: a graceful stop costs
            # one to six seconds per bed and nothing here needs it (the log is written as it
            # goes, the state lives in a temporary directory).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Children (login, imap, auth) die with the master; make sure none linger.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()

    def _pick_ports(self) -> None:
        ports: set[int] = set()
        while len(ports) < 5:
            ports.add(free_port())
        (
            self.imap_port,
            self.imaps_port,
            self.submission_port,
            self.submissions_port,
            self.pop3s_port,
        ) = sorted(ports)

    def _wait_ready(self, timeout: float) -> str:
        """Empty string once every listener accepts connections, else what went wrong."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        pending = {
            self.imap_port,
            self.imaps_port,
            self.submission_port,
            self.submissions_port,
            self.pop3s_port,
        }
        while pending and time.monotonic() < deadline:
            if self._proc.poll() is not None:
                out = self._proc.stdout.read().decode(errors="replace") if self._proc.stdout else ""
                return (out + self.log_text()).strip() or f"exit status {self._proc.returncode}"
            for port in list(pending):
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                    pending.discard(port)
            if pending:
                time.sleep(0.05)
        if pending:
            return f"ports {sorted(pending)} not listening after {timeout} s: {self.log_text()}"
        return ""

    # -- configuration -------------------------------------------------------------------------

    def _write_config(self, cert: Path, key: Path) -> Path:
        uid, gid = os.getuid(), os.getgid()
        user = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
        mail_uid, mail_gid = self._mail_ids()
        if uid == 0:
            # Dovecot refuses uid 0 for mail processes, and the unprivileged mail uid cannot
            # traverse the test's 0700 directories: chroot (done while still root) into the
            # mail root, which that uid owns. Homes are then /<user> inside the chroot.
            os.chown(self.mail_root, mail_uid, mail_gid)
            self.mail_root.chmod(0o700)
            # No home directory: Dovecot would chdir() into it before creating it.
            mail_location = "maildir:/%u/Maildir"
            chroot_setting = f"valid_chroot_dirs = {self.mail_root}\nmail_chroot = {self.mail_root}"
        else:
            mail_location = f"maildir:{self.mail_root}/%u/Maildir"
            chroot_setting = ""
        base_dir = self.workdir / "run"
        state_dir = self.workdir / "state"
        for d in (base_dir, state_dir):
            d.mkdir(exist_ok=True)
        oauth2_conf = self.workdir / "dovecot-oauth2.conf.ext"
        oauth2_conf.write_text(
            "\n".join(
                [
                    f"introspection_url = {self.introspection_url}",
                    "introspection_mode = post",
                    f"username_attribute = {self.username_attribute}",
                    "active_attribute = active",
                    "active_value = true",
                    "timeout_msecs = 5000",
                    "debug = no",
                    *([f"scope = {self.required_scope}"] if self.required_scope else []),
                    "",
                ]
            )
        )
        oauth2_conf.chmod(0o600)
        # Root (CI) keeps Dovecot's own unprivileged users for login processes; anyone else
        # runs everything as themselves.
        unprivileged = (
            "" if uid == 0 else f"default_internal_user = {user}\ndefault_login_user = {user}\n"
        )
        config = f"""\
# Generated by tests/support/mailbed.py for one test run.
instance_name = mailbed-{uuid.uuid4().hex[:8]}
base_dir = {base_dir}
state_dir = {state_dir}
protocols = imap pop3 submission
listen = {HOST}
hostname = localhost
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "
{unprivileged}default_internal_group = {group if uid != 0 else "dovecot"}
first_valid_uid = {min(mail_uid, uid or mail_uid)}
last_valid_uid = 0
first_valid_gid = {min(mail_gid, gid or mail_gid)}
{chroot_setting}
mail_location = {mail_location}

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = {" ".join(self.mechanisms)}
auth_verbose = yes
auth_verbose_passwords = no
auth_debug = no
auth_cache_size = 0
auth_failure_delay = 0
login_log_format_elements = user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{{session}}>

passdb {{
  driver = oauth2
  mechanisms = {" ".join(self.mechanisms)}
  args = {oauth2_conf}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid}
}}

submission_relay_host = {HOST}
submission_relay_port = {self.sink.port}
submission_relay_trusted = no
submission_relay_ssl = no
submission_max_mail_size = 10M

service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    address = {HOST}
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    address = {HOST}
    port = {self.submission_port}
  }}
  inet_listener submissions {{
    address = {HOST}
    port = {self.submissions_port}
    ssl = yes
  }}
}}
# Failed logins from 127.0.0.1 would otherwise be slowed down by anvil's auth penalty
# (2, 4, 8, 15 s): the auth process cannot reach this socket, which disables the penalty.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""
        path = self.workdir / "dovecot.conf"
        path.write_text(config)
        return path

    # -- helpers for tests ---------------------------------------------------------------------

    def log_text(self) -> str:
        """The whole Dovecot log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle: str, timeout: float = 5.0) -> str:
        """The log once it contains ``needle`` (Dovecot writes login lines asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text()
            if needle in text or time.monotonic() >= deadline:
                return text
            time.sleep(0.05)

    def wait_for_line(self, pattern: str, timeout: float = 10.0) -> str:
        """The log once one of its lines matches the regular expression ``pattern``.

        Dovecot writes a login process's "Disconnected" line only when the connection closes,
        which for a failed login can be seconds after the auth process's own line.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text()
            if (
                any(regex.search(line) for line in text.splitlines())
                or time.monotonic() >= deadline
            ):
                return text
            time.sleep(0.05)

    def logins(self, protocol: str | None = None) -> list[str]:
        """Log lines of successful logins.

        They look like ``imap-login: Info: Login: user=<a@b.c>, method=XOAUTH2, ...``.
        """
        out = []
        for line in self.log_text().splitlines():
            if "-login: Info: Login: " not in line:
                continue
            if protocol is None or f"{protocol}-login:" in line:
                out.append(line)
        return out

    def login_succeeded(self, user: str, mechanism: str, protocol: str | None = None) -> bool:
        """Whether the log shows ``user`` logging in with ``mechanism`` (over ``protocol``)."""
        want_user, want_mech = f"user=<{user}>", f"method={mechanism.upper()}"
        return any(want_user in ln and want_mech in ln for ln in self.logins(protocol))

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts (only) the bed's certificate."""
        return ssl.create_default_context(cafile=self.cafile)

    @staticmethod
    def _mail_ids() -> tuple[int, int]:
        """The uid/gid owning the mail: ours, or Debian's ``mail`` user when we are root."""
        if os.getuid() != 0:
            return os.getuid(), os.getgid()
        for name in ("mail", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return entry.pw_uid, entry.pw_gid
        raise RuntimeError("running as root needs a 'mail' or 'nobody' user for the mailboxes")

    def maildir(self, user: str) -> Path:
        return self.mail_root / user / "Maildir"

    def seed_message(
        self, user: str, subject: str, body: str, *, sender: str = "seed@example.test"
    ) -> Path:
        """Put a message into ``user``'s INBOX (a new Maildir file) and return its path."""
        root = self.maildir(user)
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        msg = email.message.EmailMessage(policy=email.policy.SMTP)
        msg["From"] = sender
        msg["To"] = user
        msg["Subject"] = subject
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Message-ID"] = email.utils.make_msgid(domain="mailbed.test")
        msg.set_content(body)
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.mailbed"
        tmp = root / "tmp" / name
        tmp.write_bytes(msg.as_bytes())
        final = root / "new" / name
        tmp.rename(final)
        if os.getuid() == 0:
            mail_uid, mail_gid = self._mail_ids()
            subdirs = (root / sub for sub in ("tmp", "new", "cur"))
            for path in (self.mail_root / user, root, *subdirs, final):
                os.chown(path, mail_uid, mail_gid)
        return final

    def make_folder(self, user: str, name: str) -> Path:
        """Create the (empty) folder ``name`` in ``user``'s Maildir++ and return its directory."""
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"unsupported folder name: {name!r}")
        root = self.maildir(user)
        folder = root / f".{name}"
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            mail_uid, mail_gid = self._mail_ids()
            subdirs = (folder / sub for sub in ("tmp", "new", "cur"))
            for path in (self.mail_root / user, root, folder, *subdirs):
                os.chown(path, mail_uid, mail_gid)
        return folder

    def delivered(self, user: str | None = None) -> list[email.message.Message]:
        """Messages the submission service relayed to the sink, oldest first.

        With ``user``, only those with ``user`` among the envelope recipients.
        """
        out = []
        for raw in self.sink.messages():
            msg = email.message_from_bytes(raw)
            rcpts = [r.strip("<>").lower() for r in msg.get_all("X-Sink-Rcpt-To", [])]
            if user is None or user.lower() in rcpts:
                out.append(msg)
        return out

    def wait_delivered(
        self, user: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[email.message.Message]:
        """``delivered(user)`` once it holds at least ``count`` messages (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.delivered(user)
            if len(got) >= count or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)


# -- helpers for the real-client end-to-end tests ----------------------------------------------

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
SYSTEM_CAFILE = "/etc/ssl/certs/ca-certificates.crt"


def render_contrib(relpath: str, substitutions: Mapping[str, str]) -> str:
    """The shipped ``contrib/<relpath>`` with only the given strings replaced, in order.

    Every key must occur in the file: a contrib file that drifts from its test fails loudly
    instead of being exercised half-substituted.
    """
    path = CONTRIB / relpath
    return substitute(path.read_text(), substitutions, str(path))


def render_snippet(
    env: Mapping[str, str],
    client: str,
    account: str,
    substitutions: Mapping[str, str],
    wrap: Callable[..., list[str]] | None = None,
) -> str:
    """What ``oauth-helper snippet CLIENT ACCOUNT`` prints, with only the test bed's
    host/port/CA strings replaced (every key must occur, as for render_contrib).

    ``wrap(*argv)``: the command line that runs argv as the account's user, if not us.
    """
    from .cli_env import oauth_helper_cmd

    argv = [oauth_helper_cmd(), "snippet", client, account]
    done = run_client(wrap(*argv) if wrap else argv, env, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"oauth-helper snippet {client} {account}: {outcome(done)}")
    return substitute(done.stdout.decode(), substitutions, f"snippet {client} {account}")


def substitute(text: str, substitutions: Mapping[str, str], origin: str) -> str:
    """Replace every key by its value in one pass (longest key first where they overlap).

    One pass, so a replacement is never replaced again: a bed port that starts with 465 must
    not be taken for the "port 465" of the next substitution.
    """
    import re

    for old in substitutions:
        if old not in text:
            raise AssertionError(f"{origin}: expected placeholder {old!r} is not in the text")
    keys = sorted(substitutions, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(k) for k in keys))
    return pattern.sub(lambda m: substitutions[m.group(0)], text)


def revoke_token(revocation_endpoint: str, token: str, client_id: str) -> None:
    """Revoke ``token`` at the provider (RFC 7009): introspection then calls it inactive."""
    data = urllib.parse.urlencode({"token": token, "client_id": client_id}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(revocation_endpoint, data=data), timeout=10) as r:
        r.read()


def run_client(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 20,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a mail client; never hangs (``timeout``), stdin closed unless ``input`` is given."""
    return subprocess.run(
        list(argv),
        env=dict(env),
        input=input if input is not None else b"",
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def outcome(result: subprocess.CompletedProcess[bytes]) -> str:
    """Exit status and output of a client run, for assertion messages."""
    return (
        f"exit {result.returncode}\n--- stdout\n{result.stdout.decode(errors='replace')}"
        f"\n--- stderr\n{result.stderr.decode(errors='replace')}"
    )


def run_in_terminal(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 20,
    rows: int = 24,
    cols: int = 100,
    answers: Sequence[tuple[bytes, bytes]] = (),
) -> tuple[int | None, bytes]:
    """Run a full-screen client (mutt, neomutt) on a pseudo-terminal.

    ``answers``: (text on screen, keys to type) pairs; each is typed once, the first time its
    text has appeared. Returns (exit status, everything it drew); the status is None when the
    client did not finish within ``timeout`` and had to be killed.
    """
    pending = list(answers)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**env, "TERM": "xterm", "LINES": str(rows), "COLUMNS": str(cols)}
    try:
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([master], [], [], min(remaining, 0.2))
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    chunk = b""
                if not chunk:
                    break
                output += chunk
                for pair in list(pending):
                    if pair[0] in output:
                        pending.remove(pair)
                        os.write(master, pair[1])
            elif proc.poll() is not None:
                break
        try:
            status: int | None = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            status = None
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        os.close(master)
    return status, bytes(output)
