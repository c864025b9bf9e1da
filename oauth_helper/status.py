"""`oauth-helper status [ACCOUNT] [--json]`: what each account has and what will go wrong next.

The JSON shape is a documented, stable interface (docs/status-json.md): fields are only ever
added, never renamed or removed, without raising STATUS_VERSION.
"""

from __future__ import annotations

import calendar
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from . import cache, config, grant, hints, redact, state
from .config import Account
from .errors import EX_CONFIG, EX_NOPERM, EX_TEMPFAIL, EX_UNAVAILABLE, OAuthHelperError
from .grant import human_span
from .record import record
from .settings import Settings
from .stores import open_store
from .stores.keyring_store import real_backend

STATUS_VERSION = 1
SOON = 2 * 24 * 3600  # a refresh token dying within two days is worth shouting about


@record
class Finding:
    """Something the user should act on, with the fix (one line each)."""

    code: str
    message: str
    fix: str
    severity: str = "warning"  # "warning": will break (or has broken); "info": worth knowing

    def as_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


def run(
    settings: Settings,
    *,
    account: str | None,
    as_json: bool,
    out: TextIO | None = None,
    now: float | None = None,
) -> int:
    cfg = config.load(settings.config_path)
    names = [cfg.account(account).name] if account is not None else sorted(cfg.accounts)
    moment = time.time() if now is None else now
    report = {
        "version": STATUS_VERSION,
        "config": str(cfg.path),
        "config_exists": cfg.exists,
        "generated_at": iso(moment),
        "accounts": [account_status(cfg.account(name), moment) for name in names],
    }
    stream = sys.stdout if out is None else out
    if as_json:
        stream.write(json.dumps(report, indent=2) + "\n")
    else:
        stream.write(render(report, cfg.exists))
    stream.flush()
    return 0


# -- gathering ----------------------------------------------------------------------------------


def account_status(
    account: Account, now: float, dbus_check: Callable[[], str | None] | None = None
) -> dict[str, Any]:
    """Everything `status` knows about one account, as the documented JSON object."""
    authorize = account.authorize_command()
    warnings: list[Finding] = []
    store_info, secret = _store(account, warnings, authorize)
    refresh_info: dict[str, Any] = {
        "present": secret is not None,
        "obtained_at": (
            iso(secret.obtained_at) if secret is not None and secret.obtained_at > 1 else None
        ),
        "expires_at": (
            iso(secret.refresh_token_expires_at)
            if secret is not None and secret.refresh_token_expires_at
            else None
        ),
    }
    if secret is not None and secret.refresh_token_expires_at:
        warnings.append(_expiry_warning(account, secret.refresh_token_expires_at, now, authorize))
    if account.store == "keyring":
        cron = (dbus_check or cron_keyring_problem)()
        if cron is not None:
            warnings.append(
                Finding(
                    "keyring_unreachable_from_cron",
                    cron,
                    "keep the keyring unlocked and export DBUS_SESSION_BUS_ADDRESS in the crontab, "
                    f"or move the account to the file store: {authorize} --store file",
                    severity="warning" if not store_info["reachable"] else "info",
                )
            )
    last = state.load(account.name)
    last_info = _last_refresh(last)
    if last_info is not None and not last_info["ok"]:
        warnings.append(_failure_warning(account, last_info, authorize))
    grant_info, deadline = _grant(account, secret, last, now)
    if deadline is not None and deadline.inactivity and grant.soon(deadline, now):
        warnings.append(
            Finding(
                "grant_inactive_soon",
                f"the grant ends on {human_time(deadline.at)} unless it is used: "
                f"{deadline.rule.text}",
                f"refresh it now, and keep a timer running: oauth-helper refresh {_q(account.name)} -v",
            )
        )
    return {
        "account": account.name,
        "provider": account.provider.name,
        "client_id": account.client_id,
        "signed_in_as": account.signed_in_as,
        "store": store_info,
        "refresh_token": refresh_info,
        "access_token": _access(account, now),
        "scopes": _scopes(last),
        "last_refresh": last_info,
        "grant": grant_info,
        "warnings": [w.as_json() for w in warnings],
    }


def _failure_warning(account: Account, last: dict[str, Any], authorize: str) -> Finding:
    """What to do about the last failed refresh, from the exit code it ended with (not its text)."""
    detail = last.get("message") or "no detail"
    message = f"the last refresh failed: {detail}"
    code = last.get("exit_code")
    if code == EX_TEMPFAIL:
        return Finding(
            "last_refresh_failed",
            message,
            "temporary (network, provider busy or down); nothing to do: the next `token` or "
            "`refresh` tries again; if it persists, run: "
            f"oauth-helper refresh {_q(account.name)} -v",
            severity="info",
        )
    if code == EX_NOPERM:
        fix = last.get("fix") or authorize
        return Finding("last_refresh_failed", message, f"run: {fix}")
    if code == EX_UNAVAILABLE:
        return Finding(
            "last_refresh_failed",
            message,
            f"make the {account.store} store reachable here, or move the account: "
            f"{authorize} --store file",
        )
    if code == EX_CONFIG:
        return Finding(
            "last_refresh_failed",
            message,
            "fix the provider, app registration or configuration problem named above, then "
            f"check with: oauth-helper refresh {_q(account.name)} -v",
        )
    return Finding(
        "last_refresh_failed",
        message,
        f"try again and see what it says: oauth-helper refresh {_q(account.name)} -v",
    )


