"""get_access_token: cache, then lock, re-check, refresh, persist. The slow path of `token`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from . import cache, config, redact, state
from .config import Account
from .errors import AuthorizationRequired, OAuthHelperError, StoreUnavailable
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)
    expires_at: float

    def __post_init__(self) -> None:
        redact.register(self.token)  # whoever holds one must never print it by accident


def usable(cached: cache.CachedToken | None, account: Account, min_validity: float) -> bool:
    """A cached token may be handed out: issued for this account's client and scopes, and not dying soon."""
    return (
        cached is not None
        and cached.fingerprint == account.fingerprint()
        and cached.valid_for(min_validity)
    )


def get_access_token(
    settings: Settings,
    account_name: str,
    *,
    min_validity: float = cache.DEFAULT_MIN_VALIDITY,
    force_refresh: bool = False,
) -> AccessToken:
    cfg = config.load(settings.config_path)
    account = cfg.account(account_name)
    stamp = cache.config_stamp(str(cfg.path))
    if not force_refresh:
        cached = cache.load(account.name)
        if cached is not None:
            redact.register(cached.token)
        if cached is not None and usable(cached, account, min_validity):
            if cached.config_stamp != stamp:
                # The config changed but not for this account: re-stamp so the hot path serves it again.
                cached.config_stamp = stamp
                cache.store(account.name, cached)
            log.info(
                "%s: cached token valid for %d more s",
                account.name,
                cached.expires_at - time.time(),
            )
            return AccessToken(cached.token, cached.expires_at)
    waited_from = time.time()
    with cache.lock(account.name):
        cached = cache.load(account.name)
        # Someone else may have refreshed while we waited for the lock; a forced refresh accepts a
        # token obtained after it started waiting.
        if cached is not None and usable(cached, account, min_validity):
            fresh_enough = not force_refresh or _obtained_after(cached, waited_from)
            if fresh_enough:
                log.info("%s: another process refreshed while we waited", account.name)
                return AccessToken(cached.token, cached.expires_at)
        return _refresh_locked(cfg, account, stamp)


def _obtained_after(cached: cache.CachedToken, moment: float) -> bool:
    return cached.obtained_at >= moment


def _refresh_locked(cfg: config.Config, account: Account, stamp: str) -> AccessToken:
    from . import oauth
    from .stores import open_store

    store = open_store(account)
    secret = store.load()
    if secret is None:
        raise AuthorizationRequired(
            f"no refresh token stored for {account.name} ({store.describe()}); "
            f"run: {account.authorize_command()}"
        )
    # Discovery fills in endpoints; the cache fingerprint stays that of the account as configured.
    resolved = replace(account, provider=oauth.resolve(account.provider, timeout=cfg.timeout))
    client_secret = account.client_secret or secret.client_secret
    log.info(
        "%s: refreshing at %s (refresh token from %s)",
        account.name,
        resolved.provider.token_endpoint,
        store.describe(),
    )
    try:
        response = oauth.refresh(resolved, secret.refresh_token, client_secret, timeout=cfg.timeout)
    except AuthorizationRequired as e:
        state.record_refresh(account.name, False, str(e))
        raise AuthorizationRequired(
            f"{account.name}: {e}; run: {account.authorize_command()}"
        ) from None
    except OAuthHelperError as e:
        state.record_refresh(account.name, False, str(e))
        raise
    if response.refresh_token and response.refresh_token != secret.refresh_token:
        # The old refresh token may already be dead (rotation): save the new one before anything else.
        rotated = secret.rotated(response.refresh_token, response.refresh_token_expires_in)
        log.info("%s: the provider rotated the refresh token; saving it", account.name)
        try:
            store.save(rotated)
        except StoreUnavailable:
            store.save(rotated)  # one more try: losing a rotated token means re-authorizing
    elif response.refresh_token_expires_in and not secret.refresh_token_expires_at:
        store.save(secret.rotated(secret.refresh_token, response.refresh_token_expires_in))
    expires_at = time.time() + response.expires_in
    _store_cache(account, response.access_token, expires_at, stamp)
    state.record_refresh(account.name, True)
    return AccessToken(response.access_token, expires_at)


def _store_cache(account: Account, token: str, expires_at: float, stamp: str) -> None:
    cache.store(
        account.name,
        cache.CachedToken(token, expires_at, account.fingerprint(), stamp, time.time()),
    )
