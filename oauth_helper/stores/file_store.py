"""Secrets in a 0600 JSON file per account, in a 0700 directory under the user data dir."""

from __future__ import annotations

import os

from .. import paths, securefile
from ..errors import InsecureFile, StoreUnavailable
from .base import Secret


class FileStore:
    kind = "file"

    def __init__(self, account: str, directory: str | None = None) -> None:
        self.account = account
        self.path = os.path.join(directory or paths.data_dir(), paths.file_name(account) + ".json")

    def unavailable_reason(self) -> str | None:
        return None

    def describe(self) -> str:
        return self.path

    def load(self) -> Secret | None:
        try:
            data = securefile.read_private(self.path)
        except InsecureFile as e:
            raise StoreUnavailable(str(e)) from None
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
        except (InsecureFile, OSError) as e:
            raise StoreUnavailable(
                f"cannot write {self.path}: {getattr(e, 'strerror', None) or e}"
            ) from None

    def delete(self) -> bool:
        return securefile.remove(self.path)
