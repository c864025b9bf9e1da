"""`authorize ACCOUNT --issuer URL`: describe an OpenID provider in the config from its discovery
document, so nobody writes the [providers.NAME] table by hand for the common case.

The table holds the issuer (endpoints are discovered at run time, as for any issuer-only
provider), the scopes (--scope, else asked on a terminal, else offline_access when the
provider offers it) and, when given on a terminal, the SMTP and IMAP servers. Then the usual
authorize runs with --provider NAME.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from . import config, configedit, oauth, urlrule
from .errors import UsageError
from .providers import BUILTIN, NON_MAIL_SCOPES
from .settings import Settings


def provider_name_for(issuer: str) -> str:
    """A config table name from the issuer's host: https://sso.corp.example/x -> sso-corp-example.

    >>> provider_name_for("https://SSO.corp.example/realms/mail")
    'sso-corp-example'
    """
    host = (urlsplit(issuer).hostname or "provider").lower()
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "provider"


def ensure_provider(
    settings: Settings,
    issuer: str,
    *,
    name: str | None,
    scopes: Sequence[str] | None,
    say: Callable[[str], None],
) -> str:
    """The name of a [providers.NAME] for `issuer`, written to the config if it is not there."""
    issuer = issuer.strip().rstrip("/")
    insecure = urlrule.insecure_reason(issuer)
    if insecure is not None or not issuer.startswith(("https://", "http://")):
        raise UsageError(f"--issuer {issuer}: {insecure or 'not an https URL'}")
    the_name = name or provider_name_for(issuer)
    if the_name in BUILTIN:
        raise UsageError(
            f"--issuer is for providers of your own; {the_name!r} is built in "
            "(pass --provider NAME to name the new one)"
        )
    cfg = config.load(settings.config_path)
    existing = cfg.providers.get(the_name)
    if existing is not None:
        if existing.issuer == issuer:
            return the_name  # already described: nothing to write
        raise UsageError(
            f"[providers.{the_name}] in {cfg.path} has issuer {existing.issuer!r}, "
            f"not {issuer!r}; pass --provider OTHER-NAME"
        )
    data = oauth.discover(issuer, timeout=cfg.timeout)
    offered = data.get("scopes_supported")
    offered_list = [s for s in offered if isinstance(s, str)] if isinstance(offered, list) else None
    chosen = list(scopes) if scopes else _ask_scopes(offered_list, say)
    values: dict[str, object | None] = {"issuer": issuer, "scopes": tuple(chosen)}
    for key in ("imap", "smtp"):
        answer = _ask(f"{key.upper()} server of this provider, HOST:PORT (Enter: none): ")
        if answer:
            if config.parse_hostport(answer) is None:
                raise UsageError(f"{answer!r} is not HOST:PORT")
            values[key] = answer
    configedit.update_provider(cfg.path, the_name, values)
    say(
        f"Wrote [providers.{the_name}] to {cfg.path}: issuer {issuer}, scopes "
        f"{' '.join(chosen) or '(none)'} (from its discovery document)."
    )
    return the_name


def _ask_scopes(offered: list[str] | None, say: Callable[[str], None]) -> list[str]:
    default = ["offline_access"] if offered is None or "offline_access" in offered else []
    mail_like = [
        s for s in offered or () if s not in NON_MAIL_SCOPES and s != "address" and s != "phone"
    ]
    if mail_like:
        say(f"The provider offers these scopes: {' '.join(mail_like[:20])}")
    answer = _ask(f"Scopes for mail, space-separated (Enter: {' '.join(default) or 'none'}): ")
    return answer.split() if answer else default


def _ask(prompt: str) -> str:
    if not (sys.stdin and sys.stdin.isatty()):
        return ""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().strip()
