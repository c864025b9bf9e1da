"""`git credential fill|reject` with oauth-helper as the helper in a global git config.

Real git, the installed `git-credential-oauth-helper`, and the local OAuth2 provider. No
terminal: GIT_TERMINAL_PROMPT=0 and stdin is closed, so anything git would ask for is a
failure instead of a hang.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import cache_file, make_account, stored_refresh_token
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.e2e

ACCOUNT = "alice@example.test"
SMTP_HOST = "127.0.0.1"
SMTP_PORT = 2587


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        yield p


@pytest.fixture
def env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    require_binary("git")
    env = make_account(
        tmp_path, provider, ACCOUNT, extra_config=f'smtp = "{SMTP_HOST}:{SMTP_PORT}"'
    )
    # The helper sits in the global config, for every host, as gitcredentials(7) allows.
    gitconfig = Path(env["HOME"]) / ".gitconfig"
    gitconfig.write_text("[credential]\n\thelper = oauth-helper\n")
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.pop("GIT_ASKPASS", None)
    env.pop("SSH_ASKPASS", None)
    return env


def git_credential(
    env: dict[str, str], action: str, attributes: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    data = "".join(f"{k}={v}\n" for k, v in attributes.items()) + "\n"
    return subprocess.run(
        ["git", "credential", action],
        input=data,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def attributes_of(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if line)


SMTP_REQUEST = {"protocol": "smtp", "host": f"{SMTP_HOST}:{SMTP_PORT}", "username": ACCOUNT}


def fill(env: dict[str, str]) -> dict[str, str]:
    done = git_credential(env, "fill", SMTP_REQUEST)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return attributes_of(done.stdout)


def test_fill_answers_an_access_token(env: dict[str, str], provider: LocalProvider) -> None:
    got = fill(env)
    assert got["username"] == ACCOUNT
    assert provider.introspect(got["password"])["username"] == ACCOUNT
    assert provider.counts["token:refresh_token"] == 1
    # A second fill is served from the cache.
    assert fill(env)["password"] == got["password"]
    assert provider.counts["token:refresh_token"] == 1


def test_fill_without_username_uses_the_only_account(env: dict[str, str]) -> None:
    done = git_credential(env, "fill", {"protocol": "smtp", "host": f"{SMTP_HOST}:587"})
    assert done.returncode == 0, done.stderr
    assert attributes_of(done.stdout)["username"] == ACCOUNT


@pytest.mark.parametrize(
    "request_",
    [
        {"protocol": "smtp", "host": "smtp.unknown.example:587", "username": ACCOUNT},
        {"protocol": "https", "host": SMTP_HOST},
        {"protocol": "smtp", "host": f"{SMTP_HOST}:{SMTP_PORT}", "username": "bob@example.test"},
    ],
)
def test_unknown_is_gits_own_failure(
    env: dict[str, str], provider: LocalProvider, request_: dict[str, str]
) -> None:
    done = git_credential(env, "fill", request_)
    assert done.returncode == 128
    assert done.stdout == ""
    assert "terminal prompts disabled" in done.stderr
    assert "oauth-helper" not in done.stderr
    assert provider.counts["token:refresh_token"] == 0


def test_expired_cache_gives_a_fresh_token(env: dict[str, str], provider: LocalProvider) -> None:
    first = fill(env)["password"]
    path = cache_file(env, ACCOUNT)
    entry = json.loads(path.read_text())
    entry["expires_at"] = time.time() - 10
    path.write_text(json.dumps(entry))
    got = fill(env)
    assert got["password"] != first
    assert provider.introspect(got["password"])["active"] is True
    assert provider.counts["token:refresh_token"] == 2


def test_helper_answers_expiry(env: dict[str, str], provider: LocalProvider) -> None:
    # git 2.39 drops password_expiry_utc (git 2.41 and later use it): ask the helper itself.
    data = f"protocol=smtp\nhost={SMTP_HOST}:{SMTP_PORT}\nusername={ACCOUNT}\n\n".encode()
    done = subprocess.run(
        ["git-credential-oauth-helper", "get"],
        input=data,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    got = attributes_of(done.stdout.decode())
    assert list(got) == ["username", "password", "password_expiry_utc"]
    assert provider.introspect(got["password"])["username"] == ACCOUNT
    expiry = int(got["password_expiry_utc"])
    assert (
        time.time() + provider.access_token_ttl - 60
        < expiry
        <= time.time() + provider.access_token_ttl
    )


def test_reauthorization_needed_stops_git_with_our_message(
    env: dict[str, str], provider: LocalProvider
) -> None:
    provider.fail_next("invalid_grant")
    done = git_credential(env, "fill", SMTP_REQUEST)
    assert done.returncode == 128
    assert done.stdout == ""
    assert f"oauth-helper authorize {ACCOUNT}" in done.stderr
    assert "told us to quit" in done.stderr
    assert "terminal prompts disabled" not in done.stderr  # git did not try to prompt


def test_reject_then_fill_refreshes_once_and_keeps_the_refresh_token(
    env: dict[str, str], provider: LocalProvider
) -> None:
    got = fill(env)
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    done = git_credential(env, "reject", {**SMTP_REQUEST, "password": got["password"]})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not cache_file(env, ACCOUNT).exists()
    again = fill(env)
    assert again["password"] != got["password"]
    assert provider.counts["token:refresh_token"] == 2
    assert stored_refresh_token(env, ACCOUNT) == refresh_token
    assert provider.is_refresh_token_valid(refresh_token)


def test_approve_stores_nothing(env: dict[str, str]) -> None:
    got = fill(env)
    before = sorted(p.name for p in Path(env["HOME"]).rglob("*") if p.is_file())
    done = git_credential(env, "approve", {**SMTP_REQUEST, "password": got["password"]})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    after = sorted(p.name for p in Path(env["HOME"]).rglob("*") if p.is_file())
    assert after == before


def test_helper_alone_ignores_git_for_other_hosts(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["git-credential-oauth-helper", "get"],
        input=b"protocol=https\nhost=github.com\n\n",
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_helper_malformed_input_is_one_line(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["git-credential-oauth-helper", "get"],
        input=b"protocol=smtp\nthis is not an attribute\n",
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 64
    assert done.stdout == b""
    assert done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"oauth-helper: line 2 ")
