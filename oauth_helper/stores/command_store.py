"""Secrets kept by the user's own commands (pass, gpg, secret-tool, ...), always over stdin/stdout."""

from __future__ import annotations

import shlex
import shutil
import subprocess

from ..errors import StoreUnavailable
from .base import Secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..kinds import StoreKind

COMMAND_TIMEOUT = 120.0  # gpg may ask for a passphrase through pinentry


class CommandStore:
    kind: StoreKind = "command"

    def __init__(
        self,
        account: str,
        read: tuple[str, ...],
        write: tuple[str, ...],
        erase: tuple[str, ...] = (),
    ) -> None:
        self.account = account
        self.read_argv = read
        self.write_argv = write
        self.erase_argv = erase

    def describe(self) -> str:
        return f"command {shlex.join(self.read_argv)}"

    def unavailable_reason(self) -> str | None:
        for argv in (self.read_argv, self.write_argv):
            if argv and shutil.which(argv[0]) is None:
                return f"command not found: {argv[0]}"
        return None

    def preflight(self) -> None:
        if not self.write_argv:
            raise StoreUnavailable(f"account {self.account}: no store_write command configured")
        if shutil.which(self.write_argv[0]) is None:
            raise StoreUnavailable(
                f"store_write command not found: {self.write_argv[0]} (is it on PATH here?)"
            )

    def _run(self, argv: tuple[str, ...], stdin: bytes | None, what: str) -> bytes:
        if not argv:
            raise StoreUnavailable(f"account {self.account}: no store_{what} command configured")
        try:
            done = subprocess.run(
                list(argv),
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
                # A Ctrl-C at the terminal signals the whole foreground process group: a write
                # of a rotated refresh token killed half-way would lose the grant.
                start_new_session=what != "read",
            )
        except FileNotFoundError:
            raise StoreUnavailable(f"store_{what} command not found: {argv[0]}") from None
        except subprocess.TimeoutExpired:
            raise StoreUnavailable(
                f"store_{what} command {argv[0]} did not finish in {COMMAND_TIMEOUT:.0f} s"
            ) from None
        except OSError as e:
            raise StoreUnavailable(f"store_{what} command {argv[0]} failed: {e.strerror}") from None
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = detail[0][:200] if detail else f"exit status {done.returncode}"
            raise StoreUnavailable(f"store_{what} command {argv[0]} failed: {reason}")
        return done.stdout

    def load(self) -> Secret | None:
        out = self._run(self.read_argv, None, "read")
        text = out.decode("utf-8", "replace")
        if not text.strip():
            return None
        return Secret.deserialize(text, self.describe())

    def save(self, secret: Secret) -> None:
        self._run(self.write_argv, (secret.serialize() + "\n").encode(), "write")

    def delete(self) -> bool:
        if not self.erase_argv:
            return False
        self._run(self.erase_argv, None, "erase")
        return True