def _scopes(data: dict[str, Any]) -> dict[str, Any]:
    """What the provider granted at the last authorize or refresh (the first thing to check
    when a server says "invalid scope")."""
    found = data.get("scopes")
    if not isinstance(found, dict) or not isinstance(found.get("granted"), list):
        return {"granted": None, "reported_by_provider": None, "at": None}
    at = found.get("at")
    return {
        "granted": [hints.printable(str(s), 200) for s in found["granted"]],
        "reported_by_provider": bool(found.get("reported")),
        "at": iso(at) if isinstance(at, (int, float)) else None,
    }


def _grant(
    account: Account, secret: Any, last: dict[str, Any], now: float
) -> tuple[dict[str, Any], grant.Deadline | None]:
    """When the grant dies at the latest, and by which rule (None fields: not known)."""
    success = last.get("last_success_at")
    found = grant.deadline(
        account.provider.grant_lifetime,
        expires_at=secret.refresh_token_expires_at if secret is not None else None,
        last_used=grant.last_used(
            float(success) if isinstance(success, (int, float)) else None,
            secret.obtained_at if secret is not None else None,
        ),
    )
    if secret is None or found is None:
        return {"expires_at": None, "expires_in": None, "rule": None, "explanation": None}, None
    return {
        "expires_at": iso(found.at),
        "expires_in": int(found.at - now),
        "rule": found.rule.code,
        "explanation": found.rule.text,
    }, found


def _q(name: str) -> str:
    return shlex.quote(name)


def _store(account: Account, warnings: list[Finding], authorize: str) -> tuple[dict[str, Any], Any]:
    store = open_store(account)
    info: dict[str, Any] = {
        "kind": store.kind,
        "location": store.describe(),
        "reachable": True,
        "problem": None,
    }
    secret = None
    try:
        problem = store.unavailable_reason()
        if problem is None:
            secret = store.load()
    except OAuthHelperError as e:
        problem = str(e)
    if secret is not None:
        redact.register(secret.refresh_token, secret.client_secret)
    if problem is not None:
        info["reachable"] = False
        info["problem"] = redact.scrub(problem)
        warnings.append(
            Finding(
                "store_unreachable",
                f"the {store.kind} store cannot be read here: {info['problem']}",
                f"run where the store is reachable, or: {authorize} --store file",
            )
        )
    elif secret is None:
        warnings.append(
            Finding("no_refresh_token", "no refresh token is stored", f"run: {authorize}")
        )
    return info, secret


def _expiry_warning(account: Account, expires_at: float, now: float, authorize: str) -> Finding:
    when = human_time(expires_at)
    left = expires_at - now
    if left <= 0:
        message = f"the refresh token died on {when}"
    else:
        message = f"the refresh token dies on {when} ({human_span(left)} from now)"
    rule = account.provider.grant_lifetime.stated_expiry
    if rule.fix:  # the provider's own reason (Google: an app in "Testing"), always worth a warning
        fix = hints.with_command(rule.fix, authorize)
        code = rule.code
    else:
        fix = hints.with_command(hints.LIMITED_REFRESH_TOKEN_FIX, authorize)
        code = "refresh_token_expires"
    severity = "warning" if rule.fix or left < SOON else "info"
    return Finding(code, message, fix, severity=severity)


def _access(account: Account, now: float) -> dict[str, Any]:
    try:
        cached = cache.load(account.name)
    except OAuthHelperError as e:
        return {
            "cached": False,
            "expires_at": None,
            "expires_in": None,
            "usable": False,
            "problem": str(e),
        }
    if cached is None:
        return {
            "cached": False,
            "expires_at": None,
            "expires_in": None,
            "usable": False,
            "problem": None,
        }
    usable = cached.fingerprint == account.fingerprint() and cached.valid_for(
        cache.DEFAULT_MIN_VALIDITY, now
    )
    return {
        "cached": True,
        "expires_at": iso(cached.expires_at),
        "expires_in": int(cached.expires_at - now),
        "usable": usable,
        "problem": None
        if cached.fingerprint == account.fingerprint()
        else "issued for another client or scopes (the config changed); the next use refreshes it",
    }


