"""Files: private modes even under `umask 000`; loose, foreign or symlinked files refused.

The cache (and everything else under the cache dir: lock, state, discovery) and the file store
are created 0600 in 0700 directories whatever the umask. A cache or store file that is group or
world readable, owned by someone else, or a symbolic link is refused with a one-line message
naming the file (exit 78 for the cache, 69 for the store), and nothing is printed on stdout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from oauth_helper.paths import file_name
from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    cache_file,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.provider import LocalProvider

NOBODY = 65534
RecordProperty = Callable[[str, object], None]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _store_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "oauth-helper" / f"{file_name(ACCOUNT)}.json"


def _token_with_umask_000(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$0" "$@"', oauth_helper_cmd(), "token", ACCOUNT, *args],
        env=env,
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_everything_is_private_under_umask_000(
    tmp_path: Path, provider: LocalProvider, record_property: RecordProperty
) -> None:
    provider.rotation = "strict"  # the store file is rewritten by the refresh, under umask 000
    env = make_account(tmp_path, provider, ACCOUNT)
    shutil.rmtree(Path(env["XDG_CACHE_HOME"]) / "oauth-helper", ignore_errors=True)
    first = _token_with_umask_000(env)
    assert first.returncode == 0, first.stderr.decode()
    assert _token_with_umask_000(env, "--force-refresh").returncode == 0
    checked = []
    for base in ("XDG_CACHE_HOME", "XDG_DATA_HOME"):
        ours = Path(env[base]) / "oauth-helper"
        assert _mode(ours) == 0o700, f"{ours}: {oct(_mode(ours))}"
        checked.append(ours)
        for path in ours.iterdir():
            assert path.is_file() and not path.is_symlink(), path
            assert _mode(path) == 0o600, f"{path}: {oct(_mode(path))}"
            checked.append(path)
    names = {p.name for p in checked}
    assert f"{file_name(ACCOUNT)}.json" in names and f"{file_name(ACCOUNT)}.lock" in names
    record_property("paths_checked", len(checked))
    print(f"umask 000: {len(checked)} paths checked: {sorted(names)}")


def test_file_store_is_private_under_umask_000(tmp_path: Path) -> None:
    from oauth_helper.stores.base import Secret
    from oauth_helper.stores.file_store import FileStore

    directory = tmp_path / "fresh" / "oauth-helper"
    old = os.umask(0)
    try:
        FileStore(ACCOUNT, directory=str(directory)).save(Secret(refresh_token="rt-" + "z" * 20))
    finally:
        os.umask(old)
    assert _mode(directory) == 0o700
    (only,) = directory.iterdir()
    assert _mode(only) == 0o600


def test_missing_xdg_base_dirs_are_created_private(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    fresh = tmp_path / "home" / "new-cache"
    env["XDG_CACHE_HOME"] = str(fresh)
    assert _token_with_umask_000(env).returncode == 0
    assert _mode(fresh) & 0o077 == 0, oct(_mode(fresh))


# -- refusals ---------------------------------------------------------------------------------


def _loosen(path: Path) -> str:
    path.chmod(0o644)
    return "accessible to other users"


def _group_readable(path: Path) -> str:
    path.chmod(0o640)
    return "accessible to other users"


def _foreign(path: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(path, NOBODY, NOBODY)
    return f"owned by uid {NOBODY}"


def _symlink(path: Path) -> str:
    target = path.with_name("elsewhere.json")
    path.rename(target)  # a private file of ours, reached through a link: still refused
    path.symlink_to(target)
    return "symbolic link"


SPOILERS: dict[str, Callable[[Path], str]] = {
    "world-readable": _loosen,
    "group-readable": _group_readable,
    "foreign-owner": _foreign,
    "symlink": _symlink,
}


@pytest.mark.parametrize("spoil", SPOILERS)
def test_cache_file_refused(
    account_env: dict[str, str], provider: LocalProvider, spoil: str
) -> None:
    assert run_cli(account_env, "token", ACCOUNT).returncode == 0
    path = cache_file(account_env, ACCOUNT)
    words = SPOILERS[spoil](path)
    refreshes = provider.counts["token:refresh_token"]
    for args in ([], ["--format", "xoauth2"], ["--debug"]):
        done = run_cli(account_env, "token", ACCOUNT, *args)
        err = done.stderr.decode()
        assert done.returncode == 78, err
        assert done.stdout == b""
        last = err.splitlines()[-1]
        assert str(path) in last and words in last, last
        if not args:
            assert err.count("\n") == 1
    assert provider.counts["token:refresh_token"] == refreshes  # refused before any request


@pytest.mark.parametrize("spoil", SPOILERS)
def test_store_file_refused(
    account_env: dict[str, str], provider: LocalProvider, spoil: str
) -> None:
    path = _store_file(account_env)
    words = SPOILERS[spoil](path)
    done = run_cli(account_env, "token", ACCOUNT)
    err = done.stderr.decode()
    assert done.returncode == 78, err  # InsecureFile: the user fixes the mode or owner
    assert done.stdout == b"" and err.count("\n") == 1
    assert str(path) in err and words in err, err
    assert provider.counts["token"] == 0  # nothing was sent


def test_loose_cache_directory_refused(account_env: dict[str, str]) -> None:
    assert run_cli(account_env, "token", ACCOUNT).returncode == 0
    directory = cache_file(account_env, ACCOUNT).parent
    directory.chmod(0o755)
    cache_file(account_env, ACCOUNT).unlink()
    done = run_cli(account_env, "token", ACCOUNT)
    err = done.stderr.decode()
    assert done.returncode == 78 and done.stdout == b"", err
    assert str(directory) in err and "chmod 700" in err


def test_symlinked_lock_file_refused(account_env: dict[str, str], tmp_path: Path) -> None:
    lock = cache_file(account_env, ACCOUNT).with_suffix(".lock")
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = tmp_path / "someone-elses-file"
    target.write_text("do not truncate me\n")
    lock.symlink_to(target)
    done = run_cli(account_env, "token", ACCOUNT)
    assert target.read_text() == "do not truncate me\n"  # never followed
    err = done.stderr.decode()
    assert done.returncode == 78 and str(lock) in err, err


def test_symlinked_lock_file_is_never_followed(account_env: dict[str, str], tmp_path: Path) -> None:
    """Whatever the exit code, the link's target is not opened, created or changed."""
    lock = cache_file(account_env, ACCOUNT).with_suffix(".lock")
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = tmp_path / "not-there-yet"
    lock.symlink_to(target)
    done = run_cli(account_env, "token", ACCOUNT)
    assert done.returncode != 0 and done.stdout == b""
    assert not target.exists()


