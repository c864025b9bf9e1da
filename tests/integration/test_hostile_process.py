"""Core dumps of a refreshing process would hold the refresh token (issue 13, item 10)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ACCOUNT
from tests.support.cli_env import make_account, oauth_helper_cmd
from tests.support.provider import LocalProvider

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl")


def test_a_refreshing_process_cannot_dump_core(tmp_path: Path, provider: LocalProvider) -> None:
    env = make_account(tmp_path, provider, ACCOUNT, timeout=10)
    provider.token_delay = 3.0  # the process sits in the refresh, holding the refresh token
    proc = subprocess.Popen(
        [oauth_helper_cmd(), "token", ACCOUNT, "--force-refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while provider.counts["token:refresh_token"] == 0:
            assert time.monotonic() < deadline, "no refresh request arrived"
            time.sleep(0.05)
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
        assert core.split()[4:6] == ["0", "0"], core
    finally:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()


def test_no_core_dumps_makes_the_process_undumpable() -> None:
    code = (
        "import ctypes, resource\n"
        "from oauth_helper import cli\n"
        "cli._no_core_dumps()\n"
        "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), resource.getrlimit(resource.RLIMIT_CORE))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=True)
    assert done.stdout.decode().split(maxsplit=1) == ["0", "(0, 0)\n"]
