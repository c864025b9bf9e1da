"""Function-level (lazy) imports only where they keep `token` light (issue #16).

A lazy import hides a module's dependencies, so it must pay for itself. Modules that `token`
imports with a cached token (the hot path) or when it refreshes one may import lazily without
saying why: keeping those paths light is the reason. Anywhere else each lazy import carries a
`# lazy: WHY` comment on its line or on a comment line just before (an optional or
platform-specific dependency, a heavy one needed on one branch, ...). The paths are measured,
not listed: a real `token` run against the local provider, once from the cache and once
refreshing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.integration.test_token_engine import _imported_by_token, expire_cache, printed, token

PACKAGE = Path(__file__).resolve().parents[2] / "oauth_helper"
MARK = "# lazy:"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def lazy_imports(source: str) -> list[tuple[int, bool]]:
    """(line, says why) of each import inside a function, not counting `if TYPE_CHECKING:`."""
    lines = source.splitlines()
    found: list[tuple[int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                end = child.end_lineno or child.lineno
                before = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                said = before.startswith("#") and MARK in before
                said = said or any(MARK in line for line in lines[child.lineno - 1 : end])
                found.append((child.lineno, said))
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def unexplained(on_paths: set[str]) -> list[str]:
    """file:line and statement of each lazy import off the measured paths without `# lazy:`."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if module_name(path) in on_paths:
            continue
        source = path.read_text()
        lines = source.splitlines()
        for line, explained in lazy_imports(source):
            if not explained:
                where = path.relative_to(PACKAGE.parent)
                out.append(f"{where}:{line}: {lines[line - 1].strip()}")
    return out


def test_lazy_imports_off_the_token_paths_say_why(account_env: dict[str, str]) -> None:
    printed(token(account_env))  # a cached token for the hot path
    hot = _imported_by_token(account_env)
    expire_cache(account_env)
    refresh = _imported_by_token(account_env)
    assert "oauth_helper.cli" in hot and "oauth_helper.oauth" in refresh  # it really refreshed
    on_paths = {m for m in hot + refresh if m.startswith("oauth_helper")}

    every = [found for path in PACKAGE.rglob("*.py") for found in lazy_imports(path.read_text())]
    assert len(every) > 50  # the scan sees the hot path's own lazy imports

    offenders = unexplained(on_paths)
    assert not offenders, (
        "function-level imports in modules that `token` does not import (hot or refresh path): "
        "move each to the top of its module, or say why it stays lazy with a `# lazy: ...` "
        "comment on its line:\n" + "\n".join(offenders)
    )


def test_an_unexplained_lazy_import_would_be_found() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import json\n"
        "def f():\n"
        "    import shutil\n"
        "    import keyring  # lazy: optional\n"
        "    import glob\n"
        "    # lazy: only when a browser is launched\n"
        "    import webbrowser\n"
        "    if TYPE_CHECKING:\n"
        "        import csv\n"
        "    def g():\n"
        "        from os import (\n"
        "            path,\n"
        "        )\n"
        "class C:\n"
        "    def m(self):\n"
        "        import re\n"
    )
    assert lazy_imports(source) == [
        (5, False),
        (6, True),
        (7, False),
        (9, True),
        (13, False),
        (18, False),
    ]