def _last_refresh(data: dict[str, Any]) -> dict[str, Any] | None:
    at = data.get("last_refresh_at")
    if not isinstance(at, (int, float)):
        return None
    success = data.get("last_success_at")
    message = data.get("last_refresh_message")
    exit_code = data.get("last_refresh_exit_code")
    fix = data.get("last_refresh_fix")
    return {
        "at": iso(float(at)),
        "ok": bool(data.get("last_refresh_ok")),
        "exit_code": exit_code
        if isinstance(exit_code, int) and not isinstance(exit_code, bool)
        else None,
        "fix": redact.scrub(fix) if isinstance(fix, str) and fix else None,
        "message": redact.scrub(message) if isinstance(message, str) and message else None,
        "last_success_at": iso(float(success)) if isinstance(success, (int, float)) else None,
    }


def cron_keyring_problem(
    environ: dict[str, str] | None = None, backend_check: Callable[[], str | None] | None = None
) -> str | None:
    """Why a cron job (no desktop session) cannot read the keyring, or None if it can.

    The Secret Service is reached over the D-Bus session bus, whose address cron does not set.
    """
    if sys.platform in ("darwin", "win32"):
        return None  # Keychain and Credential Locker do not depend on a session bus
    env = os.environ if environ is None else environ
    if not env.get("DBUS_SESSION_BUS_ADDRESS"):
        return (
            "no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS is not set): the keyring is "
            "unreachable, as it is from cron, SSH and systemd services"
        )
    reason = (backend_check or _backend_reason)()
    if reason is not None:
        return f"the keyring is unreachable here: {reason}"
    return (
        "the keyring is reachable through this session's D-Bus; cron jobs have no "
        "DBUS_SESSION_BUS_ADDRESS and cannot reach it"
    )


def _backend_reason() -> str | None:
    return real_backend()[1]


# -- rendering ----------------------------------------------------------------------------------


def iso(epoch: float) -> str:
    """RFC 3339 UTC time, seconds precision: 2025-01-31T12:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def human_time(epoch: float) -> str:
    """Local time for people: 2025-01-31 13:00 CET."""
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(epoch)).strip()


def _parse_iso(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def render(report: dict[str, Any], config_exists: bool = True) -> str:
    """The human-readable status: one block per account."""
    accounts = report["accounts"]
    if not accounts:
        where = report["config"] if config_exists else f"{report['config']} (does not exist)"
        return f"no accounts in {where}; add one with: oauth-helper authorize ADDRESS\n"
    blocks = []
    for a in accounts:
        lines = [a["account"]]

        def row(label: str, value: str, lines: list[str] = lines) -> None:
            lines.append(f"  {label:<14}{value}")

        who = f" (signed in as {a['signed_in_as']})" if a["signed_in_as"] else ""
        row("provider", f"{a['provider']}{who}")
        store = a["store"]
        reach = "reachable" if store["reachable"] else f"NOT reachable: {store['problem']}"
        row("store", f"{store['kind']}: {store['location']} ({reach})")
        rt = a["refresh_token"]
        if not store["reachable"]:
            row("refresh token", "unknown (store not reachable)")
        elif not rt["present"]:
            row("refresh token", "none stored")
        else:
            text = f"obtained {_when(rt['obtained_at'])}" if rt["obtained_at"] else "stored"
            if rt["expires_at"]:
                text += f", dies {_when(rt['expires_at'])}"
            row("refresh token", text)
        g = a["grant"]
        if g["expires_at"]:
            left = g["expires_in"]
            when = _when(g["expires_at"])
            span = f"{when} (in {human_span(left)})" if left > 0 else f"{when} (passed)"
            verb = "ends if unused by" if g["rule"].endswith("_inactivity") else "ends"
            row("grant", f"{verb} {span}: {g['explanation']}")
        sc = a["scopes"]
        if sc["granted"] is not None:
            how = (
                ""
                if sc["reported_by_provider"]
                else " (as requested: the provider did not list them)"
            )
            row("scopes", " ".join(sc["granted"]) + how)
        at = a["access_token"]
        if at["cached"]:
            left = at["expires_in"]
            state_text = (
                f"expires {_when(at['expires_at'])} (in {human_span(left)})"
                if left > 0
                else f"expired {_when(at['expires_at'])} ({human_span(left)} ago)"
            )
            if at["problem"]:
                state_text += f"; {at['problem']}"
            row("access token", state_text)
        else:
            row("access token", at["problem"] or "none cached (the next use refreshes it)")
        last = a["last_refresh"]
        if last is None:
            row("last refresh", "never (on this machine)")
        else:
            outcome = "ok" if last["ok"] else f"FAILED: {last['message'] or 'no detail'}"
            row("last refresh", f"{_when(last['at'])}, {outcome}")
        for w in a["warnings"]:
            label = "note" if w["severity"] == "info" else "WARNING"
            lines.append(f"  {label}: {w['message']}")
            lines.append(f"    fix: {w['fix']}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _when(iso_text: str) -> str:
    return human_time(_parse_iso(iso_text))
