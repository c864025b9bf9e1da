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


def file_name(account: str) -> str:
    """A file name for an account: mail-address characters kept, everything else %XX-escaped.

    >>> file_name("alice@gmail.com")
    'alice@gmail.com'
    >>> file_name("../evil/..")
    '%2E.%2Fevil%2F..'
    """
    out = []
    for index, char in enumerate(account):
        if char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out) or "%00"
