"""Opening the user's browser: Python's webbrowser (so $BROWSER is honoured), never on our stdout."""

from __future__ import annotations

import html
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading

from .events import Event, Inbox

_UNIX_DESKTOPLESS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly", "sunos")


def unavailable_reason(
    environ: dict[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why no browser can be opened here (None if one probably can).

    >>> unavailable_reason({}, "linux")
    'no graphical display ($DISPLAY and $WAYLAND_DISPLAY are unset)'
    >>> unavailable_reason({"BROWSER": "lynx"}, "linux") is None
    True
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if env.get("BROWSER", "").strip():
        return None
    if plat.startswith(_UNIX_DESKTOPLESS) and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    ):
        return "no graphical display ($DISPLAY and $WAYLAND_DISPLAY are unset)"
    return None


class ForwardingPage:
    """A private page that sends the browser on to the sign-in URL.

    A browser's command line is readable by every local user (/proc/PID/cmdline, `ps`). The
    sign-in URL carries `state`, the PKCE challenge and the listener's port: enough for another
    user to start a sign-in of her own with our challenge and race her code to our listener.
    So the browser is handed `file://.../sign-in.html` instead: a 0600 file in a fresh 0700
    directory (in $XDG_RUNTIME_DIR when there is one) whose only content is a redirect to the
    URL. It is removed when the flow ends. Use as a context manager; it gives the file:// URL.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._directory: str | None = None

    def __enter__(self) -> str:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        parent = runtime if runtime and os.path.isdir(runtime) else None
        self._directory = tempfile.mkdtemp(prefix="oauth-helper-", dir=parent)  # 0700
        path = os.path.join(self._directory, "sign-in.html")
        target = html.escape(self._url, quote=True)
        script = json.dumps(self._url).replace("<", "\\u003c")
        page = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta name="referrer" content="no-referrer">'
            f'<meta http-equiv="refresh" content="0;url={target}">'
            "<title>oauth-helper: sign in</title></head><body>"
            f'<p><a href="{target}">Continue to the sign-in page</a></p>'
            f"<script>location.replace({script})</script></body></html>\n"
        )
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        return pathlib.Path(path).as_uri()

    def __exit__(self, *exc: object) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


def open_in_thread(url: str, inbox: Inbox) -> None:
    """Open `url` in a daemon thread (some browsers block until closed); report to the inbox."""

    def run() -> None:
        ok, detail = open_url(url)
        inbox.put(Event("browser", ok=ok, detail=detail))

    threading.Thread(target=run, name="oauth-helper-browser", daemon=True).start()


def open_url(url: str) -> tuple[bool, str]:
    """(True, "") if a browser accepted the URL, else (False, why)."""
    commands = [c for c in os.environ.get("BROWSER", "").split(os.pathsep) if c.strip()]
    if any(_needs_own_handling(c) for c in commands):
        # A $BROWSER with arguments or %s ("python fake_browser.py %s", "firefox --new-window"):
        # webbrowser would take it as one program name, so run it here the same way it would.
        return _run_commands(commands, url)
    import webbrowser  # lazy: heavy (~13 ms); not needed for a $BROWSER command or the paste flow

    try:
        with _stdout_to_stderr():
            opened = webbrowser.open(url, new=1)
    except (webbrowser.Error, OSError) as e:
        return False, str(e) or type(e).__name__
    return (True, "") if opened else (False, "no usable browser found")


def _needs_own_handling(command: str) -> bool:
    return "%s" in command or any(c.isspace() for c in command.strip())


def _run_commands(commands: list[str], url: str) -> tuple[bool, str]:
    reason = "$BROWSER is empty"
    for command in commands:
        try:
            argv = shlex.split(command)
        except ValueError as e:
            reason = f"cannot split $BROWSER: {e}"
            continue
        if not argv:
            continue
        if any("%s" in a for a in argv):
            argv = [a.replace("%s", url) for a in argv]
        else:
            argv.append(url)
        try:
            # The child's stdout is our stderr: a browser printing anything must not reach stdout.
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(), check=False
            )
        except OSError as e:
            reason = f"{argv[0]}: {e.strerror or e}"
            continue
        if done.returncode == 0:
            return True, ""
        reason = f"{argv[0]} exited with status {done.returncode}"
    return False, reason


class _stdout_to_stderr:
    """Point file descriptor 1 at stderr while a browser is started (it inherits our stdout)."""

    def __init__(self) -> None:
        self._saved = -1

    def __enter__(self) -> None:
        try:
            sys.stdout.flush()
            self._saved = os.dup(1)
            os.dup2(2, 1)
        except (OSError, ValueError):
            self._saved = -1

    def __exit__(self, *exc: object) -> None:
        if self._saved >= 0:
            os.dup2(self._saved, 1)
            os.close(self._saved)
