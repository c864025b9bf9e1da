"""Run the user's `notify_command` when an account needs the person, without ever waiting for it.

The command gets OAUTH_HELPER_ACCOUNT, OAUTH_HELPER_REASON (one line) and OAUTH_HELPER_FIX (the
command to run; empty on recovery) in a small environment of its own, and no secret anywhere: no
token is in our environment or its arguments to begin with, and the variables we pass on are a
fixed list. It runs with stdin on /dev/null, stdout/stderr on /dev/null (an inherited pipe would
keep a mail client waiting for EOF), in its own session (no controlling terminal), under a
watchdog that kills it after NOTIFY_TIMEOUT. The caller only pays for starting the watchdog.

When to notify (once per new problem, once on recovery) is decided by state.py under the state
file's lock; this module only runs the command.
"""

from __future__ import annotations

import os
import sys

from . import redact
from .log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .config import Account

log = get_logger(__name__)

NOTIFY_TIMEOUT = 30.0  # a notification that has not finished in 30 s is hung: kill it
KILL_GRACE = 2.0  # after SIGTERM, this long before SIGKILL
# What the notify command may see of our environment: enough for notify-send (display, session
# bus), mail(1) and curl (PATH, HOME, locale, proxies), nothing else.
PASSED_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SYSTEMROOT",  # Windows cannot start processes without it
    "COMSPEC",
)

# The watchdog, as a stdlib-only script run with `python -I -S -c`: it needs neither our
# package nor site-packages, so it starts fast and works from any installation.
_WATCHDOG = """\
import os, signal, subprocess, sys
timeout, grace, argv = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
posix = os.name == "posix"
try:
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=posix)
except (OSError, ValueError):
    sys.exit(127)
try:
    sys.exit(child.wait(timeout))
except subprocess.TimeoutExpired:
    for sig, wait in ((signal.SIGTERM, grace), (getattr(signal, "SIGKILL", signal.SIGTERM), None)):
        try:
            os.killpg(child.pid, sig) if posix else child.kill()
        except OSError:
            pass
        try:
            child.wait(wait)
            break
        except subprocess.TimeoutExpired:
            pass
    sys.exit(124)
"""


def environment(account: str, reason: str, fix: str) -> dict[str, str]:
    """The notify command's whole environment."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env["OAUTH_HELPER_ACCOUNT"] = account
    env["OAUTH_HELPER_REASON"] = one_line(reason)
    env["OAUTH_HELPER_FIX"] = one_line(fix)
    return env


def one_line(text: str) -> str:
    """Printable, one line, bounded, and free of every secret this process knows."""
    from .hints import printable

    return printable(redact.scrub(" ".join(text.split())), limit=500)


def send(
    command: Sequence[str],
    account: str,
    reason: str,
    fix: str,
    *,
    timeout: float = NOTIFY_TIMEOUT,
) -> bool:
    """Start `command` detached under the watchdog; True if it was started. Never raises and
    never waits: a notification must not change what the caller prints, returns or how long it takes.
    """
    if not command:
        return False
    import subprocess  # here: every command imports this module, few ever notify

    # Windows: its own console-less process group (mypy checks this file as POSIX code).
    detached = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
        subprocess, "DETACHED_PROCESS", 0
    )
    argv = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _WATCHDOG,
        repr(float(timeout)),
        repr(KILL_GRACE),
        *command,
    ]
    try:
        subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment(account, reason, fix),
            cwd=_home(),
            close_fds=True,
            start_new_session=True,  # POSIX setsid(): no controlling terminal, no job control
            creationflags=detached,
        )
    except (OSError, ValueError) as e:
        log.warning("%s: could not start notify_command %s: %s", account, command[0], e)
        return False
    log.info("%s: notify_command started: %s", account, one_line(reason))
    return True


def _home() -> str:
    home = os.path.expanduser("~")
    return home if os.path.isdir(home) else os.path.abspath(os.sep)


# -- which command, for which account -------------------------------------------------------------

_config_path: str | os.PathLike[str] | None = None


def use_config(path: str | os.PathLike[str] | None) -> None:
    """The config file this process runs with (`--config`); None: $OAUTH_HELPER_CONFIG or the default.

    The notify command is looked up only when a notification is due, from wherever the state
    changed, so the command line tells this module once instead of threading it through.
    """
    global _config_path
    _config_path = path


def account_for(name: str) -> Account | None:
    """The configured account (its notify_command, its authorize command); None when it is not
    configured or the config is unreadable: no notification then, and no error either."""
    from . import config
    from .errors import OAuthHelperError

    try:
        return config.account_or_none(config.load(_config_path), name)
    except OAuthHelperError:
        return None
