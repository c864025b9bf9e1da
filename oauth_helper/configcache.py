"""The config file's parsed TOML, kept in the cache directory, so a refresh imports no TOML parser.

tomllib, with typing, datetime and string, which it imports, costs a refresh about a tenth of
its CPU time, on the path that 32 mail clients may take at the same moment. An entry is keyed
by a SHA-256 of the file's bytes, which config.load reads (and checks) on every load anyway,
so any edit misses it; it holds exactly what tomllib returned for those bytes. It is written
after a successful refresh only (config.remember), like the token cache: 0600 in the private
cache directory, as the config may hold a client secret. Anything wrong with an entry
(unreadable, insecure, damaged, another format) is a miss: the file is parsed again. Values
JSON cannot carry unchanged (TOML dates and times) are not cached.
"""

from __future__ import annotations

import hashlib
import json
import os

from . import paths, securefile
from .errors import InsecureFile
from .log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger(__name__)

_FORMAT = 1


def entry_path(config_path: str | os.PathLike[str]) -> str:
    """One entry per config file (--config may name several)."""
    name = hashlib.sha256(os.fsencode(os.path.abspath(config_path))).hexdigest()[:16]
    return os.path.join(paths.cache_dir(), f"config-{name}.json")


def parsed(raw: bytes, config_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What tomllib made of exactly these bytes, if an entry has it; None: parse them."""
    try:
        stored = securefile.read_private(entry_path(config_path))
        if stored is None:
            return None
        entry = json.loads(stored)
        if (
            isinstance(entry, dict)
            and entry.get("format") == _FORMAT
            and entry.get("sha256") == hashlib.sha256(raw).hexdigest()
            and isinstance(entry.get("data"), dict)
        ):
            data: dict[str, Any] = entry["data"]
            return data
    except (OSError, ValueError, InsecureFile) as e:
        log.debug("parsed-config cache not used: %s", e)
    return None


def keep(raw: bytes, config_path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Remember what tomllib made of `raw`, if JSON can hold it unchanged; never fails."""
    entry = {"format": _FORMAT, "sha256": hashlib.sha256(raw).hexdigest(), "data": data}
    try:
        text = json.dumps(entry, allow_nan=True)
    except (TypeError, ValueError):
        return  # a date or time value: JSON would turn it into something else
    try:
        securefile.write_private(entry_path(config_path), text.encode(), durable=False)
    except (OSError, InsecureFile) as e:
        log.debug("parsed-config cache not written: %s", e)
