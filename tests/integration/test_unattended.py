"""What the README's "Keep it running unattended" ships, as shipped: the systemd user units, the
crontab line under cron's bare environment, and the contrib/notify scripts."""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT
from tests.integration.test_notify import probe_command, wait_for_records
from tests.integration.test_refresh import expire_soon, revoke_at_provider
from tests.support.binaries import require_binary
from tests.support.cli_env import (
    cache_file,
    config_file,
    make_account,
    oauth_helper_cmd,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "contrib" / "systemd"
NOTIFY = ROOT / "contrib" / "notify"


def installed_like_pipx(env: dict[str, str]) -> Path:
    """~/.local/bin/oauth-helper, where pipx and `pip install --user` put it."""
    bin_dir = Path(env["HOME"]) / ".local" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "oauth-helper"
    link.symlink_to(oauth_helper_cmd())
    return link


def refreshes(provider: LocalProvider) -> int:
    return provider.counts["token:refresh_token"]


# -- systemd -------------------------------------------------------------------------------------


def test_systemd_units_verify_and_their_command_works(
    tmp_path: Path, provider: LocalProvider
) -> None:
    analyze = require_binary("systemd-analyze")
    env = make_account(tmp_path, provider, ACCOUNT)
    installed_like_pipx(env)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    units = [str(UNITS / "oauth-helper-refresh.service"), str(UNITS / "oauth-helper-refresh.timer")]
    verify = subprocess.run(
        [analyze, "--user", "verify", *units],
        env={"HOME": env["HOME"], "XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr

    # The service's ExecStart, run as the user manager would (%h is HOME; its default PATH).
    service = (UNITS / "oauth-helper-refresh.service").read_text()
    [exec_start] = re.findall(r"^ExecStart=(.+)$", service, re.M)
    argv = shlex.split(exec_start.replace("%h", env["HOME"]))
    manager_env = {
        "HOME": env["HOME"],
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "XDG_RUNTIME_DIR": str(runtime),
    }
    ran = subprocess.run(argv, env=manager_env, capture_output=True, timeout=60, check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert refreshes(provider) == 1 and cache_file(env, ACCOUNT).exists()
    assert "SuccessExitStatus=75" in service  # a temporary failure keeps the unit green


def test_timer_interval_keeps_tokens_out_of_the_token_margin() -> None:
    """Every run leaves each token valid past --within; the next run comes before any token
    falls inside `token`'s 5-minute margin."""
    from oauth_helper.cache import DEFAULT_MIN_VALIDITY
    from oauth_helper.refresh_cmd import DEFAULT_WITHIN

    timer = (UNITS / "oauth-helper-refresh.timer").read_text()
    interval = int(re.search(r"^OnUnitActiveSec=(\d+)min$", timer, re.M).group(1)) * 60  # type: ignore[union-attr]
    accuracy = int(re.search(r"^AccuracySec=(\d+)s$", timer, re.M).group(1))  # type: ignore[union-attr]
    assert interval + accuracy < DEFAULT_WITHIN - DEFAULT_MIN_VALIDITY


# -- cron ----------------------------------------------------------------------------------------


def readme_cron_command() -> str:
    """The command part of the crontab line the README shows (after the five time fields)."""
    readme = (ROOT / "README.md").read_text()  # the front door shows the line; docs/ repeats it
    [line] = re.findall(r"^(\*/\d+ \* \* \* \* .+)$", readme, re.M)
    return line.split(None, 5)[5]


def cron_run(env: dict[str, str], command: str) -> subprocess.CompletedProcess[bytes]:
    """What cron does: /bin/sh -c COMMAND with HOME and nothing else (cron adds LOGNAME,
    SHELL and PATH=/usr/bin:/bin; the line must not need even those)."""
    return subprocess.run(
        ["env", "-i", f"HOME={env['HOME']}", "/bin/sh", "-c", command],
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_crontab_line_works_under_env_i_with_the_file_store(
    tmp_path: Path, provider: LocalProvider
) -> None:
    command = readme_cron_command()
    assert "refresh --all" in command
    env = make_account(tmp_path, provider, ACCOUNT)
    installed_like_pipx(env)

    first = cron_run(env, command)
    assert (first.returncode, first.stdout, first.stderr) == (0, b"", b"")  # cron mails nothing
    assert refreshes(provider) == 1
    again = cron_run(env, command)
    assert again.returncode == 0 and refreshes(provider) == 1  # fresh: no request
    expire_soon(env, ACCOUNT, 600)
    assert cron_run(env, command).returncode == 0 and refreshes(provider) == 2
    served = run_cli(env, "token", ACCOUNT)
    assert served.returncode == 0 and refreshes(provider) == 2  # the mail client found it fresh


def test_crontab_line_with_a_keyring_account_says_why(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, store="keyring", seed=False)
    installed_like_pipx(env)
    outdir = tmp_path / "notified"
    outdir.mkdir()
    path = config_file(env)
    path.write_text(f"notify_command = {json.dumps(probe_command(outdir))}\n" + path.read_text())
    for _ in range(2):
        result = cron_run(env, readme_cron_command())
        assert result.returncode == 69 and result.stdout == b""
        [line] = result.stderr.decode().splitlines()  # the one line cron mails
        assert ACCOUNT in line and "--store file" in line
    [told] = wait_for_records(outdir, 1)  # the store stopped working: said once
    assert told["env"]["OAUTH_HELPER_REASON"].startswith("the secret store stopped working: ")
    assert told["env"]["OAUTH_HELPER_FIX"].endswith(
        f"oauth-helper authorize {ACCOUNT} --store file"
    )


# -- contrib/notify ------------------------------------------------------------------------------


def fake_program(directory: Path, name: str, log: Path) -> None:
    """A stand-in for a program the machine may not have (notify-send, mail): logs its
    arguments and stdin as JSON."""
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'stdin': sys.stdin.read()}}, open({str(log)!r}, 'w'))\n"
    )
    path.chmod(0o755)


def notify_env(path_dir: Path, reason: str, fix: str) -> dict[str, str]:
    return {
        "PATH": f"{path_dir}:/usr/bin:/bin",
        "OAUTH_HELPER_ACCOUNT": ACCOUNT,
        "OAUTH_HELPER_REASON": reason,
        "OAUTH_HELPER_FIX": fix,
    }


def test_notify_desktop_script(tmp_path: Path) -> None:
    log = tmp_path / "notify-send.json"
    fake_program(tmp_path / "bin", "notify-send", log)
    script = str(NOTIFY / "notify-desktop.sh")
    env = notify_env(tmp_path / "bin", "authorization needed: revoked", "oauth-helper authorize a")
    subprocess.run([script], env=env, check=True, timeout=30, stdin=subprocess.DEVNULL)
    argv = json.loads(log.read_text())["argv"]
    assert argv == [
        "--app-name=oauth-helper",
        "--urgency=critical",
        f"oauth-helper: {ACCOUNT}",
        "authorization needed: revoked\nFix: oauth-helper authorize a",
    ]
    env = notify_env(tmp_path / "bin", "recovered: refreshing works again", "")
    subprocess.run([script], env=env, check=True, timeout=30, stdin=subprocess.DEVNULL)
    argv = json.loads(log.read_text())["argv"]
    assert argv[1] == "--urgency=normal" and argv[3] == "recovered: refreshing works again"


def test_notify_mail_script(tmp_path: Path) -> None:
    log = tmp_path / "mail.json"
    fake_program(tmp_path / "bin", "mail", log)
    env = notify_env(tmp_path / "bin", "the secret store stopped working: locked", "unlock it")
    subprocess.run(
        [str(NOTIFY / "notify-mail.sh"), "me@example.org"],
        env=env,
        check=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    sent = json.loads(log.read_text())
    assert sent["argv"] == ["-s", f"oauth-helper: {ACCOUNT}", "me@example.org"]
    assert sent["stdin"].startswith("the secret store stopped working: locked\n")
    assert "To fix it, run:\n    unlock it\n" in sent["stdin"]


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(
            {"path": self.path, "title": self.headers.get("Title"), "body": self.rfile.read(length)}
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def push_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alice-mail", received
    finally:
        server.shutdown()
        server.server_close()


def test_notify_push_script_as_the_notify_command_of_a_failing_token(
    tmp_path: Path, provider: LocalProvider, push_server: tuple[str, list[dict[str, Any]]]
) -> None:
    require_binary("curl")
    url, received = push_server
    env = make_account(tmp_path, provider, ACCOUNT)
    path = config_file(env)
    command = [str(NOTIFY / "notify-push.sh"), url]
    path.write_text(f"notify_command = {json.dumps(command)}\n" + path.read_text())
    refresh_token = stored_refresh_token(env, ACCOUNT)
    assert refresh_token is not None
    revoke_at_provider(provider, refresh_token)

    assert run_cli(env, "token", ACCOUNT).returncode == 77
    deadline = time.monotonic() + 20
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    [push] = received
    assert push["path"] == "/alice-mail"
    assert push["title"] == f"oauth-helper: {ACCOUNT}"
    text = push["body"].decode()
    assert text.startswith("authorization needed: ")
    assert text.endswith(f"\nFix: oauth-helper authorize {ACCOUNT}")
    assert refresh_token not in text


def test_notify_scripts_are_executable_posix_sh() -> None:
    for script in NOTIFY.glob("*.sh"):
        assert os.access(script, os.X_OK), script
        assert script.read_text().startswith("#!/bin/sh\n"), script
        subprocess.run(["/bin/sh", "-n", str(script)], check=True, timeout=30)
