"""Which provider serves a custom domain, for `authorize you@company.example` without --provider.

The domain's MX records (dnspython, imported only here: never on the hot path) say which
built-in provider receives its mail (Google Workspace, Microsoft 365: each provider's `mx_hosts`);
for a provider with tenants, the tenant comes from the provider's own OpenID discovery document
for the domain (`tenant_discovery`). Best effort: anything that goes wrong ends in "cannot tell"
with what was seen, and the caller asks for --provider.

Two environment variables point the lookups elsewhere (the tests use them, on 127.0.0.1):
OAUTH_HELPER_NAMESERVER=HOST[:PORT] (the DNS server to ask instead of the system's) and
OAUTH_HELPER_MICROSOFT_LOGIN=URL (the scheme and host of the tenant discovery, Microsoft's login
service).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from . import http
from .errors import OAuthHelperError
from .jsondata import json_object
from .providers import BUILTIN, serves_mx
from .record import record

NAMESERVER_ENV = "OAUTH_HELPER_NAMESERVER"
MICROSOFT_LOGIN_ENV = "OAUTH_HELPER_MICROSOFT_LOGIN"
DNS_TIMEOUT = 5.0  # seconds for the whole MX lookup, retries included


@record
class Detection:
    """What the lookups found: a built-in provider (or None), its tenant, and how we know."""

    provider: str | None
    tenant: str | None
    how: str


def for_account(account: str, *, timeout: float, say: Callable[[str], None]) -> Detection:
    """detect() for the account's domain, saying what was found and how."""
    found = detect(account.rpartition("@")[2], timeout=timeout)
    if found.provider is None:
        say(f"{account}: cannot tell the provider: {found.how}.")
    else:
        tenant = f" (tenant {found.tenant})" if found.tenant else ""
        say(f"{account}: provider {found.provider}{tenant}: {found.how}.")
    return found


def provider_of_mx(hosts: Sequence[str]) -> str | None:
    """The built-in provider named by a domain's MX host names (any case, trailing dot or not).

    >>> provider_of_mx(["ALT1.ASPMX.L.GOOGLE.COM.", "aspmx.l.google.com"])
    'google'
    >>> provider_of_mx(["contoso-com.mail.protection.outlook.com"])
    'microsoft'
    >>> provider_of_mx(["mx.example.org", "aspmx.l.google.com.evil.example"]) is None
    True
    """
    found = set()
    for host in hosts:
        found.add(next((p.name for p in BUILTIN.values() if serves_mx(p, host)), ""))
    # A domain that moves, or a filter in front: mixed answers tell nothing for sure.
    return found.pop() or None if len(found) == 1 else None


def detect(domain: str, *, timeout: float) -> Detection:
    """The provider of `domain` from its MX records, and its tenant where the provider has them."""
    domain = domain.strip().rstrip(".").lower()
    hosts, problem = mx_hosts(domain)
    if problem is not None:
        return Detection(None, None, f"looked up the MX records of {domain}: {problem}")
    listed = ", ".join(hosts[:3]) + (", ..." if len(hosts) > 3 else "")
    name = provider_of_mx(hosts)
    if name is None:
        services = [p.mx_service for p in BUILTIN.values() if p.mx_hosts]
        return Detection(
            None,
            None,
            f"the MX records of {domain} ({listed}) name neither {' nor '.join(services)}",
        )
    provider = BUILTIN[name]
    seen = f"the MX records of {domain} ({listed}) are {provider.mx_service}'s"
    if provider.tenant_discovery is None:
        return Detection(name, None, seen)
    tenant, how = discover_tenant(
        provider.title, provider.tenant_discovery, domain, timeout=timeout
    )
    return Detection(name, tenant, f"{seen}; {how}")


def mx_hosts(domain: str) -> tuple[list[str], str | None]:
    """The MX host names of `domain`, best preference first, or ([], what went wrong)."""
    import dns.exception  # lazy: dnspython costs ~130 ms to import; only MX lookups use it
    import dns.resolver  # lazy: dnspython, as above

    resolver = dns.resolver.Resolver(configure=not os.environ.get(NAMESERVER_ENV))
    server = os.environ.get(NAMESERVER_ENV)
    if server:
        host, sep, port = server.rpartition(":")
        if not sep or not port.isdigit():
            host, port = server, "53"
        resolver.nameservers = [host.strip("[]")]
        resolver.port = int(port)
    resolver.lifetime = DNS_TIMEOUT
    try:
        answer = resolver.resolve(domain, "MX")
    except dns.resolver.NXDOMAIN:
        return [], "the domain does not exist"
    except dns.resolver.NoAnswer:
        return [], "it has none"
    except dns.resolver.NoNameservers:
        return [], "no name server answered"
    except dns.exception.Timeout:
        return [], f"no answer within {DNS_TIMEOUT:.0f} s"
    except dns.exception.DNSException as e:
        return [], type(e).__name__
    records = sorted(answer, key=lambda r: r.preference)
    return [r.exchange.to_text(omit_final_dot=True) for r in records], None


def discover_tenant(
    who: str, template: str, domain: str, *, timeout: float
) -> tuple[str | None, str]:
    """(the tenant ID from the provider's discovery document for the domain, how), or the domain
    itself (Microsoft accepts a verified domain as tenant) when the document says nothing.
    `template` is the provider's tenant_discovery URL, `who` its name for people."""
    url = template.format(domain=domain)
    base = os.environ.get(MICROSOFT_LOGIN_ENV)
    if base:
        url = base.rstrip("/") + urlsplit(url).path
    try:
        response = http.request("GET", url, timeout=timeout)
    except OAuthHelperError as e:
        return domain, f"{who}'s discovery for {domain} failed ({e}), so tenant {domain}"
    data = json_object(response.body) if response.status == 200 else None
    issuer = data.get("issuer") if data else None
    found = re.fullmatch(r"https://[^/]+/([0-9a-fA-F-]{36})/v2\.0/?", issuer or "")
    if found is None:
        return domain, (
            f"{who}'s discovery for {domain} named no tenant (HTTP "
            f"{response.status}), so tenant {domain}"
        )
    return found.group(1).lower(), f"tenant {found.group(1).lower()} from {url}"
