"""The command line. The only place that prints errors and turns them into exit codes.

`token` with a valid cached token is served by `_serve_cached` before argparse (or anything
else costly) is imported: mail clients run us on every connection.
"""

from __future__ import annotations

import os
import sys

from . import PROG
from .errors import EX_INTERRUPTED, EX_TEMPFAIL  # errors is on the hot path anyway (securefile)

TYPE_CHECKING = False  # not `from typing import ...`: importing typing costs ~4 ms on the hot path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import NoReturn, TypeGuard

    from . import securefile
    from .settings import Settings

EXIT_CODES = """\
exit status (sysexits.h):
  0   success
  64  usage: bad command line or malformed input (git credential protocol)
  67  unknown account: not in the config file
  69  secret store unavailable (keyring locked or unreachable, store command failed)
  70  internal error (a bug: please report it with --debug output)
  75  temporary failure: network, timeout, HTTP 429/5xx, stdout not writable; try again later
  77  authorization needed: run the `oauth-helper authorize ACCOUNT` command shown
  78  configuration error: the message names the file, line and problem
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    held: list[securefile.exclusive_lock] = []
    try:
        try:
            wanted = parse_token_args(args)
            served = None if wanted is None else _serve_cached(wanted, held)
        except KeyboardInterrupt:
            sys.stderr.write(f"{PROG}: interrupted\n")
            return EX_INTERRUPTED
        except Exception:  # the hot path never shows a traceback
            # An odd cache entry or an undecodable argument: nothing was printed yet, so the
            # full path, which reports every problem as one line with its exit code, decides.
            wanted = served = None
        if served is not None:
            return served
        if wanted is not None:
            return _refresh_lane(wanted)
        return _run(args)
    finally:
        for lock in held:
            lock.release()


def git_credential_main(argv: list[str] | None = None) -> int:
    """`git-credential-oauth-helper get|store|erase`."""
    args = sys.argv[1:] if argv is None else list(argv)
    return _run(["git-credential", *args])


def entry() -> NoReturn:
    """The `oauth-helper` command: main(), then exit at once (see _exit_now)."""
    _exit_now(main())


def git_credential_entry() -> NoReturn:
    """The `git-credential-oauth-helper` command."""
    _exit_now(git_credential_main())


def _exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's shutdown, once stdout and stderr are flushed.

    Tearing down every imported module costs a refresh about a seventh of its time, and does
    nothing we need: our files are closed, our locks go with the process, and the only
    programs we start and do not wait for (notifications) run detached in their own session.
    """
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - not contextlib.suppress: the hot path does not import contextlib
            stream.flush()
        except (OSError, ValueError):
            pass  # _emit already said so; nothing more can be done with that stream
    os._exit(code)


# -- the hot path ----------------------------------------------------------------------------


class TokenArgs:
    """`token ACCOUNT [--format F] [--host H] [--port N] [--min-validity S] [--config FILE]`."""

    __slots__ = ("account", "config", "fmt", "host", "min_validity", "port")

    def __init__(
        self,
        account: str,
        fmt: str,
        host: str | None,
        port: int | None,
        min_validity: int | None,
        config: str | None,
    ) -> None:
        self.account = account
        self.fmt = fmt
        self.host = host
        self.port = port
        self.min_validity = min_validity
        self.config = config


