"""Token requests through a proxy, as corporate networks need: http_proxy and https_proxy.

http.py sends directly with http.client unless a proxy is configured; then urllib.request
does it, honouring http_proxy / https_proxy / no_proxy as it always has. The proxy here is a
real forward proxy on 127.0.0.1: absolute-URI requests for http, CONNECT tunnels for https.
"""

from __future__ import annotations

import http.client
import http.server
import select
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_env import make_account, run_cli
from tests.support.mailbed import make_certificate
from tests.support.provider import LocalProvider

ALICE = "alice@example.com"


class _Proxy(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:
        self.seen.append(f"CONNECT {self.path}")
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def _forward(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        conn.request(self.command, target.path or "/", body or None, headers)
        reply = conn.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = _forward


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Proxy", (_Proxy,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def refresh(env: dict[str, str], **extra: str) -> tuple[int, str, str]:
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    done = run_cli({**env, **extra}, "token", ALICE, "--force-refresh")
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_http_proxy_carries_the_token_request(
    tmp_path: Path, provider: LocalProvider, proxy: tuple[str, list[str]]
) -> None:
    url, seen = proxy
    env = make_account(tmp_path, provider, ALICE)
    code, out, err = refresh(env, http_proxy=url)
    assert (code, err) == (0, ""), err
    assert out.strip() == provider.issued_access_tokens[-1]
    assert seen == [f"POST {provider.token_endpoint}"]


def test_no_proxy_is_honoured(
    tmp_path: Path, provider: LocalProvider, proxy: tuple[str, list[str]]
) -> None:
    url, seen = proxy
    env = make_account(tmp_path, provider, ALICE)
    code, _, err = refresh(env, http_proxy=url, no_proxy="127.0.0.1")
    assert (code, err) == (0, ""), err
    assert seen == []


def test_https_goes_through_a_connect_tunnel(tmp_path: Path, proxy: tuple[str, list[str]]) -> None:
    url, seen = proxy
    cert, key = make_certificate(tmp_path)
    with LocalProvider(tls=(cert, key)) as provider:
        env = make_account(tmp_path, provider, ALICE)
        code, out, err = refresh(env, https_proxy=url, SSL_CERT_FILE=str(cert))
        assert (code, err) == (0, ""), err
        assert out.strip() == provider.issued_access_tokens[-1]
        host = urllib.parse.urlsplit(provider.token_endpoint).netloc
        assert seen == [f"CONNECT {host}"]


def test_a_dead_proxy_is_a_temporary_failure_that_keeps_the_grant(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ALICE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, out, err = refresh(env, http_proxy=dead)
    assert (code, out) == (75, ""), err
    assert "cannot reach" in err and len(err.strip().splitlines()) == 1, err
    code, _, err = refresh(env)
    assert (code, err) == (0, ""), err
