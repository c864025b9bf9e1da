"""Secrets in the desktop keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

from __future__ import annotations

from typing import Any

from ..errors import StoreUnavailable
from .base import Secret

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
        import keyring
        import keyring.errors
    except ImportError:
        return None, "the keyring package is not installed"
    try:
        backend = keyring.get_keyring()
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
        return None, "no keyring is reachable (no D-Bus session or Secret Service here?)"
    return backend, None


class KeyringStore:
    kind = "keyring"

    def __init__(self, account: str) -> None:
        self.account = account

    def describe(self) -> str:
        return f"keyring service {SERVICE!r}, user {self.account!r}"

    def unavailable_reason(self) -> str | None:
        backend, reason = real_backend()
        if backend is None:
            return reason
        try:
            backend.get_password(SERVICE, self.account)
        except Exception as e:
            return _explain(e)
        return None

    def preflight(self) -> None:
        self._backend()  # the read that came first proved the collection is unlocked

    def _backend(self) -> Any:
        backend, reason = real_backend()
        if backend is None:
            raise StoreUnavailable(self._fix(reason or "no keyring"))
        return backend

    def _fix(self, reason: str) -> str:
        return (
            f"keyring unavailable for {self.account}: {reason}; run where the keyring is "
            f"unlocked, or move the account to the file store: "
            f"oauth-helper authorize {self.account} --store file"
        )

    def load(self) -> Secret | None:
        backend = self._backend()
        try:
            text = backend.get_password(SERVICE, self.account)
        except Exception as e:
            raise StoreUnavailable(self._fix(_explain(e))) from None
        if text is None:
            return None
        return Secret.deserialize(text, self.describe())

    def save(self, secret: Secret) -> None:
        backend = self._backend()
        try:
            backend.set_password(SERVICE, self.account, secret.serialize())
        except Exception as e:
            raise StoreUnavailable(self._fix(_explain(e))) from None

    def delete(self) -> bool:
        backend = self._backend()
        import keyring.errors

        try:
            backend.delete_password(SERVICE, self.account)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as e:
            raise StoreUnavailable(self._fix(_explain(e))) from None
        return True


def _explain(e: Exception) -> str:
    # Keyring and D-Bus errors rarely contain secrets, but keep only the class and a short reason.
    name = type(e).__name__
    if name == "KeyringLocked":
        return "the keyring is locked"
    if name in ("NoKeyringError", "InitError"):
        return "no keyring is reachable (no D-Bus session or Secret Service?)"
    text = str(e).splitlines()[0][:160] if str(e) else ""
    return f"{name}: {text}" if text else name
