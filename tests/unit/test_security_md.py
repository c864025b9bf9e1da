"""SECURITY.md names the test that proves each promise: every name it gives must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_named_in_security_md_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    table = text[text.index("## Promises and the tests that prove them") :]
    named = 0
    for row in table.splitlines():
        if not row.startswith("| ") or row.startswith("| Promise") or row.startswith("|---"):
            continue
        current: str | None = None
        for ref in re.findall(r"`((?:tests/[^`:]+)?::\w+)`", row):
            path, _, name = ref.partition("::")
            current = path or current
            assert current is not None, row
            source = (ROOT / current).read_text()
            assert re.search(rf"^def {re.escape(name)}\(", source, re.M), f"{current}::{name}"
            named += 1
        assert current is not None, f"a promise without a test: {row}"
    assert named >= 40