def parse_token_args(args: list[str]) -> TokenArgs | None:
    """The plain `token` command lines mail clients use, parsed without argparse (~20 ms).

    None for anything else, or anything this parser is not sure argparse would read the same
    way (abbreviations, `--`, -v/--debug/--force-refresh, a value that is not a plain number):
    argparse then decides. tests/unit/test_hot_argv.py checks it against argparse.
    """
    if not args or args[0] != "token":
        return None
    from .output import FORMATS

    options: dict[str, str | None] = dict.fromkeys(
        ("--format", "--host", "--port", "--min-validity", "--config")
    )
    account = None
    rest = args[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        name, eq, value = arg.partition("=")
        if name in options and arg.startswith("--"):
            if not eq:
                if i + 1 >= len(rest) or rest[i + 1].startswith("-"):
                    return None  # argparse takes "-x" for an option, not a value
                i += 1
                value = rest[i]
            # Each value is checked as argparse checks it, even one a later option replaces.
            if name == "--format" and value not in FORMATS:
                return None
            if name in ("--port", "--min-validity") and not _plain_number(value):
                return None
            options[name] = value
        elif arg.startswith("-") or account is not None:
            return None  # --force-refresh, -v, --debug, --help, extra words: argparse decides
        else:
            account = arg
        i += 1
    if account is None:
        return None
    port, min_validity = options["--port"], options["--min-validity"]
    return TokenArgs(
        account,
        options["--format"] or "token",
        options["--host"],
        None if port is None else int(port),
        None if min_validity is None else int(min_validity),
        options["--config"],
    )


def _plain_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    return text.isascii() and text.isdigit()


def _serve_cached(wanted: TokenArgs, held: list[securefile.exclusive_lock]) -> int | None:
    """Print a cached token that is valid past the margin; None means "refresh it".

    When the token needs a refresh, wait here for the account's lock before importing the
    refresh machinery: if another process is refreshing, its token is served as soon as it
    lands. A lock we took is left in `held` for the refresh that follows.
    """
    from . import cache, paths, pending

    account = wanted.account
    stamp = cache.config_stamp(wanted.config or paths.default_config_file())
    if not stamp:
        return None
    if pending.exists(account):
        return (
            None  # a rotated refresh token waits to be moved into the store: the full path does it
        )
    cached = cache.load_quietly(account)
    if cached is None and not os.path.exists(cache.lock_path_for(account)):
        # Never served before: a typo or a new account. The full path checks the config
        # first, so an unknown account leaves no lock file behind.
        return None
    margin = wanted.min_validity

    def servable(c: cache.CachedToken | None) -> TypeGuard[cache.CachedToken]:
        return c is not None and c.config_stamp == stamp and c.valid_for(margin)

    if not servable(cached):
        from .errors import TransientError

        lock = cache.lock(account)
        try:
            if not lock.acquire_unless_busy():
                # Another process held the lock, refreshing most likely: its token is served
                # the moment it lands, to every caller that waited, all at once.
                cached = cache.load_quietly(account)
                if servable(cached):
                    return _emit_token(wanted, cached.token, cached.expires_at)
                lock.acquire()  # it failed, or refreshed for another client: our turn
        except TransientError as e:
            # Waited the whole lock timeout already: waiting once more in the full path would
            # double what the mail client sits through.
            sys.stderr.write(f"{PROG}: {e}\n")
            return e.exit_code
        except Exception:
            return None  # the full path reports lock and file problems properly
        held.append(lock)
        cached = cache.load_quietly(account)
        if not servable(cached):
            return None
    return _emit_token(wanted, cached.token, cached.expires_at)


def _emit_token(wanted: TokenArgs, token: str, expires_at: float) -> int:
    from .output import render

    return _emit(render(wanted.fmt, wanted.account, token, expires_at, wanted.host, wanted.port))


def _emit(text: str) -> int:
    """Write one line to stdout in one write; a failed write is not a partial success.

    Never raises: a reader that went away (exit 75, quietly) or a stdout that cannot be
    written (a full disk, /dev/full, an I/O error: one line, exit 75) ends the command here.
    """
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError) as e:
        if not isinstance(e, BrokenPipeError):
            why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            sys.stderr.write(f"{PROG}: cannot write the answer to stdout: {why}\n")
        # Make sure the interpreter's final flush of what is still buffered does not complain.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EX_TEMPFAIL
    return 0


# -- everything else -------------------------------------------------------------------------


