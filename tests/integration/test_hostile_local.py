"""Another local user attacks (issue 13, items 2 and 7): planted configs, directories, FIFOs and
symlinks are refused, and code she injects never runs.

She is a real second user (tests/support/other_user.py: useradd + setpriv); the victim is the
test process's user. The victim's files live under a directory she can traverse, as a home
directory usually is (0711/0755).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_helper import configedit
from tests.conftest import ACCOUNT
from tests.support import other_user
from tests.support.cli_env import cache_file, config_file, make_account, run_cli
from tests.support.provider import LocalProvider

COMMANDS: list[tuple[list[str], bytes]] = [
    (["token", ACCOUNT], b""),
    (["token", ACCOUNT, "--force-refresh"], b""),
    (["status"], b""),
    (["status", ACCOUNT, "--json"], b""),
    (["test", ACCOUNT, "--imap", "127.0.0.1:1"], b""),
    (["revoke", ACCOUNT], b""),
    (["providers"], b""),
    (
        ["git-credential", "get"],
        b"protocol=smtp\nhost=mail.example.com\nusername=" + ACCOUNT.encode() + b"\n\n",
    ),
    (["authorize", ACCOUNT, "--flow", "paste"], b""),
    (["preauth", ACCOUNT, "127.0.0.1", "1"], b""),
]


@pytest.fixture
def mallory() -> Iterator[other_user.OtherUser]:
    yield from other_user.create()


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory other users can traverse (tmp_path is 0700 under a 0700 parent)."""
    path = Path(tempfile.mkdtemp(prefix="oh-hostile-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def victim(base: Path, provider: LocalProvider) -> dict[str, str]:
    env = make_account(base, provider, ACCOUNT, timeout=3)
    for directory in (Path(env["HOME"]), Path(env["XDG_CONFIG_HOME"]), config_file(env).parent):
        directory.chmod(0o711)
    return env


def test_world_writable_config_with_injected_command_is_refused_by_every_command(
    base: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env = victim(base, provider)
    path = config_file(env)
    path.chmod(0o666)  # a careless chmod, a dotfile sync
    marker = base / "pwned"
    injected = path.read_text().replace(
        'store = "file"',
        f'store = "command"\nstore_read = ["sh", "-c", "touch {marker}; echo rt"]\n'
        f'store_write = ["sh", "-c", "touch {marker}"]',
    )
    mallory.sh(f"cat > {path} <<'EOF'\n{injected}EOF\n")
    assert path.stat().st_uid == os.geteuid() and "store_read" in path.read_text()
    for argv, stdin in COMMANDS:
        done = run_cli(env, *argv, input=stdin, timeout=30)
        err = done.stderr.decode()
        assert done.returncode == 78, (argv, err)
        assert f"chmod go-w {path}" in err, (argv, err)
        assert done.stdout == b"" or argv[0] == "git-credential", (argv, done.stdout)
        assert not marker.exists(), f"{argv}: the injected command ran"


def test_config_replaced_through_a_writable_directory_is_refused(
    base: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env = victim(base, provider)
    path = config_file(env)
    path.parent.chmod(0o777)
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 78
    assert f"chmod go-w {path.parent}" in done.stderr.decode()
    # She uses the directory to swap in a file of her own.
    mallory.sh(f"cp {path} {path}.x && mv -f {path}.x {path}")
    assert path.stat().st_uid == mallory.uid
    path.parent.chmod(0o711)
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 78
    err = done.stderr.decode()
    assert f"owned by uid {mallory.uid}" in err and "not by you or root" in err


def test_config_dir_created_by_another_user_is_refused(
    base: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env = victim(base, provider)
    shared = base / "hers"
    mallory_dir = shared / "oauth-helper"
    shared.mkdir()
    shared.chmod(0o777)
    mallory.sh(f"mkdir -m 755 {mallory_dir} && cp {config_file(env)} {mallory_dir}/")
    env["XDG_CONFIG_HOME"] = str(shared)
    done = run_cli(env, "token", ACCOUNT, timeout=30)
    assert done.returncode == 78
    assert f"owned by uid {mallory.uid}" in done.stderr.decode()


def test_fifo_planted_in_a_shared_cache_dir_fails_at_once(
    base: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env = victim(base, provider)
    shared = base / "shared-cache"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    env["XDG_CACHE_HOME"] = str(shared)
    planted = cache_file(env, ACCOUNT)
    mallory.sh(
        f"mkdir -m 777 {planted.parent} && mkfifo -m 666 {planted} "
        f"&& mkfifo -m 666 {planted.with_suffix('.lock')}"
    )
    assert stat.S_ISFIFO(os.lstat(planted).st_mode)
    started = time.monotonic()
    done = run_cli(env, "token", ACCOUNT, timeout=20)
    assert time.monotonic() - started < 10
    assert done.returncode == 78, done.stderr
    assert f"{planted} is not a regular file" in done.stderr.decode()


def test_symlinked_cache_dir_planted_in_a_shared_cache_is_refused(
    base: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env = victim(base, provider)
    shared = base / "shared-cache"
    shared.mkdir()
    shared.chmod(0o1777)
    env["XDG_CACHE_HOME"] = str(shared)
    hers = base / "hers"
    hers.mkdir()
    hers.chmod(0o777)
    mallory.sh(f"ln -s {hers} {shared}/oauth-helper")
    done = run_cli(env, "token", ACCOUNT, timeout=20)
    assert done.returncode == 78, done.stderr
    assert "not a directory" in done.stderr.decode()
    assert list(hers.iterdir()) == []  # no token was written where she can read it


def test_fifo_at_our_own_cache_path_fails_at_once(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, timeout=3)
    path = cache_file(env, ACCOUNT)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.mkfifo(path, 0o600)
    started = time.monotonic()
    done = run_cli(env, "token", ACCOUNT, timeout=20)
    assert time.monotonic() - started < 10
    assert done.returncode == 78, done.stderr
    assert f"{path} is not a regular file; remove it" in done.stderr.decode()


def test_config_dirs_are_created_0700_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "fresh-home" / ".config" / "oauth-helper" / "config.toml"
    old = os.umask(0)
    try:
        configedit.update_account(target, ACCOUNT, {"provider": "google", "client_id": "x"})
    finally:
        os.umask(old)
    for directory in (target.parent, target.parent.parent, target.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
