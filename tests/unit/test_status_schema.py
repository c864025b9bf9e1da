"""The documented `status --json` shape (docs/status-json.md), and a validator for its schema.

The schema is read from the documentation itself, so the page and the tests cannot drift apart.
The validator covers the JSON Schema keywords the page uses (type, const, enum, required,
properties, additionalProperties, items, format date-time) and nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "status-json.md"
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
_KNOWN = {
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "format",
}


def documented_schema() -> dict[str, Any]:
    found = re.search(r"```json schema\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"{DOC} has no ```json schema block"
    schema: dict[str, Any] = json.loads(found.group(1))
    return schema


def documented_example() -> Any:
    found = re.search(r"## Example\n\n```json\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"{DOC} has no example"
    return json.loads(found.group(1))


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Every way `value` breaks `schema` (an empty list: it conforms)."""
    unknown = set(schema) - _KNOWN
    assert not unknown, f"validator does not know {unknown}"
    out: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_is(value, n) for n in names):
            return [f"{where}: {value!r} is not {' or '.join(names)}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if (
        schema.get("format") == "date-time"
        and isinstance(value, str)
        and not _DATE_TIME.match(value)
    ):
        out.append(f"{where}: {value!r} is not an RFC 3339 UTC time with seconds")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing {key!r}")
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                out.extend(errors(item, props[key], f"{where}.{key}"))
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}: unexpected {key!r}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            out.extend(errors(item, schema["items"], f"{where}[{index}]"))
    return out


def assert_documented_shape(report: Any) -> None:
    problems = errors(report, documented_schema())
    assert problems == [], "\n".join(problems)


def test_the_documented_example_conforms() -> None:
    assert_documented_shape(documented_example())


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda r: r.pop("version"), "missing 'version'"),
        (lambda r: r["accounts"][0]["store"].update(reachable="yes"), "is not boolean"),
        (lambda r: r["accounts"][0].update(token="x"), "unexpected 'token'"),
        (lambda r: r["accounts"][0]["access_token"].update(expires_at="yesterday"), "RFC 3339"),
        (lambda r: r["accounts"][0]["warnings"][0].update(severity="fatal"), "not in"),
        (lambda r: r["accounts"][0]["access_token"].update(expires_in=True), "is not integer"),
        (lambda r: r["accounts"][0]["grant"].update(rule="forever"), "not in"),
        (lambda r: r["accounts"][0]["last_refresh"].pop("exit_code"), "missing 'exit_code'"),
    ],
)
def test_the_validator_catches_drift(mutate: Any, complaint: str) -> None:
    report = documented_example()
    mutate(report)
    problems = errors(report, documented_schema())
    assert any(complaint in p for p in problems), problems
