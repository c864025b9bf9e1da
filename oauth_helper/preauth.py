"""`oauth-helper preauth`: log in with OAuth, then hand a client an authenticated session.

fetchmail 6.4 has no OAuth at all. Its ``plugin`` option runs a command per connection and
speaks the protocol over the command's stdin/stdout; with ``auth ssh`` it sends no login. So
this command connects to the server over TLS, authenticates with XOAUTH2 or OAUTHBEARER, greets
fetchmail with ``* PREAUTH`` (IMAP) or ``+OK`` (POP3), and then copies bytes both ways until
either side closes.

stdout carries nothing but the protocol. Errors are one line on stderr and never contain the
token.
"""

from __future__ import annotations

import base64
import contextlib
import os
import selectors
import socket
import ssl
import sys
from typing import BinaryIO

from . import redact
from .deadline import Deadline
from .errors import EX_NOPERM, ConfigError, OAuthHelperError, TransientError, UsageError
from .hints import printable
from .kinds import MECHANISMS, pick
from .mailservice import tls_for_port
from .sasl import oauthbearer, xoauth2
from .settings import Settings
from .tokens import get_access_token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .kinds import Mechanism

LINGER = 10.0  # seconds to pass on the server's last words once the client has closed
TIMEOUT = 30.0  # seconds for connecting and logging in, all together; the relay has none
_MAX_LINE = 64 * 1024  # a greeting, CAPABILITY or login answer is far shorter


class LoginRejected(OAuthHelperError):
    """The server refused the token."""

    exit_code = EX_NOPERM


class _NotTLS(TransientError):
    """The server did not answer a TLS handshake with TLS."""


