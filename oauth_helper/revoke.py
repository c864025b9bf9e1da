"""`oauth-helper revoke ACCOUNT [--forget] [--local]`: RFC 7009 revocation, then delete the local
tokens (`--local`: only delete them, for a provider that is gone).

Order matters: the provider is asked first, while we still hold the token to revoke. A
temporary failure there deletes nothing (run it again later); a provider without a revocation
endpoint (Microsoft) or one that refuses is said so, with where to remove the access by hand,
and the local copies are deleted anyway.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from . import cache, config, oauth, pending, redact, state
from .config import Account
from .configedit import remove_account
from .errors import AuthorizationRequired, OAuthHelperError, StoreUnavailable, TransientError
from .settings import Settings
from .stores import SecretStore, open_store


def run(
    settings: Settings,
    *,
    account: str,
    forget: bool,
    local: bool = False,
    err: TextIO | None = None,
) -> int:
    """Revoke the grant at the provider, then delete every local copy; `local`: only the latter.

    `local` is the way out when the provider is gone (a decommissioned SSO, a wrong issuer) or
    the store cannot be read: nothing is sent anywhere, and it says so.
    """
    say = _printer(err)
    cfg = config.load(settings.config_path)
    acct = cfg.account(account)
    # Under the account lock: a refresh in flight must not save a rotated token after the delete.
    with cache.lock(acct.name):
        store = open_store(acct)
        if local:
            _delete_locally(acct, store, say)
            return _forget(cfg.path, acct.name, forget, say)
        # The newest grant: a rotated token the store could not take yet is newer than the stored one.
        try:
            secret = pending.load(acct.name) or store.load()
        except StoreUnavailable as e:  # nothing to revoke with, so nothing is deleted either
            raise StoreUnavailable(
                f"{e}; to delete only the local copies: {_local_command(acct)}"
            ) from None
        if secret is not None:
            redact.register(secret.refresh_token, secret.client_secret)
        cached = cache.load_quietly(acct.name)
        if cached is not None:
            redact.register(cached.token)

        if secret is not None:
            _revoke_remote(
                acct,
                secret.refresh_token,
                "refresh_token",
                acct.client_secret or secret.client_secret,
                cfg.timeout,
                say,
            )
        elif cached is not None and cached.valid_for(0):
            _revoke_remote(acct, cached.token, "access_token", acct.client_secret, cfg.timeout, say)
        else:
            say(f"{acct.name}: no refresh token stored, nothing to revoke at {acct.provider.name}")

        if secret is not None:
            if store.delete():
                say(f"{acct.name}: deleted the refresh token from {store.describe()}")
            else:
                say(
                    f"{acct.name}: could not delete the refresh token from {store.describe()} "
                    "(no store_erase command configured): delete it yourself"
                )
        _drop_local_copies(acct, say)

    return _forget(cfg.path, acct.name, forget, say)


def _forget(path: str, name: str, forget: bool, say: Callable[[str], None]) -> int:
    if forget:
        if remove_account_from_config(path, name):
            say(f"{name}: removed from {path}")
        else:
            say(f"{name}: not found in {path}; nothing removed")
    return 0


def _delete_locally(acct: Account, store: SecretStore, say: Callable[[str], None]) -> None:
    """Delete the stored and cached tokens without a word to the provider (`--local`)."""
    manual = acct.provider.manual_revocation
    where = f" (remove the app's access at {manual})" if manual else ""
    say(
        f"{acct.name}: --local: nothing was revoked at {acct.provider.name}; the refresh token "
        f"stays valid there until it expires or you remove the app's access{where}"
    )
    try:
        if store.delete():
            say(f"{acct.name}: deleted the refresh token from {store.describe()}")
        else:
            say(f"{acct.name}: no refresh token to delete in {store.describe()}")
    except OAuthHelperError as e:
        say(f"{acct.name}: could not delete the refresh token from the {acct.store} store ({e})")
    _drop_local_copies(acct, say)


def _drop_local_copies(acct: Account, say: Callable[[str], None]) -> None:
    """After the refresh token is gone: its cached access token, kept rotation and status."""
    if cache.drop(acct.name):
        say(f"{acct.name}: deleted the cached access token")
    pending.clear(acct.name)
    state.forget(acct.name)


def _revoke_remote(
    account: Account,
    token: str,
    hint: str,
    client_secret: str | None,
    timeout: float,
    say: Callable[[str], None],
) -> None:
    provider = account.provider
    manual = provider.manual_revocation
    try:
        provider = oauth.resolve(provider, timeout=timeout)
    except TransientError as e:
        raise TransientError(
            f"cannot reach {provider.name} to revoke: {e}; nothing was deleted. Try again later, "
            f"or delete only the local copies: {_local_command(account)}"
        ) from None
    except OAuthHelperError as e:
        say(
            f"{account.name}: cannot find {provider.name}'s revocation endpoint ({e}). Deleting "
            "the local copies anyway."
        )
        return
    if provider.revocation_endpoint is None:
        where = (
            f" remove its access by hand at {manual}"
            if manual
            else (" remove its access in the provider's account settings")
        )
        say(
            f"{account.name}: {provider.name} has no token revocation endpoint, so the refresh "
            f"token stays valid at the provider until it expires;{where}. Deleting the local "
            "copies now."
        )
        return
    client: dict[str, str] = {}
    if account.client_id:
        client = oauth.client_form(account, client_secret)
    try:
        oauth.revoke(provider, token, hint, timeout=timeout, client=client)
    except TransientError as e:
        raise TransientError(
            f"revocation failed: {e}; nothing was deleted. Try again later, or delete only the "
            f"local copies: {_local_command(account)}"
        ) from None
    except AuthorizationRequired:
        say(f"{account.name}: {provider.name} says the token was already invalid")
        return
    except OAuthHelperError as e:
        where = f"; remove its access by hand at {manual}" if manual else ""
        say(
            f"{account.name}: {provider.name} refused the revocation ({e}){where}. "
            "Deleting the local copies anyway."
        )
        return
    say(f"{account.name}: revoked at {provider.name}")


def _local_command(account: Account) -> str:
    return f"oauth-helper revoke {shlex.quote(account.name)} --local --forget"


def remove_account_from_config(path: Path | str, name: str) -> bool:
    """Remove [accounts."NAME"] from the config file, every other byte left as it was.

    The editing itself lives in configedit (shared with `authorize`, which adds accounts).
    """
    return remove_account(path, name)


def _printer(err: TextIO | None) -> Callable[[str], None]:
    def say(message: str) -> None:
        stream = sys.stderr if err is None else err
        stream.write(f"oauth-helper: {redact.scrub(message)}\n")
        stream.flush()

    return say
