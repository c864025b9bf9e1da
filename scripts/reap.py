#!/usr/bin/env python3
"""End every process a test run left behind, and say which.

    scripts/reap.py [--quiet] DIR [SESSION_ID ...]

A process belongs to the run if it is in one of the sessions scripts/test started the run in,
or names DIR (the run's temporary directory) in its command line or environment — Dovecot,
which mailbed starts in a session of its own and which clears its environment, names its
config file under DIR; dbus-daemon, gnome-keyring-daemon and the node OpenID server inherit
HOME/XDG_RUNTIME_DIR under DIR — or descends from one that does. Each gets SIGTERM, and
SIGKILL if still there 3 seconds later. Prints one line per process found (unless --quiet)
and exits 0; it never touches itself or its ancestors. Stdlib only, Linux /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:  # gone, or not ours to read
        return b""


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of pid, or None if it is gone."""
    raw = _read(f"/proc/{pid}/stat")
    if not raw:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[3])


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    raw = _read(f"/proc/{pid}/stat")
    return bool(raw) and raw[raw.rfind(b")") + 2 : raw.rfind(b")") + 3] != b"Z"


def _ancestors() -> set[int]:
    pid, seen = os.getpid(), set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        stat = _stat(pid)
        pid = stat[0] if stat else 0
    return seen


def run_processes(directory: str, sessions: set[int]) -> dict[int, str]:
    """pid -> command line of every process of the run (see the module docstring)."""
    needle, spared = directory.encode(), _ancestors()
    parents: dict[int, int] = {}
    members: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in spared:
            continue
        pid, stat = int(entry), _stat(int(entry))
        if stat is None or not _alive(pid):  # a zombie is already gone but for its parent's wait
            continue
        parents[pid] = stat[0]
        if (
            stat[1] in sessions
            or needle in _read(f"/proc/{pid}/cmdline")
            or needle in _read(f"/proc/{pid}/environ")
        ):
            members.add(pid)
    grown = True
    while grown:  # descendants of members, however they were started
        grown = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                grown = True
    return {
        pid: _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
        for pid in members
    }


def reap(directory: str, sessions: set[int], quiet: bool = False) -> dict[int, str]:
    found = run_processes(directory, sessions)
    for pid, command in sorted(found.items()):
        if not quiet:
            print(f"reap: ending pid {pid}: {command[:200]}", file=sys.stderr)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(_alive(pid) for pid in found):
        time.sleep(0.1)
    for pid in run_processes(directory, sessions):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return found


if __name__ == "__main__":
    args = sys.argv[1:]
    quiet = bool(args) and args[0] == "--quiet"
    if quiet:
        args = args[1:]
    if not args:
        raise SystemExit("usage: reap.py [--quiet] DIR [SESSION_ID ...]")
    reap(os.path.abspath(args[0]), {int(s) for s in args[1:]}, quiet)
