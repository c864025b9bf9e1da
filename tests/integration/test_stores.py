"""One contract, every store: file, command (a real `secret-tool`-like script), keyring (a real Secret Service).

The keyring case talks to gnome-keyring-daemon over D-Bus; scripts/test starts one under
dbus-run-session. Without a session bus it fails under CI and skips elsewhere.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_helper.errors import InsecureFile, StoreUnavailable
from oauth_helper.stores.base import Secret, SecretStore
from oauth_helper.stores.command_store import CommandStore
from oauth_helper.stores.file_store import FileStore
from tests.support.binaries import require, require_binary

ACCOUNT = "contract@example.com"

# A tiny password manager: keeps one secret per name in a directory; reads print it, writes take stdin.
FAKE_PASS = """\
import os, sys
action, name = sys.argv[1], sys.argv[2]
path = os.path.join(os.environ["FAKE_PASS_DIR"], name)
if action == "show":
    if not os.path.exists(path):
        sys.exit(0)
    sys.stdout.write(open(path).read())
elif action == "insert":
    data = sys.stdin.read()
    with open(path, "w") as f:
        f.write(data)
elif action == "rm":
    os.remove(path)
with open(os.path.join(os.environ["FAKE_PASS_DIR"], "argv.log"), "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
"""


def _keyring_store() -> SecretStore:
    require_binary("gnome-keyring-daemon")
    require(
        bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
        "no D-Bus session bus: scripts/test runs the suite under dbus-run-session with "
        "gnome-keyring-daemon",
    )
    from oauth_helper.stores.keyring_store import KeyringStore, real_backend

    backend, reason = real_backend()
    assert backend is not None, reason
    assert type(backend).__module__ == "keyring.backends.SecretService", type(backend)
    return KeyringStore(ACCOUNT)


@pytest.fixture(params=["file", "command", "keyring"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretStore]:
    if request.param == "file":
        yield FileStore(ACCOUNT, directory=str(tmp_path / "secrets"))
    elif request.param == "command":
        script = tmp_path / "fake_pass.py"
        script.write_text(FAKE_PASS)
        monkeypatch.setenv("FAKE_PASS_DIR", str(tmp_path))
        yield CommandStore(
            ACCOUNT,
            (sys.executable, str(script), "show", "acct"),
            (sys.executable, str(script), "insert", "acct"),
            (sys.executable, str(script), "rm", "acct"),
        )
    else:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
        import keyring.core

        keyring.core._keyring_backend = None  # re-read the environment
        kr = _keyring_store()
        kr.delete()
        yield kr
        kr.delete()
        keyring.core._keyring_backend = None


def test_empty_store_loads_none(store: SecretStore) -> None:
    assert store.load() is None
    assert store.unavailable_reason() is None


def test_round_trip_and_replace(store: SecretStore) -> None:
    first = Secret(
        refresh_token="1//refresh-one",
        client_secret="GOCSPX-secret",
        obtained_at=1700000000.0,
        refresh_token_expires_at=1700604800.0,
    )
    store.save(first)
    assert store.load() == first
    second = first.rotated("1//refresh-two")
    store.save(second)
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "1//refresh-two"
    assert loaded.client_secret == "GOCSPX-secret"


def test_delete(store: SecretStore) -> None:
    store.save(Secret(refresh_token="rt-to-delete"))
    assert store.delete() is True
    assert store.load() is None


def test_repr_and_describe_hide_the_secret(store: SecretStore) -> None:
    secret = Secret(refresh_token="very-secret-refresh", client_secret="very-secret-client")
    store.save(secret)
    for text in (repr(secret), repr(store.load()), store.describe()):
        assert "very-secret" not in text


def test_file_store_is_private_even_under_umask_000(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = FileStore(ACCOUNT, directory=str(tmp_path / "d"))
        store.save(Secret(refresh_token="rt"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_file_store_refuses_loose_or_linked_files(tmp_path: Path) -> None:
    store = FileStore(ACCOUNT, directory=str(tmp_path / "d"))
    store.save(Secret(refresh_token="rt"))
    os.chmod(store.path, 0o644)
    # One rule for refused files: InsecureFile (exit 78), through the store as anywhere else.
    with pytest.raises(InsecureFile, match="chmod 600"):
        store.load()
    os.remove(store.path)
    target = tmp_path / "elsewhere.json"
    target.write_text('{"refresh_token": "planted"}')
    target.chmod(0o600)
    os.symlink(target, store.path)
    with pytest.raises(InsecureFile, match="symbolic link"):
        store.load()


def test_command_store_never_puts_the_secret_on_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "fake_pass.py"
    script.write_text(FAKE_PASS)
    monkeypatch.setenv("FAKE_PASS_DIR", str(tmp_path))
    store = CommandStore(
        ACCOUNT,
        (sys.executable, str(script), "show", "acct"),
        (sys.executable, str(script), "insert", "acct"),
    )
    store.save(Secret(refresh_token="argv-must-not-see-this"))
    assert "argv-must-not-see-this" not in (tmp_path / "argv.log").read_text()
    assert store.load() is not None


def test_command_store_failure_is_one_line(tmp_path: Path) -> None:
    store = CommandStore(
        ACCOUNT,
        (
            sys.executable,
            "-c",
            "import sys; sys.stderr.write('gpg: decryption failed\\n'); sys.exit(2)",
        ),
        ("true",),
    )
    with pytest.raises(StoreUnavailable, match="gpg: decryption failed"):
        store.load()
    missing = CommandStore(ACCOUNT, ("/nonexistent/pass",), ("/nonexistent/pass",))
    assert missing.unavailable_reason() is not None
    with pytest.raises(StoreUnavailable, match="not found"):
        missing.load()


def test_bare_refresh_token_from_a_password_manager(tmp_path: Path) -> None:
    store = CommandStore(ACCOUNT, ("echo", "1//bare-token"), ("true",))
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "1//bare-token"


def test_keyring_without_a_session_bus_is_unavailable_with_a_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring.core

    keyring.core._keyring_backend = None
    try:
        from oauth_helper.stores.keyring_store import KeyringStore

        store = KeyringStore(ACCOUNT)
        assert store.unavailable_reason()
        with pytest.raises(StoreUnavailable, match="--store file"):
            store.load()
    finally:
        keyring.core._keyring_backend = None
