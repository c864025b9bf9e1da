#!/usr/bin/env python3
"""A scripted browser for the certified OpenID server's own sign-in pages (stdlib only).

Usage: ``oidc_browser.py URL`` (point ``$BROWSER`` at this file). Unlike fake_browser.py, which
only follows redirects, this one keeps cookies and really submits the HTML forms the server
shows: oidc-provider's development login page (login + password), its consent page, and the
device flow's confirmation page. It follows every redirect until it reaches a URL outside the
server (the tool's 127.0.0.1 redirect listener) and visits that too, as a browser would.

Environment (each optional):

- ``OIDC_BROWSER_LOGIN``: the login to type on the login page (default: the login_hint the
  page was given). Signing in as someone else than the account is how a test makes the wrong
  person sign in.
- ``OIDC_BROWSER_DROP``: comma-separated parameters removed from the final redirect before it is
  visited (``iss``, ``state``): a tampered or truncated authorization response.
- ``OIDC_BROWSER_SAVE``: do not visit the final redirect; write its URL to this file instead (the
  paste flow: the user copies the address bar).
- ``OIDC_BROWSER_ABORT=1``: press "abort" / "cancel" instead of continuing at consent.
- ``OIDC_BROWSER_LOG``: append one line per step (``METHOD STATUS URL``; never a form's values).

Nothing is written to stdout: when started by ``webbrowser`` it is the tool's stdout.
"""

from __future__ import annotations

import html.parser
import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import IO

MAX_STEPS = 30
TIMEOUT = 20.0


class _Form(html.parser.HTMLParser):
    """The forms of a page: action, method, inputs (name -> value) and named submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.links: list[str] = []
        self._current: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "id": a.get("id", ""),
                "inputs": {},
                "buttons": [],
            }
            self.forms.append(self._current)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("input", "button"):
            form = self._current
            owner = a.get("form")
            if owner:
                form = next((f for f in self.forms if f["id"] == owner), form)
            if form is None or not a.get("name"):
                return
            kind = a.get("type", "submit" if tag == "button" else "text").lower()
            if kind == "submit":
                form["buttons"].append((a["name"], a.get("value", "")))  # type: ignore[union-attr]
            else:
                form["inputs"][a["name"]] = a.get("value", "")  # type: ignore[index]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # we follow redirects ourselves, to see (and maybe alter) each one


def _log(log: IO[str] | None, line: str) -> None:
    if log is not None:
        log.write(line + "\n")
        log.flush()


def _drop(url: str, names: set[str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if k not in names
    ]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def browse(url: str, log: IO[str] | None = None) -> int:
    """Sign in through the server's pages; returns the final page's status (0: saved, not visited)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirect(), urllib.request.HTTPCookieProcessor(jar)
    )
    server = urllib.parse.urlsplit(url).netloc
    login = os.environ.get("OIDC_BROWSER_LOGIN")
    drop = {n for n in os.environ.get("OIDC_BROWSER_DROP", "").split(",") if n}
    save = os.environ.get("OIDC_BROWSER_SAVE")
    abort = os.environ.get("OIDC_BROWSER_ABORT") == "1"
    method, data = "GET", None
    for _ in range(MAX_STEPS):
        outside = urllib.parse.urlsplit(url).netloc != server
        if outside:
            url = _drop(url, drop) if drop else url
            if save:
                with open(save, "w", encoding="utf-8") as f:
                    f.write(url + "\n")
                _log(log, f"SAVED {url.split('?')[0]}")
                return 0
        request = urllib.request.Request(
            url, data=data, method=method, headers={"User-Agent": "oidc-browser/1.0"}
        )
        try:
            with opener.open(request, timeout=TIMEOUT) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        _log(log, f"{method} {status} {url.split('?')[0]}")
        if status in (301, 302, 303, 307, 308) and headers.get("Location"):
            url = urllib.parse.urljoin(url, headers["Location"])
            method, data = "GET", None
            continue
        if outside or status != 200:
            return int(status)
        page = _Form()
        page.feed(body.decode("utf-8", "replace"))
        if abort:
            link = next((h for h in page.links if "abort" in h), None)
            if link is not None:
                url, method, data = urllib.parse.urljoin(url, link), "GET", None
                continue
        form = next((f for f in page.forms if f["method"] == "post"), None)
        if form is None:
            return int(status)  # a final page of the server's own (an error, "sign-in complete")
        fields: dict[str, str] = dict(form["inputs"])  # type: ignore[arg-type]
        if "login" in fields:
            fields["login"] = login or fields["login"]
            fields["password"] = "any password"
        buttons: list[tuple[str, str]] = form["buttons"]  # type: ignore[assignment]
        aborts = [b for b in buttons if "abort" in b[0].lower() or "abort" in b[1].lower()]
        if abort and aborts:
            fields[aborts[0][0]] = aborts[0][1]
        url = urllib.parse.urljoin(url, str(form["action"]))
        method, data = "POST", urllib.parse.urlencode(fields).encode()
    _log(log, "ERROR too many steps")
    return 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: oidc_browser.py URL", file=sys.stderr)
        return 2
    url = args[0]
    if url.startswith("file://"):
        # oauth-helper hands browsers a private page that forwards to the sign-in URL.
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from fake_browser import _forwarded

        url = _forwarded(url)
    log_path = os.environ.get("OIDC_BROWSER_LOG")
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    try:
        browse(url, log)
    except (OSError, ValueError) as e:
        _log(log, f"ERROR {e}")
        print(f"oidc_browser: {e}", file=sys.stderr)
        return 1
    finally:
        if log is not None:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
