"""The mail services' ports and TLS modes have one home (mailservice.py), cheap to import."""

from __future__ import annotations

import ast

from oauth_helper import mailservice
from tests.support.package_scan import PACKAGE, offenders

# Provider tables name their servers' ports; everything else asks mailservice.
ALLOWED = {PACKAGE / "mailservice.py", PACKAGE / "providers.py"}
PORTS = (
    mailservice.IMPLICIT_TLS_PORTS
    | mailservice.STARTTLS_PORTS
    | frozenset(mailservice.DEFAULT_PORT.values())
)


def port_literals(source: str) -> list[tuple[int, object]]:
    """(line, value) of every int constant, or string ending in `:PORT`, that is a mail port."""
    found: list[tuple[int, object]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        is_port = type(value) is int and value in PORTS
        ends_in_port = isinstance(value, str) and any(value.endswith(f":{p}") for p in PORTS)
        if is_port or ends_in_port:
            found.append((node.lineno, value))
    return found


def test_no_other_module_writes_a_mail_port() -> None:
    found = offenders(port_literals, allowed=ALLOWED)
    assert found == {}, "take these from oauth_helper/mailservice.py"
    assert port_literals("IMPLICIT = frozenset({465, 993})") == [(1, 465), (1, 993)]
    assert port_literals('fix = f"smtps://{host}:465"') == [(1, ":465")]


def test_the_table_agrees_with_the_rfcs() -> None:
    assert dict(mailservice.IMPLICIT_TLS) == {"smtp": 465, "imap": 993, "pop": 995}  # RFC 8314
    assert {25, 587, 143, 110} == mailservice.STARTTLS_PORTS  # RFC 5321, 6409, 3501, 1939
    for scheme, (_, tls) in mailservice.SCHEMES.items():
        assert (tls == "implicit") == scheme.endswith("s"), scheme
    assert mailservice.tls_for_port(465, "imap") is None
    assert mailservice.tls_for_port(465) == "implicit"
    assert mailservice.tls_for_port(2525) is None


def test_it_imports_nothing_at_run_time() -> None:
    tree = ast.parse((PACKAGE / "mailservice.py").read_text())
    for_types = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    imports = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and id(node) not in for_types
        and getattr(node, "module", None) != "__future__"
    ]
    assert imports == []
