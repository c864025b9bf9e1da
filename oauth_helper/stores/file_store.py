"""Secrets in a 0600 JSON file per account, in a 0700 directory under the user data dir."""

from __future__ import annotations

import os

from .. import paths, securefile
from ..errors import InsecureFile, StoreUnavailable
from .base import Secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..kinds import StoreKind


class FileStore:
    kind: StoreKind = "file"

    def __init__(self, account: str, directory: str | None = None) -> None:
        self.account = account
        self.path = os.path.join(directory or paths.data_dir(), paths.file_name(account) + ".json")

    def unavailable_reason(self) -> str | None:
        try:
            self.preflight()
        except InsecureFile as e:
            return str(e)
        return None

    def preflight(self) -> None:
        securefile.check_writable_dir(os.path.dirname(self.path))

    def describe(self) -> str:
        return self.path

    def load(self) -> Secret | None:
        data = securefile.read_private(self.path)  # InsecureFile (exit 78): the user fixes modes
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreUnavailable(f"{self.path} is not UTF-8 text") from None
        return Secret.deserialize(text, self.path)

    def save(self, secret: Secret) -> None:
        try:
            securefile.write_private(self.path, secret.serialize().encode())
        except OSError as e:  # disk full, I/O error: InsecureFile passes through as it is
            raise StoreUnavailable(f"cannot write {self.path}: {e.strerror or e}") from None

    def delete(self) -> bool:
        return securefile.remove(self.path)
