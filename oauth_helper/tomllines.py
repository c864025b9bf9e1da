"""Where things are in TOML text, line by line: tables, keys, and what spans several lines.

Shared by the config reader (to name the line of a mistake) and the config editor (to change
a table in place): both need to know which lines a multi-line string or array covers, which
tomllib does not tell. Pure text in, positions out; no I/O.
"""

from __future__ import annotations

import sys
from typing import Any

from .record import record

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

# -- scanning -------------------------------------------------------------------------------------


@record(frozen=False)
class Line:
    text: str  # with its line ending
    kind: str  # "header", "start" (first line of key = value), "cont", "blank", "comment"
    path: tuple[str, ...] = ()  # header: the table; start: the key
    array: bool = False  # header of [[an array of tables]]
    key_end: int = -1  # start: index of the "=" after the key
    comment: int = -1  # index where a trailing comment starts on this line, or -1


def scan(text: str) -> list[Line]:
    """Classify every line, following multi-line strings and multi-line arrays/inline tables."""
    out: list[Line] = []
    in_ml: str | None = None  # '"""' or "'''" while inside a multi-line string
    depth = 0  # open [ and { of a value
    for raw in _split_lines(text):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if in_ml is None and depth == 0:
            if not stripped:
                out.append(Line(raw, "blank"))
                continue
            if stripped.startswith("#"):
                out.append(Line(raw, "comment"))
                continue
            if stripped.startswith("["):
                path, array, comment = _header(body)
                out.append(Line(raw, "header", path=path, array=array, comment=comment))
                continue
            line = Line(raw, "start")
            line.key_end = _find_equals(body)
            line.path = _key_path(body[: line.key_end]) if line.key_end >= 0 else ()
            in_ml, depth, line.comment = _scan_value(body, max(line.key_end, 0), in_ml, depth)
            out.append(line)
            continue
        line = Line(raw, "cont")
        in_ml, depth, line.comment = _scan_value(body, 0, in_ml, depth)
        out.append(line)
    return out


def locate(text: str, table: tuple[str, ...], key: str | None = None) -> int | None:
    """The 1-based line of `key` in `table`, else of the table's header; for error messages.

    >>> locate('[accounts."a@b.c"]\\nprovider = "google"\\nstore = "vault"\\n', ("accounts", "a@b.c"), "store")
    3
    """
    current: tuple[str, ...] = ()
    header_line = None
    for number, line in enumerate(scan(text), 1):
        if line.kind == "header":
            current = line.path
            if current == table and header_line is None:
                header_line = number
                if key is None:
                    return number
        elif line.kind == "start" and key is not None and current == table and line.path == (key,):
            return number
    return header_line


def _split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\n" only (TOML's newline; str.splitlines also splits
    on characters such as U+0085 that may sit inside a TOML string)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _scan_value(
    body: str, start: int, in_ml: str | None, depth: int
) -> tuple[str | None, int, int]:
    """Follow strings and brackets in body[start:]; returns (in_ml, depth, comment index or -1)."""
    i = start
    n = len(body)
    while i < n:
        if in_ml is not None:
            if in_ml == '"""' and body[i] == "\\":
                i += 2
                continue
            if body.startswith(in_ml, i):
                i += 3
                while i < n and body[i] == in_ml[0]:  # up to two quotes may end the content
                    i += 1
                in_ml = None
                continue
            i += 1
            continue
        char = body[i]
        if char == "#":
            return in_ml, depth, i
        if body.startswith('"""', i) or body.startswith("'''", i):
            in_ml = body[i : i + 3]
            i += 3
            continue
        if char in "\"'":
            i = _skip_string(body, i)
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        i += 1
    return in_ml, depth, -1


def _skip_string(body: str, i: int) -> int:
    quote = body[i]
    i += 1
    while i < len(body):
        if quote == '"' and body[i] == "\\":
            i += 2
            continue
        if body[i] == quote:
            return i + 1
        i += 1
    return i


def _find_equals(body: str) -> int:
    i = 0
    while i < len(body):
        char = body[i]
        if char in "\"'":
            i = _skip_string(body, i)
            continue
        if char == "=":
            return i
        if char == "#":
            return -1
        i += 1
    return -1


def _key_path(key_text: str) -> tuple[str, ...]:
    try:
        parsed: Any = tomllib.loads(f"{key_text.strip()} = 0")
    except tomllib.TOMLDecodeError:
        return ()
    out: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key = next(iter(parsed))
        out.append(key)
        parsed = parsed[key]
    return tuple(out)


def _header(body: str) -> tuple[tuple[str, ...], bool, int]:
    stripped = body.strip()
    array = stripped.startswith("[[")
    start = body.index("[") + (2 if array else 1)
    i = start
    while i < len(body):
        if body[i] in "\"'":
            i = _skip_string(body, i)
            continue
        if body[i] == "]":
            break
        i += 1
    key_text = body[start:i]
    rest = body[i + (2 if array else 1) :]
    comment = rest.find("#")
    comment_at = (i + (2 if array else 1) + comment) if comment >= 0 else -1
    return _key_path(key_text), array, comment_at


# -- the tables of one account ---------------------------------------------------------------------
