#!/usr/bin/env python3
"""oauth-helper benchmark: hot path, refresh path, 32 concurrent callers, and peers. One command:

    python3 benchmarks/run.py            # full run (a few minutes)
    python3 benchmarks/run.py --quick    # smoke run (well under a minute once the venvs exist)

Everything runs side by side in one process tree on one interpreter: each case is timed in
rounds that alternate between the commands (oauth-helper, `python -c pass` of the same venv,
each peer, `python -c pass` of the peer's venv...), so machine noise hits them alike. Ratios
are medians over those alternating runs. Every command runs inside a venv this script creates
under benchmarks/.venv-* (the base interpreters on some machines load .pth files that slow
every start-up and would flatter the ratios); oauth-helper is installed there NON-editable from
a copy of the working tree. Peers come from PyPI into venvs of their own. The OAuth provider
is tests/support/provider.py on 127.0.0.1, in this process, so request counts are exact.

Prints a Markdown table and writes results/latest.json and results/latest.md next to this
file (`--docs` also rewrites docs/performance.md). Speed is reported, not asserted; the exit
status is 1 only when something ran incorrectly (a failed command, a wrong token, or other
than exactly one refresh for the concurrent callers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from tests.support.provider import LocalProvider  # noqa: E402  (stdlib only; no oauth_helper)

ACCOUNT = "alice@example.com"
CLIENT_ID = "bench-client"
SCOPES = ["mail", "offline_access"]
GETMAIL_PKG = "getmail6"
MUTT_PKG = "mutt-oauth2"
KEYRING_BACKEND = "keyrings.alt.file.PlaintextKeyring"
_DROP_ENV_PREFIXES = ("PYTHON", "PIP_", "VIRTUAL_ENV", "OAUTH_HELPER", "XDG_")
_DROP_ENV = {
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "BROWSER",
    "HOME",
    "__PYVENV_LAUNCHER__",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# -- venvs -----------------------------------------------------------------------------------


def base_interpreter(requested: str | None) -> str:
    if requested:
        return requested
    # Not the pyenv shim (a shell script), not a venv's python: the real base interpreter.
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _run_quiet(cmd: list[str], **kw: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, **kw)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"[bench] failed: {' '.join(cmd)}")


def _tree_hash(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for base in paths:
        files = (
            sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if base.is_dir()
            else [base]
        )
        for f in files:
            h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def ensure_venv(name: str, python: str, stamp: str, install: Any) -> Path:
    """benchmarks/.venv-NAME, (re)built when `stamp` (what should be in it) changes."""
    venv = BENCH / f".venv-{name}"
    marker = venv / "bench-stamp.txt"
    interp = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    full_stamp = f"{interp}\n{stamp}"
    if marker.exists() and marker.read_text() == full_stamp and (venv / "bin" / "python").exists():
        return venv
    log(f"building {venv.name} ...")
    if venv.exists():
        shutil.rmtree(venv)
    _run_quiet([python, "-m", "venv", str(venv)])
    install(venv)
    _run_quiet(
        [
            str(venv / "bin" / "python"),
            "-m",
            "compileall",
            "-q",
            str(next((venv / "lib").glob("python*/site-packages"))),
        ]
    )
    marker.write_text(full_stamp)
    return venv


def pip(venv: Path, *args: str) -> None:
    _run_quiet([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *args])


def ours_venv(python: str, rev: str | None = None) -> Path:
    """oauth-helper installed from the working tree, or from git revision `rev` (--against)."""
    names = ["pyproject.toml", "README.md", "LICENSE"]
    if rev is not None:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        def install_rev(venv: Path) -> None:
            with tempfile.TemporaryDirectory(prefix="oauth-helper-rev-") as tmp:
                listed = subprocess.run(
                    ["git", "-C", str(ROOT), "ls-tree", "--name-only", sha],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                wanted = [n for n in ("oauth_helper", "bin", *names) if n in listed]
                archive = subprocess.run(
                    ["git", "-C", str(ROOT), "archive", sha, *wanted],
                    capture_output=True,
                    check=True,
                ).stdout
                subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
                pip(venv, tmp)

        return ensure_venv(f"ours-{sha[:10]}", python, f"ours at {sha}", install_rev)
    sources = [ROOT / "oauth_helper", ROOT / "bin", ROOT / "pyproject.toml"]

    def install(venv: Path) -> None:
        # Install from a copy: building in the working tree would leave build/ and egg-info there.
        with tempfile.TemporaryDirectory(prefix="oauth-helper-src-") as tmp:
            for name in names:
                if (ROOT / name).exists():
                    shutil.copy2(ROOT / name, tmp)
            for tree in ("oauth_helper", "bin"):  # the package, and its commands
                shutil.copytree(
                    ROOT / tree,
                    Path(tmp) / tree,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
            pip(venv, tmp)  # NOT editable: an editable install adds an import hook at start-up

    return ensure_venv("ours", python, "ours " + _tree_hash(sources), install)


def floor_venv(python: str) -> Path:
    src = BENCH / "floor_reader.py"

    def install(venv: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
            shutil.copy2(src, Path(tmp) / "floor_reader.py")
            (Path(tmp) / "pyproject.toml").write_text(
                '[build-system]\nrequires = ["setuptools>=61"]\n'
                'build-backend = "setuptools.build_meta"\n\n'
                '[project]\nname = "bench-floor"\nversion = "1"\n\n'
                '[project.scripts]\nbench-floor = "floor_reader:main"\n\n'
                '[tool.setuptools]\npy-modules = ["floor_reader"]\n'
            )
            pip(venv, tmp)

    return ensure_venv("floor", python, "floor " + _tree_hash([src]), install)


def peer_venv(python: str, name: str, packages: list[str]) -> tuple[Path | None, str]:
    try:
        venv = ensure_venv(name, python, "peer " + " ".join(packages), lambda v: pip(v, *packages))
    except SystemExit as e:
        return None, f"pip install {' '.join(packages)} failed ({e})"
    return venv, ""


def installed_version(venv: Path, dist: str) -> str:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"import importlib.metadata as m; print(m.version({dist!r}))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "?"


# -- running and timing ----------------------------------------------------------------------


@dataclass
class Cmd:
    key: str
    argv: list[str]
    env: dict[str, str]
    expect: str | None = None  # expected stdout (stripped), checked on the untimed warm-up runs


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)  # seconds
    rss: list[int] = field(default_factory=list)  # KiB (ru_maxrss)
    failures: int = 0


_DEVNULL = os.open(os.devnull, os.O_RDWR)


def spawn(cmd: Cmd, stdout_fd: int = _DEVNULL, stderr_fd: int = _DEVNULL) -> int:
    return os.posix_spawn(
        cmd.argv[0],
        cmd.argv,
        cmd.env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, _DEVNULL, 0),
            (os.POSIX_SPAWN_DUP2, stdout_fd, 1),
            (os.POSIX_SPAWN_DUP2, stderr_fd, 2),
        ],
    )


def timed(cmd: Cmd) -> tuple[float, int]:
    """(wall seconds, exit status) of one run, stdout and stderr discarded."""
    t0 = time.perf_counter()
    pid = spawn(cmd)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - t0
    return wall, os.waitstatus_to_exitcode(status)


GNU_TIME = "/usr/bin/time"


def peak_rss(cmd: Cmd, out: Path) -> int | None:
    """Peak RSS (KiB) of one run, through GNU time (Debian package `time`), or None.

    Not wait4()'s ru_maxrss of our own child: after fork/posix_spawn + exec, Linux keeps the
    parent's high-water RSS in the child's maxrss, so every child would report this (bigger)
    process. GNU time is a small process, so its child starts from a small high-water mark.
    """
    if not os.access(GNU_TIME, os.X_OK):
        return None
    wrapped = Cmd(cmd.key, [GNU_TIME, "-f", "%M", "-o", str(out), *cmd.argv], cmd.env)
    _, code = timed(wrapped)
    try:
        return int(out.read_text().split()[-1]) if code == 0 else None
    except (OSError, ValueError, IndexError):
        return None


def run_capture(cmd: Cmd, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd.argv,
        env=cmd.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check_output(cmd: Cmd) -> str | None:
    """None if the command prints what it should, else why not."""
    proc = run_capture(cmd)
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    if cmd.expect is not None and proc.stdout.strip() != cmd.expect:
        return f"unexpected output {proc.stdout.strip()[:40]!r}..."
    return None


def interleave(
    cmds: list[Cmd],
    rounds: int,
    rss_rounds: int,
    tmp: Path,
    warmup: int = 3,
    before: dict[str, Any] | None = None,
) -> dict[str, Samples]:
    """Time every command `rounds` times, alternating; the start command rotates each round.

    Then `rss_rounds` alternating rounds through GNU time for peak RSS (kept apart so that
    the wrapper's own fork and exec stay out of the wall times). `before[key]()` runs
    (untimed) before each run of that command, e.g. to expire a token.
    """
    before = before or {}
    out = {c.key: Samples() for c in cmds}
    for _ in range(warmup):
        for c in cmds:
            if c.key in before:
                before[c.key]()
            timed(c)
    rss_file = tmp / "rss.txt"
    for r in range(rounds + rss_rounds):
        k = r % len(cmds)
        for c in cmds[k:] + cmds[:k]:
            if c.key in before:
                before[c.key]()
            s = out[c.key]
            if r >= rounds:
                rss = peak_rss(c, rss_file)
                if rss is not None:
                    s.rss.append(rss)
                continue
            wall, code = timed(c)
            if code != 0:
                s.failures += 1
                continue
            s.wall.append(wall)
    return out


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[i]


# -- the world: a temp HOME, the provider, configs -------------------------------------------


def clean_env(home: Path, extra_path: Path | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROP_ENV and not k.startswith(_DROP_ENV_PREFIXES)
    }
    # Byte-code caches are used, as on users' machines (PYTHONDONTWRITEBYTECODE is dropped above).
    env["HOME"] = str(home)
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    home.chmod(0o700)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra_path:
        env["PATH"] = f"{extra_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_ours_config(env: dict[str, str], provider: LocalProvider) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    scopes = ", ".join(f'"{s}"' for s in SCOPES)
    path.write_text(
        "timeout = 15\n\n"
        "[providers.local]\n"
        f'issuer = "{provider.issuer}"\n'
        f'authorization_endpoint = "{provider.authorization_endpoint}"\n'
        f'token_endpoint = "{provider.token_endpoint}"\n'
        f"scopes = [{scopes}]\n\n"
        f'[accounts."{ACCOUNT}"]\n'
        'provider = "local"\n'
        f'client_id = "{CLIENT_ID}"\n'
        'store = "file"\n'
    )
    return path


def write_json_private(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def ours_cache_file(env: dict[str, str]) -> Path:
    # Account names made only of mail-address characters are their own file names.
    return Path(env["XDG_CACHE_HOME"]) / "oauth-helper" / f"{ACCOUNT}.json"


def expire_json(path: Path, key: str, value: float) -> None:
    """Set one expiry field of a JSON token file (keeping the rest), or remove the file."""
    try:
        data = json.loads(path.read_text())
        data[key] = value
        write_json_private(path, data)
    except (OSError, ValueError, TypeError):
        path.unlink(missing_ok=True)


def token_requests(provider: LocalProvider) -> int:
    return provider.counts["token:refresh_token"]


# -- the benchmark ---------------------------------------------------------------------------


@dataclass
class Peer:
    name: str
    version: str = ""
    venv: Path | None = None
    status: str = "ok"  # or why it is not measured
    note: str = ""
    hot: Cmd | None = None
    base: Cmd | None = None
    expire: Any = None  # callable: make the next run refresh
    env: dict[str, str] = field(default_factory=dict)


def setup_getmail(python: str, provider: LocalProvider, tmp: Path) -> Peer:
    peer = Peer("getmail6 getmail-gmail-xoauth-tokens")
    venv, err = peer_venv(python, "getmail6", [GETMAIL_PKG])
    if venv is None:
        peer.status = err
        return peer
    peer.venv, peer.version = venv, installed_version(venv, GETMAIL_PKG)
    script = venv / "bin" / "getmail-gmail-xoauth-tokens"
    env = clean_env(tmp / "home-getmail")
    client = "getmail-client"
    provider.register_client(client, None)
    token_file = Path(env["HOME"]) / "gmail.json"
    # Its token file: Google's field names; token_uri is where it refreshes. With no
    # client_secret key it sends none (our provider's public clients must not send one).
    write_json_private(
        token_file,
        {
            "scope": " ".join(SCOPES),
            "user": ACCOUNT,
            "client_id": client,
            "auth_uri": provider.authorization_endpoint,
            "token_uri": provider.token_endpoint,
            "refresh_token": provider.seed_refresh_token(ACCOUNT, client, SCOPES),
            "access_token": "",
            "expires_at": 0,
        },
    )
    peer.env = env
    peer.hot = Cmd("peer:getmail6", [str(script), str(token_file)], env)
    peer.base = Cmd("base:getmail6", [str(venv / "bin" / "python"), "-c", "pass"], env)
    peer.expire = lambda: expire_json(token_file, "expires_at", 0)
    peer.note = (
        "token file with token_uri pointed at the local provider; its cache is the same "
        "JSON file (expires_at); no lock, no file-mode checks"
    )
    return peer


def setup_mutt(python: str, provider: LocalProvider, tmp: Path) -> Peer:
    peer = Peer("mutt-oauth2 (PyPI)")
    venv, err = peer_venv(python, "mutt-oauth2", [MUTT_PKG, "keyrings.alt"])
    if venv is None:
        peer.status = err
        return peer
    peer.venv, peer.version = venv, installed_version(venv, MUTT_PKG)
    env = clean_env(tmp / "home-mutt")
    # No D-Bus here: pin keyring to keyrings.alt's plaintext file backend (peer venv only).
    env["PYTHON_KEYRING_BACKEND"] = KEYRING_BACKEND
    client = "mutt-client"
    provider.register_client(client, None)
    rt = provider.seed_refresh_token(ACCOUNT, client, SCOPES)
    vpy = str(venv / "bin" / "python")
    seed = subprocess.run(
        [
            vpy,
            str(BENCH / "peers" / "mutt_oauth2_seed.py"),
            "bench",
            ACCOUNT,
            client,
            rt,
            provider.base_url.rstrip("/"),
            provider.token_endpoint,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if seed.returncode != 0:
        peer.status = f"cannot seed its keyring entry: {seed.stderr.strip()[-300:]}"
        return peer
    peer.env = env
    peer.hot = Cmd("peer:mutt-oauth2", [str(venv / "bin" / "mutt-oauth2"), "-u", "bench"], env)
    peer.base = Cmd("base:mutt-oauth2", [vpy, "-c", "pass"], env)
    expire_cmd = [vpy, str(BENCH / "peers" / "mutt_oauth2_expire.py"), "bench"]
    peer.expire = lambda: subprocess.run(expire_cmd, env=env, check=True, capture_output=True)
    peer.note = (
        f"keyring backend pinned with PYTHON_KEYRING_BACKEND={KEYRING_BACKEND} "
        f"(keyrings.alt, peer venv only; no D-Bus here); token_endpoint in its keyring "
        f"entry pointed at the local provider"
    )
    return peer


def machine() -> dict[str, str]:
    info = {
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cores": str(os.cpu_count()),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split()[1]
        info["memory"] = f"{int(mem) // 1024 // 1024} GiB" if int(mem) > 2**20 else f"{mem} kB"
    except (OSError, IndexError, ValueError):
        pass
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return info


def ours_world(
    venv: Path, provider: LocalProvider, home: Path
) -> tuple[dict[str, str], str, str, Any]:
    """A HOME with our config and a stored refresh token, and a first token fetched:
    (env, the oauth-helper command, that token, a function expiring the cached token)."""
    env = clean_env(home)
    write_ours_config(env, provider)
    rt = provider.seed_refresh_token(ACCOUNT, CLIENT_ID, SCOPES)
    subprocess.run(
        [str(venv / "bin" / "python"), str(BENCH / "peers" / "ours_seed.py"), ACCOUNT, rt],
        env=env,
        check=True,
    )
    helper = str(venv / "bin" / "oauth-helper")
    first = run_capture(Cmd("first", [helper, "token", ACCOUNT], env))
    if first.returncode != 0 or first.stdout.strip() != provider.issued_access_tokens[-1]:
        raise SystemExit(f"[bench] {helper} did not get a token: {first.stderr.strip()}")
    cache_path = ours_cache_file(env)

    def expire() -> None:
        expire_json(cache_path, "expires_at", time.time() - 1)

    return env, helper, first.stdout.strip(), expire


def concurrent_round(
    cmd: Cmd, n: int, provider: LocalProvider, expire: Any, tmp: Path
) -> dict[str, Any]:
    """n simultaneous callers with an expired token: requests to /token, wall per caller."""
    expire()
    before = token_requests(provider)
    outdir = Path(tempfile.mkdtemp(dir=tmp, prefix="conc-"))
    fds, starts = {}, {}
    for i in range(n):
        fd = os.open(outdir / f"{i}.out", os.O_WRONLY | os.O_CREAT, 0o600)
        t0 = time.perf_counter()
        pid = spawn(cmd, fd, fd)
        fds[pid], starts[pid] = fd, t0
    walls, failures = [], 0
    for _ in range(n):
        pid, status, _ = os.wait4(-1, 0)
        walls.append(time.perf_counter() - starts[pid])
        os.close(fds[pid])
        failures += os.waitstatus_to_exitcode(status) != 0
    tokens = {(outdir / f"{i}.out").read_text().strip() for i in range(n)}
    shutil.rmtree(outdir)
    return {
        "requests": token_requests(provider) - before,
        "walls": walls,
        "failures": failures,
        "distinct_outputs": len(tokens),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run (few rounds)")
    ap.add_argument("--rounds", type=int, help="hot-path rounds (default 40; --quick 5)")
    ap.add_argument(
        "--refresh-rounds", type=int, help="refresh-path rounds (default 15; --quick 3)"
    )
    ap.add_argument(
        "--concurrency-rounds", type=int, help="rounds of 32 callers (default 5; --quick 1)"
    )
    ap.add_argument("--callers", type=int, default=32)
    ap.add_argument(
        "--provider-delay",
        type=float,
        default=0.2,
        help="seconds the provider takes to answer /token in the concurrency case "
        "(a real provider is not instant; default 0.2)",
    )
    ap.add_argument("--no-peers", action="store_true", help="skip getmail6 and mutt-oauth2")
    ap.add_argument("--python", help="base interpreter for the venvs (default: this one's base)")
    ap.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    ap.add_argument("--docs", action="store_true", help="also rewrite docs/performance.md")
    ap.add_argument(
        "--against",
        metavar="REV",
        help="also run the refresh and concurrency cases with oauth-helper as of git revision "
        "REV, side by side (e.g. the commit before a performance change)",
    )
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 40)
    refresh_rounds = args.refresh_rounds or (3 if args.quick else 15)
    conc_rounds = args.concurrency_rounds or (1 if args.quick else 5)
    rss_rounds = 3 if args.quick else 10
    if not os.access(GNU_TIME, os.X_OK):
        log(f"{GNU_TIME} (Debian package `time`) is missing: peak RSS is not measured")

    python = base_interpreter(args.python)
    ours = ours_venv(python)
    floor = floor_venv(python)
    tmp = Path(tempfile.mkdtemp(prefix="oauth-helper-bench-"))
    provider = LocalProvider().start()
    ok = True
    problems: list[str] = []
    try:
        provider.register_client(CLIENT_ID, None)
        env, helper, token, expire_ours = ours_world(ours, provider, tmp / "home-ours")
        against = None
        if args.against:
            a_venv = ours_venv(python, args.against)
            a_env, a_helper, _, a_expire = ours_world(a_venv, provider, tmp / "home-against")
            against = (a_venv, a_env, a_helper, a_expire)

        # Floor: a two-line 0600 cache file read by a minimal script.
        floor_env = clean_env(tmp / "home-floor")
        floor_file = Path(floor_env["HOME"]) / "token"
        fd = os.open(floor_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, f"{token}\n{time.time() + 3600}\n".encode())
        os.close(fd)
        floor_script = next((floor / "lib").glob("python*/site-packages/floor_reader.py"))

        hot = [
            Cmd("base:ours", [str(ours / "bin" / "python"), "-c", "pass"], env),
            Cmd("ours:token", [helper, "token", ACCOUNT], env, token),
            Cmd("ours:xoauth2", [helper, "token", ACCOUNT, "--format", "xoauth2"], env),
            Cmd("base:floor", [str(floor / "bin" / "python"), "-c", "pass"], floor_env),
            Cmd(
                "floor:script",
                [str(floor / "bin" / "python"), str(floor_script), str(floor_file)],
                floor_env,
                token,
            ),
            Cmd(
                "floor:console",
                [str(floor / "bin" / "bench-floor"), str(floor_file)],
                floor_env,
                token,
            ),
        ]
        peers: list[Peer] = []
        if not args.no_peers:
            for setup in (setup_getmail, setup_mutt):
                peer = setup(python, provider, tmp)
                peers.append(peer)
                if peer.status != "ok" or peer.hot is None:
                    continue
                first_peer = run_capture(peer.hot)  # refreshes once, then its cache is valid
                if (
                    first_peer.returncode != 0
                    or first_peer.stdout.strip() != provider.issued_access_tokens[-1]
                ):
                    peer.status = (
                        f"its first run against the local provider failed (exit "
                        f"{first_peer.returncode}): {first_peer.stderr.strip()[-300:]}"
                    )
                    continue
                peer.hot.expect = first_peer.stdout.strip()
                hot += [peer.base, peer.hot]  # type: ignore[list-item]
        for c in hot:
            why = check_output(c)
            if why:
                problems.append(f"{c.key}: {why}")
                ok = False
        hot = [c for c in hot if not any(p.startswith(c.key + ":") for p in problems)]
        active = [p for p in peers if p.hot in hot]

        log(f"hot path: {rounds} alternating rounds of {len(hot)} commands")
        requests_before = provider.counts["token"]
        hot_s = interleave(hot, rounds, rss_rounds, tmp)
        hot_requests = provider.counts["token"] - requests_before

        log(f"refresh path: {refresh_rounds} alternating rounds")
        ref_cmds = [
            Cmd("base:ours", hot[0].argv, env),
            Cmd("ours:refresh", [helper, "token", ACCOUNT], env),
        ]
        before = {"ours:refresh": expire_ours}
        if against:
            a_venv, a_env, a_helper, a_expire = against
            ref_cmds += [
                Cmd("base:against", [str(a_venv / "bin" / "python"), "-c", "pass"], a_env),
                Cmd("against:refresh", [a_helper, "token", ACCOUNT], a_env),
            ]
            before["against:refresh"] = a_expire
        for p in active:
            ref_cmds += [
                Cmd(p.base.key, p.base.argv, p.env),  # type: ignore[union-attr]
                Cmd(p.hot.key.replace("peer:", "refresh:"), p.hot.argv, p.env),
            ]  # type: ignore[union-attr]
            before[ref_cmds[-1].key] = p.expire
        r0 = token_requests(provider)
        ref_s = interleave(ref_cmds, refresh_rounds, rss_rounds, tmp, warmup=1, before=before)
        ref_requests = token_requests(provider) - r0
        expected_refreshes = (1 + refresh_rounds + rss_rounds) * (
            len(ref_cmds) // 2
        )  # warm-up, timed, RSS

        log(
            f"concurrency: {conc_rounds} x {args.callers} callers, provider delay "
            f"{args.provider_delay} s"
        )
        provider.token_delay = args.provider_delay
        # Beside each round of expired-token callers, the same number of `python -c pass` and
        # of valid-token callers: what start-ups alone cost on this machine, in the same minute.
        floors = {
            "python": Cmd("python", [str(ours / "bin" / "python"), "-c", "pass"], env),
            "valid": Cmd("valid", [helper, "token", ACCOUNT], env),
        }
        conc: list[dict[str, Any]] = []
        conc_floors: dict[str, list[dict[str, Any]]] = {k: [] for k in floors}
        conc_against: list[dict[str, Any]] = []
        for _ in range(conc_rounds):
            conc.append(
                concurrent_round(
                    Cmd("ours", [helper, "token", ACCOUNT], env),
                    args.callers,
                    provider,
                    expire_ours,
                    tmp,
                )
            )
            for key, cmd in floors.items():
                conc_floors[key].append(
                    concurrent_round(cmd, args.callers, provider, lambda: None, tmp)
                )
            if against:
                conc_against.append(
                    concurrent_round(
                        Cmd("against", [against[2], "token", ACCOUNT], against[1]),
                        args.callers,
                        provider,
                        against[3],
                        tmp,
                    )
                )
        peer_conc = {}
        for p in active:
            peer_conc[p.name] = concurrent_round(p.hot, args.callers, provider, p.expire, tmp)  # type: ignore[arg-type]
        provider.token_delay = 0.0
        if any(r["requests"] != 1 or r["failures"] or r["distinct_outputs"] != 1 for r in conc):
            ok = False
        if any(r["requests"] != 1 or r["failures"] for r in conc_against):
            problems.append(f"--against: {[(r['requests'], r['failures']) for r in conc_against]}")
            problems.append(f"concurrency: {[(r['requests'], r['failures']) for r in conc]}")
        if provider.unexpected:
            problems.append(f"provider saw unexpected requests: {provider.unexpected[:3]}")
    finally:
        provider.stop()

    result = summarise(
        hot_s,
        ref_s,
        conc,
        conc_floors,
        conc_against,
        peer_conc,
        peers,
        rounds,
        refresh_rounds,
        args,
        hot_requests,
        ref_requests,
        expected_refreshes,
        problems,
        python,
    )
    shutil.rmtree(tmp, ignore_errors=True)
    md = markdown(result)
    print(md)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    (args.json.parent / "latest.md").write_text(md)
    if args.docs:
        write_docs(md, result)
    log(f"wrote {args.json}")
    for p in problems:
        log(f"PROBLEM: {p}")
    return 0 if ok else 1


# -- summary and output ----------------------------------------------------------------------


def _stat(s: Samples) -> dict[str, Any]:
    return {
        "runs": len(s.wall),
        "failures": s.failures,
        "median_ms": round(med(s.wall) * 1e3, 2),
        "p95_ms": round(pct(s.wall, 95) * 1e3, 2),
        "min_ms": round(min(s.wall, default=0) * 1e3, 2),
        "rss_kib": int(med([float(x) for x in s.rss])) if s.rss else None,
        "wall_ms": [round(w * 1e3, 3) for w in s.wall],
    }


def _paired_ratio(a: Samples, b: Samples) -> float:
    """Median of per-round ratios a/b (runs of a round are adjacent in time)."""
    pairs = [x / y for x, y in zip(a.wall, b.wall, strict=False) if y > 0]
    return round(med(pairs), 3) if pairs else float("nan")


def summarise(
    hot_s: dict[str, Samples],
    ref_s: dict[str, Samples],
    conc: list[dict[str, Any]],
    conc_floors: dict[str, list[dict[str, Any]]],
    conc_against: list[dict[str, Any]],
    peer_conc: dict[str, dict[str, Any]],
    peers: list[Peer],
    rounds: int,
    refresh_rounds: int,
    args: argparse.Namespace,
    hot_requests: int,
    ref_requests: int,
    expected_refreshes: int,
    problems: list[str],
    python: str,
) -> dict[str, Any]:
    def ratio(a: Samples, b: Samples) -> float:
        return round(med(a.wall) / med(b.wall), 3) if a.wall and b.wall else float("nan")

    def rss_ratio(a: Samples, b: Samples) -> float:
        return (
            round(med([float(x) for x in a.rss]) / med([float(x) for x in b.rss]), 3)
            if a.rss and b.rss
            else float("nan")
        )

    hot: dict[str, Any] = {}
    base_of = {
        "ours:token": "base:ours",
        "ours:xoauth2": "base:ours",
        "floor:script": "base:floor",
        "floor:console": "base:floor",
        "peer:getmail6": "base:getmail6",
        "peer:mutt-oauth2": "base:mutt-oauth2",
    }
    for key, s in hot_s.items():
        entry = _stat(s)
        if key in base_of and base_of[key] in hot_s:
            b = hot_s[base_of[key]]
            entry["ratio_to_python"] = ratio(s, b)
            entry["paired_ratio_to_python"] = _paired_ratio(s, b)
            entry["rss_ratio_to_python"] = rss_ratio(s, b)
        hot[key] = entry
    ours_r = hot.get("ours:token", {}).get("ratio_to_python")
    for key in ("peer:getmail6", "peer:mutt-oauth2"):
        if key in hot and ours_r:
            hot[key]["peer_over_ours"] = round(hot[key]["ratio_to_python"] / ours_r, 2)

    refresh: dict[str, Any] = {}
    for key, s in ref_s.items():
        entry = _stat(s)
        b = (
            ref_s.get("base:" + key.split(":", 1)[1])
            if key.startswith("refresh:")
            else ref_s.get("base:" + key.split(":", 1)[0])
            if key in ("ours:refresh", "against:refresh")
            else None
        )
        if b is not None:
            entry["ratio_to_python"] = ratio(s, b)
        refresh[key] = entry
    o = refresh.get("ours:refresh", {}).get("ratio_to_python")
    for key in ("refresh:getmail6", "refresh:mutt-oauth2"):
        if key in refresh and o:
            refresh[key]["peer_over_ours"] = round(refresh[key]["ratio_to_python"] / o, 2)
    if "against:refresh" in refresh and o:
        refresh["against:refresh"]["peer_over_ours"] = round(
            refresh["against:refresh"]["ratio_to_python"] / o, 2
        )

    def rounds_stat(rs: list[dict[str, Any]]) -> dict[str, Any]:
        walls = [w for r in rs for w in r["walls"]]
        return {
            "rounds": len(rs),
            "requests_per_round": [r["requests"] for r in rs],
            "failures": sum(r["failures"] for r in rs),
            "p50_ms": round(pct(walls, 50) * 1e3, 1),
            "p95_ms": round(pct(walls, 95) * 1e3, 1),
        }

    walls = [w for r in conc for w in r["walls"]]
    concurrency = {
        "callers": args.callers,
        "rounds": len(conc),
        "provider_delay_s": args.provider_delay,
        "requests_per_round": [r["requests"] for r in conc],
        "failures": sum(r["failures"] for r in conc),
        "distinct_tokens_per_round": [r["distinct_outputs"] for r in conc],
        "p50_ms": round(pct(walls, 50) * 1e3, 1),
        "p95_ms": round(pct(walls, 95) * 1e3, 1),
        "max_ms": round(max(walls, default=0) * 1e3, 1),
        "floors": {key: rounds_stat(rs) for key, rs in conc_floors.items() if rs},
        "against": (rounds_stat(conc_against) | {"rev": args.against} if conc_against else None),
        "peers": {
            name: {
                "requests": r["requests"],
                "failures": r["failures"],
                "distinct_outputs": r["distinct_outputs"],
                "p50_ms": round(pct(r["walls"], 50) * 1e3, 1),
                "p95_ms": round(pct(r["walls"], 95) * 1e3, 1),
            }
            for name, r in peer_conc.items()
        },
    }
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine() | {"interpreter": python},
        "quick": args.quick,
        "against": args.against,
        "hot_rounds": rounds,
        "refresh_rounds": refresh_rounds,
        "hot": hot,
        "hot_path_token_requests": hot_requests,
        "refresh": refresh,
        "refresh_token_requests": ref_requests,
        "refresh_token_requests_expected": expected_refreshes,
        "concurrency": concurrency,
        "peers": [
            {"name": p.name, "version": p.version, "status": p.status, "note": p.note}
            for p in peers
        ],
        "problems": problems,
    }


def _x(v: Any) -> str:
    return "–" if v is None or v != v else f"{v:.2f}×"


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory', '?')}, "
        f"{m.get('os', '?')}, Linux {m.get('kernel')}; Python {m.get('python')} (venvs). "
        f"{r['when']}{' (--quick)' if r['quick'] else ''}.",
        "",
    ]
    lines += [
        "| Case | Median | × `python -c pass` (same venv) | Peak RSS | RSS × python | Peer ÷ ours |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    h = r["hot"]
    names = {
        "ours:token": "**`oauth-helper token A`**, valid cached token",
        "ours:xoauth2": "`oauth-helper token A --format xoauth2`, cached",
        "floor:script": "floor: minimal 0600 cache reader, run as a script",
        "floor:console": "floor: the same through pip's console-script wrapper",
        "peer:getmail6": "getmail6 `getmail-gmail-xoauth-tokens`, valid token",
        "peer:mutt-oauth2": "`mutt-oauth2` (PyPI), valid token",
    }
    base_ms = h.get("base:ours", {}).get("median_ms")
    if base_ms:
        lines.append(
            f"| `python -c pass` (our venv) | {base_ms:.1f} ms | 1.00× | "
            f"{h['base:ours']['rss_kib'] / 1024:.1f} MiB | 1.00× | |"
        )
    for key, label in names.items():
        e = h.get(key)
        if not e:
            continue
        rss = f"{e['rss_kib'] / 1024:.1f} MiB" if e.get("rss_kib") else "–"
        lines.append(
            f"| {label} | {e['median_ms']:.1f} ms | {_x(e.get('ratio_to_python'))} | {rss} | "
            f"{_x(e.get('rss_ratio_to_python'))} | "
            f"{_x(e.get('peer_over_ours')) if 'peer_over_ours' in e else ''} |"
        )
    rf = r["refresh"]
    rnames = {
        "ours:refresh": "**refresh path**: `oauth-helper token A`, expired token",
        "refresh:getmail6": "getmail6, expired token (refreshes)",
        "refresh:mutt-oauth2": "`mutt-oauth2`, expired token (refreshes)",
        "against:refresh": f"refresh path of oauth-helper at `{r.get('against')}` (--against)",
    }
    for key, label in rnames.items():
        e = rf.get(key)
        if not e:
            continue
        rss = f"{e['rss_kib'] / 1024:.1f} MiB" if e.get("rss_kib") else "–"
        lines.append(
            f"| {label} | {e['median_ms']:.1f} ms | {_x(e.get('ratio_to_python'))} | {rss} | | "
            f"{_x(e.get('peer_over_ours')) if 'peer_over_ours' in e else ''} |"
        )
    c = r["concurrency"]
    lines += [
        "",
        f"**{c['callers']} concurrent callers, expired token** (provider answers /token in "
        f"{c['provider_delay_s'] * 1000:.0f} ms; {c['rounds']} round(s)):",
        "",
        "| Tool | /token requests per round | p50 | p95 | failed callers |",
        "|---|---:|---:|---:|---:|",
    ]
    labels = {
        "python": f"floor: `python -c pass` × {c['callers']} (start-ups alone)",
        "valid": "oauth-helper, valid cached token (no refresh)",
    }
    for key, e in c.get("floors", {}).items():
        lines.append(
            f"| {labels[key]} | {', '.join(map(str, e['requests_per_round']))} | "
            f"{e['p50_ms']:.0f} ms | {e['p95_ms']:.0f} ms | {e['failures']} |"
        )
    lines.append(
        f"| **oauth-helper**, expired token | {', '.join(map(str, c['requests_per_round']))} | "
        f"{c['p50_ms']:.0f} ms | {c['p95_ms']:.0f} ms | {c['failures']} |"
    )
    a = c.get("against")
    if a:
        lines.append(
            f"| oauth-helper at `{a['rev']}`, expired token | "
            f"{', '.join(map(str, a['requests_per_round']))} | {a['p50_ms']:.0f} ms | "
            f"{a['p95_ms']:.0f} ms | {a['failures']} |"
        )
    for name, e in c["peers"].items():
        lines.append(
            f"| {name} | {e['requests']} | {e['p50_ms']:.0f} ms | {e['p95_ms']:.0f} ms | "
            f"{e['failures']} |"
        )
    lines += [
        "",
        f"Hot path: {r['hot_rounds']} alternating rounds, medians; ratios are to "
        '`python -c pass` of the command\'s own venv, "peer ÷ ours" divides those ratios. '
        f"Refresh path: {r['refresh_rounds']} rounds against the local provider on 127.0.0.1 "
        f"({r['refresh_token_requests']} /token requests for "
        f"{r['refresh_token_requests_expected']} expected). "
        f"Hot-path runs made {r['hot_path_token_requests']} requests.",
        "",
    ]
    lines.append("Peers:")
    for p in r["peers"]:
        state = "measured" if p["status"] == "ok" else f"**not measured**: {p['status']}"
        lines.append(f"- {p['name']} {p['version']}: {state}. {p['note']}")
    if not r["peers"]:
        lines.append("- skipped (--no-peers)")
    targets = []
    ot = h.get("ours:token", {})
    if ot:
        targets.append(
            f"hot path ≤ 2.0×: {'met' if ot['ratio_to_python'] <= 2.0 else 'MISSED'} "
            f"({ot['ratio_to_python']:.2f}×)"
        )
        targets.append(
            f"peak RSS ≤ 1.3×: {'met' if ot['rss_ratio_to_python'] <= 1.3 else 'MISSED'} "
            f"({ot['rss_ratio_to_python']:.2f}×)"
        )
    reqs = c["requests_per_round"]
    targets.append(
        f"one refresh for {c['callers']} callers: "
        f"{'met' if reqs and all(x == 1 for x in reqs) else 'MISSED'}"
    )
    floor = c.get("floors", {}).get("python")
    targets.append(
        f"{c['callers']} callers p50 ≤ 400 ms: {'met' if c['p50_ms'] <= 400 else 'MISSED'} "
        f"({c['p50_ms']:.0f} ms"
        + (f"; {c['callers']} bare Python start-ups: {floor['p50_ms']:.0f} ms" if floor else "")
        + ")"
    )
    if a:
        # #16 asked for 528 ms -> 400 ms: the same step, measured side by side on this machine.
        step = c["p50_ms"] / a["p50_ms"]
        targets.append(
            f"{c['callers']} callers p50 ≤ 0.76× (400/528) that of `{a['rev']}`: "
            f"{'met' if step <= 400 / 528 else 'MISSED'} ({step:.2f}×)"
        )
    for key in ("peer:getmail6", "peer:mutt-oauth2"):
        if key in h and "peer_over_ours" in h[key]:
            v = h[key]["peer_over_ours"]
            targets.append(f"{key[5:]} ≥ 3× slower: {'met' if v >= 3 else 'MISSED'} ({v:.1f}×)")
    getmail = r["refresh"].get("refresh:getmail6", {}).get("peer_over_ours")
    if getmail is not None:
        verdict = (
            "met, aim 1.5× also met" if getmail >= 1.5 else "met" if getmail >= 1 else "MISSED"
        )
        targets.append(f"refresh path faster than getmail6's: {verdict} ({getmail:.2f}×)")
    before = r["refresh"].get("against:refresh", {}).get("peer_over_ours")
    if before is not None:
        targets.append(f"refresh path vs `{r.get('against')}`: {before:.2f}× faster")
    lines += ["", "Targets: " + "; ".join(targets) + "."]
    if r["problems"]:
        lines += ["", "Problems: " + "; ".join(r["problems"])]
    return "\n".join(lines) + "\n"


README_START = "<!-- performance:start -->"
README_END = "<!-- performance:end -->"


def write_docs(md: str, r: dict[str, Any]) -> None:
    """Replace docs/performance.md's table (between its markers) with this run's, and the
    README's summary of it."""
    path = ROOT / "docs" / "performance.md"
    _between_markers(path, README_START, README_END, f"{DOCS_HEAD}{md}{DOCS_TAIL}")
    _between_markers(ROOT / "README.md", SUMMARY_START, SUMMARY_END, summary(r))


def _between_markers(path: Path, start_marker: str, end_marker: str, body: str) -> None:
    text = path.read_text()
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: the {start_marker} / {end_marker} markers are missing")
    section = f"{start_marker}\n{body}{end_marker}"
    path.write_text(text[:start] + section + text[end + len(end_marker) :])
    log(f"rewrote {path}")


SUMMARY_START = "<!-- performance-summary:start -->"
SUMMARY_END = "<!-- performance-summary:end -->"


def summary(r: dict[str, Any]) -> str:
    """The README's table: the three cases a user meets, with both #16 targets."""
    h, rf, c = r["hot"], r["refresh"], r["concurrency"]
    hot = h.get("ours:token", {})
    ref = rf.get("ours:refresh", {})
    getmail = rf.get("refresh:getmail6", {}).get("peer_over_ours")
    floor = c.get("floors", {}).get("python")
    a = c.get("against")

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    ratio = hot.get("ratio_to_python", float("nan"))
    rows = [
        "| Case | Time | Compared | Target |",
        "|---|---:|---|---|",
        f"| valid cached token (every mail connection) | {hot.get('median_ms', 0):.0f} ms | "
        f"{ratio:.2f}× `python -c pass` | ≤ 2×: {verdict(ratio <= 2)} |",
        f"| expired token: one refresh | {ref.get('median_ms', 0):.0f} ms | "
        + (
            f"{getmail:.2f}× faster than getmail6's | faster than getmail6: "
            f"{verdict(getmail >= 1)} |"
            if getmail
            else "| |"
        ),
        f"| {c['callers']} clients at once, expired token (provider answers in "
        f"{c['provider_delay_s'] * 1000:.0f} ms) | p50 {c['p50_ms']:.0f} ms | one /token "
        "request"
        + (f"; {c['callers']} bare Python start-ups: p50 {floor['p50_ms']:.0f} ms" if floor else "")
        + f" | p50 ≤ 400 ms: {verdict(c['p50_ms'] <= 400)}"
        + (
            f"; ≤ 0.76× the p50 of `{a['rev']}` (same run, "
            "[why](docs/performance.md#the-32-caller-target)): "
            f"{verdict(c['p50_ms'] / a['p50_ms'] <= 400 / 528)} ({c['p50_ms'] / a['p50_ms']:.2f}×)"
            if a
            else ""
        )
        + " |",
    ]
    m = r["machine"]
    return (
        "\n".join(rows)
        + f"\n\n{m.get('cores')} cores, Python {m.get('python')}, {r['when'][:10]}; the method, "
        "the peers and every target are in [docs/performance.md](docs/performance.md).\n"
    )


DOCS_HEAD = """\
# Performance

Mail clients start `oauth-helper token` on every connection, so its start-up is the product's
speed. With a valid cached token it reads one small private file and prints; it imports no
keyring, google-auth or HTTP code. Latest run of `python3 benchmarks/run.py --docs`
(`benchmarks/README.md` explains the method):

"""
DOCS_TAIL = """
Every command runs in a venv of the same interpreter, and ratios are to `python -c pass` of
that venv, measured in alternating runs in the same session, so they carry over to other
machines better than the milliseconds do.
"""


if __name__ == "__main__":
    sys.exit(main())
