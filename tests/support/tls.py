"""Listeners on 127.0.0.1 that make a TLS connection fail, for the fault tests.

- ``UntrustedTLSServer``: a real TLS server with a freshly made self-signed certificate that no
  client trusts (certificate verification fails, as behind an intercepting proxy).
- ``NotTLSServer``: answers a ClientHello with a plain-text HTTP reply (a port that is not TLS,
  as with a captive portal or a misconfigured endpoint): the handshake fails.

Both count the connections they accepted, so a test can show the client really tried.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from tests.support.mailbed import make_certificate


class _Listener:
    """A tiny accept loop in a thread; subclasses say what to do with each connection."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.connections = 0

    @property
    def port(self) -> int:
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(5)
            try:
                self._serve(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Listener:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


class UntrustedTLSServer(_Listener):
    """Speaks TLS with a self-signed certificate; a verifying client must refuse it."""

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(prefix="oauth-helper-tls-")
        cert, key = make_certificate(Path(self._dir.name))
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self.handshakes_completed = 0

    def _serve(self, conn: socket.socket) -> None:
        try:
            with self._context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes_completed += 1  # only a client that does not verify gets here
                tls.recv(65536)
                body = b'{"access_token": "tls-should-never-be-used", "expires_in": 3600}'
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
        except (ssl.SSLError, OSError):
            pass  # the client hung up on our certificate: the expected outcome

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self._dir.cleanup()


class NotTLSServer(_Listener):
    """Answers whatever arrives (a ClientHello) with plain HTTP: the TLS handshake fails."""

    def _serve(self, conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
            b"<html>plain HTTP on a TLS port</html>"
        )