def _run(args: list[str]) -> int:
    from .errors import EX_USAGE

    parser = build_parser()
    try:
        ns = parser.parse_args(args)
    except SystemExit as e:  # argparse exits 2 on errors; usage errors are 64 here
        code = e.code if isinstance(e.code, int) else EX_USAGE
        return EX_USAGE if code == 2 else code
    settings = _settings(ns)
    return _guarded(settings, lambda: int(ns.handler(settings, ns)))


def _refresh_lane(wanted: TokenArgs) -> int:
    """`token` whose cached token needs refreshing: the full path's work and error handling,
    without building the argparse parser (about a fifth of a refresh's start-up)."""
    from .settings import Settings

    settings = Settings(config_path=_path(wanted.config))

    def token() -> int:
        from .tokens import get_access_token

        got = get_access_token(settings, wanted.account, min_validity=wanted.min_validity)
        return _emit_token(wanted, got.token, got.expires_at)

    return _guarded(settings, token)


def _guarded(settings: Settings, command: Callable[[], int]) -> int:
    """Run a command: every failure becomes one line on stderr and its exit code."""
    from .errors import EX_SOFTWARE, OAuthHelperError

    _configure_logging(settings)
    from . import notify

    notify.use_config(settings.config_path)  # notifications look up notify_command in this file
    _no_core_dumps()
    try:
        return command()
    except OAuthHelperError as e:
        _report(str(e), settings, e)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EX_INTERRUPTED
    except BrokenPipeError:
        return EX_TEMPFAIL
    except Exception as e:  # a bug: one line, no traceback unless --debug
        _report(
            f"internal error ({type(e).__name__}); run again with --debug and report it",
            settings,
            e,
        )
        return EX_SOFTWARE


def _no_core_dumps() -> None:
    """Keep this process's memory out of core files: past this point it may hold a refresh token
    and a client secret.

    RLIMIT_CORE 0 stops the kernel writing a core file; it does not stop a core_pattern pipe
    (systemd-coredump, apport), where the kernel leaves the limit to the helper. prctl
    PR_SET_DUMPABLE 0 stops the dump itself, and also other processes of the same user
    attaching with ptrace (without CAP_SYS_PTRACE). It costs a ctypes import (a few ms) on the
    full path only, which is about to spend far more on a network request; the hot path, which
    holds only an access token, does not pay it. Programs we start (store commands, the
    browser) are dumpable again after exec.
    """
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # not POSIX; nothing to lower
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_dumpable = 4
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)
        except (ImportError, OSError, AttributeError):
            pass


