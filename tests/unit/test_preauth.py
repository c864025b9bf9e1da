"""oauth_helper.preauth without a real server: line reading, greetings, the IMAP and POP3 login
dialogues against a scripted peer on a socketpair, error mapping, and the relay (binary-safe,
both directions, ends when either side is done).

Everything runs over socketpairs, pipes and one listener on 127.0.0.1; each blocking step has
a timeout, so a regression hangs no test for more than a few seconds.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import pytest

from oauth_helper import preauth
from oauth_helper.errors import EX_NOPERM, ConfigError, TransientError, UsageError
from oauth_helper.sasl import oauthbearer, xoauth2
from oauth_helper.settings import Settings

USER = "alice@example.com"
TOKEN = "ya29.secret-token-value"
STEP = 5.0  # seconds any single step may take


class Peer:
    """The server end of a socketpair, answering each line it receives from a script.

    ``script`` is a list of (prefix the received line must start with, reply to send); the
    replies go out as they are (include CRLF). Received lines are kept in ``received``.
    """

    def __init__(
        self, sock: socket.socket, script: Sequence[tuple[bytes, bytes]], hang_up: bool = False
    ) -> None:
        self.sock = sock
        self.hang_up = hang_up
        self.script = list(script)
        self.received: list[bytes] = []
        self.error: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(STEP)
        buffer = b""
        try:
            for expected, reply in self.script:
                while b"\n" not in buffer:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        self.error = f"client closed while {expected!r} was expected"
                        return
                    buffer += chunk
                line, _, buffer = buffer.partition(b"\n")
                self.received.append(line + b"\n")
                if not line.startswith(expected):
                    self.error = f"expected {expected!r}, got {line!r}"
                    return
                self.sock.sendall(reply)
            if self.hang_up:
                self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.error = str(e)


@contextlib.contextmanager
def scripted(
    script: Sequence[tuple[bytes, bytes]], greeting: bytes = b"", *, hang_up: bool = False
) -> Iterator[tuple[preauth._Conn, Peer]]:
    client, server = socket.socketpair()
    client.settimeout(STEP)
    if greeting:
        server.sendall(greeting)
    peer = Peer(server, script, hang_up)
    peer.thread.start()
    try:
        yield preauth._Conn(client, "server.test:993"), peer
    finally:
        client.close()
        peer.thread.join(STEP)
        server.close()


# -- small pure helpers ------------------------------------------------------------------------


def test_text_is_one_short_printable_line() -> None:
    assert preauth._text(b"oh2 NO [AUTHENTICATIONFAILED] nope\r\n") == (
        "oh2 NO [AUTHENTICATIONFAILED] nope"
    )
    assert preauth._text(b"\xff\xfebad\r\n") == "\ufffd\ufffdbad"
    assert len(preauth._text(b"x" * 5000)) == 300


def test_reason_names_the_failure() -> None:
    cert_error = ssl.SSLCertVerificationError(1, "verify failed")
    cert_error.verify_message = "self-signed certificate"
    assert preauth._reason(cert_error) == "self-signed certificate"
    assert preauth._reason(TimeoutError("timed out")) == "timed out"
    assert preauth._reason(ConnectionRefusedError(111, "Connection refused")) == (
        "Connection refused"
    )
    assert preauth._reason(RuntimeError()) == "RuntimeError"


def test_cancel_responses() -> None:
    # RFC 7628 §3.2.3: OAUTHBEARER answers an error challenge with %x01; XOAUTH2 with nothing.
    assert preauth._cancel_response("xoauth2") == b"\r\n"
    assert base64.b64decode(preauth._cancel_response("oauthbearer").strip()) == b"\x01"


# -- line reading and greetings ----------------------------------------------------------------


def test_readline_splits_and_keeps_the_rest() -> None:
    client, server = socket.socketpair()
    with client, server:
        client.settimeout(STEP)
        conn = preauth._Conn(client, "s:1")
        server.sendall(b"* OK one\r\n* two")
        assert conn.readline() == b"* OK one\r\n"
        server.sendall(b" continues\r\nrest-without-newline")
        assert conn.readline() == b"* two continues\r\n"
        assert conn.buffer == b"rest-without-newline"


def test_readline_reports_a_closed_connection() -> None:
    client, server = socket.socketpair()
    with client:
        client.settimeout(STEP)
        server.sendall(b"partial")
        server.close()
        with pytest.raises(TransientError, match="s:1: the server closed the connection"):
            preauth._Conn(client, "s:1").readline()


def test_readline_refuses_an_endless_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preauth, "_MAX_LINE", 1000)
    client, server = socket.socketpair()
    with client, server:
        client.settimeout(STEP)
        server.sendall(b"x" * 5000)
        with pytest.raises(TransientError, match="over-long line"):
            preauth._Conn(client, "s:1").readline()


def test_readline_past_the_deadline_is_a_transient_error() -> None:
    from oauth_helper.deadline import Deadline

    client, server = socket.socketpair()
    expected = r"s:1: the login did not finish in time \(0\.\d s elapsed, deadline 0\.05 s\)"
    with client, server, pytest.raises(TransientError, match=expected):
        preauth._Conn(client, "s:1", Deadline(0.05)).readline()


@pytest.mark.parametrize("line", [b"* OK ready\r\n", b"* ok ready\r\n", b"* PREAUTH hi\r\n"])
def test_imap_greetings_accepted(line: bytes) -> None:
    with scripted([], greeting=line) as (conn, _):
        assert preauth._expect_greeting(conn, b"* OK", b"* PREAUTH") == line


def test_unexpected_greeting_is_quoted() -> None:
    with (
        scripted([], greeting=b"* BYE go away\r\n") as (conn, _),
        pytest.raises(
            TransientError, match=r"server.test:993: unexpected greeting: \* BYE go away"
        ),
    ):
        preauth._expect_greeting(conn, b"* OK", b"* PREAUTH")


def test_imap_tagged_skips_untagged_lines() -> None:
    with scripted([], greeting=b"* 3 EXISTS\r\noh0x no\r\noh0 OK done\r\n") as (conn, _):
        assert preauth._imap_tagged(conn, b"oh0") == b"oh0 OK done"


# -- IMAP login --------------------------------------------------------------------------------

CAPS_IR = b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER\r\noh1 OK\r\n"
CAPS_NO_IR = b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER\r\noh1 OK\r\n"


def test_imap_login_with_initial_response() -> None:
    response = xoauth2(USER, TOKEN)
    script = [
        (b"oh1 CAPABILITY", CAPS_IR),
        (b"oh2 AUTHENTICATE XOAUTH2 " + response.encode(), b"oh2 OK logged in\r\n"),
    ]
    with scripted(script) as (conn, peer):
        preauth._imap_login(conn, "xoauth2", response, USER)
        peer.thread.join(STEP)
    assert peer.error is None
    assert len(peer.received) == 2


def test_imap_login_without_sasl_ir_waits_for_the_continuation() -> None:
    response = oauthbearer(USER, TOKEN, "server.test", 993)
    script = [
        (b"oh1 CAPABILITY", CAPS_NO_IR),
        (b"oh2 AUTHENTICATE OAUTHBEARER\r", b"+ \r\n"),
        (response.encode() + b"\r", b"* CAPABILITY IMAP4rev1\r\noh2 OK welcome\r\n"),
    ]
    with scripted(script) as (conn, peer):
        preauth._imap_login(conn, "oauthbearer", response, USER)
        peer.thread.join(STEP)
    assert peer.error is None
    assert peer.received[1] == b"oh2 AUTHENTICATE OAUTHBEARER\r\n"


@pytest.mark.parametrize(
    ("mechanism", "cancel"),
    [("xoauth2", b"\r\n"), ("oauthbearer", b"AQ==\r\n")],
)
def test_imap_rejection_cancels_and_maps_to_noperm(mechanism: str, cancel: bytes) -> None:
    response = xoauth2(USER, TOKEN) if mechanism == "xoauth2" else oauthbearer(USER, TOKEN)
    challenge = base64.b64encode(b'{"status":"401","schemes":"bearer"}')
    script = [
        (b"oh1 CAPABILITY", CAPS_IR),
        (b"oh2 AUTHENTICATE " + mechanism.upper().encode(), b"+ " + challenge + b"\r\n"),
        (cancel.rstrip(b"\n"), b"oh2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    ]
    with scripted(script) as (conn, peer), pytest.raises(preauth.LoginRejected) as caught:
        preauth._imap_login(conn, mechanism, response, USER)
    assert peer.error is None
    assert peer.received[-1] == cancel
    message = str(caught.value)
    assert message == (
        f"server.test:993 rejected the {mechanism.upper()} login of {USER}: "
        "NO [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert TOKEN not in message and response not in message
    assert caught.value.exit_code == EX_NOPERM


def test_imap_mechanism_not_offered() -> None:
    script = [(b"oh1 CAPABILITY", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\noh1 OK\r\n")]
    with (
        scripted(script) as (conn, peer),
        pytest.raises(ConfigError, match="does not offer OAUTHBEARER"),
    ):
        preauth._imap_login(conn, "oauthbearer", oauthbearer(USER, TOKEN), USER)
    assert len(peer.received) == 1  # nothing secret was sent


def test_imap_login_server_vanishes() -> None:
    with (
        scripted([(b"oh1 CAPABILITY", b"* BYE shutting down\r\n")], hang_up=True) as (conn, _),
        pytest.raises(TransientError, match=r"server\.test:993: the server closed the connection"),
    ):
        preauth._imap_login(conn, "xoauth2", xoauth2(USER, TOKEN), USER)


# -- POP3 login --------------------------------------------------------------------------------


def test_pop3_login_ok() -> None:
    response = xoauth2(USER, TOKEN)
    with scripted([(b"AUTH XOAUTH2 " + response.encode(), b"+OK logged in\r\n")]) as (conn, p):
        preauth._pop3_login(conn, "xoauth2", response, USER)
        p.thread.join(STEP)
    assert p.error is None


def test_pop3_long_response_is_sent_after_the_continuation() -> None:
    # Issue 12 item 8, RFC 5034 §4: an AUTH line is at most 255 octets. Microsoft's tokens are
    # over a kilobyte, so the response goes after the server's "+". Before: all on the AUTH line.
    long_token = "eyJ0eXAiOiJKV1Qi." + "x" * 1500
    response = xoauth2(USER, long_token)
    script = [(b"AUTH XOAUTH2", b"+ \r\n"), (response.encode(), b"+OK logged in\r\n")]
    with scripted(script) as (conn, peer):
        preauth._pop3_login(conn, "xoauth2", response, USER)
        peer.thread.join(STEP)
    assert peer.error is None
    assert peer.received[0] == b"AUTH XOAUTH2\r\n"  # no initial response on the line
    assert all(len(line) <= preauth.POP3_AUTH_LINE for line in peer.received[:1])


def test_pop3_rejection_after_a_challenge() -> None:
    response = oauthbearer(USER, TOKEN)
    script = [
        (b"AUTH OAUTHBEARER ", b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
        (b"AQ==", b"-ERR [AUTH] Authentication failed.\r\n"),
    ]
    with scripted(script) as (conn, peer), pytest.raises(preauth.LoginRejected) as caught:
        preauth._pop3_login(conn, "oauthbearer", response, USER)
    assert peer.error is None
    assert str(caught.value).endswith(f"login of {USER}: -ERR [AUTH] Authentication failed.")
    assert TOKEN not in str(caught.value)


# -- argument checks and connection set-up -----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mechanism": "plain"}, "unknown mechanism 'plain'"),
        ({"protocol": "smtp"}, "unknown protocol 'smtp'"),
        ({"port": 0}, "invalid port 0"),
        ({"port": 70000}, "invalid port 70000"),
    ],
)
def test_bad_arguments_fail_before_any_token(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"host": "server.test", "port": 993, **kwargs}
    # No settings at all: the checks come before the token is looked up.
    with pytest.raises(UsageError, match=message):
        preauth.run(cast(Settings, None), USER, **args)  # type: ignore[arg-type]


@contextlib.contextmanager
def plain_server(lines: bytes) -> Iterator[int]:
    """A one-connection server on 127.0.0.1 that greets in plain text and waits for the peer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(STEP)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(STEP)
                conn.sendall(lines)
                while conn.recv(65536):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
        thread.join(STEP)


