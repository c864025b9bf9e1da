"""What a secret store is, and the secret it holds."""

from __future__ import annotations

import json
import time

from .. import redact
from ..errors import StoreUnavailable
from ..record import field, record, replace

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Protocol, TypeGuard

    from ..kinds import StoreKind
else:
    Protocol = object  # SecretStore is a structural type for mypy only

MAX_REFRESH_TOKEN_LENGTH = 16384  # real ones are 100-2,000 characters; bound what we store


def valid_refresh_token(value: object) -> TypeGuard[str]:
    """A refresh token worth storing: RFC 6749 VSCHARs, no surrounding space, bounded.

    >>> valid_refresh_token("1//0gAbC-xyz"), valid_refresh_token(" "), valid_refresh_token("a" + chr(0))
    (True, False, False)
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_REFRESH_TOKEN_LENGTH
        and value.strip() == value
        and all(" " <= c <= "~" for c in value)
    )


@record
class Secret:
    """The long-lived secrets of one account. repr() shows none of them."""

    refresh_token: str = field(repr=False)
    client_secret: str | None = field(default=None, repr=False)
    obtained_at: float = 0.0  # when the refresh token was obtained (epoch seconds)
    refresh_token_expires_at: float | None = None  # Google "Testing" apps: 7 days

    def rotated(self, refresh_token: str, expires_in: float | None = None) -> Secret:
        expires_at = time.time() + expires_in if expires_in else self.refresh_token_expires_at
        return replace(
            self,
            refresh_token=refresh_token,
            obtained_at=time.time(),
            refresh_token_expires_at=expires_at,
        )

    def serialize(self) -> str:
        data: dict[str, object] = {
            "version": 1,
            "refresh_token": self.refresh_token,
            "obtained_at": self.obtained_at,
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        if self.refresh_token_expires_at:
            data["refresh_token_expires_at"] = self.refresh_token_expires_at
        return json.dumps(data)

    @classmethod
    def deserialize(cls, text: str, where: str) -> Secret:
        """Our JSON, or a bare refresh token (what `pass` or another tool may hold)."""
        stripped = text.strip()
        redact.register(*stripped.splitlines())  # whatever the store holds is secret
        if not stripped:
            raise StoreUnavailable(f"{where} holds an empty secret")
        if not stripped.startswith("{"):
            token = stripped.splitlines()[0].strip()
            return cls(refresh_token=token)
        try:
            data = json.loads(stripped)
        except ValueError:
            raise StoreUnavailable(f"{where} holds a secret that is not valid JSON") from None
        stored = data.get("refresh_token") if isinstance(data, dict) else None
        if not isinstance(stored, str) or not stored:
            raise StoreUnavailable(f"{where} holds no refresh_token")
        client_secret = data.get("client_secret")
        obtained = data.get("obtained_at")
        expires = data.get("refresh_token_expires_at")
        return cls(
            refresh_token=stored,
            client_secret=client_secret
            if isinstance(client_secret, str) and client_secret
            else None,
            obtained_at=float(obtained) if isinstance(obtained, (int, float)) else 0.0,
            refresh_token_expires_at=float(expires) if isinstance(expires, (int, float)) else None,
        )


class SecretStore(Protocol):
    """Where one account's refresh token lives. Failures raise StoreUnavailable, saying how to fix them."""

    kind: StoreKind

    def unavailable_reason(self) -> str | None:
        """None if the store can be used here and now, else why not (one line)."""

    def preflight(self) -> None:
        """Raise (InsecureFile, StoreUnavailable) unless a save() would be accepted now.

        Called before a refresh request spends the refresh token: a store that cannot take the
        rotated one must refuse while the old one still works, so the printed fix really fixes it.
        """

    def describe(self) -> str:
        """Where the secret lives, for people (a path, a keyring service, a command)."""

    def load(self) -> Secret | None:
        """The stored secret, or None if there is none."""

    def save(self, secret: Secret) -> None:
        """Store the secret, replacing any previous one."""

    def delete(self) -> bool:
        """Remove the secret; True if there was one."""
