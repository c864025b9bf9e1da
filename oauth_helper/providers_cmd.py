"""`oauth-helper providers [--json]`: built-in and configured providers, their endpoints and hosts.

Reads the config and the discovery cache; nothing is fetched (endpoints that only a first
discovery will fill in show "from discovery (not fetched yet)").
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from . import config, oauth
from .errors import OAuthHelperError
from .providers import BUILTIN, ENDPOINTS, HostPort, Provider
from .settings import Settings

PROVIDERS_VERSION = 1


_LABELS = {"authorization_endpoint": "authorize", "device_authorization_endpoint": "device"}


def run(settings: Settings, *, as_json: bool, out: TextIO | None = None) -> int:
    cfg = config.load(settings.config_path)
    entries = [
        describe(_with_cached_discovery(p), _source(name, p), cfg)
        for name, p in sorted(cfg.providers.items())
    ]
    stream = sys.stdout if out is None else out
    if as_json:
        stream.write(
            json.dumps({"version": PROVIDERS_VERSION, "providers": entries}, indent=2) + "\n"
        )
    else:
        stream.write(render(entries))
    stream.flush()
    return 0


def _with_cached_discovery(provider: Provider) -> Provider:
    if not provider.needs_discovery() or provider.issuer is None:
        return provider
    try:
        data = oauth.cached_metadata(provider.issuer)
    except OAuthHelperError:
        return provider  # a cached document that fails the URL rule is not shown as usable
    return provider if data is None else oauth.with_metadata(provider, data)


def device_flow(provider: Provider) -> str:
    """One verdict on the device flow: its endpoint, or why it cannot be used."""
    if not provider.device_flow:
        return "not allowed" + (
            f": {provider.device_flow_refusal}" if provider.device_flow_refusal else ""
        )
    if provider.device_authorization_endpoint:
        return provider.device_authorization_endpoint
    if provider.needs_discovery() and provider.issuer:
        return "from discovery (not fetched yet)"
    return "not offered (no device_authorization_endpoint)"


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
        # Usable, not merely allowed: an allowed flow without an endpoint cannot be run.
        "device_flow": provider.device_flow
        and (provider.device_authorization_endpoint is not None or provider.needs_discovery()),
        "redirect_host": provider.redirect_host,
        "accounts": accounts,
        "device_flow_detail": device_flow(provider),
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
            if key == "device_authorization_endpoint":
                value = e["device_flow_detail"]
            elif value is None:
                discovered = e["issuer"] and e["token_endpoint"] is None
                value = "from discovery (not fetched yet)" if discovered else "none"
            row(label, value)
        row("scopes", " ".join(e["scopes"]) or "none")
        for key in ("smtp", "imap", "pop"):
            row(key, e[key] or "not set")
        if e["other_hosts"]:
            row("other hosts", " ".join(e["other_hosts"]))
        if e["accounts"]:
            row("accounts", " ".join(e["accounts"]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
