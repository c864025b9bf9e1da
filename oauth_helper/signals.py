"""Hold off SIGINT, SIGTERM and SIGHUP while a refresh token is in flight.

From the moment a refresh request is sent, the provider may rotate the grant: the old refresh
token dies as soon as it answers. A Ctrl-C (or a service manager's SIGTERM) between its answer
and the save of the new token would lose the grant, so the signals are blocked for that window
and delivered as soon as it closes: the process then stops as asked, with the grant saved.
"""

from __future__ import annotations

import signal
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

DEFERRED = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class deferred_signals:
    """Block DEFERRED while inside; pending signals are delivered on exit (POSIX main thread).

    Re-entrant: only the outermost block unblocks. Elsewhere (Windows, other threads) it is a
    no-op, because only the main thread of a POSIX process can hold signals this way.
    """

    _depth = 0

    def __init__(self) -> None:
        self._active = False

    def __enter__(self) -> None:
        usable = (
            sys.platform != "win32"
            and hasattr(signal, "pthread_sigmask")
            and threading.current_thread() is threading.main_thread()
        )
        if not usable:
            return
        if deferred_signals._depth == 0:
            signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED)
        deferred_signals._depth += 1
        self._active = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._active:
            return
        self._active = False
        deferred_signals._depth -= 1
        if deferred_signals._depth == 0:
            # A signal that arrived meanwhile is delivered here, after the grant was saved.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, DEFERRED)
