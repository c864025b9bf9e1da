"""What the waiting code flow looks at: one inbox that the listener, the stdin reader and the
browser launcher all put their events in (each runs in its own thread)."""

from __future__ import annotations

import queue

from ..record import field, record
from .callback import Callback


@record
class Event:
    """Something the waiting flow must look at: a redirect, a pasted line, stdin's end, the browser."""

    kind: str  # "redirect" | "paste" | "eof" | "browser"
    callback: Callback | None = None
    text: str | None = field(default=None, repr=False)
    ok: bool = True
    detail: str = ""


Inbox = queue.Queue[Event]
