"""The package's own source, read by the tests that keep a fact in one home (provider quirks in
providers.py, mail ports in mailservice.py, kinds in kinds.py): where else does it appear?"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

PACKAGE = Path(__file__).resolve().parents[2] / "oauth_helper"

Found = TypeVar("Found")


def offenders(
    find: Callable[[str], list[Found]], *, allowed: Iterable[Path] = ()
) -> dict[str, list[Found]]:
    """Each package module but `allowed` in which `find` (given the source) finds something."""
    skip = set(allowed)
    return {
        str(path.relative_to(PACKAGE.parent)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in skip and (found := find(path.read_text()))
    }
