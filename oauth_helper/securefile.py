"""Private files: 0600 in 0700 directories, owned by us, never through a symlink, written atomically.

Used by the access-token cache and the file store. Only os and stat here: the hot path reads
the cache through `read_private`.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from .errors import InsecureFile, TransientError

TYPE_CHECKING = False  # not `import typing`: this module is on the hot path
if TYPE_CHECKING:
    from types import TracebackType

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Opening a FIFO (or a device) for reading blocks until someone writes, for ever: a planted
# FIFO at a cache path would hang every mail client. O_NONBLOCK makes open return at once; the
# fstat check then refuses anything that is not a regular file. (No effect on regular files.)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_POSIX = os.name == "posix"
MAX_FILE_BYTES = 1 << 20  # a cache or secret file is a few hundred bytes; anything huge is not ours


def _check(st: os.stat_result, path: str, *, directory: bool) -> None:
    kind_ok = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    if not kind_ok:
        raise InsecureFile(
            f"{path} is not a {'directory' if directory else 'regular file'}; remove it"
        )
    if not _POSIX:
        return
    if st.st_uid != os.geteuid():
        raise InsecureFile(f"{path} is owned by uid {st.st_uid}, not by you; refusing to use it")
    if st.st_mode & 0o077:
        mode = "700" if directory else "600"
        raise InsecureFile(
            f"{path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run: chmod {mode} {path}"
        )


def read_private(path: str) -> bytes | None:
    """The file's bytes, None if it does not exist; InsecureFile if it is not private to us."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as e:
        if os.path.islink(path):
            raise InsecureFile(f"{path} is a symbolic link; refusing to follow it") from None
        raise InsecureFile(f"cannot open {path}: {e.strerror}") from None
    try:
        _check(os.fstat(fd), path, directory=False)
        chunks = []
        size = 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise InsecureFile(f"{path} is too large to be one of ours; remove it")
        return b"".join(chunks)
    finally:
        os.close(fd)


def ensure_private_dir(path: str) -> None:
    """Create `path` as a 0700 directory if needed; refuse one that others can reach.

    Missing parents (~/.cache on a fresh account) are created 0700 too, as the XDG base
    directory specification asks; os.makedirs would give them the umask's mode.
    """
    missing = []
    head = os.path.abspath(path)
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
            os.chmod(directory, 0o700)  # mkdir's mode is filtered through the umask
        except FileExistsError:
            pass
        except OSError as e:
            raise InsecureFile(f"cannot create directory {directory}: {e.strerror}") from None
    try:
        st = os.lstat(path)
    except OSError as e:
        raise InsecureFile(f"cannot use directory {path}: {e.strerror}") from None
    _check(st, path, directory=True)


def check_writable_dir(path: str) -> None:
    """Pre-flight for a later write_private into `path`: InsecureFile now, not after a refresh.

    An existing directory must be private to us and writable; a missing one is fine (it will
    be created 0700), as long as the nearest existing ancestor lets us create it.
    """
    head = os.path.abspath(path)
    while True:
        try:
            st = os.lstat(head)
        except FileNotFoundError:
            parent = os.path.dirname(head)
            if parent == head:
                return
            head = parent
            continue
        except OSError as e:
            raise InsecureFile(f"cannot use directory {head}: {e.strerror}") from None
        break
    if head == os.path.abspath(path):
        _check(st, head, directory=True)
    elif not stat.S_ISDIR(st.st_mode):
        raise InsecureFile(f"{head} is not a directory; remove it")
    if not os.access(head, os.W_OK | os.X_OK):
        raise InsecureFile(
            f"cannot write in {head} (read-only file system or no write permission); "
            f"run: chmod u+rwx {head}"
        )


def write_private(path: str, data: bytes, *, durable: bool = True) -> None:
    """Atomically replace `path` with `data`: a 0600 temporary file in the same directory, renamed.

    `durable=False` skips the fsyncs, for files we can lose in a power cut (the access-token
    cache, the status record): readers still see the old file or the new one while the
    system runs, and after a crash a damaged one is treated as missing. An fsync costs from
    1 ms to 50 ms on a busy disk, on every refresh.
    """
    directory = os.path.dirname(path)
    ensure_private_dir(directory)
    _remove_orphans(directory, os.path.basename(path))
    replace_atomically(path, data, 0o600, durable=durable)