def test_plain_greeting_on_implicit_tls_is_not_tls() -> None:
    # The handshake fails on the server's plain greeting: what `run` takes as "try STARTTLS".
    with plain_server(b"* OK IMAP ready\r\n") as port, pytest.raises(preauth._NotTLS):
        preauth._connect("127.0.0.1", port, "imap", False, None)


def test_starttls_refused_is_a_config_error() -> None:
    lines = b"* OK IMAP ready\r\noh0 NO STARTTLS unavailable\r\n"
    with (
        plain_server(lines) as port,
        pytest.raises(ConfigError, match=r"refused STARTTLS: oh0 NO STARTTLS unavailable"),
    ):
        preauth._connect("127.0.0.1", port, "imap", True, None)


def test_unreadable_cafile_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot use CA file"):
        preauth._connect("127.0.0.1", 1, "imap", False, str(tmp_path / "missing.pem"))


# -- the relay ---------------------------------------------------------------------------------


class RelayRig:
    """``_relay`` in a thread between a socketpair (the server) and two pipes (the client)."""

    def __init__(self, greeting: bytes, leftover: bytes = b"") -> None:
        self.client_sock, self.server = socket.socketpair()
        self.server.settimeout(STEP)
        self.in_read, self.in_write = os.pipe()  # what the client (fetchmail) writes
        self.out_read, self.out_write = os.pipe()  # what the client reads
        conn = preauth._Conn(self.client_sock, "server.test:993")
        conn.buffer = leftover
        self.thread = threading.Thread(
            target=preauth._relay, args=(conn, greeting, self.in_read, self.out_write), daemon=True
        )
        self.output = bytearray()
        self.reader = threading.Thread(target=self._read_output, daemon=True)

    def _read_output(self) -> None:
        while True:
            data = os.read(self.out_read, 65536)
            if not data:
                return
            self.output += data

    def start(self) -> RelayRig:
        self.thread.start()
        self.reader.start()
        return self

    def finish(self) -> None:
        """Wait for the relay to return, then close what is left."""
        self.thread.join(STEP)
        assert not self.thread.is_alive(), "the relay did not end"
        os.close(self.out_write)
        self.reader.join(STEP)
        for fd in (self.in_read, self.out_read):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.close(self.in_write)
        self.client_sock.close()
        self.server.close()

    def server_receives(self, size: int) -> bytes:
        got = bytearray()
        while len(got) < size:
            chunk = self.server.recv(65536)
            if not chunk:
                break
            got += chunk
        return bytes(got)


