"""Provider quirks are data: only providers.py names a built-in provider or its hosts.

Everything Google or Microsoft does differently is a field of `Provider`, so a module that
writes "google" or "microsoft" as a string, or a Google/Microsoft host name or URL, is asking
which provider it is instead of reading the field. Read from the source's syntax tree (string
constants, f-string parts included), so prose that mentions a provider in a message or a
docstring is fine, and renaming a variable cannot hide a comparison.
"""

from __future__ import annotations

import ast
import re

from tests.support.package_scan import PACKAGE, offenders

THE_TABLE = PACKAGE / "providers.py"
PROVIDER_NAMES = frozenset({"google", "microsoft"})
# A constant that is a host name or URL (no white space) in the providers' domains.
PROVIDER_HOST = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?[a-z0-9.-]*\b(?:google|googleapis|gmail|googlemail|"
    r"microsoft|microsoftonline|outlook|office365|office|live|hotmail|msn)\.com\.?(?:[:/]\S*)?$",
    re.IGNORECASE,
)


def quirks(source: str) -> list[tuple[int, str]]:
    """(line, constant) for every string constant that names a provider or one of its hosts."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if text.lower() in PROVIDER_NAMES or PROVIDER_HOST.match(text):
                found.append((node.lineno, node.value))
    return found


def test_no_module_but_the_table_names_a_provider() -> None:
    found = offenders(quirks, allowed=[THE_TABLE])
    assert found == {}, "make these fields of providers.Provider instead"


def test_the_check_sees_what_it_forbids() -> None:
    # The table itself is full of them: a check that found nothing there would prove nothing.
    in_table = {value for _, value in quirks(THE_TABLE.read_text())}
    assert {"google", "microsoft", "https://oauth2.googleapis.com/tokeninfo"} <= in_table
    assert ".mail.protection.outlook.com" in in_table
    forbidden = (
        'if provider.kind == "google": pass',
        'x = name in ("GOOGLE", "other")',
        'LABELS = {"microsoft": "outlook"}',
        'url = f"{base}/token" if host == "login.microsoftonline.com" else ""',
        'TOKENINFO = "https://oauth2.googleapis.com/tokeninfo"',
        'suffix = ".mail.protection.outlook.com"',
        'mx = "smtp.google.com."',
    )
    for line in forbidden:
        assert quirks(line), line
    allowed = (
        '"""Sign in at https://mail.google.com/ once, as Google asks."""',
        'msg = f"the {provider.title} app needs its secret (see https://myaccount.google.com/)"',
        'example = "alice@gmail.com"',
        'style = "google-auth"',
        'host = "smtp.example.com"',
    )
    for line in allowed:
        assert not quirks(line), line