def replace_atomically(path: str, data: bytes, mode: int, *, durable: bool = True) -> None:
    """Replace `path` with `data`: a temporary file of `mode` in the same directory, fsynced and
    renamed over it, so readers see the old file or the new one, never a part. OSError on failure."""
    directory = os.path.dirname(path)
    tmp = os.path.join(
        directory, f".{os.path.basename(path)}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode)
    try:
        try:
            if _POSIX:
                os.fchmod(fd, mode)  # the umask may have taken bits away, never added; be exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        _replace(tmp, path)
    except BaseException:
        import contextlib  # here, not at the top: this module is on the hot path

        with contextlib.suppress(OSError):  # the original error is the one to report
            os.unlink(tmp)
        raise
    if _POSIX and durable:
        dir_fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _remove_orphans(directory: str, name: str) -> None:
    """Delete temporary files of `name` left by writers that were killed (their pid is gone)."""
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            import contextlib  # here, not at the top: this module is on the hot path

            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, entry))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (or cannot tell): leave its file alone
    return True


def _replace(src: str, dst: str) -> None:
    # Windows refuses to replace a file another process has open for a moment; retry briefly.
    for attempt in range(20):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if _POSIX or attempt == 19:
                raise
            time.sleep(0.05)


def remove(path: str) -> bool:
    """Delete a file if present; True if something was deleted."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise InsecureFile(f"cannot remove {path}: {e.strerror}") from None
    return True


class exclusive_lock:
    """Hold an exclusive lock on `path` (flock on POSIX; the kernel drops it if we are killed).

    Re-entrant within a process: flock locks belong to an open file, so a second open of the
    same lock file in the same process would wait for ourselves for ever.
    """

    _held: dict[str, int] = {}  # noqa: RUF012 - process-wide: path -> descriptor holding the lock

    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._owner = False

    def acquire(self) -> None:
        if self._path in exclusive_lock._held:
            return
        fd = self._open()
        try:
            _wait_for(fd, _EXCLUSIVE, self._path, self._timeout)
        except BaseException:
            os.close(fd)
            raise
        self._own(fd)

    def acquire_unless_busy(self) -> bool:
        """Take the lock if no other process holds it (True). If one does, wait until it lets go,
        without taking it (False), up to the same timeout.

        What the holder did (a refresh) is then done, and every process that waited sees it at
        once: waiting takes a shared lock, which the kernel grants to all of them together at
        the holder's release, where taking the exclusive lock in turn would serve 31 callers
        one after the other.
        """
        if self._path in exclusive_lock._held:
            return True
        fd = self._open()
        try:
            if _try(fd, _EXCLUSIVE):
                self._own(fd)
                return True
            _wait_for(fd, _SHARED, self._path, self._timeout)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the shared lock was only a way to wait: let the next holder in
        return False

    def _own(self, fd: int) -> None:
        """`fd` holds the lock now: keep it open until release()."""
        exclusive_lock._held[self._path] = fd
        self._owner = True

    def _open(self) -> int:
        ensure_private_dir(os.path.dirname(self._path))
        try:
            fd = os.open(
                self._path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NONBLOCK, 0o600
            )
        except OSError as e:
            if os.path.islink(self._path):
                raise InsecureFile(
                    f"{self._path} is a symbolic link; refusing to follow it"
                ) from None
            raise InsecureFile(f"cannot open lock file {self._path}: {e.strerror}") from None
        try:
            _check(os.fstat(fd), self._path, directory=False)  # a planted FIFO, another owner
        except BaseException:
            os.close(fd)
            raise
        return fd

    def release(self) -> None:
        if self._owner:
            self._owner = False
            os.close(exclusive_lock._held.pop(self._path))  # closing the descriptor releases it

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


_EXCLUSIVE, _SHARED = True, False


def _try(fd: int, exclusive: bool) -> bool:
    """One non-blocking attempt at the lock. Windows has no shared lock: both kinds are
    exclusive there (waiters are then served in turn)."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _wait_for(fd: int, exclusive: bool, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    # Short polls, not a long back-off: callers waiting for a refresh are served within 10 ms
    # of the lock's release (a lock is held for a refresh: a fraction of a second, usually).
    # A blocking flock would wake at once, but could only be bounded by a signal.
    delay = 0.002
    while not _try(fd, exclusive):
        if time.monotonic() >= deadline:
            raise TransientError(
                f"another oauth-helper process has held {path} for over {timeout:.0f} s; "
                "try again later"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.010)