def _report(message: str, settings: Settings, error: BaseException) -> None:
    from .redact import scrub

    if settings.debug:
        import traceback

        sys.stderr.write(
            scrub("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        )
    sys.stderr.write(f"{PROG}: {scrub(message)}\n")


def _path(name: str | None) -> str | None:
    return name or None


def _settings(ns: argparse.Namespace) -> Settings:
    from .settings import Settings

    return Settings(
        config_path=_path(getattr(ns, "config", None)),
        verbose=bool(getattr(ns, "verbose", False)) or bool(getattr(ns, "debug", False)),
        debug=bool(getattr(ns, "debug", False)),
    )


def _configure_logging(settings: Settings) -> None:
    from . import log

    log.set_level(log.DEBUG if settings.debug else log.INFO if settings.verbose else log.WARNING)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from . import __version__
    from .kinds import FLOW_KINDS, IMPORT_FORMATS, MECHANISMS, STORE_KINDS
    from .mailservice import IMPLICIT_TLS, STARTTLS
    from .output import FORMATS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $OAUTH_HELPER_CONFIG or ~/.config/oauth-helper/config.toml)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="say what is happening on stderr",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="more detail and tracebacks on stderr (secrets are still redacted)",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="OAuth2 access tokens for msmtp, mutt, neomutt, git send-email, mbsync and "
        "other mail clients.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, handler: object) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    p = command("authorize", "obtain and store a refresh token for ACCOUNT (once)", _cmd_authorize)
    p.add_argument("account", metavar="ACCOUNT", help="the mail address")
    p.add_argument("--provider", help="google, microsoft, or a [providers.NAME] from the config")
    p.add_argument(
        "--issuer",
        metavar="URL",
        help="an OpenID provider of your own: discover it and write [providers.NAME] (NAME: "
        "--provider, else from the issuer's host)",
    )
    p.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        metavar="S",
        help="with --issuer: a scope to ask for (repeat it; default: asked, or offline_access)",
    )
    p.add_argument("--client-id", metavar="ID")
    p.add_argument(
        "--client-secret",
        metavar="S",
        help="the client secret (Google desktop clients have one); prefer the prompt, "
        "arguments are visible to other local users",
    )
    p.add_argument(
        "--tenant",
        metavar="T",
        help="Microsoft tenant: common, organizations, consumers, a tenant ID or domain",
    )
    p.add_argument("--flow", choices=FLOW_KINDS)
    p.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (implies paste)"
    )
    p.add_argument("--port", type=int, metavar="N", help="fixed port for the redirect listener")
    p.add_argument("--store", choices=STORE_KINDS, help="where to keep the refresh token")
    p.add_argument(
        "--allow-other-identity",
        action="store_true",
        help="accept a signed-in name that differs from ACCOUNT (Microsoft UPN vs alias)",
    )
    p.add_argument(
        "--select-account",
        action="store_true",
        help="show the provider's account picker (several accounts signed in in one browser)",
    )
    p.add_argument(
        "--no-login-hint",
        action="store_true",
        help="do not pre-fill ACCOUNT on the sign-in page (for sign-in pages that reject it)",
    )
    p.add_argument(
        "--allow-unverified-identity",
        action="store_true",
        help="store the grant although the provider does not say who signed in",
    )
    p.add_argument(
        "--pop",
        action="store_true",
        help="the account uses POP: also ask for the provider's POP scope (Microsoft)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="give up waiting for the browser after S seconds (default 300)",
    )

    p = command("token", "print a valid access token (or a SASL string) on stdout", _cmd_token)
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("--format", choices=FORMATS, default="token")
    p.add_argument("--host", metavar="H", help="server name for the OAUTHBEARER string")
    p.add_argument("--port", type=int, metavar="N", help="server port for the OAUTHBEARER string")
    p.add_argument(
        "--min-validity",
        type=int,
        metavar="SECONDS",
        default=None,
        help="refresh unless the token stays valid this long (default 300)",
    )
    p.add_argument("--force-refresh", action="store_true")

    p = command(
        "git-credential",
        "git credential helper (get|store|erase), see gitcredentials(7)",
        _cmd_git_credential,
    )
    p.add_argument("action", choices=("get", "store", "erase"))

    p = command(
        "refresh",
        "refresh the access tokens that expire within --within seconds, for a timer (nothing on "
        "stdout; exit status: the most serious failure, in the order 77 78 67 69 70 75)",
        _cmd_refresh,
    )
    p.add_argument("accounts", metavar="ACCOUNT", nargs="*")
    p.add_argument("--all", action="store_true", help="every account in the config")
    p.add_argument(
        "--within",
        type=int,
        metavar="SECONDS",
        default=None,
        help="refresh a token unless it stays valid this long (default 900)",
    )

    p = command("status", "show accounts, stores and token lifetimes", _cmd_status)
    p.add_argument("account", metavar="ACCOUNT", nargs="?")
    p.add_argument("--json", action="store_true")

    p = command(
        "test",
        "log in to the SMTP/IMAP servers with a fresh token (exit 77: a server "
        "rejected the token; 69: the server cannot do OAuth here; 75: unreachable)",
        _cmd_test,
    )
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument(
        "--smtp",
        metavar="HOST[:PORT]",
        help="SMTP server (default: the provider's); smtps://HOST:PORT forces implicit "
        "TLS, smtp://HOST:PORT STARTTLS",
    )
    p.add_argument(
        "--imap",
        metavar="HOST[:PORT]",
        help="IMAP server (default: the provider's); imaps:// or imap:// (STARTTLS)",
    )
    p.add_argument("--mechanism", choices=MECHANISMS, default=None)
    p.add_argument("--cafile", metavar="FILE", help="trust this CA bundle instead of the system's")

    p = command("revoke", "revoke and delete the stored tokens of ACCOUNT", _cmd_revoke)
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("--forget", action="store_true", help="also remove the account from the config")
    p.add_argument(
        "--local",
        action="store_true",
        help="do not contact the provider (it is gone or unreachable): only delete the local copies",
    )

    p = command(
        "import",
        "take over a grant from mutt_oauth2.py, getmail6 or a JSON file (verified by one refresh)",
        _cmd_import,
    )
    p.add_argument("source", metavar="FILE", help="the other helper's token file")
    p.add_argument(
        "--from",
        dest="source_format",
        default="auto",
        choices=IMPORT_FORMATS,
    )
    p.add_argument(
        "--decrypt-command",
        metavar="CMD",
        help="decrypts FILE from stdin to stdout, e.g. 'gpg --decrypt' (mutt_oauth2.py)",
    )
    p.add_argument("--account", metavar="ADDRESS", help="the mail address, if the file has none")
    p.add_argument("--provider", help="google, microsoft, or a [providers.NAME] from the config")
    p.add_argument("--client-id", metavar="ID", help="the client the grant was issued to")
    p.add_argument(
        "--client-secret",
        metavar="S",
        help="its secret (Google), if the file has none; visible to other local users",
    )
    p.add_argument("--tenant", metavar="T", help="Microsoft tenant")
    p.add_argument("--store", choices=STORE_KINDS, help="where to keep the refresh token")

    from .snippet import CLIENTS

    p = command(
        "snippet", "print a ready configuration block of a mail client for ACCOUNT", _cmd_snippet
    )
    p.add_argument("client", metavar="CLIENT", choices=CLIENTS, help=", ".join(CLIENTS))
    p.add_argument("account", metavar="ACCOUNT")

    command("accounts", "list the configured accounts, one per line (for scripts)", _cmd_accounts)

    p = command(
        "completion", "print the shell completion script (bash, zsh or fish)", _cmd_completion
    )
    p.add_argument("shell", metavar="SHELL", choices=("bash", "zsh", "fish"))
    command(
        "manpage", "print the manual page (troff), e.g. into ~/.local/share/man/man1/", _cmd_manpage
    )

    p = command("providers", "list built-in and configured providers", _cmd_providers)
    p.add_argument("--json", action="store_true")

    p = command(
        "preauth", "log in to an IMAP server and hand fetchmail a PREAUTH session", _cmd_preauth
    )
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("host", metavar="HOST")
    p.add_argument("port", metavar="PORT", type=int)
    p.add_argument("--mechanism", choices=MECHANISMS, default="xoauth2")
    p.add_argument("--pop3", action="store_true", help="speak POP3 instead of IMAP")
    tls = p.add_mutually_exclusive_group()
    tls.add_argument(
        "--tls",
        dest="starttls",
        action="store_false",
        default=None,
        help=f"implicit TLS (default for ports {IMPLICIT_TLS['imap']} and {IMPLICIT_TLS['pop']})",
    )
    tls.add_argument(
        "--starttls",
        dest="starttls",
        action="store_true",
        help=f"STARTTLS (default for ports {STARTTLS['imap'][0]} and {STARTTLS['pop'][0]}; other "
        "ports: try TLS, then STARTTLS)",
    )
    p.add_argument("--cafile", metavar="FILE")
    return parser


