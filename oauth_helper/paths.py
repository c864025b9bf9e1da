"""Where configuration, secrets and cached tokens live.

On Linux and the BSDs the XDG rules are applied here directly, because importing
platformdirs costs about as much again as starting Python and this runs on the hot path.
They agree with platformdirs (a unit test compares them); elsewhere platformdirs decides.
"""

from __future__ import annotations

import os
import sys

APP = "oauth-helper"
CONFIG_ENV = "OAUTH_HELPER_CONFIG"
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._+-")


def _xdg(variable: str, default: str) -> str:
    value = os.environ.get(variable, "").strip()
    return value if value else os.path.expanduser(default)


def _platformdirs_native() -> bool:
    return sys.platform in ("win32", "darwin")


def config_dir() -> str:
    if _platformdirs_native():
        import platformdirs

        return platformdirs.user_config_dir(APP, appauthor=False)
    return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), APP)


def cache_dir() -> str:
    if _platformdirs_native():
        import platformdirs

        return platformdirs.user_cache_dir(APP, appauthor=False)
    return os.path.join(_xdg("XDG_CACHE_HOME", "~/.cache"), APP)


def data_dir() -> str:
    if _platformdirs_native():
        import platformdirs

        return platformdirs.user_data_dir(APP, appauthor=False)
    return os.path.join(_xdg("XDG_DATA_HOME", "~/.local/share"), APP)


def default_config_file() -> str:
    """The config file: $OAUTH_HELPER_CONFIG, else config.toml in the user's config dir."""
    explicit = os.environ.get(CONFIG_ENV, "")
    return explicit if explicit else os.path.join(config_dir(), "config.toml")


# Longest file-name stem we derive. Every name we make is stem + a suffix (".state.json") and,
# while written, "." + that + ".PID.NANOSECONDS.tmp": 200 + 11 + 34 stays under NAME_MAX (255).
MAX_STEM = 200
_HASHED_PREFIX = 150


def file_name(account: str) -> str:
    """A file name for an account: mail-address characters kept, everything else %XX-escaped.

    A name that would be too long for the file system (a valid address can be 254 characters,
    and escaping can triple it) keeps its first 150 characters and ends in "~" and a hash of
    the whole account, so it always fits NAME_MAX and stays unique. Short names are unchanged.

    >>> file_name("alice@gmail.com")
    'alice@gmail.com'
    >>> file_name("../evil/..")
    '%2E.%2Fevil%2F..'
    >>> file_name("caf\\udce9@example.com")  # a Latin-1 byte in argv (surrogateescape)
    'caf%E9@example.com'
    >>> long = file_name("a" * 64 + "@" + "b" * 189)
    >>> len(long), long[:3], long[150]
    (191, 'aaa', '~')
    """
    out = []
    for index, char in enumerate(account):
        if char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in _utf8(char))
    name = "".join(out) or "%00"
    if len(name) <= MAX_STEM:
        return name
    import hashlib  # only for very long names: not on the common hot path

    digest = hashlib.sha256(_utf8(account)).hexdigest()[:40]
    return f"{name[:_HASHED_PREFIX]}~{digest}"


def _utf8(text: str) -> bytes:
    # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape): give back the
    # original bytes; any other lone surrogate is still encoded rather than raising.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
