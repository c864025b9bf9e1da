"""`authorize` on a real terminal (a pty), as a person uses it (issue 17 #1-#2): a URL pasted
during the browser flow completes it, the time left is shown, a wrong paste says what to do
now (not "run the command again"), and stdin's end is reported once."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.cli_env import config_file, oauth_helper_cmd, provider_config, user_env
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.com"
CLIENT = "pty-client"


class Terminal:
    """`oauth-helper ARGS` with stdin and stderr on a pty; stdout kept apart (it must stay empty)."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [oauth_helper_cmd(), *args],
            env=env,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.screen)
            if found:
                return found
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} not seen in:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the child closed the pty
                    assert re.search(pattern, self.screen), self.screen
                    return re.search(pattern, self.screen)  # type: ignore[return-value]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 30) -> int:
        out, _ = self.proc.communicate(timeout=timeout)
        assert out == b""  # nothing but tokens ever goes to stdout
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    break
                self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
        except OSError:
            pass
        os.close(self.master)
        return self.proc.returncode


def setup(tmp_path: Path, provider: LocalProvider, browser: str | None) -> dict[str, str]:
    provider.register_client(CLIENT)
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["TERM"] = "dumb"
    if browser is not None:
        env["BROWSER"] = browser
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(provider_config(provider, "local"))
    return env


def signed_in_redirect(url: str, *, state: str | None = None) -> str:
    """Sign in at the local provider as a browser elsewhere would; the URL it ends on."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(Stop, urllib.request.ProxyHandler({}))
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as e:
        location = e.headers["Location"]
    else:
        raise AssertionError("the provider did not redirect")
    if state is not None:
        location = re.sub(r"state=[^&]+", f"state={state}", location)
    return str(location)


def authorize(env: dict[str, str], *args: str) -> Terminal:
    return Terminal(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "local",
        "--client-id",
        CLIENT,
        "--store",
        "file",
        *args,
    )


def test_url_pasted_during_the_browser_flow_completes_it(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # A launcher that "succeeds" and shows nothing: gio over SSH X forwarding, a container, WSL.
    env = setup(tmp_path, provider, browser="true")
    term = authorize(env, "--flow", "browser", "--timeout", "60")
    url = term.read_until(r"open this URL in a browser on this machine:\s+(\S+)").group(1)
    term.read_until(r"or paste the URL it ended on \(or the code\) here: ")
    term.type(signed_in_redirect(url) + "\n")
    assert term.finish() == 0, term.screen
    assert f"{ACCOUNT}: authorized" in term.screen


def test_the_time_left_is_shown_on_a_terminal(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup(tmp_path, provider, browser="true")
    started = time.monotonic()
    term = authorize(env, "--flow", "browser", "--timeout", "12")
    term.read_until(r"\[0:0[5-7] left\] Waiting for the browser")
    assert term.finish() == 75
    elapsed = time.monotonic() - started
    said = int(term.read_until(r"no sign-in answer after (\d+) s").group(1))
    assert said == 12 and elapsed < 20  # the stated wait is the real one
    assert "the client ID (--client-id) or its registered redirect URI is usually wrong" in (
        term.screen
    )


def test_wrong_paste_says_what_to_do_now_and_the_right_one_still_works(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup(tmp_path, provider, browser=None)
    term = authorize(env, "--flow", "paste", "--timeout", "60")
    url = term.read_until(r"sign in as \S+:\s+(\S+)").group(1)
    term.read_until(r"Paste the URL your browser ended on")
    term.type(signed_in_redirect(url, state="from-another-attempt") + "\n")
    term.read_until(r"paste the URL of this sign-in, or press Ctrl-D to stop")
    assert "run the command again" not in term.screen
    term.type(signed_in_redirect(url) + "\n")
    assert term.finish() == 0, term.screen


def test_stdin_closing_after_a_bad_paste_is_said_once(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup(tmp_path, provider, browser=None)
    term = authorize(env, "--flow", "paste", "--timeout", "60")
    url = term.read_until(r"sign in as \S+:\s+(\S+)").group(1)
    term.read_until(r"Paste the URL your browser ended on")
    term.type(signed_in_redirect(url, state="from-another-attempt") + "\n")
    term.read_until(r"or press Ctrl-D to stop")
    term.type("\x04")  # Ctrl-D
    assert term.finish() == 64
    assert term.screen.count("does not match this authorization") == 1, term.screen
    assert term.screen.count("stdin closed before a usable URL or code was pasted") == 1
    assert "nothing was pasted (stdin closed)" not in term.screen
