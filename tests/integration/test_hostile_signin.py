"""Login CSRF from another local user (issue 13, item 3), and the listener's bounds (item 10).

- The sign-in URL (state, PKCE challenge, listener port) is on no process's command line:
  the browser gets a private file:// page that forwards to it. A spying "browser" scans
  /proc/*/cmdline while the sign-in is open.
- A code another local user obtained with our very state and challenge, delivered to our
  listener before the real one, is refused (403, from the kernel's owner of her socket) and
  never exchanged; the sign-in goes on and completes with the victim's code.
- A `localhost` redirect listens on 127.0.0.1 and ::1; at most MAX_HANDLERS connections get a
  thread.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_helper.flows.loopback import MAX_HANDLERS, Listener
from tests.support import other_user
from tests.support.cli_env import (
    config_file,
    provider_config,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.provider import LocalProvider

ACCOUNT = "alice@example.com"
CLIENT = "csrf-client"
SUPPORT = Path(__file__).resolve().parents[1] / "support"

SPY = r"""
import json, os, re, subprocess, sys, urllib.parse
sys.path.insert(0, SUPPORT)
import fake_browser
arg = sys.argv[1]
url = fake_browser._forwarded(arg)
query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
page = urllib.parse.urlsplit(arg).path
report = {"argv": sys.argv[1:], "page_mode": oct(os.stat(page).st_mode & 0o777),
          "dir_mode": oct(os.stat(os.path.dirname(page)).st_mode & 0o777), "page": page,
          "leaks": []}
secrets = [query["state"], query["code_challenge"], query["nonce"]]
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if any(s in cmdline for s in secrets):
            report["leaks"].append(cmdline)
mallory = os.environ.get("SPY_MALLORY")
if mallory:
    # She starts a sign-in of her own with our challenge and redirect_uri, takes the code, and
    # delivers it to our listener with our state before our browser gets there.
    q = dict(query)
    q["state"] = "hers"
    theirs = url.split("?")[0] + "?" + urllib.parse.urlencode(q)
    script = (
        "import sys, urllib.request, urllib.parse, urllib.error\n"
        "class NoRedirect(urllib.request.HTTPRedirectHandler):\n"
        "    def redirect_request(self, *a, **k): return None\n"
        "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())\n"
        "try:\n"
        "    opener.open(sys.argv[1], timeout=10)\n"
        "except urllib.error.HTTPError as e:\n"
        "    location = e.headers['Location']\n"
        "code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))['code']\n"
        "deliver = sys.argv[2] + '?' + urllib.parse.urlencode({'code': code, 'state': sys.argv[3]})\n"
        "try:\n"
        "    status = opener.open(deliver, timeout=10).status\n"
        "except urllib.error.HTTPError as e:\n"
        "    status = e.code\n"
        "print(code, status)\n"
    )
    uid, gid = mallory.split(":")
    done = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "/usr/bin/python3",
         "-c", script, theirs, query["redirect_uri"], query["state"]],
        capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"},
    )
    report["mallory"] = done.stdout.decode().split()
    report["mallory_err"] = done.stderr.decode()
with open(os.environ["SPY_LOG"], "w") as f:
    json.dump(report, f)
sys.exit(0 if fake_browser.visit(url) == 200 else 1)
"""


def _setup(tmp_path: Path, provider: LocalProvider) -> tuple[dict[str, str], Path]:
    provider.register_client(CLIENT)
    env = user_env(tmp_path)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    spy = tmp_path / "spy_browser.py"
    spy.write_text(f"SUPPORT = {str(SUPPORT)!r}\n" + SPY)
    env["BROWSER"] = f"{sys.executable} {spy}"
    env["SPY_LOG"] = str(tmp_path / "spy.json")
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("timeout = 5\n" + provider_config(provider, "local"))
    return env, tmp_path / "spy.json"


def _authorize(env: dict[str, str]) -> str:
    done = run_cli(
        env,
        "authorize",
        ACCOUNT,
        "--provider",
        "local",
        "--client-id",
        CLIENT,
        "--store",
        "file",
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stderr.decode()


def test_sign_in_url_is_on_no_command_line(tmp_path: Path, provider: LocalProvider) -> None:
    env, log = _setup(tmp_path, provider)
    _authorize(env)
    report = json.loads(log.read_text())
    assert report["leaks"] == []
    assert report["argv"][0].startswith("file://") and "state" not in report["argv"][0]
    assert report["page_mode"] == "0o600" and report["dir_mode"] == "0o700"
    assert not Path(report["page"]).exists()  # removed when the sign-in ended
    assert stored_refresh_token(env, ACCOUNT) is not None


@pytest.fixture
def mallory() -> Iterator[other_user.OtherUser]:
    yield from other_user.create()


def test_code_delivered_by_another_user_is_refused(
    tmp_path: Path, provider: LocalProvider, mallory: other_user.OtherUser
) -> None:
    env, log = _setup(tmp_path, provider)
    env["SPY_MALLORY"] = f"{mallory.uid}:{mallory.gid}"
    _authorize(env)
    report = json.loads(log.read_text())
    assert len(report.get("mallory", [])) == 2, report.get("mallory_err")
    her_code, status = report["mallory"]
    assert status == "403"  # refused without ending the wait
    exchanged = [r["form"].get("code") for r in provider.requests if r["path"] == "/token"]
    assert len(exchanged) == 1 and exchanged[0] != her_code
    assert stored_refresh_token(env, ACCOUNT) is not None


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def _get(family: socket.AddressFamily, host: str, port: int, path: str = "/x") -> bytes:
    with socket.socket(family) as s:
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        return s.recv(100)


def test_localhost_redirect_listens_on_both_families() -> None:
    if not _ipv6_loopback():
        if os.environ.get("CI") == "true":
            pytest.fail("no IPv6 loopback in CI")
        pytest.skip("no IPv6 loopback here")
    with Listener(queue.Queue(), both_families=True) as listener:
        assert listener.addresses == ["127.0.0.1", "::1"]
        assert _get(socket.AF_INET, "127.0.0.1", listener.port).startswith(b"HTTP/1.0 404")
        assert _get(socket.AF_INET6, "::1", listener.port).startswith(b"HTTP/1.0 404")
        with socket.socket(socket.AF_INET6) as squatter, pytest.raises(OSError):
            squatter.bind(("::1", listener.port))
    with Listener(queue.Queue()) as listener:
        assert listener.addresses == ["127.0.0.1"]


def test_listener_threads_are_bounded() -> None:
    with Listener(queue.Queue()) as listener:
        before = threading.active_count()
        idle = []
        for _ in range(40):  # connections that never send a request
            s = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
            idle.append(s)
        time.sleep(0.5)
        assert threading.active_count() - before <= MAX_HANDLERS
        for s in idle:
            s.close()
        deadline = time.monotonic() + 15
        while True:  # handlers of the closed connections end; the listener serves again
            try:
                if _get(socket.AF_INET, "127.0.0.1", listener.port).startswith(b"HTTP/1.0 404"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_redirect_from_our_own_user_is_accepted_by_peer_check() -> None:
    from oauth_helper.flows.loopback import peer_uid

    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname(), timeout=5)
        conn, _ = server.accept()
        with client, conn:
            expected = os.geteuid() if sys.platform.startswith("linux") else None
            assert peer_uid(conn) == expected
