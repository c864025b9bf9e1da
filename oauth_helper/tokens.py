"""get_access_token: cache, then lock, re-check, refresh, persist. The slow path of `token`.

The grant is never lost (SECURITY.md, "Refresh tokens"): before a refresh request spends the
refresh token, one pre-flight proves the store and the cache directory can take what comes
back; from the request to the saved rotated token, SIGINT/SIGTERM/SIGHUP wait; a rotated
token the store refuses anyway is kept in `pending` and moved into the store by the next call.
"""

from __future__ import annotations

import time

from . import cache, config, pending, redact, state
from .config import Account
from .errors import (
    AuthorizationRequired,
    InsecureFile,
    OAuthHelperError,
    StoreUnavailable,
    TransientError,
)
from .log import get_logger
from .record import field, record, replace
from .settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .oauth import TokenResponse
    from .stores.base import Secret, SecretStore

log = get_logger(__name__)


@record
class AccessToken:
    token: str = field(repr=False)
    expires_at: float

    def __post_init__(self) -> None:
        redact.register(self.token)  # whoever holds one must never print it by accident


def usable(cached: cache.CachedToken | None, account: Account, min_validity: float | None) -> bool:
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
    min_validity: float | None = None,
    force_refresh: bool = False,
) -> AccessToken:
    """A token valid past the margin (cache.margin; None = the default), refreshing if needed."""
    cfg = config.load(settings.config_path)
    account = cfg.account(account_name)
    stamp = cache.config_stamp(str(cfg.path))
    waiting = pending.exists(account.name)
    if not force_refresh and not waiting:
        cached = cache.load(account.name)
        if cached is not None:
            redact.register(cached.token)
        if cached is not None and usable(cached, account, min_validity):
            if cached.config_stamp != stamp:
                # The config changed but not for this account: re-stamp so the hot path serves it again.
                cached.config_stamp = stamp
                _store_cache(account.name, cached)
            log.info(
                "%s: cached token valid for %d more s",
                account.name,
                cached.expires_at - time.time(),
            )
            return AccessToken(cached.token, cached.expires_at)
    waited_from = time.time()
    with cache.lock(account.name):
        newest = _settle_pending(account) if waiting or pending.exists(account.name) else None
        cached = cache.load(account.name)
        # Someone else may have refreshed while we waited for the lock; a forced refresh accepts a
        # token obtained after it started waiting.
        if cached is not None and usable(cached, account, min_validity):
            fresh_enough = not force_refresh or _obtained_after(cached, waited_from)
            if fresh_enough:
                log.info("%s: another process refreshed while we waited", account.name)
                return AccessToken(cached.token, cached.expires_at)
        token = _refresh_locked(cfg, account, stamp, min_validity, newest)
    config.remember(cfg.path)  # the next refresh then needs no TOML parser
    return token


def _obtained_after(cached: cache.CachedToken, moment: float) -> bool:
    return cached.obtained_at >= moment


def _settle_pending(account: Account) -> Secret | None:
    """Move a pending rotated refresh token into the store if it takes it now; the pending secret.

    Called with the account lock held. A store that still refuses leaves it pending (and used).
    """
    from .stores import open_store

    waiting = pending.load(account.name)
    if waiting is None:
        return None
    store = open_store(account)
    try:
        store.save(waiting)
    except OAuthHelperError as e:
        log.warning(
            "%s: the newest refresh token is still only in %s: %s",
            account.name,
            pending.paths_for(account.name)[0],
            e,
        )
        return waiting
    pending.clear(account.name)
    log.warning("%s: moved the kept refresh token into %s", account.name, store.describe())
    state.record_refresh(account.name, True)  # the store works again: that problem is over
    return waiting


