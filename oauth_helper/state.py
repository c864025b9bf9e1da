"""What `status` reports about past refreshes, and which problems were notified: a small non-secret
JSON file per account, changed only under its own lock.

Every refresh outcome lands here (`record_refresh`), as does the grant's coming death
(`record_grant`, from `refresh`). A problem that needs the person opens a "slot"; the user's
notify_command runs when a slot opens or changes, and once more when it closes. Because the
read-change-write happens under the state lock, twenty processes failing at once notify once.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable

from . import grant, paths, redact, securefile
from .errors import EX_CONFIG, EX_NOPERM, EX_UNAVAILABLE, OAuthHelperError
from .jsondata import json_object
from .log import get_logger
from .record import record

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any

    from .config import Account

log = get_logger(__name__)
Slot = tuple[str, "dict[str, Any] | None"]  # a slot name and its problem now (None: no problem)

# Held only for a read and a write: waiting longer than this means something is stuck.
STATE_LOCK_TIMEOUT = 5.0
# Failures that need the person, and what the notification says about them. Temporary failures
# (75) and bugs (70) do not notify: the next run retries them.
NEEDS_PERSON = {
    EX_NOPERM: "authorization needed",  # the provider refused the grant, or none is stored
    EX_UNAVAILABLE: "the secret store stopped working",
    EX_CONFIG: "the provider or the configuration refused the refresh",
}
RECOVERED = "recovered: "  # OAUTH_HELPER_REASON starts with this when a problem has gone away
FAILURE, EXPIRY = "failure", "expiry"  # the two problem slots


@record
class Notice:
    reason: str
    fix: str


def path_for(account: str) -> str:
    return os.path.join(paths.cache_dir(), paths.file_name(account) + ".state.json")


def _lock_path_for(account: str) -> str:
    return os.path.join(paths.cache_dir(), paths.file_name(account) + ".state.lock")


def load(account: str) -> dict[str, Any]:
    try:
        data = securefile.read_private(path_for(account))
    except OAuthHelperError:
        return {}
    return (json_object(data) if data else None) or {}


def record_refresh(
    account: str,
    ok: bool,
    message: str = "",
    *,
    exit_code: int | None = None,
    fix: str | None = None,
    scopes: tuple[str | None, tuple[str, ...]] | None = None,
) -> None:
    """Remember a refresh outcome (exit_code: the failure's exit code; fix: what to run about it)
    and notify a problem that is new, or gone. Never raises: bookkeeping must not fail a login.

    `scopes`: (the token response's `scope`, the scopes requested), when a token was issued:
    what the provider granted is kept in the same write (RFC 6749 §5.1: no `scope` means as
    requested).
    """
    now = time.time()
    message = redact.scrub(message)[:300]

    def change(state: dict[str, Any]) -> list[Slot]:
        if scopes is not None:
            granted, requested = scopes
            listed = granted.split() if granted is not None else list(requested)
            state["scopes"] = {"granted": listed[:64], "reported": granted is not None, "at": now}
        state["last_refresh_at"] = now
        state["last_refresh_ok"] = ok
        state["last_refresh_message"] = message
        state["last_refresh_exit_code"] = None if ok else exit_code
        state["last_refresh_fix"] = None if ok or not fix else redact.scrub(fix)[:300]
        if ok:
            state["last_success_at"] = now
            return [(FAILURE, None)]
        if exit_code in NEEDS_PERSON:
            reason = NEEDS_PERSON[exit_code] + (f": {message}" if message else "")
            return [(FAILURE, {"key": str(exit_code), "reason": reason, "fix": fix})]
        return []  # temporary: whatever problem was open stays open, and nothing new is said

    _update(account, change)


def record_grant(account: str, found: grant.Deadline | None, now: float | None = None) -> None:
    """Open the expiry slot when the grant dies within grant.NOTICE, close it when it no longer does."""
    moment = time.time() if now is None else now

    def change(state: dict[str, Any]) -> list[Slot]:
        if problems(state).get(FAILURE, {}).get("key") == str(EX_NOPERM):
            return []  # already refused: that notification said it; "ends soon" would be noise
        if found is None or not grant.soon(found, moment):
            return [(EXPIRY, None)]
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(found.at))
        left = found.at - moment
        fate = (
            f"the grant ends in {grant.human_span(left)} ({when})"
            if left > 0
            else f"the grant ended on {when}"
        )
        return [(EXPIRY, {"key": found.rule.code, "reason": f"{fate}: {found.rule.text}"})]

    _update(account, change)


def forget(account: str) -> None:
    with contextlib.suppress(OAuthHelperError):
        securefile.remove(path_for(account))


def problems(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The open problem slots of a loaded state: slot -> {key, reason, fix, since, notified}."""
    found = state.get("problems")
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(v, dict) and isinstance(v.get("key"), str)}


# -- the read-change-write, and the notifications it decides ----------------------------------


def _update(account: str, change: Callable[[dict[str, Any]], list[Slot]]) -> None:
    """Apply `change` to the account's state under its lock, then send what it calls for."""
    try:
        _update_locked(account, change)
    except Exception as e:  # a bug here must not turn a working login into a failed one
        log.warning("%s: could not update %s (%s)", account, path_for(account), type(e).__name__)


def _update_locked(account: str, change: Callable[[dict[str, Any]], list[Slot]]) -> None:
    lock = securefile.exclusive_lock(_lock_path_for(account), STATE_LOCK_TIMEOUT)
    try:
        lock.acquire()
        locked = True
    except OAuthHelperError:
        locked = False  # record anyway; notify only when no other process can decide the same
    notices: list[Notice] = []
    try:
        state = load(account)
        wanted = change(state)
        slots = problems(state)
        resolver = _Resolver(account)
        for slot, problem in wanted:
            notices.extend(_transition(slots, slot, problem, resolver, notify=locked))
        state["problems"] = slots
        with contextlib.suppress(OAuthHelperError, OSError):
            securefile.write_private(path_for(account), json.dumps(state).encode(), durable=False)
    finally:
        lock.release()
    if notices:
        from . import notify

        target = resolver.account()
        for notice in notices:
            if target is not None:
                notify.send(target.notify_command, target.name, notice.reason, notice.fix)


class _Resolver:
    """Loads the account's config only when a notification is actually due."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loaded = False
        self._account: Account | None = None

    def account(self) -> Account | None:
        if not self._loaded:
            from . import notify

            self._account = notify.account_for(self.name)
            self._loaded = True
        return self._account

    def command(self) -> tuple[str, ...]:
        found = self.account()
        return tuple(found.notify_command) if found is not None else ()

    def default_fix(self, key: str) -> str:
        found = self.account()
        authorize = found.authorize_command() if found is not None else "oauth-helper authorize"
        name = found.name if found is not None else self.name
        if key == str(EX_UNAVAILABLE):
            store = found.store if found is not None else "secret"
            return f"make the {store} store reachable here, or move the account: {authorize} --store file"
        if key == str(EX_CONFIG):
            return f"fix what the reason names, then check with: oauth-helper refresh {_q(name)} -v"
        from .providers import grant_rule

        rule = grant_rule(key)
        if rule is not None and rule.fix:
            from .hints import with_command

            return with_command(rule.fix, authorize)
        if key.endswith("_inactivity"):
            return (
                f"any successful refresh keeps the grant alive: oauth-helper refresh {_q(name)} -v"
            )
        return authorize  # refused grant, provider limit: sign in again


def _q(name: str) -> str:
    import shlex

    return shlex.quote(name)


def _transition(
    slots: dict[str, dict[str, Any]],
    slot: str,
    problem: dict[str, Any] | None,
    resolver: _Resolver,
    *,
    notify: bool,
) -> list[Notice]:
    """Apply one slot change; the notices it calls for (a new problem, or a notified one gone)."""
    old = slots.get(slot)
    if problem is None:
        if old is None:
            return []
        del slots[slot]
        if not old.get("notified") or not notify:
            return []
        return [Notice(RECOVERED + _recovery_text(slot, old), "")]
    if old is not None and old.get("key") == problem["key"]:
        current = old  # the same problem again: only notify if it never was (no command before)
        current["reason"] = problem["reason"]
    else:
        current = {
            "key": problem["key"],
            "reason": problem["reason"],
            "fix": problem.get("fix") or resolver.default_fix(problem["key"]),
            "since": time.time(),
            "notified": False,
        }
        slots[slot] = current
    if current.get("notified") or not notify or not resolver.command():
        return []
    current["notified"] = True
    current["notified_at"] = time.time()
    return [Notice(str(current["reason"]), str(current["fix"]))]


def _recovery_text(slot: str, old: dict[str, Any]) -> str:
    if slot == EXPIRY:
        return "the grant is no longer about to end (it was: " + str(old.get("reason")) + ")"
    return "refreshing works again (it failed: " + str(old.get("reason")) + ")"
