"""The paste flow (SSH, headless): the URL on stderr, the answer pasted on stdin.

The redirect listener keeps running meanwhile (see codeflow.run_code_flow), so a browser on
another machine with `ssh -L PORT:127.0.0.1:PORT` completes the flow without any pasting.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from ..providers import Provider
from .callback import code_from, parse_pasted
from .common import FlowContext
from .events import Event, Inbox

PROMPT = "Paste the URL your browser ended on (or only the code): "


def start(
    ctx: FlowContext,
    url: str,
    port: int,
    inbox: Inbox,
    *,
    interactive: bool,
    stdin: TextIO | None = None,
    read: bool = True,
) -> None:
    """Show the URL and how to answer; unless `read` is False (a reader already runs), read
    stdin lines into the inbox in a daemon thread."""
    ctx.say(
        f"Open this URL in a browser on any machine and sign in as {ctx.account}:\n\n  {url}\n\n"
        "The browser then goes to a 127.0.0.1 or localhost page that may fail to load: that is "
        "expected. Copy the full URL from the address bar and paste it here (the code= value "
        f"alone works too). Or forward the port first (ssh -L {port}:127.0.0.1:{port} ...) "
        "and the sign-in completes by itself."
    )
    if interactive:
        _prompt()
    if read:
        listen(inbox, stdin)


def listen(inbox: Inbox, stdin: TextIO | None = None) -> None:
    """Read stdin lines into the inbox in a daemon thread (every code flow accepts a paste)."""
    source = stdin if stdin is not None else sys.stdin
    threading.Thread(
        target=_read_lines, args=(source, inbox), name="oauth-helper-paste", daemon=True
    ).start()


def prompt_again(ctx: FlowContext, interactive: bool) -> None:
    if interactive:
        _prompt()


def countdown(remaining: float, prompt: str = PROMPT) -> None:
    """Rewrite the pending prompt's line with the time left (stderr is a terminal)."""
    left = max(0, int(remaining + 0.5))
    sys.stderr.write(f"\r\x1b[K[{left // 60}:{left % 60:02d} left] {prompt}")
    sys.stderr.flush()


def code_from_text(text: str, state: str, provider: Provider) -> str:
    """The code in a pasted line; CallbackError (a UsageError) for anything unusable."""
    return code_from(parse_pasted(text), state, provider=provider)


def _prompt() -> None:
    sys.stderr.write(PROMPT)
    sys.stderr.flush()


def _read_lines(source: TextIO | None, inbox: Inbox) -> None:
    try:
        if source is None:
            return
        while True:
            line = source.readline()
            if not line:
                return
            inbox.put(Event("paste", text=line))
    except (OSError, ValueError, UnicodeDecodeError):
        return
    finally:
        inbox.put(Event("eof"))
