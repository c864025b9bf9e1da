"""The one-shot redirect listener on loopback (the code flow itself: codeflow.py).

The listener binds 127.0.0.1 (never 0.0.0.0 or ::), on an ephemeral port unless --port says
otherwise; for a `localhost` redirect it binds ::1 on the same port too, since a browser may
resolve localhost to either and another user must not squat the family we left free. It
answers the redirect path once; other paths get 404 and it keeps waiting; a redirect whose
`state` is not ours gets 400 and it keeps waiting; after the first good redirect every later
one gets 409. On Linux a redirect from a connection that another local user opened gets 403
(the kernel's socket table names the owner of the client end): a code that user obtained for
her own account, even with our state and PKCE challenge, is never exchanged. At most
MAX_HANDLERS connections are served at once; more are closed at once. Nothing it receives is
logged.
"""

from __future__ import annotations

import errno
import html
import os
import socket
import socketserver
import struct
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from .. import redact
from ..errors import UsageError
from .callback import parse_query
from .common import CallbackError
from .events import Event, Inbox

LISTEN_HOST = "127.0.0.1"
LISTEN_HOST_V6 = "::1"
REDIRECT_PATH = "/"
REQUEST_TIMEOUT = 10.0  # a browser's idle pre-connection must not hold a handler for ever
MAX_HANDLERS = 8  # browsers open a few connections at once; a flood must not make threads
_PORT_TRIES = 20  # ephemeral port free on 127.0.0.1 but taken on ::1: pick another


class _Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    block_on_close = False
    address_family = socket.AF_INET
    listener: Listener
    slots: threading.BoundedSemaphore

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would look up our host name (getfqdn), which may stall without DNS.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        # One thread per connection, but never more than MAX_HANDLERS of them at once.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that hangs up early is not our problem; never print a traceback


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    server_version = "oauth-helper"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line carries the code: log nothing

    def do_GET(self) -> None:
        owner = peer_uid(self.connection)
        if owner is not None and owner != os.geteuid():
            self._page(
                403,
                "Not your sign-in",
                (
                    "This answer came from a program of another user of this computer, so "
                    "oauth-helper will not use it. If you signed in from another account on this "
                    "computer yourself, copy this page's address from the address bar and paste "
                    "it into the terminal instead."
                ),
            )
            return
        status, title, text = self.server.listener.handle(self.path)
        self._page(status, title, text)

    def do_HEAD(self) -> None:
        self._page(405, "Method not allowed", "Only GET is accepted here.")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD

    def _page(self, status: int, title: str, text: str) -> None:
        body = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>oauth-helper: '
            f'{html.escape(title)}</title></head><body style="font-family: sans-serif; '
            f'margin: 3em"><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>'
        ).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass


class Listener:
    """The redirect listener. Use as a context manager; callbacks arrive in `inbox` as Events."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        port: int | None = None,
        path: str = REDIRECT_PATH,
        both_families: bool = False,
    ) -> None:
        self.inbox = inbox
        self.path = path
        self.state: str | None = None  # set before the URL is shown; redirects must echo it
        self._requested_port = port or 0
        self._both_families = both_families  # a `localhost` redirect: 127.0.0.1 and ::1
        self._lock = threading.Lock()
        self._done = False
        self._servers: list[_Server] = []
        self._slots = threading.BoundedSemaphore(MAX_HANDLERS)  # shared by both families

    @property
    def port(self) -> int:
        if not self._servers:
            raise RuntimeError("listener not started")
        return self._servers[0].server_port

    @property
    def addresses(self) -> list[str]:
        return [str(server.server_address[0]) for server in self._servers]

    def start(self) -> Listener:
        for _ in range(_PORT_TRIES):
            first = self._bind(socket.AF_INET, LISTEN_HOST, self._requested_port)
            if not self._both_families:
                self._servers = [first]
                break
            try:
                second = self._bind(socket.AF_INET6, LISTEN_HOST_V6, first.server_port)
            except _NoIPv6:
                self._servers = [first]  # no IPv6 loopback here: nobody can listen there either
                break
            except UsageError:
                first.server_close()
                if self._requested_port:
                    raise
                continue  # the ephemeral port is taken on ::1 only: try another one
            self._servers = [first, second]
            break
        else:
            raise UsageError("cannot find a port free on both 127.0.0.1 and ::1; choose --port")
        for server in self._servers:
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="oauth-helper-redirect",
                daemon=True,
            ).start()
        return self

    def _bind(self, family: socket.AddressFamily, host: str, port: int) -> _Server:
        server_class = _Server6 if family == socket.AF_INET6 else _Server
        try:
            server = server_class((host, port), _Handler)
        except OSError as e:
            if family == socket.AF_INET6 and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                raise _NoIPv6() from None
            shown = f"[{host}]" if ":" in host else host
            if e.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {shown} is in use; "
                    "choose another --port (or none for a free one)"
                ) from None
            raise UsageError(f"cannot listen on {shown}:{port}: {e.strerror or e}") from None
        server.listener = self
        server.slots = self._slots
        return server

    def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, raw_path: str) -> tuple[int, str, str]:
        """Judge one request to the listener: (HTTP status, page title, page text)."""
        parts = urllib.parse.urlsplit(raw_path)
        if parts.path != self.path:
            return (
                404,
                "Not found",
                "This is oauth-helper's sign-in listener; nothing else is here.",
            )
        try:
            callback = parse_query(parts.query)
        except CallbackError as e:
            return 400, "Not a sign-in answer", str(e)
        if self.state is None or callback.state != self.state:
            return (
                400,
                "Not for this sign-in",
                ("This answer does not belong to the sign-in oauth-helper is waiting for."),
            )
        with self._lock:
            if self._done:
                return (
                    409,
                    "Already done",
                    "oauth-helper already received an answer; return to the terminal.",
                )
            self._done = True
        if callback.code:
            redact.register(callback.code)
        self.inbox.put(Event("redirect", callback=callback))
        if callback.error is not None:
            return (
                200,
                "Sign-in failed",
                (f"The provider answered: {callback.error}. Return to the terminal for details."),
            )
        return (
            200,
            "Signed in",
            (
                "oauth-helper received the authorization. You can close this window and return to "
                "the terminal."
            ),
        )


class _NoIPv6(Exception):
    """This machine has no IPv6 loopback."""


def peer_uid(conn: socket.socket) -> int | None:
    """The uid that owns the client end of a loopback TCP connection to us (Linux: from
    /proc/net/tcp or tcp6, where the kernel lists each socket with its owner); None when it
    cannot be told (another system, an entry already gone)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        peer = conn.getpeername()
        local = conn.getsockname()
        table = "/proc/net/tcp6" if conn.family == socket.AF_INET6 else "/proc/net/tcp"
        want = (_proc_address(conn.family, peer), _proc_address(conn.family, local))
        with open(table, encoding="ascii") as f:
            next(f)
            for line in f:
                fields = line.split()
                if len(fields) > 7 and (fields[1], fields[2]) == want:
                    return int(fields[7])
    except (OSError, ValueError, StopIteration):
        return None
    return None


def _proc_address(family: int, address: tuple[Any, ...]) -> str:
    """An address as /proc/net/tcp writes it: the raw address as 32-bit words in host byte
    order, in hex, then ':' and the port in hex."""
    packed = socket.inet_pton(family, address[0])
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    return "".join(f"{w:08X}" for w in words) + f":{address[1]:04X}"
