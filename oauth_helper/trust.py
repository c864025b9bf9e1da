"""The one config-trust rule, as ssh and git apply it: a config file decides which commands run
(`store_read`, `store_write`) and where refresh tokens go, so one that another user could have
written is refused.

Refused (ConfigError, exit 78, with the exact fix):
- the config file, if it is not a regular file, is owned by someone other than you or root, or
  is writable by group or others;
- any directory from the file up to `/` (both the path as given and the real path behind
  symlinks: a dotfile manager's symlink is fine, a directory others could swap it in is not),
  if it is owned by someone other than you or root, or is writable by group or others without
  the sticky bit. Root-owned system directories (`/`, `/home`) pass; so does a sticky
  world-writable directory like `/tmp` (others cannot rename or replace what is ours in it).

Reading is also refused through a FIFO or device (opened with O_NONBLOCK, then fstat).
The hot path reads nothing from the config, only its stat identity (see cli._serve_cached), so it
does not apply this rule: any change another user could make to the file changes that identity
and sends the call down the full path, which does.
"""

from __future__ import annotations

import os
import stat

from .errors import ConfigError

_POSIX = os.name == "posix"


def _owner_ok(st: os.stat_result) -> bool:
    return st.st_uid in (os.geteuid(), 0)


def _who(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def check_file(path: str, st: os.stat_result) -> None:
    """The open config file's fstat: regular, ours or root's, not writable by others."""
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: not a regular file; refusing to read it as the config")
    if not _POSIX:
        return
    if not _owner_ok(st):
        raise ConfigError(
            f"{path}: owned by {_who(st.st_uid)}, not by you or root; another user could make "
            "oauth-helper run commands as you. Check its contents, then make it yours: "
            f"cp {path} {path}.mine && mv {path}.mine {path}"
        )
    if st.st_mode & 0o022:
        raise ConfigError(
            f"{path}: writable by other users (mode {stat.S_IMODE(st.st_mode):o}); another user "
            f"could make oauth-helper run commands as you. Check it, then run: chmod go-w {path}"
        )
    check_directories(path)


def check_directories(path: str) -> None:
    """Every directory above `path` (as given and as resolved) is ours or root's and not
    writable by others (sticky directories excepted)."""
    if not _POSIX:
        return
    seen: set[str] = set()
    for start in (os.path.abspath(path), os.path.realpath(path)):
        directory = os.path.dirname(start)
        while directory not in seen:
            seen.add(directory)
            _check_directory(path, directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent


def _check_directory(path: str, directory: str) -> None:
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        return  # not there yet (a config still to be created): nothing anyone could have written
    except OSError as e:
        raise ConfigError(f"{path}: cannot check {directory}: {e.strerror}") from None
    if not _owner_ok(st):
        raise ConfigError(
            f"{path}: its directory {directory} is owned by {_who(st.st_uid)}, not by you or "
            "root; another user could replace the config. Move the config elsewhere "
            "(--config FILE or $OAUTH_HELPER_CONFIG)"
        )
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise ConfigError(
            f"{path}: its directory {directory} is writable by other users (mode "
            f"{stat.S_IMODE(st.st_mode):o}); another user could replace the config. "
            f"Run: chmod go-w {directory}"
        )
