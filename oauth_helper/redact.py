"""Remember every secret this process has seen, and scrub them from anything written to stderr."""

from __future__ import annotations

TYPE_CHECKING = False  # not `import typing`: errors.py imports this module on the hot path
if TYPE_CHECKING:
    import logging

_SECRETS: set[str] = set()
MIN_SECRET_LENGTH = 6  # shorter strings would scrub ordinary words


def register(*values: str | None) -> None:
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def logging_filter() -> logging.Filter:
    """A logging.Filter that renders each record and removes every known secret from it."""
    import logging
    import traceback

    class ScrubFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = scrub(record.getMessage())
            record.args = None
            if record.exc_info:
                record.msg += "\n" + scrub("".join(traceback.format_exception(*record.exc_info)))
                record.exc_info = None
                record.exc_text = None
            return True

    return ScrubFilter()
