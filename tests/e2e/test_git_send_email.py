"""Real `git send-email` (Debian's git-email) through a token-only submission server.

The SMTP submission server (Dovecot) accepts only XOAUTH2 / OAUTHBEARER and validates the
token at the local OAuth2 provider. git reads its settings from the shipped
contrib/git/*.gitconfig (only host, port, user and CA file substituted), asks
`git-credential-oauth-helper` for the token, and logs in through the Perl mechanisms of
contrib/perl. Nothing may prompt: GIT_TERMINAL_PROMPT=0, stdin closed, a timeout.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require, require_binary
from tests.support.cli_env import (
    cache_file,
    make_account,
    make_flavoured_account,
    stored_refresh_token,
)
from tests.support.mailbed import MailBed, render_snippet
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONTRIB_GIT = ROOT / "contrib" / "git"
PERL_LIB = ROOT / "contrib" / "perl"

ACCOUNT = "alice@example.test"
RECIPIENT = "bob@example.test"
SUBJECTS = ["first change", "second change", "third change"]

# What each shipped file is written for, and so what the test substitutes.
SHIPPED = {
    "gmail.gitconfig": ("smtp.gmail.com", "587", "alice@gmail.com"),
    "microsoft.gitconfig": ("smtp.office365.com", "587", "bob@contoso.com"),
}
CAFILE_LINE = "# smtpSSLCertPath = /etc/ssl/certs"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        yield p


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider, bed: MailBed) -> dict[str, str]:
    require_binary("git")
    done = subprocess.run(
        ["git", "send-email", "--help"], capture_output=True, timeout=30, check=False
    )
    require(
        done.returncode in (0, 1)
        and b"No manual entry" not in done.stderr
        and Path("/usr/lib/git-core/git-send-email").exists(),
        "git-email is not installed",
    )
    env = make_account(
        tmp_path, provider, ACCOUNT, extra_config=f'smtp = "{bed.host}:{bed.submission_port}"'
    )
    return git_env(env)


def git_env(env: dict[str, str]) -> dict[str, str]:
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_DATE="2024-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2024-01-01T00:00:00Z",
        PERL5LIB=str(PERL_LIB),
    )
    for name in ("GIT_ASKPASS", "SSH_ASKPASS", "SENDEMAIL_ASKPASS", "GIT_CONFIG_GLOBAL"):
        env.pop(name, None)
    return env


def install_contrib(env: dict[str, str], name: str, host: str, port: int, cafile: str) -> Path:
    """The shipped file, host, port, user and CA file substituted, included from ~/.gitconfig."""
    shipped_host, shipped_port, shipped_user = SHIPPED[name]
    text = (CONTRIB_GIT / name).read_text()
    for old in (shipped_host, shipped_port, shipped_user, CAFILE_LINE):
        assert old in text, f"{name} no longer contains {old!r}: update this test"
    text = (
        text.replace(shipped_host, host)
        .replace(shipped_port, str(port))
        .replace(shipped_user, ACCOUNT)
        .replace(CAFILE_LINE, f"smtpSSLCertPath = {cafile}")
    )
    return install(env, name, text)


def install(env: dict[str, str], name: str, text: str) -> Path:
    home = Path(env["HOME"])
    installed = home / name
    installed.write_text(text)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Alice Example\n\temail = alice@example.test\n"
        f"[include]\n\tpath = {installed}\n"
    )
    return installed


def make_series(tmp_path: Path, env: dict[str, str]) -> list[Path]:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60
        )

    git("init", "-q", "-b", "main")
    (repo / "README").write_text("base\n")
    git("add", "README")
    git("commit", "-q", "-m", "base")
    for number, subject in enumerate(SUBJECTS, 1):
        (repo / "README").write_text(f"base\nchange {number}\n")
        git("commit", "-q", "-am", subject)
    git("format-patch", "-q", "-3", "-o", str(tmp_path / "series"))
    patches = sorted((tmp_path / "series").glob("*.patch"))
    assert len(patches) == 3
    return patches


def send_email(
    env: dict[str, str], patches: list[Path], *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "git",
            "send-email",
            "--confirm=never",
            f"--to={RECIPIENT}",
            f"--from=Alice Example <{ACCOUNT}>",
            "--suppress-cc=all",
            "--no-annotate",
            *extra,
            *map(str, patches),
        ],
        cwd=patches[0].parent,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_series_delivered(bed: MailBed) -> None:
    messages = bed.wait_delivered(RECIPIENT, count=3)
    subjects = sorted(str(m["Subject"]) for m in messages)
    assert subjects == [f"[PATCH {n}/3] {s}" for n, s in enumerate(SUBJECTS, 1)]
    for message in messages:
        assert ACCOUNT in str(message["From"])


@pytest.mark.parametrize("flavour", ["google", "microsoft"])
def test_send_email_with_the_snippet(
    tmp_path: Path, bed: MailBed, provider: LocalProvider, flavour: str
) -> None:
    """`oauth-helper snippet git` for an account whose SMTP server is the bed (account-level
    smtp, as for any custom server): only the CA is substituted; the helper is the absolute
    path of the installed git-credential-oauth-helper."""
    smtp = f'smtp = "{bed.host}:{bed.submission_port}"'
    env = git_env(make_flavoured_account(tmp_path, provider, ACCOUNT, flavour, account_extra=smtp))
    text = render_snippet(env, "git", ACCOUNT, {CAFILE_LINE: f"smtpSSLCertPath = {bed.cafile}"})
    assert "helper = /" in text and "git-credential-oauth-helper" in text
    install(env, "snippet.gitconfig", text)
    done = send_email(env, make_series(tmp_path, env))
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{bed.log_text()[-3000:]}"
    assert_series_delivered(bed)
    assert bed.login_succeeded(ACCOUNT, "XOAUTH2", "submission"), bed.log_text()


@pytest.mark.parametrize(
    ("config", "options", "mechanism", "implicit_tls"),
    [
        ("gmail.gitconfig", (), "XOAUTH2", False),
        ("gmail.gitconfig", ("--smtp-auth=OAUTHBEARER",), "OAUTHBEARER", False),
        ("microsoft.gitconfig", (), "XOAUTH2", False),
        (
            "gmail.gitconfig",
            ("--smtp-encryption=ssl", "--smtp-auth=OAUTHBEARER"),
            "OAUTHBEARER",
            True,
        ),
    ],
    ids=[
        "gmail-xoauth2-starttls",
        "gmail-oauthbearer-starttls",
        "microsoft-xoauth2-starttls",
        "gmail-oauthbearer-implicit-tls",
    ],
)
def test_send_email_series(
    tmp_path: Path,
    env: dict[str, str],
    bed: MailBed,
    provider: LocalProvider,
    config: str,
    options: tuple[str, ...],
    mechanism: str,
    implicit_tls: bool,
) -> None:
    port = bed.submissions_port if implicit_tls else bed.submission_port
    install_contrib(env, config, bed.host, port, bed.cafile)
    patches = make_series(tmp_path, env)
    refreshes = provider.counts["token:refresh_token"]

    done = send_email(env, patches, *options)

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{bed.log_text()[-3000:]}"
    assert done.stdout.count("Result: 250") == 3
    assert_series_delivered(bed)
    assert provider.counts["token:refresh_token"] == refreshes + 1  # one token for the series
    logins = [
        line for line in bed.log_text().splitlines() if "submission-login: Info: Login:" in line
    ]
    assert len(logins) == 1
    assert f"user=<{ACCOUNT}>, method={mechanism}," in logins[0]
    assert "oauth-helper" not in done.stderr


def test_rejected_token_is_erased_and_the_next_run_works(
    tmp_path: Path, env: dict[str, str], bed: MailBed, provider: LocalProvider
) -> None:
    """The server refuses a token (error challenge, empty answer, 535): git rejects the
    credential, our `erase` drops the cached token, and the next run refreshes and sends."""
    install_contrib(env, "gmail.gitconfig", bed.host, bed.submission_port, bed.cafile)
    patches = make_series(tmp_path, env)
    # A token the provider does not know, cached as if it were valid for an hour.
    done = subprocess.run(
        ["oauth-helper", "token", ACCOUNT], env=env, capture_output=True, timeout=60, check=True
    )
    assert done.stdout.strip()
    path = cache_file(env, ACCOUNT)
    entry = json.loads(path.read_text())
    entry["access_token"] = "not-a-token-the-provider-issued"
    entry["expires_at"] = time.time() + 3600
    path.write_text(json.dumps(entry))
    refresh_token = stored_refresh_token(env, ACCOUNT)

    failed = send_email(env, patches)
    assert failed.returncode != 0
    assert "5.7.8" in failed.stderr or "535" in failed.stderr, failed.stderr
    assert bed.delivered(RECIPIENT) == []
    assert not path.exists(), "git's reject should have made the helper drop the cached token"

    refreshes = provider.counts["token:refresh_token"]
    done2 = send_email(env, patches)
    assert done2.returncode == 0, done2.stderr
    assert_series_delivered(bed)
    assert provider.counts["token:refresh_token"] == refreshes + 1
    assert stored_refresh_token(env, ACCOUNT) == refresh_token


def test_without_the_perl_modules_git_send_email_finds_no_mechanism(
    tmp_path: Path, env: dict[str, str], bed: MailBed
) -> None:
    """Why contrib/perl exists (Authen::SASL < 2.1800, as in Debian 12)."""
    version = subprocess.run(
        ["perl", "-MAuthen::SASL", "-e", "print $Authen::SASL::VERSION"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    if float(version) >= 2.18:
        pytest.skip(f"Authen::SASL {version} has XOAUTH2 of its own")
    install_contrib(env, "gmail.gitconfig", bed.host, bed.submission_port, bed.cafile)
    patches = make_series(tmp_path, env)
    env = {k: v for k, v in env.items() if k != "PERL5LIB"}
    done = send_email(env, patches)
    assert done.returncode != 0
    assert "No SASL mechanism found" in done.stderr


def test_send_email_through_msmtp_instead_of_authen_sasl(
    tmp_path: Path, env: dict[str, str], bed: MailBed, provider: LocalProvider
) -> None:
    """The documented alternative: sendemail.sendmailCmd = msmtp, which asks oauth-helper itself."""
    msmtp = require_binary("msmtp")
    rc = Path(env["HOME"]) / ".msmtprc"
    rc.write_text(
        "account test\n"
        f"host {bed.host}\n"
        f"port {bed.submission_port}\n"
        "tls on\ntls_starttls on\n"
        f"tls_trust_file {bed.cafile}\n"
        "auth xoauth2\n"
        f"user {ACCOUNT}\n"
        f"from {ACCOUNT}\n"
        f'passwordeval "oauth-helper token {ACCOUNT}"\n'
    )
    rc.chmod(0o600)
    (Path(env["HOME"]) / ".gitconfig").write_text(
        "[user]\n\tname = Alice Example\n\temail = alice@example.test\n"
        f"[sendemail]\n\tsendmailCmd = {msmtp} -a test\n"
    )
    env = {k: v for k, v in env.items() if k != "PERL5LIB"}
    patches = make_series(tmp_path, env)
    refreshes = provider.counts["token:refresh_token"]
    done = send_email(env, patches)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert_series_delivered(bed)
    # msmtp runs once a message; the second and third are served from the cache.
    assert provider.counts["token:refresh_token"] == refreshes + 1
