"""offlineimap3 with the shipped contrib/offlineimap/offlineimaprc: XOAUTH2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import make_flavoured_account, run_cli
from tests.support.mailbed import (
    SYSTEM_CAFILE,
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
def env(tmp_path: Path, provider: LocalProvider, request: pytest.FixtureRequest) -> dict[str, str]:
    return make_flavoured_account(tmp_path, provider, ACCOUNT, getattr(request, "param", "local"))


def offlineimap(
    tmp_path: Path, bed: MailBed, env: dict[str, str], snippet: bool = False
) -> list[str]:
    """offlineimap with contrib/offlineimap/offlineimaprc, or with the account's snippet."""
    server = {
        "remotehost = imap.gmail.com": f"remotehost = {bed.host}",
        "remoteport = 993": f"remoteport = {bed.imaps_port}",
        SYSTEM_CAFILE: bed.cafile,
    }
    if snippet:
        text = render_snippet(env, "offlineimap", ACCOUNT, server)
    else:
        text = render_contrib("offlineimap/offlineimaprc", {**server, "alice@gmail.com": ACCOUNT})
    path = tmp_path / "offlineimaprc"
    path.write_text(text)
    return [require_binary("offlineimap"), "-c", str(path), "-o", "-u", "basic"]


# The shipped file for a local-provider account; the snippet for a Google account.
SOURCES = pytest.mark.parametrize(
    ("env", "snippet"),
    [("local", False), ("google", True)],
    indirect=["env"],
    ids=["contrib", "snippet"],
)


@SOURCES
def test_offlineimap_fetches_seeded_message(
    tmp_path: Path, bed: MailBed, env: dict[str, str], snippet: bool
) -> None:
    bed.seed_message(ACCOUNT, "seeded for offlineimap", "hello offlineimap")
    result = run_client(offlineimap(tmp_path, bed, env, snippet), env, timeout=30)
    assert result.returncode == 0, outcome(result)
    inbox = Path(env["HOME"]) / "Mail" / "gmail" / "INBOX"
    files = [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]
    assert len(files) == 1, outcome(result)
    assert b"hello offlineimap" in files[0].read_bytes()
    bed.wait_for_log(f"user=<{ACCOUNT}>, method=XOAUTH2")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "imap"), bed.log_text()


def test_offlineimap_fails_visibly_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    bed.seed_message(ACCOUNT, "not to be fetched", "x")
    result = run_client(offlineimap(tmp_path, bed, env), env, timeout=30)
    assert result.returncode != 0, outcome(result)
    assert b"AUTHENTICATIONFAILED" in result.stdout + result.stderr, outcome(result)
