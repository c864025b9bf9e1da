"""Editing the config file without losing anything the user wrote: comments, order, spacing.

Whole `[accounts."NAME"]` tables are edited line by line with the standard library only:
changed keys are rewritten in place (keeping a trailing comment), new keys go after the last
setting of the table, a new table goes at the end of the file, and every other byte stays as
it was. The result is parsed again (tomllib) and must mean exactly what was intended before it
atomically replaces the file; otherwise nothing is written and ConfigError says what to add.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import paths, securefile, trust
from .config import read_trusted
from .errors import ConfigError
from .record import record
from .tomllines import Line, scan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

SECTION = "accounts"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


# -- TOML text ------------------------------------------------------------------------------------


def toml_string(value: str) -> str:
    r"""A TOML basic string.

    >>> toml_string('say "hi"\\\n')
    '"say \\"hi\\"\\\\\\n"'
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(toml_string(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} values")


@record(frozen=False)
class _Span:
    header: int  # index of the header line
    end: int  # index one past the last line that belongs to the table's settings


def _account_spans(lines: list[Line], name: str, section: str = SECTION) -> list[_Span]:
    """[accounts."NAME"] (or [SECTION.NAME]) and its sub-tables: header to last setting
    (trailing comments excluded)."""
    spans: list[_Span] = []
    target = (section, name)
    headers = [i for i, line in enumerate(lines) if line.kind == "header"] + [len(lines)]
    for h, following in itertools.pairwise(headers):
        path = lines[h].path
        if path[:2] != target:
            continue
        end = h + 1
        for i in range(h + 1, following):
            if lines[i].kind in ("start", "cont"):
                end = i + 1
        spans.append(_Span(h, end))
    return spans


def _newline(text: str) -> str:
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


# -- public API -----------------------------------------------------------------------------------


def update_account(path: Path | str, name: str, values: Mapping[str, object | None]) -> None:
    """Set keys of [accounts."NAME"] (None removes a key), creating the table and file if needed."""
    _update_table(path, SECTION, name, values)


def update_provider(path: Path | str, name: str, values: Mapping[str, object | None]) -> None:
    """Set keys of [providers.NAME], as update_account does for an account."""
    _update_table(path, "providers", name, values)


def _update_table(
    path: Path | str, section: str, name: str, values: Mapping[str, object | None]
) -> None:
    target = Path(path)
    with _edit_lock():
        text = _read(target)
        old = _parse(text, target)
        new_text = _updated(text, old, name, values, target, section)
        if new_text == text:
            return
        expected = copy.deepcopy(old)
        table = expected.setdefault(section, {}).setdefault(name, {})
        for key, value in values.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = list(value) if isinstance(value, tuple) else value
        _verify(new_text, expected, target, name, values, section)
        _write(target, new_text)


def remove_account(path: Path | str, name: str) -> bool:
    """Remove [accounts."NAME"] (and its sub-tables); every other byte stays as it was.

    The lines from the table's header to its last setting go; comments and blank lines after
    the last setting stay (they usually introduce what follows), except that one blank line is
    dropped where removing the table would leave two in a row (or one at the end of the file).
    Returns False when the file or the account does not exist.
    """
    target = Path(path)
    with _edit_lock():
        if not target.exists():
            return False
        text = _read(target)
        old = _parse(text, target)
        accounts = old.get(SECTION)
        if not isinstance(accounts, dict) or name not in accounts:
            return False
        lines = scan(text)
        spans = _account_spans(lines, name)
        if not spans:
            raise _not_a_table(target, name)
        drop: set[int] = set()
        for span in spans:
            drop.update(range(span.header, span.end))
            before = span.header - 1
            after = span.end
            before_blank = before >= 0 and lines[before].kind == "blank"
            if after < len(lines) and lines[after].kind == "blank" and (before_blank or before < 0):
                drop.add(after)
            elif after >= len(lines) and before_blank:
                drop.add(before)
        new_text = "".join(line.text for i, line in enumerate(lines) if i not in drop)
        expected = copy.deepcopy(old)
        del expected[SECTION][name]
        new = _parse_or_none(new_text)
        if new is not None and not expected[SECTION] and SECTION not in new:
            del expected[SECTION]
        if new != expected:
            raise ConfigError(
                f"{target}: cannot remove [accounts.{toml_key(name)}] safely; "
                "remove that table by hand"
            )
        _write(target, new_text)
        return True


# -- internals ------------------------------------------------------------------------------------


def _updated(
    text: str,
    old: dict[str, Any],
    name: str,
    values: Mapping[str, object | None],
    target: Path,
    section: str = SECTION,
) -> str:
    lines = scan(text)
    spans = [
        s for s in _account_spans(lines, name, section) if lines[s.header].path == (section, name)
    ]
    nl = _newline(text)
    accounts = old.get(section, {})
    exists = isinstance(accounts, dict) and name in accounts
    if not spans:
        if exists:
            raise _not_a_table(target, name, section)
        new_lines = [f"[{section}.{toml_key(name)}]{nl}"]
        new_lines += [
            f"{toml_key(k)} = {toml_value(v)}{nl}" for k, v in values.items() if v is not None
        ]
        prefix = text
        if prefix and not prefix.endswith(("\n", "\r")):
            prefix += nl
        if prefix.strip() and not prefix.endswith(nl + nl) and not prefix.endswith("\n\n"):
            prefix += nl
        return prefix + "".join(new_lines)
    span = spans[0]
    current = accounts[name] if exists else {}
    out = [line.text for line in lines]
    replaced: dict[int, str | None] = {}  # line index -> new text (None: delete)
    insert: list[str] = []
    statements = _statements(lines, span)
    for key, value in values.items():
        found = statements.get(key)
        if found is None:
            if value is not None:
                insert.append(f"{toml_key(key)} = {toml_value(value)}{nl}")
            continue
        first, last = found
        if value is None:
            for i in range(first, last + 1):
                replaced[i] = None
            continue
        if current.get(key) == (list(value) if isinstance(value, tuple) else value):
            continue  # already says that: leave the line exactly as written
        head = lines[first]
        key_text = head.text[: head.key_end].rstrip()
        tail = lines[last]
        comment = ""
        if tail.comment >= 0:
            comment = "  " + tail.text.rstrip("\r\n")[tail.comment :]
        replaced[first] = f"{key_text} = {toml_value(value)}{comment}{nl}"
        for i in range(first + 1, last + 1):
            replaced[i] = None
    result: list[str] = []
    for i, line_text in enumerate(out):
        new = replaced.get(i, line_text)
        if new is not None:
            result.append(new)
        if i == span.end - 1 and insert:
            if result and not result[-1].endswith(("\n", "\r")):
                result[-1] += nl
            result.extend(insert)
    return "".join(result)


def _statements(lines: list[Line], span: _Span) -> dict[str, tuple[int, int]]:
    """Single-key settings of a table: key -> (first line, last line)."""
    found: dict[str, tuple[int, int]] = {}
    i = span.header + 1
    while i < span.end:
        line = lines[i]
        if line.kind == "start":
            last = i
            while last + 1 < span.end and lines[last + 1].kind == "cont":
                last += 1
            if len(line.path) == 1 and line.key_end >= 0:
                found[line.path[0]] = (i, last)
            i = last + 1
            continue
        i += 1
    return found


def _not_a_table(target: Path, name: str, section: str = SECTION) -> ConfigError:
    what = "account" if section == SECTION else section.rstrip("s")
    return ConfigError(
        f"{target}: {what} {name!r} is not written as a [{section}.{toml_key(name)}] "
        "table (an inline table or dotted keys?); rewrite it as one to let "
        "oauth-helper edit it"
    )


def _read(target: Path) -> str:
    raw = read_trusted(target)
    if raw is None:
        return ""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{target}: not valid UTF-8") from None


def _parse(text: str, target: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"{target}: not valid TOML ({e}); fix it before running authorize"
        ) from None


def _parse_or_none(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _verify(
    new_text: str,
    expected: dict[str, Any],
    target: Path,
    name: str,
    values: Mapping[str, object | None],
    section: str = SECTION,
) -> None:
    if _parse_or_none(new_text) != expected:
        wanted = "; ".join(f"{k} = {toml_value(v)}" for k, v in values.items() if v is not None)
        raise ConfigError(
            f"{target}: cannot edit [{section}.{toml_key(name)}] safely; set these "
            f"in it by hand: {wanted}"
        )


def _write(target: Path, text: str) -> None:
    """Atomically replace the file (through a symlink to its target), keeping its mode."""
    real = Path(os.path.realpath(target))
    directory = real.parent
    trust.check_directories(str(target))  # nobody else may swap the file we are about to write
    try:
        if not directory.exists():
            # 0700 for it and every missing parent (~/.config on a fresh account), whatever
            # the umask: os.makedirs would give the parents 0777 under umask 000.
            securefile.ensure_private_dir(str(directory))
        mode = real.stat().st_mode & 0o7777 if real.exists() else 0o600
        securefile.replace_atomically(str(real), text.encode("utf-8"), mode)
    except OSError as e:
        raise ConfigError(f"{target}: cannot write: {e.strerror or e}") from None


def _edit_lock() -> securefile.exclusive_lock:
    """Serialise config edits between oauth-helper processes (two authorize runs at once)."""
    return securefile.exclusive_lock(os.path.join(paths.cache_dir(), "config-edit.lock"), 30.0)