# -- command handlers: argument plumbing only ---------------------------------------------------


def _cmd_token(settings: Settings, ns: argparse.Namespace) -> int:
    from .tokens import get_access_token

    wanted = TokenArgs(ns.account, ns.format, ns.host, ns.port, ns.min_validity, None)
    token = get_access_token(
        settings, ns.account, min_validity=ns.min_validity, force_refresh=ns.force_refresh
    )
    return _emit_token(wanted, token.token, token.expires_at)


def _cmd_git_credential(settings: Settings, ns: argparse.Namespace) -> int:
    from . import gitcred

    return gitcred.run(settings, ns.action, sys.stdin.buffer, sys.stdout, sys.stderr)


def _cmd_authorize(settings: Settings, ns: argparse.Namespace) -> int:
    from . import authorize
    from .errors import UsageError

    provider = ns.provider
    if ns.issuer:
        from . import issuer_setup
        from .flows.common import say_stderr

        provider = issuer_setup.ensure_provider(
            settings, ns.issuer, name=ns.provider, scopes=ns.scopes, say=say_stderr
        )
    elif ns.scopes:
        raise UsageError("--scope goes with --issuer (other providers have scopes in the config)")
    return authorize.run(
        settings,
        account=ns.account,
        provider=provider,
        client_id=ns.client_id,
        client_secret=ns.client_secret,
        tenant=ns.tenant,
        flow=ns.flow,
        no_browser=ns.no_browser,
        port=ns.port,
        store=ns.store,
        allow_other_identity=ns.allow_other_identity,
        allow_unverified_identity=ns.allow_unverified_identity,
        pop=ns.pop,
        login_hint=not ns.no_login_hint,
        select_account=ns.select_account,
        timeout=ns.timeout,
    )


