"""Provider detection for custom domains: MX records from a DNS server on 127.0.0.1, and
Microsoft's discovery for the tenant from a local stand-in; `authorize` without --provider."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_helper import detect
from tests.support.cli_env import config_file, provider_config, run_cli, user_env
from tests.support.dns_server import LocalDNS
from tests.support.provider import LocalProvider

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
FAKE_BROWSER = str(Path(__file__).resolve().parents[1] / "support" / "fake_browser.py")
ZONES = {
    "workspace.example": [(1, "aspmx.l.google.com"), (5, "alt1.aspmx.l.google.com")],
    "legacy-workspace.example": [(10, "aspmx2.googlemail.com")],
    "m365.example": [(0, "m365-example.mail.protection.outlook.com")],
    "no-discovery.example": [(0, "no-discovery-example.mail.protection.outlook.com")],
    "selfhosted.example": [(10, "mx.selfhosted.example")],
    "mixed.example": [(1, "aspmx.l.google.com"), (2, "mx.mixed.example")],
    "nomx.example": [],
}


class _Discovery(http.server.BaseHTTPRequestHandler):
    """Microsoft's per-domain OpenID discovery, for m365.example only."""

    def do_GET(self) -> None:
        if self.path == "/m365.example/v2.0/.well-known/openid-configuration":
            body = json.dumps(
                {
                    "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                    "token_endpoint": "https://x.invalid/token",
                }
            ).encode()
            self.send_response(200)
        else:
            body = json.dumps({"error": "invalid_tenant"}).encode()
            self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def lookups() -> Iterator[dict[str, str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with LocalDNS(ZONES) as dns_server:
        yield {
            detect.NAMESERVER_ENV: dns_server.address,
            detect.MICROSOFT_LOGIN_ENV: f"http://127.0.0.1:{server.server_address[1]}",
        }
    server.shutdown()
    server.server_close()


@pytest.fixture
def env_vars(lookups: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in lookups.items():
        monkeypatch.setenv(key, value)
    return lookups


@pytest.mark.parametrize(
    ("domain", "provider", "tenant", "said"),
    [
        ("workspace.example", "google", None, "are Google Workspace's"),
        ("legacy-workspace.example", "google", None, "aspmx2.googlemail.com"),
        ("m365.example", "microsoft", TENANT, f"tenant {TENANT} from http://127.0.0.1:"),
        ("no-discovery.example", "microsoft", "no-discovery.example", "named no tenant (HTTP 400)"),
        ("selfhosted.example", None, None, "name neither Google Workspace nor Microsoft 365"),
        ("mixed.example", None, None, "name neither"),
        ("nomx.example", None, None, "it has none"),
        ("unknown.example", None, None, "the domain does not exist"),
    ],
)
def test_detect(
    env_vars: dict[str, str], domain: str, provider: str | None, tenant: str | None, said: str
) -> None:
    found = detect.detect(domain, timeout=5)
    assert (found.provider, found.tenant) == (provider, tenant)
    assert said in found.how, found.how


def test_a_dead_name_server_is_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:  # bound, never answers
        quiet.bind(("127.0.0.1", 0))
        monkeypatch.setenv(detect.NAMESERVER_ENV, f"127.0.0.1:{quiet.getsockname()[1]}")
        monkeypatch.setattr(detect, "DNS_TIMEOUT", 0.5)
        found = detect.detect("workspace.example", timeout=1)
    assert found.provider is None and "no answer within" in found.how


# -- through authorize ---------------------------------------------------------------------


def user(tmp_path: Path, lookups: dict[str, str], extra: str = "") -> dict[str, str]:
    env = {
        **user_env(tmp_path),
        **lookups,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("timeout = 5\n\n" + extra)
    return env


def test_authorize_microsoft_365_domain_records_the_tenant(
    tmp_path: Path, provider: LocalProvider, lookups: dict[str, str]
) -> None:
    account = "bob@m365.example"
    provider.register_client("ms-client")
    provider.signed_in_user = account
    # The built-in Microsoft provider, its endpoints served by the local provider.
    env = user(tmp_path, lookups, provider_config(provider, "microsoft"))
    env["BROWSER"] = FAKE_BROWSER
    done = run_cli(
        env, "authorize", account, "--client-id", "ms-client", "--store", "file", timeout=60
    )
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert f"{account}: provider microsoft (tenant {TENANT}): the MX records of m365.example" in err
    text = config_file(env).read_text()
    assert 'provider = "microsoft"' in text and f'tenant = "{TENANT}"' in text
    assert run_cli(env, "token", account).returncode == 0


def test_authorize_workspace_domain_is_google(tmp_path: Path, lookups: dict[str, str]) -> None:
    env = user(tmp_path, lookups)
    done = run_cli(env, "authorize", "carol@workspace.example")
    err = done.stderr.decode()
    # Found Google; it then needs the user's own OAuth client, and says how to register one.
    assert done.returncode == 78, err
    assert "carol@workspace.example: provider google: the MX records of workspace.example" in err
    assert "console.cloud.google.com" in err


def test_authorize_unknown_domain_asks_for_provider(
    tmp_path: Path, lookups: dict[str, str]
) -> None:
    env = user(tmp_path, lookups)
    done = run_cli(env, "authorize", "dave@selfhosted.example", "--client-id", "x")
    err = done.stderr.decode()
    assert done.returncode == 64, err
    assert "cannot tell the provider: the MX records of selfhosted.example" in err
    assert "pass --provider" in err
    assert done.stdout == b""


def test_a_well_known_domain_needs_no_lookup(tmp_path: Path, lookups: dict[str, str]) -> None:
    env = user(tmp_path, {**lookups, detect.NAMESERVER_ENV: "127.0.0.1:9"})  # nothing listens
    done = run_cli(env, "authorize", "erin@gmail.com")
    assert done.returncode == 78 and b"MX" not in done.stderr
