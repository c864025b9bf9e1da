"""Facts of the mail services themselves: their well-known ports, URL schemes and TLS modes.

One table for `test` (check.py), `snippet`, the fetchmail plugin (preauth.py) and the git
credential helper (gitcred.py). The services are named as the fields of `providers.Provider`
(smtp, imap, pop).

- RFC 8314: implicit TLS ("TLS on connect") for submission on 465 (smtps/submissions), IMAP on
  993 (imaps) and POP3 on 995 (pop3s), preferred over STARTTLS.
- RFC 6409: message submission on 587, with STARTTLS (RFC 3207); 25 is SMTP relay (RFC 5321).
- RFC 3501: IMAP on 143, with STARTTLS. RFC 1939: POP3 on 110, with STLS (RFC 2595).

No imports, not even typing: gitcred is on git's credential path.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Literal

    Service = Literal["smtp", "imap", "pop"]
    TLSMode = Literal["implicit", "starttls"]

IMPLICIT_TLS: Mapping[Service, int] = {"smtp": 465, "imap": 993, "pop": 995}
STARTTLS: Mapping[Service, tuple[int, ...]] = {"smtp": (587, 25), "imap": (143,), "pop": (110,)}
# The port when none is given: submission with STARTTLS for SMTP (what providers document
# first), implicit TLS for IMAP and POP3.
DEFAULT_PORT: Mapping[Service, int] = {"smtp": 587, "imap": 993, "pop": 995}

IMPLICIT_TLS_PORTS = frozenset(IMPLICIT_TLS.values())
STARTTLS_PORTS = frozenset(port for ports in STARTTLS.values() for port in ports)

# URL schemes: the service each one names, and its TLS mode.
SCHEMES: Mapping[str, tuple[Service, TLSMode]] = {
    "smtps": ("smtp", "implicit"),
    "smtp": ("smtp", "starttls"),
    "submissions": ("smtp", "implicit"),
    "submission": ("smtp", "starttls"),
    "imaps": ("imap", "implicit"),
    "imap": ("imap", "starttls"),
    "pops": ("pop", "implicit"),
    "pop3s": ("pop", "implicit"),
    "pop": ("pop", "starttls"),
    "pop3": ("pop", "starttls"),
}


def well_known_ports(service: Service) -> frozenset[int]:
    """The service's ports, implicit TLS and STARTTLS.

    >>> sorted(well_known_ports("smtp"))
    [25, 465, 587]
    """
    return frozenset((IMPLICIT_TLS[service], *STARTTLS[service]))


def tls_for_port(port: int, service: Service | None = None) -> TLSMode | None:
    """How TLS is done on a well-known port (of `service`, or of any service); None: unknown.

    >>> tls_for_port(993), tls_for_port(587, "smtp"), tls_for_port(995, "imap")
    ('implicit', 'starttls', None)
    """
    services = (service,) if service is not None else tuple(IMPLICIT_TLS)
    if any(port == IMPLICIT_TLS[s] for s in services):
        return "implicit"
    if any(port in STARTTLS[s] for s in services):
        return "starttls"
    return None