def test_hot_path_never_serves_an_insecure_cache(account_env: dict[str, str]) -> None:
    """The hot path treats a suspicious cache as absent; the slow path then reports it."""
    good = run_cli(account_env, "token", ACCOUNT)
    assert good.returncode == 0
    path = cache_file(account_env, ACCOUNT)
    path.chmod(0o604)
    done = run_cli(account_env, "token", ACCOUNT)
    assert done.returncode == 78 and done.stdout == b""
    assert stored_refresh_token(account_env, ACCOUNT)


def test_directories_created_by_a_fresh_user_are_private(
    tmp_path: Path, provider: LocalProvider
) -> None:
    """A first run in an empty HOME: our directories appear 0700 (umask 022 this time)."""
    env = user_env(tmp_path)
    env = make_account(tmp_path, provider, ACCOUNT, env=env)
    shutil.rmtree(Path(env["XDG_CACHE_HOME"]) / "oauth-helper", ignore_errors=True)
    assert run_cli(env, "token", ACCOUNT).returncode == 0
    assert _mode(Path(env["XDG_CACHE_HOME"]) / "oauth-helper") == 0o700
    assert _mode(cache_file(env, ACCOUNT)) == 0o600


def test_temporary_files_of_killed_writers_are_removed(tmp_path: Path) -> None:
    """A writer killed between creating its temporary file and the rename leaves an orphan;
    the next write in that directory removes orphans whose process is gone (ours stays)."""
    import subprocess
    import sys

    from oauth_helper import securefile

    target = tmp_path / "d" / "acct.json"
    securefile.write_private(str(target), b"{}")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    orphan = target.parent / f".acct.json.{dead}.123.tmp"
    orphan.write_bytes(b'{"refresh_token": "old"}')
    unrelated = target.parent / ".other.json.1.2.tmp"
    unrelated.write_bytes(b"x")
    securefile.write_private(str(target), b'{"a": 1}')
    assert not orphan.exists()
    assert unrelated.exists()  # another file's temporaries are not ours to judge
    assert target.read_bytes() == b'{"a": 1}'
