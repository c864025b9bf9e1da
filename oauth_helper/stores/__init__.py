"""Secret stores behind one interface: keyring, file, command."""

from __future__ import annotations

from ..config import Account
from .base import Secret, SecretStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..kinds import StoreKind

__all__ = ["Secret", "SecretStore", "open_store"]


def open_store(account: Account, kind: StoreKind | None = None) -> SecretStore:
    """The store configured for the account (or the one named by `kind`)."""
    chosen = kind or account.store
    if chosen == "keyring":
        from .keyring_store import KeyringStore

        return KeyringStore(account.name)
    if chosen == "command":
        from .command_store import CommandStore

        return CommandStore(
            account.name, account.store_read, account.store_write, account.store_erase
        )
    from .file_store import FileStore

    return FileStore(account.name)
