"""The one-shot redirect listener on 127.0.0.1, and the authorization code flow built on it.

The listener binds 127.0.0.1 only (never 0.0.0.0 or ::), on an ephemeral port unless --port
says otherwise. It answers the redirect path once; other paths get 404 and it keeps waiting;
a redirect whose `state` is not ours gets 400 and it keeps waiting; after the first good
redirect every later one gets 409. Nothing it receives is logged.
"""

from __future__ import annotations

import errno
import html
import queue
import socket
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from .. import oauth, redact
from ..errors import UsageError
from .callback import Callback, code_from, parse_query
from .common import AuthorizationTimeout, CallbackError, FlowContext, exchange_code
from .pkce import AuthorizationRequest

LISTEN_HOST = "127.0.0.1"
REDIRECT_PATH = "/"
REQUEST_TIMEOUT = 10.0  # a browser's idle pre-connection must not hold a handler for ever


@dataclass(frozen=True)
class Event:
    """Something the waiting flow must look at: a redirect, a pasted line, stdin's end, the browser."""

    kind: str  # "redirect" | "paste" | "eof" | "browser"
    callback: Callback | None = None
    text: str | None = field(default=None, repr=False)
    ok: bool = True
    detail: str = ""


Inbox = queue.Queue[Event]


class _Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    block_on_close = False
    address_family = socket.AF_INET
    listener: Listener

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would look up our host name (getfqdn), which may stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = LISTEN_HOST
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that hangs up early is not our problem; never print a traceback


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    server_version = "oauth-helper"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line carries the code: log nothing

    def do_GET(self) -> None:
        status, title, text = self.server.listener.handle(self.path)
        self._page(status, title, text)

    def do_HEAD(self) -> None:
        self._page(405, "Method not allowed", "Only GET is accepted here.")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD

    def _page(self, status: int, title: str, text: str) -> None:
        body = (
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>oauth-helper: "
            f"{html.escape(title)}</title></head><body style=\"font-family: sans-serif; "
            f"margin: 3em\"><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
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

    def __init__(self, inbox: Inbox, *, port: int | None = None, path: str = REDIRECT_PATH) -> None:
        self.inbox = inbox
        self.path = path
        self.state: str | None = None  # set before the URL is shown; redirects must echo it
        self._requested_port = port or 0
        self._lock = threading.Lock()
        self._done = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("listener not started")
        return self._server.server_port

    def start(self) -> Listener:
        try:
            server = _Server((LISTEN_HOST, self._requested_port), _Handler)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise UsageError(f"port {self._requested_port} on {LISTEN_HOST} is in use; "
                                 "choose another --port (or none for a free one)") from None
            raise UsageError(f"cannot listen on {LISTEN_HOST}:{self._requested_port}: "
                             f"{e.strerror or e}") from None
        server.listener = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="oauth-helper-redirect", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
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
            return 404, "Not found", "This is oauth-helper's sign-in listener; nothing else is here."
        try:
            callback = parse_query(parts.query)
        except CallbackError as e:
            return 400, "Not a sign-in answer", str(e)
        if self.state is None or callback.state != self.state:
            return 400, "Not for this sign-in", (
                "This answer does not belong to the sign-in oauth-helper is waiting for.")
        with self._lock:
            if self._done:
                return 409, "Already done", "oauth-helper already received an answer; return to the terminal."
            self._done = True
        if callback.code:
            redact.register(callback.code)
        self.inbox.put(Event("redirect", callback=callback))
        if callback.error is not None:
            return 200, "Sign-in failed", (
                f"The provider answered: {callback.error}. Return to the terminal for details.")
        return 200, "Signed in", (
            "oauth-helper received the authorization. You can close this window and return to "
            "the terminal.")


def run_code_flow(ctx: FlowContext, *, use_browser: bool, browser_unavailable: str = "",
                  interactive: bool = False) -> oauth.TokenResponse:
    """Authorization code + PKCE: the browser flow, or the paste flow (listener running too)."""
    from . import browser as browser_mod
    from . import paste

    inbox: Inbox = queue.Queue()
    with Listener(inbox, port=ctx.port) as listener:
        redirect_uri = f"http://{ctx.provider.redirect_host}:{listener.port}{REDIRECT_PATH}"
        request = AuthorizationRequest.new()
        listener.state = request.state
        url = request.url(ctx.provider, ctx.client_id, ctx.scopes, ctx.account, redirect_uri)
        deadline = time.monotonic() + ctx.timeout
        pasting = False
        if use_browser:
            ctx.say(f"Opening a browser to sign in as {ctx.account}. If none opens, visit:\n  {url}")
            browser_mod.open_in_thread(url, inbox)
        else:
            if browser_unavailable:
                ctx.say(f"Not opening a browser: {browser_unavailable}.")
            paste.start(ctx, url, listener.port, inbox, interactive=interactive)
            pasting = True
        last_error: CallbackError | None = None
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = inbox.get(timeout=max(0.0, remaining)) if remaining > 0 else None
            except queue.Empty:
                event = None
            if event is None:
                raise AuthorizationTimeout(
                    f"no sign-in answer within {ctx.timeout:.0f} s; run the command again "
                    "(--timeout S waits longer; --flow paste suits machines without a browser)")
            if event.kind == "redirect" and event.callback is not None:
                if pasting and interactive:
                    ctx.say("")  # end the pending paste prompt's line
                code = code_from(event.callback, request.state, provider=ctx.provider)
                break
            if event.kind == "browser":
                if not event.ok and not pasting:
                    ctx.say(f"Could not open a browser ({event.detail}); continuing with the "
                            "paste flow.")
                    paste.start(ctx, url, listener.port, inbox, interactive=interactive)
                    pasting = True
                continue
            if event.kind == "eof":
                if last_error is not None:
                    raise last_error
                raise CallbackError("nothing was pasted (stdin closed); nothing was stored")
            if event.kind == "paste" and event.text is not None:
                if not event.text.strip():
                    paste.prompt_again(ctx, interactive)
                    continue
                try:
                    code = paste.code_from_text(event.text, request.state, ctx.provider)
                except CallbackError as e:
                    last_error = e
                    ctx.say(f"{e}")
                    paste.prompt_again(ctx, interactive)
                    continue
                break
    return exchange_code(ctx, code, request.verifier, redirect_uri, request.nonce)
