"""The closed sets of names that the config file, the command line and the code share.

Each is defined here once: a `Literal` type, so mypy catches a misspelt kind wherever it is
used, and the tuple of its values, for argparse `choices=` and the config's checks (mypy checks
each value against the Literal; tests/unit/test_kinds.py that the two hold the same names).
The Literals exist for mypy only: the config is read on every refresh, and importing typing
costs ~5 ms there.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, TypeVar

    # Where a refresh token lives (stores/).
    StoreKind = Literal["keyring", "file", "command"]
    # How `authorize` signs in (flows/): loopback browser, pasted redirect, RFC 8628 device code.
    FlowKind = Literal["browser", "paste", "device"]
    # The SASL mechanisms of an OAuth login (sasl.py): XOAUTH2, RFC 7628 OAUTHBEARER.
    Mechanism = Literal["xoauth2", "oauthbearer"]
    # How a provider's refresh tokens are traded (refresher.py): RFC 6749 by oauth.py, or
    # through google-auth (google_refresh.py).
    RefreshStyle = Literal["rfc6749", "google-auth"]
    # What `import` reads (import_cmd.py): mutt_oauth2.py's or getmail6's token file, or JSON.
    ImportFormat = Literal["auto", "mutt_oauth2", "getmail", "json"]

    Kind = TypeVar("Kind", bound=str)

STORE_KINDS: tuple[StoreKind, ...] = ("keyring", "file", "command")
FLOW_KINDS: tuple[FlowKind, ...] = ("browser", "paste", "device")
MECHANISMS: tuple[Mechanism, ...] = ("xoauth2", "oauthbearer")
REFRESH_STYLES: tuple[RefreshStyle, ...] = ("rfc6749", "google-auth")
IMPORT_FORMATS: tuple[ImportFormat, ...] = ("auto", "mutt_oauth2", "getmail", "json")


def pick(value: str, kinds: tuple[Kind, ...]) -> Kind | None:
    """`value` as one of `kinds`, typed as that kind; None when it is none of them.

    >>> pick("file", STORE_KINDS), pick("vault", STORE_KINDS)
    ('file', None)
    """
    return next((kind for kind in kinds if kind == value), None)
