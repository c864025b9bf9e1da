"""A hostile provider and a hostile network (issue 13, items 1, 4 and 5).

- http to anything but this machine is refused before a connection: from the config (exit 78
  with file:line) and from a discovery document;
- a provider that echoes our request in its error text leaks no secret, in any encoding we
  produce, to stderr, --debug output, the state file or `status --json`;
- a provider that drips its answer (headers or body, one byte a second) is cut off by the
  request's overall deadline, within 2 x timeout.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from pathlib import Path

import pytest

from oauth_helper import redact
from tests.conftest import ACCOUNT
from tests.support.cli_env import config_file, make_account, run_cli
from tests.support.provider import LocalProvider

TIMEOUT = 2.0


def test_http_token_endpoint_off_this_machine_is_refused_with_file_and_line(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT)
    path = config_file(env)
    text = path.read_text().replace(provider.token_endpoint, "http://sso.example.net/token")
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "sso.example.net" in t)
    before = len(provider.requests)
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 78, done.stderr
    err = done.stderr.decode()
    assert f"{path}:{line}:" in err and "token_endpoint" in err and "cleartext" in err
    assert len(provider.requests) == before  # nothing was sent anywhere


def test_loopback_http_is_allowed(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT)
    assert provider.token_endpoint.startswith("http://127.0.0.1:")
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 0, done.stderr


def test_discovery_pointing_token_endpoint_at_plain_http_is_refused(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # An issuer-only provider whose discovery document sends the token endpoint to plain http
    # on another host: the refresh token and client secret would travel in cleartext.
    provider.discovery_overrides = {"token_endpoint": "http://evil.invalid/token"}
    env = make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT, client_secret="s3cret-value")
    path = config_file(env)
    text = "\n".join(
        line
        for line in path.read_text().splitlines()
        if not line.startswith(
            (
                "token_endpoint",
                "authorization_endpoint",
                "revocation_endpoint",
                "introspection_endpoint",
                "device_authorization_endpoint",
            )
        )
    )
    path.write_text(text + "\n")
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 78, done.stderr
    err = done.stderr.decode()
    assert "token_endpoint" in err and "evil.invalid" in err and "cleartext" in err
    assert not [r for r in provider.requests if r["path"] == "/token"]


SECRET = "GOCSPX-ab/cd+ef=gh/ij+kl=="


def _forms(value: str) -> list[str]:
    return [
        value,
        urllib.parse.quote_plus(value),
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote(value),
        json.dumps(value)[1:-1],
    ]


def test_echoing_provider_leaks_no_secret_in_any_encoding(
    tmp_path: Path, provider: LocalProvider
) -> None:
    provider.refresh_token_prefix = "1//0g+/="  # Google-style, with every character to encode
    env = make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT, client_secret=SECRET)
    from tests.support.cli_env import stored_refresh_token

    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token and "/" in refresh_token
    provider.fail_next("echo", count=10)
    done = run_cli(env, "--debug", "token", ACCOUNT, "--force-refresh", timeout=30)
    assert done.returncode != 0
    err = done.stderr.decode()
    assert "cannot parse request body" in err  # the echo really reached our messages
    assert "<redacted>" in err
    status = run_cli(env, "status", ACCOUNT, "--json", timeout=30)
    state_files = list((Path(env["XDG_CACHE_HOME"]) / "oauth-helper").glob("*.state.json"))
    assert state_files
    places = {
        "stderr": err,
        "status --json": status.stdout.decode() + status.stderr.decode(),
        "state file": "".join(p.read_text() for p in state_files),
    }
    for where, text in places.items():
        for secret in (SECRET, refresh_token):
            for form in _forms(secret):
                assert form not in text, f"{form!r} leaked to {where}"


def test_scrubber_catches_base64_sasl_echo_at_every_alignment() -> None:
    token = "ya29.a0-token/with+odd=chars"
    redact.register(token)
    for user in ("a@b.c", "ab@b.c", "abc@b.c"):
        sasl = base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()
        scrubbed = redact.scrub(f"server said: {sasl}")
        assert sasl not in scrubbed and "<redacted>" in scrubbed


@pytest.mark.parametrize("part", ["headers", "body"])
@pytest.mark.parametrize("flavour", ["local", "google"])
def test_drip_is_cut_off_by_the_overall_deadline(
    tmp_path: Path, provider: LocalProvider, part: str, flavour: str
) -> None:
    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        timeout=TIMEOUT,
        provider_name=flavour,
        client_secret="x-secret-1",
    )
    started = time.monotonic()
    assert run_cli(env, "token", ACCOUNT, "--force-refresh", timeout=60).returncode == 0
    baseline = time.monotonic() - started  # start-up and a quick refresh, on this machine now
    provider.fail_next(f"drip_{part}", count=10, interval=0.5)
    started = time.monotonic()
    done = run_cli(env, "token", ACCOUNT, "--force-refresh", timeout=60)
    elapsed = time.monotonic() - started
    assert done.returncode == 75, done.stderr
    assert done.stdout == b""
    err = done.stderr.decode()
    assert "did not answer in time" in err and "deadline" in err, err
    # 2 x timeout for the refresh (all tries together), plus what a quick call costs here.
    assert elapsed < 2 * TIMEOUT + baseline + 0.5, (elapsed, baseline, err)


def test_a_redirect_from_the_token_endpoint_is_not_followed(
    tmp_path: Path, provider: LocalProvider
) -> None:
    import http.server
    import threading

    target = provider.token_endpoint

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)  # 307 would resend the POST body, refresh token and all
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = make_account(tmp_path, provider, ACCOUNT, timeout=TIMEOUT)
        path = config_file(env)
        stub = f"http://127.0.0.1:{server.server_address[1]}/token"
        path.write_text(
            path.read_text().replace(f'token_endpoint = "{target}"', f'token_endpoint = "{stub}"')
        )
        done = run_cli(env, "token", ACCOUNT, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode != 0 and done.stdout == b""
    assert provider.counts["token"] == 0  # the refresh token was never resent elsewhere
