"""Secrets in the desktop keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

from __future__ import annotations

import os
import shlex
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import StoreUnavailable
from .base import Secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..kinds import StoreKind

SERVICE = "oauth-helper"
# Backends that are not a real keyring: they fail, drop, or keep secrets in a base64 file.
_NOT_REAL = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyrings.alt",
    "keyring.backends.chainer",
)


def real_backend() -> tuple[Any | None, str | None]:
    """(backend, None) if a real keyring backend is reachable, else (None, why not)."""
    try:
        import keyring  # lazy: keyring may be missing or broken here (ImportError below)
        import keyring.errors  # lazy: as above
    except ImportError:
        return None, "the keyring package is not installed"
    try:
        backend = bounded(keyring.get_keyring)  # detection talks to D-Bus too
    except KeyringTimeout as e:
        return None, _explain(e)
    except Exception as e:  # a broken backend configuration must not become a traceback
        return None, f"keyring failed to start ({type(e).__name__})"
    backends = getattr(backend, "backends", None)
    module = type(backend).__module__
    if module.startswith("keyring.backends.chainer") and backends:
        real = [b for b in backends if not type(b).__module__.startswith(_NOT_REAL)]
        if not real:
            return None, "no real keyring backend is available"
        return backend, None
    if module.startswith(_NOT_REAL):
        return None, no_keyring_reason()
    return backend, None


def no_keyring_reason(environ: Mapping[str, str] | None = None) -> str:
    """Why no keyring answered, told apart by whether there is a D-Bus session at all.

    >>> no_keyring_reason({})
    'no keyring is reachable: there is no D-Bus session here (DBUS_SESSION_BUS_ADDRESS is unset)'
    """
    env = os.environ if environ is None else environ
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        if not env.get("DBUS_SESSION_BUS_ADDRESS"):
            return (
                "no keyring is reachable: there is no D-Bus session here "
                "(DBUS_SESSION_BUS_ADDRESS is unset)"
            )
        return (
            "no Secret Service answers on this D-Bus session (is gnome-keyring, KWallet or "
            "KeePassXC running, with a default collection?)"
        )
    return "no keyring backend is available"


class KeyringStore:
    kind: StoreKind = "keyring"

    def __init__(self, account: str) -> None:
        self.account = account

    def describe(self) -> str:
        return f"keyring service {SERVICE!r}, user {self.account!r}"

    def unavailable_reason(self) -> str | None:
        backend, reason = real_backend()
        if backend is None:
            return reason
        try:
            bounded(backend.get_password, SERVICE, self.account)
        except Exception as e:
            return _explain(e)
        return None

    def preflight(self) -> None:
        self._backend()  # the read that came first proved the collection is unlocked

    def _backend(self, advise: bool = True) -> Any:
        backend, reason = real_backend()
        if backend is None:
            reason = reason or "no keyring"
            raise StoreUnavailable(self._fix(reason) if advise else self._deletion(reason))
        return backend

    def _deletion(self, reason: str) -> str:
        # Moving to another store is what the caller just did: say how to delete by hand instead.
        return (
            f"cannot delete the keyring entry of {self.account}: {reason}; where the keyring is "
            f"reachable, run: {self.manual_delete()}"
        )

    def _fix(self, reason: str) -> str:
        return (
            f"keyring unavailable for {self.account}: {reason}; run where the keyring is "
            f"unlocked, or move the account to the file store: "
            f"oauth-helper authorize {self.account} --store file"
        )

    def manual_delete(self) -> str:
        """The command that deletes the entry by hand, where the keyring is reachable."""
        return f"secret-tool clear service {SERVICE} username {shlex.quote(self.account)}"

    def load(self) -> Secret | None:
        backend = self._backend()
        try:
            text = bounded(backend.get_password, SERVICE, self.account)
        except Exception as e:
            raise StoreUnavailable(self._fix(_explain(e))) from None
        if text is None:
            return None
        return Secret.deserialize(text, self.describe())

    def save(self, secret: Secret) -> None:
        backend = self._backend()
        try:
            bounded(backend.set_password, SERVICE, self.account, secret.serialize())
        except Exception as e:
            raise StoreUnavailable(self._fix(_explain(e))) from None

    def delete(self) -> bool:
        backend = self._backend(advise=False)
        import keyring.errors  # lazy: optional at runtime, see real_backend

        try:
            bounded(backend.delete_password, SERVICE, self.account)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as e:
            raise StoreUnavailable(self._deletion(_explain(e))) from None
        return True


KEYRING_TIMEOUT = 120.0  # as long as a person may take to type the unlock password, no longer


class KeyringTimeout(Exception):
    """The Secret Service did not answer in time (an unlock prompt nobody can see, a hung daemon)."""


def bounded(call: Callable[..., Any], *args: str) -> Any:
    """`call(*args)` in a daemon thread, given up after KEYRING_TIMEOUT.

    A locked collection on a headless D-Bus session makes the Secret Service wait for an unlock
    prompt that nobody sees; keyring itself waits for ever. The abandoned thread dies with us.
    """
    result: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call(*args))
        except BaseException as e:  # handed to the caller's thread as it is
            error.append(e)

    worker = threading.Thread(target=run, name="oauth-helper-keyring", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if worker.is_alive():
        raise KeyringTimeout()
    if error:
        raise error[0]
    return result[0] if result else None


def _explain(e: Exception) -> str:
    # Keyring and D-Bus errors rarely contain secrets, but keep only the class and a short reason.
    name = type(e).__name__
    if name == "KeyringLocked":
        return "the keyring is locked"
    if isinstance(e, KeyringTimeout):
        return (
            f"the Secret Service did not answer within {KEYRING_TIMEOUT:.0f} s (is it waiting "
            "for an unlock prompt that nobody can see here?)"
        )
    if name == "NoKeyringError":
        return no_keyring_reason()
    if name == "InitError":
        # The bus answered, but the collection could not be opened (locked, or never created).
        return (
            "the Secret Service could not open its default collection (locked or not created yet)"
        )
    text = str(e).splitlines()[0][:160] if str(e) else ""
    return f"{name}: {text}" if text else name