class _Conn:
    """A socket with a line reader that keeps whatever it read past the line."""

    def __init__(self, sock: socket.socket, where: str, deadline: Deadline | None = None) -> None:
        self.sock = sock
        self.where = where
        self.deadline = deadline if deadline is not None else Deadline(TIMEOUT)
        self.buffer = b""

    def too_slow(self) -> TransientError:
        return TransientError(
            f"{self.where}: the login did not finish in time ({self.deadline.describe()})"
        )

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            if len(self.buffer) > _MAX_LINE:
                raise TransientError(f"{self.where}: the server sent an over-long line")
            try:
                self.sock.settimeout(self.deadline.timeout())
                chunk = self.sock.recv(65536)
            except (OSError, ssl.SSLError) as e:
                if self.deadline.expired:
                    raise self.too_slow() from None
                raise TransientError(f"{self.where}: connection failed: {_reason(e)}") from None
            if not chunk:
                if self.deadline.expired:
                    raise self.too_slow()
                raise TransientError(f"{self.where}: the server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise TransientError(f"{self.where}: connection failed: {_reason(e)}") from None


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return error.verify_message or "certificate verification failed"
    if isinstance(error, socket.timeout):
        return "timed out"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _text(line: bytes) -> str:
    """A server line, fit for one line of stderr: no escape sequences or control characters
    (a hostile server must not drive the terminal); an echo of our SASL string is scrubbed
    when the error is made (the string is registered with redact)."""
    return printable(line.decode("utf-8", "replace").strip())


def run(
    settings: Settings,
    account: str,
    host: str,
    port: int,
    *,
    mechanism: str = "xoauth2",
    protocol: str = "imap",
    starttls: bool | None = None,
    cafile: str | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> int:
    """Log in to ``host:port`` as ``account`` and relay stdin/stdout to the session."""
    chosen = pick(mechanism.lower(), MECHANISMS)
    if chosen is None:
        raise UsageError(f"unknown mechanism {mechanism.lower()!r}: use {' or '.join(MECHANISMS)}")
    if protocol not in ("imap", "pop3"):
        raise UsageError(f"unknown protocol {protocol!r}: use imap or pop3")
    if not 0 < port < 65536:
        raise UsageError(f"invalid port {port}")

    token = get_access_token(settings, account).token
    response = sasl_response(chosen, account, token, host, port)

    deadline = Deadline(TIMEOUT)  # connect, TLS and login together; the relay has none
    conn: _Conn | None = None
    try:
        with deadline.guarding():
            conn = _connect_somehow(host, port, protocol, starttls, cafile, deadline)
            if protocol == "imap":
                _imap_login(conn, chosen, response, account)
                greeting = f"* PREAUTH oauth-helper: logged in as {account}\r\n".encode()
            else:
                _pop3_login(conn, chosen, response, account)
                greeting = f"+OK oauth-helper: logged in as {account}\r\n".encode()
        if deadline.expired:  # the watchdog fired as the login ended: the socket is shut
            raise conn.too_slow()
        conn.sock.settimeout(None)
        out = stdout if stdout is not None else sys.stdout.buffer
        inp = stdin if stdin is not None else sys.stdin.buffer
        _relay(conn, greeting, inp.fileno(), out.fileno())
    finally:
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sock.close()
    return 0


def sasl_response(mechanism: Mechanism, account: str, token: str, host: str, port: int) -> str:
    """The base64 SASL string, registered with redact: a server that echoes it (in an error
    line, say) must not get it, or the token inside it, onto our stderr."""
    if mechanism == "xoauth2":  # noqa: SIM108
        response = xoauth2(account, token)
    else:
        response = oauthbearer(account, token, host, port)
    redact.register(token, response)
    return response


def _connect_somehow(
    host: str,
    port: int,
    protocol: str,
    starttls: bool | None,
    cafile: str | None,
    deadline: Deadline,
) -> _Conn:
    if starttls is not None:
        return _connect(host, port, protocol, starttls, cafile, deadline)
    tls = tls_for_port(port, "pop" if protocol == "pop3" else "imap")
    if tls is not None:
        return _connect(host, port, protocol, tls == "starttls", cafile, deadline)
    # An unusual port: implicit TLS, and STARTTLS if the server greets in plain text
    # (the TLS handshake then fails on the greeting before any secret was sent).
    try:
        return _connect(host, port, protocol, False, cafile, deadline)
    except _NotTLS:
        return _connect(host, port, protocol, True, cafile, deadline)


def _connect(
    host: str,
    port: int,
    protocol: str,
    starttls: bool,
    cafile: str | None,
    deadline: Deadline | None = None,
) -> _Conn:
    where = f"{host}:{port}"
    deadline = deadline if deadline is not None else Deadline(TIMEOUT)
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"cannot use CA file {cafile}: {_reason(e)}") from None
    try:
        raw = socket.create_connection((host, port), timeout=deadline.timeout())
    except OSError as e:
        raise TransientError(f"cannot connect to {where}: {_reason(e)}") from None
    deadline.watch(raw)  # bounds the TLS handshake too, which no readline of ours sees
    try:
        if starttls:
            plain = _Conn(raw, where, deadline)
            if protocol == "imap":
                _expect_greeting(plain, b"* OK", b"* PREAUTH")
                plain.send(b"oh0 STARTTLS\r\n")
                reply = _imap_tagged(plain, b"oh0")
                if not reply.startswith(b"oh0 OK"):
                    raise ConfigError(f"{where} refused STARTTLS: {_text(reply)}")
            else:
                _expect_greeting(plain, b"+OK")
                plain.send(b"STLS\r\n")
                reply = plain.readline()
                if not reply.startswith(b"+OK"):
                    raise ConfigError(f"{where} refused STLS: {_text(reply)}")
            if plain.buffer:
                raise TransientError(f"{where}: unexpected data before the TLS handshake")
        sock = context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError as e:
        raw.close()
        raise ConfigError(
            f"the certificate of {where} is not trusted ({_reason(e)}); "
            "pass --cafile FILE if the server uses a private CA"
        ) from None
    except ssl.SSLError as e:
        raw.close()
        if deadline.expired:
            raise TransientError(
                f"{where}: TLS did not finish in time ({deadline.describe()})"
            ) from None
        if not starttls and e.reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"):
            raise _NotTLS(f"{where} does not speak implicit TLS") from None
        raise TransientError(f"TLS with {where} failed: {_reason(e)}") from None
    except OSError as e:
        raw.close()
        if deadline.expired:
            raise TransientError(
                f"{where}: TLS did not finish in time ({deadline.describe()})"
            ) from None
        raise TransientError(f"TLS with {where} failed: {_reason(e)}") from None
    except OAuthHelperError:
        raw.close()
        raise
    conn = _Conn(sock, where, deadline)
    if not starttls:
        if protocol == "imap":
            _expect_greeting(conn, b"* OK", b"* PREAUTH")
        else:
            _expect_greeting(conn, b"+OK")
    return conn


def _expect_greeting(conn: _Conn, *accepted: bytes) -> bytes:
    line = conn.readline()
    if not line.upper().startswith(tuple(a.upper() for a in accepted)):
        raise TransientError(f"{conn.where}: unexpected greeting: {_text(line)}")
    return line


def _imap_tagged(conn: _Conn, tag: bytes) -> bytes:
    """Read until the tagged reply for ``tag``; untagged lines are skipped."""
    while True:
        line = conn.readline()
        if line.startswith(tag + b" "):
            return line.rstrip(b"\r\n")


def _cancel_response(mechanism: str) -> bytes:
    # After an error challenge: XOAUTH2 wants an empty response, OAUTHBEARER a lone %x01.
    return b"\r\n" if mechanism == "xoauth2" else base64.b64encode(b"\x01") + b"\r\n"


def _imap_login(conn: _Conn, mechanism: str, response: str, account: str) -> None:
    conn.send(b"oh1 CAPABILITY\r\n")
    caps = b""
    while True:
        line = conn.readline()
        if line.upper().startswith(b"* CAPABILITY"):
            caps = line.upper()
        if line.startswith(b"oh1 "):
            break
    name = mechanism.upper().encode()
    if b"AUTH=" + name not in caps:
        raise ConfigError(f"{conn.where} does not offer {mechanism.upper()} (try --mechanism)")
    if b"SASL-IR" in caps:
        conn.send(b"oh2 AUTHENTICATE " + name + b" " + response.encode() + b"\r\n")
    else:
        conn.send(b"oh2 AUTHENTICATE " + name + b"\r\n")
    sent = b"SASL-IR" in caps
    while True:
        line = conn.readline()
        if line.startswith(b"+"):
            conn.send(_cancel_response(mechanism) if sent else response.encode() + b"\r\n")
            sent = True
            continue
        if line.startswith(b"oh2 "):
            break
    if not line.startswith(b"oh2 OK"):
        raise LoginRejected(
            f"{conn.where} rejected the {mechanism.upper()} login of {account}: {_text(line[4:])}"
        )


POP3_AUTH_LINE = 255  # RFC 5034 §4: octets of an AUTH command line, CRLF included


def _pop3_login(conn: _Conn, mechanism: str, response: str, account: str) -> None:
    name = mechanism.upper().encode()
    line = b"AUTH " + name + b" " + response.encode() + b"\r\n"
    # RFC 5034 §4: an initial response that does not fit is sent after the server's "+".
    pending = len(line) > POP3_AUTH_LINE
    conn.send(b"AUTH " + name + b"\r\n" if pending else line)
    while True:
        line = conn.readline()
        if line.startswith(b"+ ") or line.rstrip(b"\r\n") == b"+":
            conn.send(response.encode() + b"\r\n" if pending else _cancel_response(mechanism))
            pending = False
            continue
        break
    if not line.startswith(b"+OK"):
        raise LoginRejected(
            f"{conn.where} rejected the {mechanism.upper()} login of {account}: {_text(line)}"
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _relay(conn: _Conn, greeting: bytes, in_fd: int, out_fd: int) -> None:
    """Copy client (in_fd/out_fd) <-> server until either side closes."""
    sock = conn.sock
    try:
        _write_all(out_fd, greeting + conn.buffer)
    except BrokenPipeError:
        return
    conn.buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, "server")
    selector.register(in_fd, selectors.EVENT_READ, "client")
    timeout: float | None = None
    try:
        while True:
            events = selector.select(timeout)
            if not events:  # the client left and the server has nothing more to say
                return
            for key, _ in events:
                if key.data == "server":
                    try:
                        data = sock.recv(65536)
                        # TLS may hold decrypted bytes the socket no longer signals.
                        while data and isinstance(sock, ssl.SSLSocket) and sock.pending():
                            data += sock.recv(sock.pending())
                    except (OSError, ssl.SSLError):
                        data = b""
                    if not data:
                        return
                    try:
                        _write_all(out_fd, data)
                    except BrokenPipeError:
                        return
                else:
                    data = os.read(in_fd, 65536)
                    if not data:
                        # The client closed its side; let the server finish (it closes the
                        # connection after LOGOUT/QUIT) for a little while, then stop.
                        selector.unregister(in_fd)
                        timeout = LINGER
                        continue
                    try:
                        sock.sendall(data)
                    except (OSError, ssl.SSLError):
                        return
    finally:
        selector.close()
