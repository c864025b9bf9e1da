"""Remember every secret this process has seen, and scrub them from anything written to stderr.

A secret is scrubbed in every encoding this program itself produces, because that is what a
hostile provider or server can echo back at us: raw, percent-encoded (urlencode's quote_plus
and quote, with and without "/" kept), JSON-escaped, and base64 at any alignment (so an echo of
an XOAUTH2/OAUTHBEARER string, or of a Basic auth header, is caught wherever the secret sits in
it).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `import typing`: errors.py imports this module on the hot path
if TYPE_CHECKING:
    import logging

_SECRETS: set[str] = set()
MIN_SECRET_LENGTH = 6  # shorter strings would scrub ordinary words
_MIN_BASE64_CORE = 8  # a base64 fragment shorter than this could be an ordinary word
REDACTED = "<redacted>"


def register(*values: str | None) -> None:
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH and value not in _SECRETS:
            _SECRETS.update(encodings(value))


def encodings(value: str) -> set[str]:
    """Every form in which `value` can appear in what we send or print.

    >>> {"ab/+=cd", "ab%2F%2B%3Dcd", "ab/%2B%3Dcd", '"ab/+=cd"'} <= encodings("ab/+=cd")
    True
    """
    import json
    import urllib.parse

    forms = {
        value,
        urllib.parse.quote_plus(value),  # urlencode(), what post_form sends
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote(value),  # "/" kept, as in a URL path
        json.dumps(value),  # with its quotes: JSON escaping of the inside
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    forms.update(base64_cores(value.encode("utf-8")))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def base64_cores(data: bytes) -> set[str]:
    """The part of base64(anything + data + anything) that depends on `data` alone, for each of
    the three alignments data can have in the stream, in standard and URL-safe alphabets.

    >>> import base64
    >>> cores = base64_cores(b"secret-token-value")
    >>> any(c in base64.b64encode(b"user=a\\x01auth=Bearer secret-token-value\\x01\\x01").decode()
    ...     for c in cores)
    True
    """
    import base64

    cores = set()
    for lead in range(3):
        # `lead` bytes before data fill the first group; groups fully inside data are fixed.
        skip = (3 - lead) % 3
        body = data[skip:]
        whole = body[: len(body) - len(body) % 3]
        if len(whole) >= 3:
            encoded = base64.b64encode(whole).decode("ascii")
            if len(encoded) >= _MIN_BASE64_CORE:
                cores.add(encoded)
                cores.add(encoded.replace("+", "-").replace("/", "_"))
    return cores


def scrub(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
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
