"""`oauth-helper providers [--json]`: built-in and configured providers, their endpoints and hosts.

Reads the config only; nothing is fetched (a provider given only by its issuer shows
"discovered from the issuer" for the endpoints discovery will fill in).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from . import config
from .providers import BUILTIN, ENDPOINTS, HostPort, Provider
from .settings import Settings

PROVIDERS_VERSION = 1


_LABELS = {"authorization_endpoint": "authorize", "device_authorization_endpoint": "device"}


def run(settings: Settings, *, as_json: bool, out: TextIO | None = None) -> int:
    cfg = config.load(settings.config_path)
    entries = [describe(p, _source(name, p), cfg) for name, p in sorted(cfg.providers.items())]
    stream = sys.stdout if out is None else out
    if as_json:
        import json

        stream.write(
            json.dumps({"version": PROVIDERS_VERSION, "providers": entries}, indent=2) + "\n"
        )
    else:
        stream.write(render(entries))
    stream.flush()
    return 0


def _source(name: str, provider: Provider) -> str:
    builtin = BUILTIN.get(name)
    if builtin is None:
        return "config"
    return "built-in" if builtin == provider else "built-in, changed by config"


def _hostport(value: HostPort | None) -> str | None:
    if value is None:
        return None
    host, port = value
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def describe(provider: Provider, source: str, cfg: config.Config | None = None) -> dict[str, Any]:
    """The JSON object for one provider."""
    accounts = (
        sorted(a.name for a in cfg.accounts.values() if a.provider.name == provider.name)
        if cfg is not None
        else []
    )
    return {
        "name": provider.name,
        "source": source,
        "issuer": provider.issuer,
        "tenant": provider.tenant,
        **{key: getattr(provider, key) for key in ENDPOINTS},
        "scopes": list(provider.scopes),
        "smtp": _hostport(provider.smtp),
        "imap": _hostport(provider.imap),
        "pop": _hostport(provider.pop),
        "other_hosts": list(provider.other_hosts),
        "device_flow": provider.device_flow,
        "redirect_host": provider.redirect_host,
        "accounts": accounts,
    }


def render(entries: list[dict[str, Any]]) -> str:
    blocks = []
    for e in entries:
        lines = [f"{e['name']} ({e['source']})"]

        def row(label: str, value: object, lines: list[str] = lines) -> None:
            lines.append(f"  {label:<14}{value}")

        if e["issuer"]:
            row("issuer", e["issuer"])
        if e["tenant"]:
            row("tenant", e["tenant"])
        for key in ENDPOINTS:
            label = _LABELS.get(key, key.replace("_endpoint", ""))
            value = e[key]
            if value is None:
                discovered = e["issuer"] and e["token_endpoint"] is None
                value = "(discovered from the issuer)" if discovered else "none"
            row(label, value)
        row("scopes", " ".join(e["scopes"]) or "none")
        for key in ("smtp", "imap", "pop"):
            row(key, e[key] or "not set")
        if e["other_hosts"]:
            row("other hosts", " ".join(e["other_hosts"]))
        row("device flow", "yes" if e["device_flow"] else "no")
        if e["accounts"]:
            row("accounts", " ".join(e["accounts"]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