def _refresh_locked(
    cfg: config.Config,
    account: Account,
    stamp: str,
    min_validity: float | None,
    newest: Secret | None,
) -> AccessToken:
    """Refresh with the account lock held. `newest`: a pending secret, newer than the stored one."""
    from . import oauth, refresher
    from .signals import deferred_signals
    from .stores import open_store

    try:
        store = open_store(account)
        secret = newest or store.load()
        if secret is None:
            raise AuthorizationRequired(
                f"no refresh token stored for {account.name} ({store.describe()}); "
                f"run: {account.authorize_command()}"
            )
        # Discovery fills in endpoints; the cache fingerprint stays that of the account as configured.
        resolved = replace(account, provider=oauth.resolve(account.provider, timeout=cfg.timeout))
        preflight(account, store)
    except OAuthHelperError as e:
        _record_failure(account, e)
        raise
    client_secret = account.client_secret or secret.client_secret
    log.info(
        "%s: refreshing at %s (refresh token from %s)",
        account.name,
        resolved.provider.token_endpoint,
        store.describe(),
    )
    # From here until the rotated refresh token is saved, a signal would lose the grant.
    with deferred_signals():
        try:
            response = refresher.refresh(
                resolved, secret.refresh_token, client_secret, timeout=cfg.timeout
            )
        except AuthorizationRequired as e:
            _record_failure(account, e)
            raise AuthorizationRequired(
                f"{account.name}: {e}; run: {account.authorize_command()}"
            ) from None
        except OAuthHelperError as e:
            _record_failure(account, e)
            raise
        kept_aside = _keep_refresh_token(account, store, secret, response)
        now = time.time()
        if response.expires_in <= 0:
            error = TransientError(
                f"{account.name}: the provider issued an access token that is already expired "
                "(expires_in <= 0); try again later"
            )
            _record_failure(account, error)
            raise error
        expires_at = now + response.expires_in
        _store_cache(
            account.name,
            cache.CachedToken(response.access_token, expires_at, account.fingerprint(), stamp, now),
        )
    if min_validity is not None and response.expires_in <= min_validity:
        log.warning(
            "%s: --min-validity %d cannot be met: the provider's access tokens live %d s; "
            "this fresh one is handed out while it has more than half its lifetime left",
            account.name,
            min_validity,
            response.expires_in,
        )
    granted = (response.scope, account.scopes)
    if kept_aside is None:
        state.record_refresh(account.name, True, scopes=granted)
    else:
        # The login works, but the grant now hangs on a file that may not survive a reboot.
        _record_failure(account, kept_aside, scopes=granted)
    return AccessToken(response.access_token, expires_at)


def preflight(account: Account, store: SecretStore) -> None:
    """Raise unless the store and the cache can take what a refresh returns (see module doc)."""
    from . import paths, securefile

    store.preflight()
    securefile.check_writable_dir(paths.cache_dir())


def _keep_refresh_token(
    account: Account, store: SecretStore, secret: Secret, response: TokenResponse
) -> StoreUnavailable | None:
    """Save a rotated refresh token in the store, else in `pending`; never raises.

    Returns None when the store has the grant, else the problem to report (the store refused
    the new token, which now lives only in a pending file, or nowhere).
    """
    from .stores.base import valid_refresh_token

    new = response.refresh_token
    if new is None or new == secret.refresh_token:
        if response.refresh_token_expires_in and not secret.refresh_token_expires_at:
            # Only bookkeeping (when the grant expires): losing it costs nothing.
            try:
                store.save(secret.rotated(secret.refresh_token, response.refresh_token_expires_in))
            except OAuthHelperError as e:
                log.info("%s: could not record the grant's expiry: %s", account.name, e)
        return None
    if not valid_refresh_token(new):
        log.warning(
            "%s: the provider sent an unusable new refresh token (empty, blank or not "
            "printable); keeping the stored one",
            account.name,
        )
        return None
    rotated = secret.rotated(new, response.refresh_token_expires_in)
    log.info("%s: the provider rotated the refresh token; saving it", account.name)
    error: OAuthHelperError | None = None
    for _attempt in range(2):  # one more try: a loaded keyring or a slow disk may recover
        try:
            store.save(rotated)
        except OAuthHelperError as e:
            error = e
            continue
        pending.clear(account.name)  # the secret we used may have come from there
        return None
    kept = pending.save(account.name, rotated)
    if kept:
        log.warning(
            "%s: could not save the new refresh token in %s (%s); kept it in %s, and the next "
            "oauth-helper call moves it into the store once the cause is fixed",
            account.name,
            store.describe(),
            error,
            kept[0],
        )
        return StoreUnavailable(
            f"{store.describe()} refused the new refresh token ({error}); it is kept in "
            f"{kept[0]} until the store takes it: fix the cause, then run: "
            f"oauth-helper token {account.name}"
        )
    log.error(
        "%s: the provider's new refresh token could not be saved anywhere (%s); this "
        "access token still works, but then run: %s",
        account.name,
        error,
        account.authorize_command(),
    )
    return StoreUnavailable(f"the new refresh token could not be saved anywhere ({error})")


def _store_cache(account: str, cached: cache.CachedToken) -> None:
    """Cache the token; a cache that cannot be written only costs a refresh next time."""
    try:
        cache.store(account, cached)
    except (OSError, InsecureFile) as e:
        detail = e.strerror if isinstance(e, OSError) and e.strerror else e
        log.warning("%s: the access token was not cached (%s)", account, detail)


def _record_failure(
    account: Account,
    error: OAuthHelperError,
    scopes: tuple[str | None, tuple[str, ...]] | None = None,
) -> None:
    state.record_refresh(
        account.name,
        False,
        str(error),
        exit_code=error.exit_code,
        fix=account.authorize_command() if isinstance(error, AuthorizationRequired) else None,
        scopes=scopes,
    )
