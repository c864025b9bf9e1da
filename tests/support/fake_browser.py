#!/usr/bin/env python3
"""A stand-in for a web browser, for tests that drive ``authorize`` (stdlib only).

Usage: ``fake_browser.py URL`` (or ``python fake_browser.py URL``). It GETs URL, follows every
redirect (the local provider's /authorize answers 302 to the tool's 127.0.0.1 redirect listener,
which is then visited too) and exits 0 once a final page was received, whatever its HTTP status
(a real browser shows error pages too). It exits 1 when a page could not be fetched at all.
Proxies from the environment are never used.

Python's ``webbrowser`` runs ``$BROWSER`` as a single program name, so point ``$BROWSER`` at this
file directly (it is executable) or at a one-line wrapper script; ``"python fake_browser.py"``
with a space does not work there. ``webbrowser`` waits for the program to exit.

Environment:

- ``FAKE_BROWSER_LOG``: append one line per visited URL (``STATUS URL``) to this file, and
  ``ERROR URL: reason`` on failures.
- ``FAKE_BROWSER_DETACH=1``: return (exit 0) at once and visit the URL in a forked child, like a
  real browser launcher that hands the URL over and returns.
- ``FAKE_BROWSER_TIMEOUT``: seconds per request (default 30).

Nothing is written to stdout: it is the tool's stdout when started by ``webbrowser``.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from typing import IO, Any


class _LoggingRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects like the default handler and logs every hop."""

    def __init__(self, log: IO[str] | None) -> None:
        self._log = log

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        _write(self._log, f"{code} {req.full_url} -> {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _write(log: IO[str] | None, line: str) -> None:
    if log is not None:
        log.write(line + "\n")
        log.flush()


def visit(url: str, timeout: float = 30.0, log: IO[str] | None = None) -> int:
    """Fetch ``url`` following redirects; returns the final HTTP status."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoggingRedirects(log))
    request = urllib.request.Request(url, headers={"User-Agent": "fake-browser/1.0"})
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            status = int(response.status)
            final = response.geturl()
    except urllib.error.HTTPError as exc:  # an error page is still a page
        exc.read()
        status = int(exc.code)
        final = exc.geturl() or url
    _write(log, f"{status} {final}")
    return status


def _forwarded(file_url: str) -> str:
    """Where a local forwarding page sends the browser (its meta refresh), as a browser would."""
    import html
    import re
    import urllib.parse
    import urllib.request

    path = urllib.request.url2pathname(urllib.parse.urlsplit(file_url).path)
    with open(path, encoding="utf-8") as f:
        page = f.read()
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page)
    if found is None:
        raise SystemExit(f"fake_browser: {file_url} does not forward anywhere")
    return html.unescape(found.group(1))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: fake_browser.py URL", file=sys.stderr)
        return 2
    url = args[0]
    if url.startswith("file://"):
        url = _forwarded(url)
    if os.environ.get("FAKE_BROWSER_DETACH") == "1" and hasattr(os, "fork") and os.fork() > 0:
        return 0
    timeout = float(os.environ.get("FAKE_BROWSER_TIMEOUT") or 30)
    log_path = os.environ.get("FAKE_BROWSER_LOG")
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    try:
        visit(url, timeout=timeout, log=log)
    except (OSError, ValueError) as exc:
        _write(log, f"ERROR {url}: {exc}")
        print(f"fake_browser: {url}: {exc}", file=sys.stderr)
        return 1
    finally:
        if log is not None:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
