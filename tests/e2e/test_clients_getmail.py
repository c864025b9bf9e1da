"""getmail6 with the shipped contrib/getmail/getmailrc: XOAUTH2 via password_command.

getmail refuses to deliver as root, so when the tests run as root (CI) getmail — and the
oauth-helper it starts — run as an unprivileged user (``nobody``, through ``setpriv``), with a
home, oauth-helper config, cache, file store, getmail state and Maildir that this user owns
(oauth-helper refuses files owned by someone else). As any other user they run directly.
Either way the test checks the XOAUTH2 login in Dovecot's log and the delivered message.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.binaries import require, require_binary
from tests.support.cli_env import make_flavoured_account, oauth_helper_cmd
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


@dataclass
class MailUser:
    """Who runs getmail: a command prefix (empty when that is us), and a directory they own."""

    prefix: list[str]
    root: Path
    uid: int
    gid: int

    def argv(self, *argv: str) -> list[str]:
        return [*self.prefix, *argv]

    def give_everything(self) -> None:
        """Make every file under ``root`` (and ``root``) belong to the user."""
        if not self.prefix:
            return
        os.chown(self.root, self.uid, self.gid)
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)


def _unprivileged_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def user(tmp_path: Path) -> Iterator[MailUser]:
    if os.geteuid() != 0:
        root = tmp_path / "user"
        root.mkdir()
        yield MailUser([], root, os.getuid(), os.getgid())
        return
    uid, gid = _unprivileged_ids()
    setpriv = require_binary("setpriv")
    # pytest's tmp_path is under a 0700 directory of root's: the user's files live outside it.
    root = Path(tempfile.mkdtemp(prefix="oauth-helper-getmail-"))
    try:
        drop = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
        # The test venv's interpreter may live where the user cannot look (pyenv under a 0700
        # /root): then the user keeps one capability, to read and search any directory, and
        # nothing else (no other capability can ever be gained). It stays that uid for getmail's
        # root check and oauth-helper's owner checks.
        read_anywhere = [
            "--inh-caps=-all,+dac_read_search",
            "--ambient-caps=-all,+dac_read_search",
            "--bounding-set=-all,+dac_read_search",
        ]
        mail_user = MailUser(drop, root, uid, gid)
        mail_user.give_everything()
        probes = []
        for extra in ([], read_anywhere):
            mail_user.prefix = [*drop, *extra]
            probe = subprocess.run(
                mail_user.argv("/bin/sh", "-c", f'exec "{oauth_helper_cmd()}" --version'),
                capture_output=True,
                timeout=30,
                check=False,
                cwd=root,
            )
            probes.append(outcome(probe))
            if probe.returncode == 0:
                break
        require(
            probe.returncode == 0,
            f"uid {uid} cannot run {oauth_helper_cmd()}: " + "\n".join(probes),
        )
        yield mail_user
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def env(
    user: MailUser, provider: LocalProvider, bed: MailBed, request: pytest.FixtureRequest
) -> dict[str, str]:
    """The account (local provider; "google": a Google account and the snippet) and getmailrc."""
    flavour = getattr(request, "param", "local")
    env = make_flavoured_account(user.root, provider, ACCOUNT, flavour)
    for sub in ("cur", "new", "tmp"):
        (Path(env["HOME"]) / "Mail" / "gmail" / "INBOX" / sub).mkdir(parents=True)
    (user.root / "getmail-state").mkdir()
    shutil.copyfile(bed.cafile, user.root / "cafile.pem")  # the bed's own is out of reach
    server = {
        "server = imap.gmail.com": f"server = {bed.host}",
        "port = 993": f"port = {bed.imaps_port}",
        SYSTEM_CAFILE: str(user.root / "cafile.pem"),
    }
    if flavour == "google":
        user.give_everything()  # the user runs `snippet`, as it runs getmail
        text = render_snippet(env, "getmail", ACCOUNT, server, wrap=user.argv)
    else:
        text = render_contrib("getmail/getmailrc", {**server, "alice@gmail.com": ACCOUNT})
    (user.root / "getmailrc").write_text(text)
    user.give_everything()
    return env


def getmail(user: MailUser) -> list[str]:
    return user.argv(
        require_binary("getmail"),
        "--getmaildir",
        str(user.root / "getmail-state"),
        "--rcfile",
        str(user.root / "getmailrc"),
    )


def run_as(
    user: MailUser, argv: Sequence[str], env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    return run_client(argv, env, timeout=30, cwd=user.root)


def inbox_files(env: dict[str, str]) -> list[Path]:
    inbox = Path(env["HOME"]) / "Mail" / "gmail" / "INBOX"
    return [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]


@pytest.mark.parametrize("env", ["local", "google"], indirect=True, ids=["contrib", "snippet"])
def test_getmail_delivers_seeded_message(user: MailUser, bed: MailBed, env: dict[str, str]) -> None:
    bed.seed_message(ACCOUNT, "seeded for getmail", "hello getmail")
    result = run_as(user, getmail(user), env)
    bed.wait_for_log(f"user=<{ACCOUNT}>, method=XOAUTH2")
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "imap"), outcome(result) + bed.log_text()
    assert result.returncode == 0, outcome(result)
    files = inbox_files(env)
    assert len(files) == 1, outcome(result)
    delivered = files[0]
    assert b"hello getmail" in delivered.read_bytes(), outcome(result)
    assert b"Subject: seeded for getmail" in delivered.read_bytes()
    assert delivered.stat().st_uid == user.uid  # written by getmail running as the user
    # A second run fetches nothing new (read_all = false) and logs in again.
    again = run_as(user, getmail(user), env)
    assert again.returncode == 0, outcome(again)
    assert len(inbox_files(env)) == 1


def test_getmail_fails_visibly_on_rejected_token(
    user: MailUser, bed: MailBed, env: dict[str, str], provider: LocalProvider
) -> None:
    printed = run_as(user, user.argv(oauth_helper_cmd(), "token", ACCOUNT), env)
    assert printed.returncode == 0, outcome(printed)
    revoke_token(provider.revocation_endpoint, printed.stdout.decode().strip(), "test-client")
    bed.seed_message(ACCOUNT, "never fetched", "x")
    result = run_as(user, getmail(user), env)
    assert result.returncode != 0, outcome(result)
    assert b"AUTHENTICATIONFAILED" in result.stdout + result.stderr, outcome(result)
    assert not bed.logins()
    assert inbox_files(env) == []
