#!/usr/bin/env python3
"""A notify_command for the tests: records what it was given and how it was run (stdlib only).

Usage: ``notify_probe.py OUTDIR [sleep SECONDS]``. Writes OUTDIR/<pid>.json with its argv, its
whole environment, what its stdin/stdout/stderr are, whether it leads its own session and
whether it has a controlling terminal; then sleeps SECONDS if asked (a hanging notify command).
"""

from __future__ import annotations

import json
import os
import sys
import time


def _fd_target(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError as e:
        return f"error: {e.strerror}"


def _has_terminal() -> bool:
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
    except OSError:
        return False
    return True


def main() -> int:
    outdir = sys.argv[1]
    record = {
        "argv": sys.argv,
        "env": dict(os.environ),
        "stdin": _fd_target(0),
        "stdout": _fd_target(1),
        "stderr": _fd_target(2),
        "session_leader": os.getsid(0) == os.getpid(),
        "terminal": _has_terminal(),
        "at": time.time(),
    }
    tmp = os.path.join(outdir, f".{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, os.path.join(outdir, f"{os.getpid()}.json"))
    if len(sys.argv) > 3 and sys.argv[2] == "sleep":
        time.sleep(float(sys.argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
