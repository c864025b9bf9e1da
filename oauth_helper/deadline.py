"""One overall deadline per network operation, not a timeout per read.

A socket timeout bounds each recv(): a server that sends one byte a second never trips it, and
a request "with a 15 s timeout" could run for ever. A Deadline is started once per operation
(an HTTP request with its headers and body, a whole SMTP/IMAP/POP dialogue); `watch(sock)`
shuts the socket down when it passes, which wakes any read blocked in it (ours or a library's:
http.client, smtplib, imaplib), and `settimeout`-style callers can ask `remaining()`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class Deadline:
    """`seconds` from now, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.at = self.started + seconds
        self._expired = threading.Event()
        self._timers: list[threading.Timer] = []

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def expired(self) -> bool:
        return self._expired.is_set() or time.monotonic() >= self.at

    def describe(self) -> str:
        """For messages: the real time spent against the deadline."""
        return f"{self.elapsed():.1f} s elapsed, deadline {self.seconds:.3g} s"

    def timeout(self) -> float:
        """A per-call socket timeout that never outlasts the deadline (0 would mean non-blocking)."""
        return max(0.001, self.remaining())

    def connect(
        self, address: tuple[str, int], source_address: tuple[str, int] | None = None
    ) -> socket.socket:
        """socket.create_connection within the deadline, the socket watched from then on."""
        sock = socket.create_connection(address, self.timeout(), source_address)
        self.watch(sock)
        return sock

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (until `cancel`)."""

        def fire() -> None:
            self._expired.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.remaining(), fire)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    @contextlib.contextmanager
    def guarding(self) -> Iterator[Deadline]:
        try:
            yield self
        finally:
            self.cancel()
