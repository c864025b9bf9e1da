"""`oauth-helper test` against real Dovecot (issue 13 item 9, issue 11 item 9): only the
provider's own "inactive" counts as a dead token, and then the cached token is dropped."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ACCOUNT
from tests.e2e.test_check import CLIENT, bed, cached_token, check, env, lines, mail_provider
from tests.support.cli_env import cache_file, config_file, run_cli
from tests.support.mailbed import MailBed, revoke_token
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e
__all__ = ["bed", "env", "mail_provider"]  # fixtures shared with test_check


class _InvalidClient(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": "invalid_client", "error_description": "no"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def invalid_client_introspection() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _InvalidClient)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/introspect"
    finally:
        server.shutdown()
        server.server_close()


def test_dead_token_confirmed_by_the_provider_is_dropped_from_the_cache(
    env: dict[str, str], bed: MailBed, mail_provider: LocalProvider
) -> None:
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    dead = cached_token(env)
    revoke_token(mail_provider.revocation_endpoint, dead, CLIENT)
    result = check(env, bed)
    assert result.returncode == 77
    assert all("no longer active" in line for line in lines(result))
    assert "dropped the cached access token" in result.stderr.decode()
    assert not cache_file(env, ACCOUNT).exists()
    again = run_cli(env, "token", ACCOUNT)  # a new token, not the dead one for an hour
    assert again.returncode == 0
    fresh = again.stdout.decode().strip()
    assert fresh != dead and mail_provider.introspect(fresh)["active"] is True


def test_introspection_refusing_our_client_is_not_a_dead_token(
    env: dict[str, str],
    bed: MailBed,
    mail_provider: LocalProvider,
    invalid_client_introspection: str,
) -> None:
    path = config_file(env)
    text = path.read_text().replace(
        mail_provider.introspection_endpoint, invalid_client_introspection
    )
    path.write_text(text)
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    revoke_token(mail_provider.revocation_endpoint, cached_token(env), CLIENT)
    result = check(env, bed)
    assert result.returncode == 77  # the servers did reject the token
    for line in lines(result):
        assert "FAIL" in line and "no longer active" not in line, line
    assert "dropped" not in result.stderr.decode()
    assert Path(cache_file(env, ACCOUNT)).exists()  # not confirmed dead: left alone
