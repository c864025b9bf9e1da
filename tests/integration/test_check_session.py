"""Issue 12 item 8: `test` reports IMAP PASS only once a mailbox opens after the login.

Microsoft can accept AUTHENTICATE and then fail every command ("User is authenticated but not
connected"). A small IMAP server over real TLS on 127.0.0.1 answers like that.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
from pathlib import Path

import pytest

from oauth_helper import check
from tests.support.mailbed import make_certificate
from tests.support.tls import _Listener

NOT_CONNECTED = b"NO User is authenticated but not connected."


class MicrosoftLikeImap(_Listener):
    """Accepts any XOAUTH2 login; answers EXAMINE/SELECT with `examine_answer`."""

    def __init__(self, examine_answer: bytes) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(prefix="oauth-helper-imap-")
        self.cert, key = make_certificate(Path(self._dir.name))
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(self.cert, key)
        self.examine_answer = examine_answer
        self.commands: list[str] = []

    def _serve(self, conn: socket.socket) -> None:
        with self._context.wrap_socket(conn, server_side=True) as tls:
            reader = tls.makefile("rb")
            tls.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready\r\n")
            for raw in reader:
                tag, _, rest = raw.decode().strip().partition(" ")
                verb = rest.split(" ", 1)[0].upper()
                self.commands.append(verb)
                if verb == "CAPABILITY":
                    tls.sendall(
                        b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\n"
                        + tag.encode()
                        + b" OK done\r\n"
                    )
                elif verb == "AUTHENTICATE":
                    if len(rest.split()) < 3:  # no initial response: ask for it
                        tls.sendall(b"+ \r\n")
                        reader.readline()
                    tls.sendall(tag.encode() + b" OK AUTHENTICATE completed.\r\n")
                elif verb in ("EXAMINE", "SELECT"):
                    tls.sendall(tag.encode() + b" " + self.examine_answer + b"\r\n")
                elif verb == "LOGOUT":
                    tls.sendall(b"* BYE\r\n" + tag.encode() + b" OK LOGOUT completed.\r\n")
                    return
                else:
                    tls.sendall(tag.encode() + b" BAD unknown\r\n")

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (NOT_CONNECTED, check.REJECTED),
        (b"OK [READ-ONLY] EXAMINE completed.", check.PASS),
    ],
)
def test_imap_pass_needs_a_mailbox_that_opens(answer: bytes, status: str) -> None:
    # Before: PASS right after AUTHENTICATE, whatever the next command would have said.
    with MicrosoftLikeImap(answer) as server:
        target = check.Target("IMAP", "127.0.0.1", server.port, "implicit")
        outcome = check.login(target, "alice@example.com", "token-value", None, server.context())
        commands = list(server.commands)
    assert outcome.status == status, outcome
    assert "EXAMINE" in commands and "SELECT" not in commands  # read-only: nothing changes
    if status == check.REJECTED:
        assert "authenticated but not connected" in (outcome.answer or "")
        assert "mailbox" in (outcome.reason or "") and "ImapEnabled" in (outcome.fix or "")