def test_relay_is_binary_safe_both_ways() -> None:
    rig = RelayRig(b"* PREAUTH logged in\r\n", leftover=b"* 1 EXISTS\r\n").start()
    to_server = bytes(range(256)) * 4096  # 1 MiB, every byte value, CR and LF anywhere
    to_client = bytes(reversed(range(256))) * 4096 + b"\x00no newline at the end"
    # os.write on a pipe may write partially: write it all, from a thread (the pipe is small).
    writer = threading.Thread(target=preauth._write_all, args=(rig.in_write, to_server))
    writer.start()
    assert rig.server_receives(len(to_server)) == to_server
    writer.join(STEP)
    rig.server.sendall(to_client)
    rig.server.shutdown(socket.SHUT_WR)  # the server is done: the relay ends
    rig.finish()
    assert bytes(rig.output) == b"* PREAUTH logged in\r\n* 1 EXISTS\r\n" + to_client


def test_relay_passes_the_servers_last_words_after_the_client_closed() -> None:
    rig = RelayRig(b"* PREAUTH hi\r\n").start()
    os.write(rig.in_write, b"a1 LOGOUT\r\n")
    os.close(rig.in_write)  # fetchmail hangs up right after LOGOUT
    assert rig.server_receives(len(b"a1 LOGOUT\r\n")) == b"a1 LOGOUT\r\n"
    rig.server.sendall(b"* BYE\r\na1 OK bye\r\n")
    rig.server.shutdown(socket.SHUT_WR)
    rig.finish()
    assert bytes(rig.output) == b"* PREAUTH hi\r\n* BYE\r\na1 OK bye\r\n"


def test_relay_gives_up_on_a_silent_server_after_the_linger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(preauth, "LINGER", 0.2)
    rig = RelayRig(b"+OK hi\r\n").start()
    started = time.monotonic()
    os.close(rig.in_write)
    rig.finish()
    assert 0.15 < time.monotonic() - started < STEP
    assert bytes(rig.output) == b"+OK hi\r\n"


def test_relay_ends_when_the_client_stops_reading() -> None:
    rig = RelayRig(b"* PREAUTH hi\r\n")
    os.close(rig.out_read)  # the client is gone before the greeting: EPIPE, no exception
    rig.thread.start()
    rig.thread.join(STEP)
    assert not rig.thread.is_alive()
    for fd in (rig.in_read, rig.in_write, rig.out_write):
        os.close(fd)
    rig.client_sock.close()
    rig.server.close()
