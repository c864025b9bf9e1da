"""fetchmail 6.4 through `oauth-helper preauth`, with the shipped contrib/fetchmail/fetchmailrc.

The plugin logs in with OAuth and hands fetchmail an authenticated IMAP/POP3 session; the
fetched message goes to the SMTP sink (the rc's ``smtphost``). The bed's CA reaches the plugin
through SSL_CERT_FILE, which Python's default TLS context honours.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import make_flavoured_account, oauth_helper_cmd, run_cli
from tests.support.mailbed import (
    MailBed,
    outcome,
    render_contrib,
    render_snippet,
    revoke_token,
    run_client,
)
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

ACCOUNT = "alice@example.test"  # stands for alice@gmail.com


@pytest.fixture
def env(
    tmp_path: Path, provider: LocalProvider, bed: MailBed, request: pytest.FixtureRequest
) -> dict[str, str]:
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, getattr(request, "param", "local"))
    env["SSL_CERT_FILE"] = bed.cafile
    return env


def fetchmailrc(tmp_path: Path, bed: MailBed, snippet_env: dict[str, str] | None = None) -> Path:
    """contrib/fetchmail/fetchmailrc for the test account, or (given its env) the snippet."""
    server = {
        "via imap.gmail.com protocol IMAP port 993": (
            f"via {bed.host} protocol IMAP port {bed.imaps_port}"
        ),
        "via pop.gmail.com protocol POP3 port 995": (
            f"via {bed.host} protocol POP3 port {bed.pop3s_port}"
        ),
        "smtphost localhost": f"smtphost {bed.host}/{bed.sink.port}",
    }
    if snippet_env is not None:
        text = render_snippet(snippet_env, "fetchmail", ACCOUNT, server)
    else:
        text = render_contrib("fetchmail/fetchmailrc", {**server, "alice@gmail.com": ACCOUNT})
    path = tmp_path / "fetchmailrc"
    path.write_text(text)
    path.chmod(0o600)
    return path


def fetchmail(
    tmp_path: Path, bed: MailBed, env: dict[str, str], poll: str, snippet: bool = False
) -> list[str]:
    return [
        require_binary("fetchmail"),
        "--nodetach",
        "--nosyslog",
        "-f",
        str(fetchmailrc(tmp_path, bed, env if snippet else None)),
        "--pidfile",
        str(tmp_path / "fetchmail.pid"),
        poll,
    ]


# The shipped file for a local-provider account; the snippet for a Google account.
SOURCES = pytest.mark.parametrize(
    ("env", "snippet"),
    [("local", False), ("google", True)],
    indirect=["env"],
    ids=["contrib", "snippet"],
)


@SOURCES
@pytest.mark.parametrize(("poll", "protocol"), [("gmail-imap", "imap"), ("gmail-pop3", "pop3")])
def test_fetchmail_fetches_through_preauth(
    tmp_path: Path, bed: MailBed, env: dict[str, str], poll: str, protocol: str, snippet: bool
) -> None:
    bed.seed_message(ACCOUNT, f"seeded for fetchmail {protocol}", "hello fetchmail")
    result = run_client(fetchmail(tmp_path, bed, env, poll, snippet), env, timeout=30)
    assert result.returncode == 0, outcome(result)
    got = bed.wait_delivered()
    assert [m["Subject"] for m in got] == [f"seeded for fetchmail {protocol}"], outcome(result)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method=XOAUTH2")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", protocol), bed.log_text()


def test_fetchmail_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    bed.seed_message(ACCOUNT, "never fetched", "x")
    result = run_client(fetchmail(tmp_path, bed, env, "gmail-imap"), env, timeout=30)
    assert result.returncode not in (0, 1), outcome(result)  # 1: no mail
    assert b"rejected the XOAUTH2 login" in result.stderr, outcome(result)
    assert bed.delivered() == []


# -- the preauth command directly ---------------------------------------------------------


def preauth(
    env: dict[str, str], bed: MailBed, *args: str, commands: bytes
) -> subprocess.CompletedProcess[bytes]:
    return run_client([oauth_helper_cmd(), "preauth", *args], env, input=commands, timeout=20)


@pytest.mark.parametrize(
    ("mechanism", "port_attr", "extra"),
    [
        ("xoauth2", "imaps_port", []),
        ("oauthbearer", "imaps_port", []),
        ("xoauth2", "imap_port", []),  # STARTTLS
        ("oauthbearer", "imap_port", ["--cafile"]),  # STARTTLS, explicit CA file
    ],
)
def test_preauth_imap(
    bed: MailBed, env: dict[str, str], mechanism: str, port_attr: str, extra: list[str]
) -> None:
    bed.seed_message(ACCOUNT, "for preauth", "hello preauth")
    port = str(getattr(bed, port_attr))
    args = [ACCOUNT, bed.host, port, "--mechanism", mechanism]
    if extra:
        args += [extra[0], bed.cafile]
        env = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
    result = preauth(
        env, bed, *args, commands=b"a1 SELECT INBOX\r\na2 FETCH 1 BODY[TEXT]\r\na3 LOGOUT\r\n"
    )
    assert result.returncode == 0, outcome(result)
    lines = result.stdout.split(b"\r\n")
    assert lines[0] == f"* PREAUTH oauth-helper: logged in as {ACCOUNT}".encode()
    assert b"hello preauth" in result.stdout
    assert b"a3 OK" in result.stdout
    assert result.stderr == b""
    bed.wait_for_log(f"method={mechanism.upper()}")
    assert bed.login_succeeded(ACCOUNT, mechanism.upper(), "imap"), bed.log_text()


def test_preauth_pop3(bed: MailBed, env: dict[str, str]) -> None:
    bed.seed_message(ACCOUNT, "for preauth pop3", "hello pop3")
    result = preauth(
        env, bed, "--pop3", ACCOUNT, bed.host, str(bed.pop3s_port), commands=b"RETR 1\r\nQUIT\r\n"
    )
    assert result.returncode == 0, outcome(result)
    assert result.stdout.startswith(b"+OK oauth-helper: logged in")
    assert b"hello pop3" in result.stdout


def test_preauth_rejected_token_is_one_line_without_the_token(
    bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    token = run_cli(env, "token", ACCOUNT).stdout.decode().strip()
    revoke_token(provider.revocation_endpoint, token, "test-client")
    result = preauth(env, bed, ACCOUNT, bed.host, str(bed.imaps_port), commands=b"")
    assert result.returncode == 77, outcome(result)
    assert result.stdout == b""
    assert len(result.stderr.splitlines()) == 1, outcome(result)
    assert token.encode() not in result.stderr


def test_preauth_untrusted_certificate(bed: MailBed, env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "SSL_CERT_FILE"}
    result = preauth(env, bed, ACCOUNT, bed.host, str(bed.imaps_port), commands=b"")
    assert result.returncode == 78, outcome(result)
    assert b"not trusted" in result.stderr and b"--cafile" in result.stderr
    assert len(result.stderr.splitlines()) == 1, outcome(result)


def test_preauth_unreachable(bed: MailBed, env: dict[str, str]) -> None:
    from tests.support.mailbed import free_port

    result = preauth(env, bed, ACCOUNT, bed.host, str(free_port()), commands=b"")
    assert result.returncode == 75, outcome(result)
    assert b"cannot connect" in result.stderr
