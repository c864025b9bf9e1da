"""A tiny threaded SMTP server that accepts every message and stores it in a Maildir.

Only the test bed's Dovecot submission service talks to it (as its relay), so it speaks just
enough SMTP for that: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. No authentication, no TLS.
Each stored message gets two leading headers recording the envelope:
``X-Sink-Mail-From`` and ``X-Sink-Rcpt-To`` (one per recipient).
"""

from __future__ import annotations

import mailbox
import re
import socketserver
import threading
from pathlib import Path
from types import TracebackType

_ADDR = re.compile(rb"<([^>]*)>")


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 30

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        mail_from: bytes | None = None
        rcpts: list[bytes] = []
        self._reply("220 localhost sink ESMTP ready")
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.rstrip(b"\r\n")
            verb = line.split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                self._reply("250-localhost")
                self._reply("250-8BITMIME")
                self._reply("250-ENHANCEDSTATUSCODES")
                self._reply("250 PIPELINING")
            elif verb == b"HELO":
                self._reply("250 localhost")
            elif verb == b"MAIL":
                m = _ADDR.search(line)
                mail_from = m.group(1) if m else b""
                rcpts = []
                self._reply("250 2.1.0 Ok")
            elif verb == b"RCPT":
                m = _ADDR.search(line)
                if mail_from is None or not m:
                    self._reply("503 5.5.1 Bad sequence of commands")
                    continue
                rcpts.append(m.group(1))
                self._reply("250 2.1.5 Ok")
            elif verb == b"DATA":
                if mail_from is None or not rcpts:
                    self._reply("503 5.5.1 Bad sequence of commands")
                    continue
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if data is None:
                    return
                self.server.store(mail_from, rcpts, data)
                mail_from, rcpts = None, []
                self._reply("250 2.0.0 Ok: queued")
            elif verb == b"RSET":
                mail_from, rcpts = None, []
                self._reply("250 2.0.0 Ok")
            elif verb == b"NOOP":
                self._reply("250 2.0.0 Ok")
            elif verb == b"QUIT":
                self._reply("221 2.0.0 Bye")
                return
            else:
                self._reply("502 5.5.2 Command not recognized")

    def _read_data(self) -> bytes | None:
        lines: list[bytes] = []
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                return None
            if raw.rstrip(b"\r\n") == b".":
                return b"".join(lines)
            if raw.startswith(b"."):
                raw = raw[1:]
            lines.append(raw)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, maildir: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.maildir_path = maildir
        self.lock = threading.Lock()
        mailbox.Maildir(str(maildir), create=True)

    def store(self, mail_from: bytes, rcpts: list[bytes], data: bytes) -> None:
        envelope = b"X-Sink-Mail-From: <" + mail_from + b">\r\n"
        for rcpt in rcpts:
            envelope += b"X-Sink-Rcpt-To: <" + rcpt + b">\r\n"
        with self.lock:
            box = mailbox.Maildir(str(self.maildir_path), create=False)
            box.add(envelope + data)


class SmtpSink:
    """``with SmtpSink(dir) as sink:`` listens on ``sink.host``:``sink.port`` in the block."""

    host = "127.0.0.1"

    def __init__(self, maildir: Path) -> None:
        self.maildir = Path(maildir)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> SmtpSink:
        self._server = _Server(self.maildir)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def messages(self) -> list[bytes]:
        """Every stored message (with the envelope headers), oldest first."""
        keyed = [
            (path.stat().st_mtime_ns, path.name, path.read_bytes())
            for sub in ("new", "cur")
            for path in (self.maildir / sub).iterdir()
            if not path.name.startswith(".")
        ]
        keyed.sort()
        return [data for _, _, data in keyed]

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
