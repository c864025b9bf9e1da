"""Each kind (stores, flows, SASL mechanisms, refresh styles, import formats) is defined once,
as a Literal in kinds.py: the command line's choices come from it, and no module spells the
set again (mypy --strict then catches a misspelt kind wherever the types reach)."""

from __future__ import annotations

import argparse
import ast
from typing import Any, get_args

from oauth_helper import kinds
from oauth_helper.cli import build_parser
from tests.support.package_scan import PACKAGE, offenders

TUPLES = {
    "StoreKind": "STORE_KINDS",
    "FlowKind": "FLOW_KINDS",
    "Mechanism": "MECHANISMS",
    "RefreshStyle": "REFRESH_STYLES",
    "ImportFormat": "IMPORT_FORMATS",
}


def _as_mypy_sees_it() -> dict[str, Any]:
    """kinds.py run with TYPE_CHECKING true: its Literals exist at run time only then."""
    source = (PACKAGE / "kinds.py").read_text()
    assert source.count("TYPE_CHECKING = False") == 1
    namespace: dict[str, Any] = {}
    exec(
        compile(source.replace("TYPE_CHECKING = False", "TYPE_CHECKING = True"), "kinds", "exec"),
        namespace,
    )
    return namespace


KIND_SETS = {name: frozenset(get_args(_as_mypy_sees_it()[name])) for name in TUPLES}


def test_each_literal_and_its_tuple_hold_the_same_names() -> None:
    for literal, values in TUPLES.items():
        assert get_args(_as_mypy_sees_it()[literal]) == getattr(kinds, values), literal


# The provider table lists mechanisms as data (each provider's, best first), not as the kind.
DATA = {PACKAGE / "kinds.py", PACKAGE / "providers.py"}


def respelt(source: str) -> list[tuple[int, str]]:
    """(line, kind) for every tuple, list or set of string constants that spells a kind's set."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            continue
        values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
        if len(values) == len(node.elts):
            found += [(node.lineno, k) for k, s in KIND_SETS.items() if values == s]
    return found


def test_no_module_spells_a_kind_again() -> None:
    assert offenders(respelt, allowed=DATA) == {}, "use the tuple from oauth_helper/kinds.py"
    assert respelt('STORES = ("keyring", "file", "command")') == [(1, "StoreKind")]
    assert respelt('p.add_argument("--m", choices=["oauthbearer", "xoauth2"])') == [
        (1, "Mechanism")
    ]


def _choices(parser: argparse.ArgumentParser, command: str, dest: str) -> tuple[str, ...]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if a.dest == dest)
    return tuple(action.choices or ())


def test_the_command_line_offers_exactly_the_kinds() -> None:
    parser = build_parser()
    assert _choices(parser, "authorize", "store") == kinds.STORE_KINDS
    assert _choices(parser, "import", "store") == kinds.STORE_KINDS
    assert _choices(parser, "authorize", "flow") == kinds.FLOW_KINDS
    assert _choices(parser, "import", "source_format") == kinds.IMPORT_FORMATS
    assert _choices(parser, "test", "mechanism") == kinds.MECHANISMS
    assert _choices(parser, "preauth", "mechanism") == kinds.MECHANISMS
