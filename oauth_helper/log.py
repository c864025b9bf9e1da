"""Our messages on stderr: warnings always, progress with -v, details with --debug.

Modules log through `Logger` instead of the logging package, which costs a refresh several ms
to import (with traceback, string and threading) although a quiet refresh logs nothing. A
message below the level is dropped here, without importing logging; the first one that passes
sets logging up (one stderr handler behind the secret scrubber) and goes through it, so -v,
--debug and third-party loggers behave as they always did.
"""

from __future__ import annotations

import sys

from . import PROG

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
PREFIX = f"{PROG}: "
_level = WARNING
_handler_installed = False


class Logger:
    """The parts of logging.Logger we use, named like them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def debug(self, message: str, *args: object) -> None:
        if _level <= DEBUG:
            self._log(DEBUG, message, args)

    def info(self, message: str, *args: object) -> None:
        if _level <= INFO:
            self._log(INFO, message, args)

    def warning(self, message: str, *args: object) -> None:
        if _level <= WARNING:
            self._log(WARNING, message, args)

    def error(self, message: str, *args: object) -> None:
        self._log(ERROR, message, args)

    def _log(self, level: int, message: str, args: tuple[object, ...]) -> None:
        import logging

        _install_handler()
        logging.getLogger(self.name).log(level, message, *args)


def get_logger(name: str) -> Logger:
    return Logger(name)


def set_level(level: int) -> int:
    """Show messages at `level` and above from now on; the previous level."""
    global _level
    previous, _level = _level, level
    if _handler_installed:
        import logging

        logging.getLogger("oauth_helper").setLevel(level)
    return previous


def _install_handler() -> None:
    global _handler_installed
    if _handler_installed:
        return
    import logging

    from .redact import logging_filter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(logging_filter())
    handler.setFormatter(logging.Formatter(f"{PREFIX}%(message)s"))
    root = logging.getLogger("oauth_helper")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(_level)
    _handler_installed = True
