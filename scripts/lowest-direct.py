#!/usr/bin/env python3
"""Print pip constraints pinning each direct dependency of a wheel to its declared floor.

    scripts/lowest-direct.py dist/oauth_helper-X-py3-none-any.whl > floors.txt
    pip install -c floors.txt 'oauth_helper-X-py3-none-any.whl[test]'

pip has no "lowest-direct" resolution mode: this is one for the floors the metadata states.
It reads Requires-Dist from the built wheel (what users get, not pyproject.toml), skips the
extras (the test tools are not what we promise to run with), turns `name>=X` into `name==X`
and keeps any environment marker, so pip itself decides where `tomli; python_version < '3.11'`
applies. A requirement without a `>=` floor is an error: an unbounded dependency has no floor
to test, and that is worth a look rather than a silent skip. Stdlib only: it runs on every
Python the suite runs on.
"""

from __future__ import annotations

import email.parser
import re
import sys
import zipfile

# name[extras] (>=X[, <Y...]) [; marker]; PEP 508 as the wheel's METADATA writes it.
_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*(?:;(.*))?$"
)
_FLOOR = re.compile(r">=\s*([^,\s]+)")


def floors(wheel: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(
            archive.read(name).decode("utf-8"), headersonly=True
        )
    pins = []
    for requirement in metadata.get_all("Requires-Dist") or []:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"lowest-direct: cannot read requirement {requirement!r}")
        project, _extras, specifier, marker = match.groups()
        if marker and "extra" in marker:
            continue
        floor = _FLOOR.search(specifier)
        if floor is None:
            raise SystemExit(f"lowest-direct: {project} has no >= floor in {requirement!r}")
        pins.append(f"{project}=={floor.group(1)}" + (f"; {marker.strip()}" if marker else ""))
    return pins


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: lowest-direct.py WHEEL")
    print("\n".join(floors(sys.argv[1])))
