"""securefile.exclusive_lock: the per-account lock, and waiting for a refresh without queueing."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from oauth_helper import securefile
from oauth_helper.errors import TransientError
from tests.support.cli_env import lock_is_free


def _hold(path: Path) -> int:
    """Another process's lock, as far as flock is concerned: a descriptor of our own."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_free_lock_is_taken_and_held(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "a.lock"
    lock = securefile.exclusive_lock(str(path), 5)
    assert lock.acquire_unless_busy() is True
    assert not lock_is_free(path)
    lock.release()
    assert lock_is_free(path)


def test_waiters_are_released_together_and_hold_nothing(tmp_path: Path) -> None:
    """Eight callers find the lock held; when the holder lets go, all of them return within a
    few polls of each other, none holding the lock: they did not queue for it."""
    path = tmp_path / "locks" / "a.lock"
    holder = _hold(path)
    returned: dict[int, tuple[bool, float]] = {}

    def wait(i: int) -> None:
        lock = securefile.exclusive_lock(str(path), 10)
        got = lock.acquire_unless_busy()
        returned[i] = (got, time.monotonic())

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert returned == {}  # all still waiting
    released = time.monotonic()
    os.close(holder)
    for t in threads:
        t.join(10)
    assert sorted(returned) == list(range(8))
    assert all(got is False for got, _ in returned.values())
    last = max(at for _, at in returned.values())
    assert last - released < 0.5  # within a few 10 ms polls of the release
    assert lock_is_free(path)  # nobody kept it


def test_waiting_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "a.lock"
    holder = _hold(path)
    try:
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"held .* for over 0 s"):
            securefile.exclusive_lock(str(path), 0.3).acquire_unless_busy()
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        os.close(holder)


def test_a_lock_this_process_holds_counts_as_taken(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "a.lock"
    first = securefile.exclusive_lock(str(path), 5)
    first.acquire()
    try:
        assert securefile.exclusive_lock(str(path), 0.1).acquire_unless_busy() is True
    finally:
        first.release()
    assert lock_is_free(path)
