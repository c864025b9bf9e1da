"""mbsync (isync 1.4.4) with the shipped contrib/mbsync/mbsyncrc: XOAUTH2 through Cyrus SASL."""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path

import pytest

from tests.support.binaries import require, require_binary
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
    require_binary("mbsync")
    require(
        bool(glob.glob("/usr/lib/*/sasl2/libkdexoauth2.so*")),
        "libsasl2-modules-kdexoauth2 (XOAUTH2 for Cyrus SASL) is not installed",
    )
    flavour = getattr(request, "param", "local")  # "google": for the snippet
    env = make_flavoured_account(tmp_path, provider, ACCOUNT, flavour)
    (Path(env["HOME"]) / "Mail" / "gmail").mkdir(parents=True)
    return env


def server(bed: MailBed) -> dict[str, str]:
    """The only strings replaced: the test bed's host, port and CA."""
    return {
        "Host imap.gmail.com": f"Host {bed.host}",
        "Port 993": f"Port {bed.imaps_port}",
        SYSTEM_CAFILE: bed.cafile,
    }


def mbsyncrc(tmp_path: Path, bed: MailBed, env: dict[str, str] | None = None) -> Path:
    """contrib/mbsync/mbsyncrc for the test account, or (given env) the account's snippet."""
    if env is None:
        text = render_contrib("mbsync/mbsyncrc", {**server(bed), "alice@gmail.com": ACCOUNT})
    else:
        text = render_snippet(env, "mbsync", ACCOUNT, server(bed))
    path = tmp_path / "mbsyncrc"
    path.write_text(text)
    return path


# The shipped file for a local-provider account; the snippet for a Google account.
SOURCES = pytest.mark.parametrize(
    ("env", "snippet"),
    [("local", False), ("google", True)],
    indirect=["env"],
    ids=["contrib", "snippet"],
)


@SOURCES
def test_mbsync_fetches_seeded_message(
    tmp_path: Path, bed: MailBed, env: dict[str, str], snippet: bool
) -> None:
    bed.seed_message(ACCOUNT, "seeded for mbsync", "hello mbsync")
    rc = mbsyncrc(tmp_path, bed, env if snippet else None)
    result = run_client([require_binary("mbsync"), "-c", str(rc), "gmail"], env)
    assert result.returncode == 0, outcome(result)
    inbox = Path(env["HOME"]) / "Mail" / "gmail" / "INBOX"
    files = [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]
    assert len(files) == 1, outcome(result)
    assert b"hello mbsync" in files[0].read_bytes()
    bed.wait_for_log(f"user=<{ACCOUNT}>, method=XOAUTH2")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "imap"), bed.log_text()


def test_mbsync_on_rejected_token(
    tmp_path: Path, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_cli(env, "token", ACCOUNT)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    try:
        result = run_client(
            [require_binary("mbsync"), "-c", str(mbsyncrc(tmp_path, bed)), "gmail"], env, timeout=5
        )
    except subprocess.TimeoutExpired:
        assert "Provided token is not valid" in bed.wait_for_log("Provided token is not valid")
        pytest.xfail(
            "mbsync 1.4.4 waits for ever after the server rejects an XOAUTH2 token "
            "(documented in contrib/mbsync/mbsyncrc)"
        )
    assert result.returncode != 0, outcome(result)
