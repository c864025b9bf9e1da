"""The authorization code flow with PKCE, browser or paste, built on the redirect listener.

It waits on one inbox for whichever answer comes first: the browser's redirect to the
listener, a URL or code pasted into the terminal (accepted in every flow), the launcher's
failure (then the paste flow's instructions), stdin's end, or the deadline.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import time
import urllib.parse

from .. import oauth
from ..errors import UsageError
from . import browser as browser_mod
from . import paste
from .callback import code_from
from .common import AuthorizationTimeout, CallbackError, FlowContext, exchange_code
from .events import Inbox
from .loopback import REDIRECT_PATH, Listener
from .pkce import AuthorizationRequest

COUNTDOWN_STEP = 5.0  # how often a terminal's "time left" is rewritten: visible, not flickering
WAITING_PROMPT = "Waiting for the browser; or paste the URL it ended on (or the code) here: "


def run_code_flow(
    ctx: FlowContext, *, use_browser: bool, browser_unavailable: str = "", interactive: bool = False
) -> oauth.TokenResponse:
    """Authorization code + PKCE: the browser flow, or the paste flow (listener running too)."""
    inbox: Inbox = queue.Queue()
    host, port, path = ctx.provider.redirect_host, ctx.port, REDIRECT_PATH
    fixed = ctx.provider.redirect_uri
    if fixed:  # registered with one redirect URI: its host, port and path, sent as written
        parts = urllib.parse.urlsplit(fixed)
        host, path = parts.hostname or host, parts.path or "/"
        if port is not None and port != parts.port:
            raise UsageError(f"--port {port} contradicts redirect_uri {fixed}")
        port = parts.port
    with (
        Listener(inbox, port=port, path=path, both_families=host == "localhost") as listener,
        contextlib.ExitStack() as pages,
    ):
        redirect_uri = fixed or f"http://{host}:{listener.port}{path}"
        request = AuthorizationRequest.new()
        listener.state = request.state
        url = request.url(
            ctx.provider,
            ctx.client_id,
            ctx.scopes,
            ctx.account if ctx.login_hint else None,
            redirect_uri,
            select_account=ctx.select_account,
        )
        started = time.monotonic()
        deadline = started + ctx.timeout
        # A terminal shows the time left; the pending prompt's line is rewritten in place.
        countdown = interactive and sys.stderr.isatty()
        pasting = False
        if use_browser:
            ctx.say(
                f"Opening a browser to sign in as {ctx.account}. If none opens, open this URL "
                f"in a browser on this machine:\n  {url}\nOr sign in anywhere and paste here "
                "the URL the browser ends on."
            )
            # Never the URL itself on the browser's command line: see ForwardingPage.
            browser_mod.open_in_thread(pages.enter_context(browser_mod.ForwardingPage(url)), inbox)
            # A launcher that "succeeded" may have shown nothing (gio over SSH X forwarding, a
            # container, WSL): a URL or code pasted into the terminal is an answer too.
            paste.listen(inbox)
            if interactive:
                sys.stderr.write(WAITING_PROMPT)
                sys.stderr.flush()
        else:
            if browser_unavailable:
                ctx.say(f"Not opening a browser: {browser_unavailable}.")
            paste.start(ctx, url, listener.port, inbox, interactive=interactive)
            pasting = True
        prompt = paste.PROMPT if pasting else WAITING_PROMPT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if interactive:
                    ctx.say("")
                raise AuthorizationTimeout(
                    f"no sign-in answer after {time.monotonic() - started:.0f} s; nothing was "
                    "stored. If the provider showed an error page instead of asking you to sign "
                    "in, the client ID (--client-id) or its registered redirect URI is usually "
                    "wrong. Run the command again (--timeout S waits longer)"
                )
            try:
                event = inbox.get(
                    timeout=min(remaining, COUNTDOWN_STEP) if countdown else remaining
                )
            except queue.Empty:
                if countdown:
                    paste.countdown(deadline - time.monotonic(), prompt)
                continue
            if event.kind == "redirect" and event.callback is not None:
                if interactive:
                    ctx.say("")  # end the pending prompt's line
                code = code_from(event.callback, request.state, provider=ctx.provider)
                break
            if event.kind == "browser":
                if not event.ok and not pasting:
                    if interactive:
                        ctx.say("")
                    ctx.say(
                        f"Could not open a browser ({event.detail}); continuing with the "
                        "paste flow."
                    )
                    paste.start(ctx, url, listener.port, inbox, interactive=interactive, read=False)
                    pasting = True
                    prompt = paste.PROMPT
                continue
            if event.kind == "eof":
                if not pasting:
                    continue  # no terminal to paste from: the browser's redirect still counts
                if interactive:
                    ctx.say("")
                raise CallbackError(
                    "stdin closed before a usable URL or code was pasted; "
                    "nothing was stored, run the command again"
                )
            if event.kind == "paste" and event.text is not None:
                if not event.text.strip():
                    paste.prompt_again(ctx, interactive)
                    continue
                try:
                    code = paste.code_from_text(event.text, request.state, ctx.provider)
                except CallbackError as e:
                    # Still waiting: say what was wrong and what to do now, not "run it again".
                    ctx.say(f"{e}; paste the URL of this sign-in, or press Ctrl-D to stop")
                    if not pasting:
                        pasting = True
                        prompt = paste.PROMPT
                    paste.prompt_again(ctx, interactive)
                    continue
                break
    return exchange_code(ctx, code, request.verifier, redirect_uri, request.nonce)
