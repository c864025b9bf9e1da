"""Hostile mail servers against `preauth` and `test` (issue 13, items 5 and 6).

Real sockets on 127.0.0.1: a server that drips its greeting one byte at a time is cut off by
the dialogue's overall deadline (not a per-read timeout it never trips); an endless line is cut
off by the line limit; a server that echoes our SASL string, or sends terminal escape sequences,
gets neither the token nor the escapes onto our stderr.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from oauth_helper import check, preauth, redact
from oauth_helper.deadline import Deadline
from oauth_helper.errors import TransientError

DEADLINE = 1.0


@contextlib.contextmanager
def server(send: bytes, *, interval: float, repeat: bool = False) -> Iterator[int]:
    """Accept connections; to each, send `send` one byte every `interval` s (for ever if repeat)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while not stop.is_set():
                for byte in send:
                    conn.sendall(bytes([byte]))
                    if interval and stop.wait(interval):
                        return
                if not repeat:
                    stop.wait(30)
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize("protocol", ["SMTP", "IMAP"])
def test_test_command_cuts_off_a_dripping_server_at_the_deadline(protocol: str) -> None:
    greeting = b"220 slow.example ESMTP " if protocol == "SMTP" else b"* OK slow IMAP "
    with server(greeting + b"x" * 1000, interval=0.1) as port:
        target = check.Target(protocol, "127.0.0.1", port, "starttls")
        started = time.monotonic()
        outcome = check.login(
            target,
            "a@example.com",
            "tok-en-value",
            None,
            ssl.create_default_context(),
            timeout=DEADLINE,
        )
        elapsed = time.monotonic() - started
    assert outcome.status == check.UNREACHABLE
    assert "did not finish the login dialogue in time" in outcome.reason
    assert "deadline 1 s" in outcome.reason
    assert elapsed < 2 * DEADLINE, elapsed


def test_preauth_cuts_off_a_dripping_greeting_at_the_deadline() -> None:
    with server(b"* OK " + b"x" * 1000, interval=0.1) as port:
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"did not finish in time \(1\.\d s elapsed"):
            preauth._connect("127.0.0.1", port, "imap", True, None, Deadline(DEADLINE))
        elapsed = time.monotonic() - started
    assert elapsed < 2 * DEADLINE, elapsed


def test_preauth_cuts_off_a_dripping_tls_handshake_at_the_deadline() -> None:
    # Implicit TLS: the drip happens inside the handshake, where no readline of ours runs.
    with server(b"\x16\x03\x03\x10\x00" + b"\x02" * 1000, interval=0.1) as port:
        started = time.monotonic()
        with pytest.raises(TransientError, match="in time"):
            preauth._connect("127.0.0.1", port, "imap", False, None, Deadline(DEADLINE))
        elapsed = time.monotonic() - started
    assert elapsed < 2 * DEADLINE, elapsed


def test_preauth_cuts_off_an_endless_line() -> None:
    with server(b"* OK " + b"x" * 65536, interval=0, repeat=True) as port:
        started = time.monotonic()
        with pytest.raises(TransientError, match="over-long line"):
            preauth._connect("127.0.0.1", port, "imap", True, None, Deadline(10))
        assert time.monotonic() - started < 5


def test_preauth_never_prints_the_servers_echo_of_our_sasl_string() -> None:
    token = "ya29.preauth/echo+token=value"
    response = preauth.sasl_response("xoauth2", "bob@example.com", token, "imap.test", 993)
    client, peer = socket.socketpair()

    def hostile() -> None:
        with peer:
            peer.recv(1000)  # CAPABILITY
            peer.sendall(b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\noh1 OK\r\n")
            peer.recv(4000)  # AUTHENTICATE XOAUTH2 <response>
            peer.sendall(b"oh2 NO \x1b]0;pwned\x07\x1b[2J you sent " + response.encode() + b"\r\n")

    thread = threading.Thread(target=hostile, daemon=True)
    thread.start()
    with client, pytest.raises(preauth.LoginRejected) as raised:
        preauth._imap_login(
            preauth._Conn(client, "imap.test:993", Deadline(5)),
            "xoauth2",
            response,
            "bob@example.com",
        )
    thread.join(5)
    message = str(raised.value)
    assert "you sent" in message and redact.REDACTED in message
    assert response not in message and token not in message
    assert "\x1b" not in message and "\x07" not in message


def test_test_command_filters_escape_sequences_from_server_text() -> None:
    assert check._one_line("535 \x1b[31mred\x1b[0m\r\nFAKE: ok") == "535 ?[31mred?[0m FAKE: ok"
