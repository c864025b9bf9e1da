"""`oauth-helper refresh [ACCOUNT ...] [--all] [--within SECONDS]`: refresh ahead of need.

Run from a timer, so that mail clients always find a fresh token in the cache (no network on
their path) and refresh tokens are used often enough that inactivity never kills them. Each
account goes through the same engine as `token` (tokens.get_access_token: same lock, same
re-check, same rotation safety), so an account whose token is still fresh costs no request and a
timer racing a mail client causes one refresh, not two.

Nothing on stdout. A failure is one line on stderr (cron mails it); with -v every account gets
one line. The exit code is 0 when every account is fine, else the most serious failure's code
(SEVERITY), decided after every account was tried.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import TextIO

from . import cache, config, grant, state
from .errors import (
    EX_CONFIG,
    EX_NOPERM,
    EX_NOUSER,
    EX_OK,
    EX_SOFTWARE,
    EX_TEMPFAIL,
    EX_UNAVAILABLE,
    OAuthHelperError,
    UsageError,
)
from .log import WARNING, get_logger, set_level
from .redact import scrub
from .settings import Settings
from .stores import open_store
from .tokens import get_access_token

# Refresh a token that dies within 15 minutes: three times the hot path's 300 s margin, so a timer
# every 10 minutes always renews a token before any mail client would have to.
DEFAULT_WITHIN = 900
# Most serious first: what needs the person (sign in again; fix the config or app registration;
# an account name that is not configured; a store that cannot be reached), then a bug, and last
# what fixes itself (a temporary network or provider failure).
SEVERITY = (EX_NOPERM, EX_CONFIG, EX_NOUSER, EX_UNAVAILABLE, EX_SOFTWARE, EX_TEMPFAIL)

log = get_logger(__name__)


def worst(codes: list[int]) -> int:
    """The exit code of a run whose accounts ended with `codes`.

    >>> worst([0, 75, 77, 0]), worst([75, 69]), worst([0, 0]), worst([])
    (77, 69, 0, 0)
    """
    failures = [c for c in codes if c != EX_OK]
    if not failures:
        return EX_OK
    return min(failures, key=lambda c: SEVERITY.index(c) if c in SEVERITY else len(SEVERITY))


def run(
    settings: Settings,
    *,
    accounts: list[str],
    all_accounts: bool,
    within: int = DEFAULT_WITHIN,
    err: TextIO | None = None,
) -> int:
    if bool(accounts) == all_accounts:
        raise UsageError("name the ACCOUNTs to refresh, or give --all (not both)")
    if within < 0:
        raise UsageError("--within must be a number of seconds, 0 or more")
    stream = sys.stderr if err is None else err
    cfg = config.load(settings.config_path)
    names = sorted(cfg.accounts) if all_accounts else accounts
    if not names and settings.verbose:
        stream.write(f"oauth-helper: no accounts in {cfg.path}\n")
    # -v promises one line per account: the engine's own progress lines only with --debug.
    level = set_level(WARNING) if not settings.debug else None
    try:
        codes = [_refresh_one(settings, cfg, name, within, stream) for name in names]
    finally:
        if level is not None:
            set_level(level)
    return worst(codes)


def _refresh_one(
    settings: Settings, cfg: config.Config, name: str, within: int, stream: TextIO
) -> int:
    try:
        account = cfg.account(name)
        before = cache.load_quietly(account.name)
        token = get_access_token(settings, account.name, min_validity=within)
    except OAuthHelperError as e:
        text = str(e)
        stream.write(
            f"oauth-helper: {text if text.startswith(name + ':') else f'{name}: {text}'}\n"
        )
        _check_grant_quietly(cfg, name)
        return e.exit_code
    except Exception as e:  # a bug: this account's, not the others'
        stream.write(
            f"oauth-helper: {name}: internal error ({type(e).__name__}); "
            "run again with --debug and report it\n"
        )
        if settings.debug:
            stream.write(scrub(traceback.format_exc()))
        return EX_SOFTWARE
    refreshed = before is None or before.expires_at != token.expires_at
    found = _check_grant_quietly(cfg, account.name)
    if settings.verbose:
        left = grant.human_span(token.expires_at - time.time())
        what = "refreshed" if refreshed else "fresh, no request"
        line = f"{account.name}: {what}; access token valid for {left}"
        if found is not None:
            line += f"; grant ends by {_utc(found.at)} ({found.rule.code})"
        stream.write(line + "\n")
    return EX_OK


def grant_deadline(account: config.Account) -> tuple[bool, grant.Deadline | None]:
    """(known, deadline): the grant's death as far as the store and the state file tell.

    known is False when the store cannot be read here: nothing can then be said either way.
    """
    try:
        store = open_store(account)
        if store.unavailable_reason() is not None:
            return False, None
        secret = store.load()
    except OAuthHelperError:
        return False, None
    last_success = state.load(account.name).get("last_success_at")
    found = grant.deadline(
        account.provider.grant_lifetime,
        expires_at=secret.refresh_token_expires_at if secret is not None else None,
        last_used=grant.last_used(
            last_success if isinstance(last_success, (int, float)) else None,
            secret.obtained_at if secret is not None else None,
        ),
    )
    return True, found


def _check_grant_quietly(cfg: config.Config, name: str) -> grant.Deadline | None:
    """Record (and so notify) a grant about to die; never fails the run."""
    try:
        account = cfg.account(name)
        known, found = grant_deadline(account)
    except OAuthHelperError:
        return None
    if known:
        state.record_grant(account.name, found)
    return found


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