def _cmd_refresh(settings: Settings, ns: argparse.Namespace) -> int:
    from . import refresh_cmd

    within = refresh_cmd.DEFAULT_WITHIN if ns.within is None else ns.within
    return refresh_cmd.run(settings, accounts=ns.accounts, all_accounts=ns.all, within=within)


def _cmd_status(settings: Settings, ns: argparse.Namespace) -> int:
    from . import status

    return status.run(settings, account=ns.account, as_json=ns.json)


def _cmd_test(settings: Settings, ns: argparse.Namespace) -> int:
    from . import check

    return check.run(
        settings,
        account=ns.account,
        smtp=ns.smtp,
        imap=ns.imap,
        mechanism=ns.mechanism,
        cafile=ns.cafile,
    )


def _cmd_revoke(settings: Settings, ns: argparse.Namespace) -> int:
    from . import revoke

    return revoke.run(settings, account=ns.account, forget=ns.forget, local=ns.local)


def _cmd_import(settings: Settings, ns: argparse.Namespace) -> int:
    from . import import_cmd

    return import_cmd.run(
        settings,
        source=ns.source,
        source_format=ns.source_format,
        decrypt_command=ns.decrypt_command,
        account=ns.account,
        provider=ns.provider,
        client_id=ns.client_id,
        client_secret=ns.client_secret,
        tenant=ns.tenant,
        store=ns.store,
    )


def _cmd_accounts(settings: Settings, ns: argparse.Namespace) -> int:
    from . import config

    names = list(config.load(settings.config_path).accounts)
    return _emit("\n".join(names)) if names else 0


def _cmd_completion(settings: Settings, ns: argparse.Namespace) -> int:
    from . import completion

    return _emit(completion.script(ns.shell, build_parser()).rstrip("\n"))


def _cmd_manpage(settings: Settings, ns: argparse.Namespace) -> int:
    from importlib.resources import files

    return _emit((files("oauth_helper") / "data" / "oauth-helper.1").read_text().rstrip("\n"))


def _cmd_snippet(settings: Settings, ns: argparse.Namespace) -> int:
    from . import snippet

    return _emit(snippet.text(settings, ns.client, ns.account).rstrip("\n"))


def _cmd_providers(settings: Settings, ns: argparse.Namespace) -> int:
    from . import providers_cmd

    return providers_cmd.run(settings, as_json=ns.json)


def _cmd_preauth(settings: Settings, ns: argparse.Namespace) -> int:
    from . import preauth

    return preauth.run(
        settings,
        ns.account,
        ns.host,
        ns.port,
        mechanism=ns.mechanism,
        protocol="pop3" if ns.pop3 else "imap",
        starttls=ns.starttls,
        cafile=ns.cafile,
    )
