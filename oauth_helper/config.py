"""The configuration file: TOML in, frozen typed objects out, every mistake reported with file:line."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import sys
from collections.abc import Mapping

from . import paths, redact, urlrule
from .errors import ConfigError, UnknownAccount
from .kinds import STORE_KINDS, pick
from .providers import BUILTIN, ENDPOINTS, GENERIC_HELP, HostPort, Provider, with_tenant
from .record import field, record, replace

TYPE_CHECKING = False  # not `from typing import`: typing costs ~5 ms on every refresh
if TYPE_CHECKING:
    from typing import Any

    from .kinds import StoreKind

MAX_CONFIG_BYTES = 1 << 20  # a config is a few KB; do not read a hostile endless file
DEFAULT_TIMEOUT = 15.0  # seconds per HTTP request: long enough for a slow provider, short for cron

_ACCOUNT_KEYS = {
    "provider",
    "client_id",
    "client_secret",
    "tenant",
    "store",
    "scopes",
    "store_read",
    "store_write",
    "store_erase",
    "signed_in_as",
    "smtp",
    "imap",
    "pop",
    "notify_command",
}
_PROVIDER_KEYS = {
    "issuer",
    *ENDPOINTS,
    "scopes",
    "smtp",
    "imap",
    "pop",
    "hosts",
    "redirect_host",
    "device_flow",
    "scope_on_refresh",
    "tenant",
    "identity_scopes",
    "redirect_uri",
}
_TOP_KEYS = {"accounts", "providers", "timeout", "notify_command"}


@record
class Account:
    """One mail account: who it is, which provider and client, where its refresh token lives."""

    name: str
    provider: Provider
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    store: StoreKind = "file"
    store_read: tuple[str, ...] = ()
    store_write: tuple[str, ...] = ()
    store_erase: tuple[str, ...] = ()
    signed_in_as: str | None = None
    notify_command: tuple[str, ...] = ()  # run when the account needs the person (notify.py)

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.provider.scopes

    @property
    def hosts(self) -> frozenset[str]:
        return self.provider.hosts

    def fingerprint(self) -> str:
        """What a cached access token was issued for; a change here makes the cache stale."""
        parts = [
            self.provider.name,
            self.provider.token_endpoint or self.provider.issuer or "",
            self.client_id or "",
            " ".join(self.scopes),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    def authorize_command(self) -> str:
        return f"oauth-helper authorize {shlex.quote(self.name)}"


@record
class Config:
    path: str  # as given (--config) or the default; not a pathlib.Path: a refresh does without pathlib
    accounts: Mapping[str, Account]
    providers: Mapping[str, Provider]
    timeout: float = DEFAULT_TIMEOUT
    exists: bool = True

    def account(self, name: str) -> Account:
        found = self.accounts.get(name)
        if found is None:
            folded = [a for key, a in self.accounts.items() if key.lower() == name.lower()]
            if len(folded) == 1:
                found = folded[0]
        if found is None:
            import difflib

            close = difflib.get_close_matches(name, list(self.accounts), n=1)
            hint = f"did you mean {close[0]!r}? A new account: " if close else ""
            raise UnknownAccount(
                f"no account {name!r} in {self.path}; {hint}run: oauth-helper authorize "
                f"{shlex.quote(name)}"
            )
        return found


def config_path(explicit: str | os.PathLike[str] | None) -> str:
    return os.fspath(explicit) if explicit is not None else paths.default_config_file()


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config file. A missing file is an empty configuration."""
    path = config_path(explicit)
    raw = read_trusted(path)
    if raw is None:
        return Config(path=path, accounts={}, providers=dict(BUILTIN), exists=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not valid UTF-8") from None
    from . import configcache

    data = configcache.parsed(raw, path)
    return _Builder(text, path).build(data if data is not None else _toml(text, path))


def remember(path: str) -> None:
    """After a refresh succeeded: keep the config's parse for the next refresh (configcache).

    Only then, so that a command that failed (an unknown account, a dead grant) leaves no file
    behind. Reads the file again rather than trusting what was loaded: an entry is only ever
    what tomllib makes of the bytes it is keyed by. Never fails.
    """
    from . import configcache

    try:
        raw = read_trusted(path)
        if raw is None or configcache.parsed(raw, path) is not None:
            return
        configcache.keep(raw, path, _toml(raw.decode("utf-8"), path))
    except (ConfigError, UnicodeDecodeError):
        pass  # edited into something broken since: the next load reports it


def read_trusted(path: str | os.PathLike[str]) -> bytes | None:
    """The config file's bytes (None if missing), refused under the one trust rule (trust.py)."""
    from . import trust

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    try:
        trust.check_file(str(path), os.fstat(fd))
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(MAX_CONFIG_BYTES + 1)[:MAX_CONFIG_BYTES]
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    finally:
        os.close(fd)


def parse(text: str, path: str) -> Config:
    return _Builder(text, path).build(_toml(text, path))


def _toml(text: str, path: str) -> dict[str, Any]:
    # Imported here: a refresh usually finds the parsed file in configcache instead.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10
        import tomli as tomllib  # a runtime dependency below 3.11
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_message(e, text, path)) from None


# tomllib's wording, as the people editing a config file would say it (keyed by its start).
_TOML_PLAIN = (
    ("illegal character '\\n'", "a string is not closed on this line (a quote is missing)"),
    ("cannot declare", "this table is already declared above; merge the two into one"),
    ("cannot overwrite a value", "this key is already set above; keep only one of them"),
    ("invalid value", "not a valid value (text needs quotes, lists [ ], yes/no is true/false)"),
    ("expected '=' after a key", "expected key = value"),
    ("unclosed array", "a list is not closed (a ] is missing)"),
    ("unclosed inline table", "an inline table is not closed (a } is missing)"),
    ("invalid statement", "not a TOML statement (expected key = value or a [table] header)"),
)


def _toml_message(e: Exception, text: str, path: str) -> str:
    """tomllib's error as ours: "FILE:LINE: what is wrong", in plain words.

    >>> _toml_message(ValueError("Cannot overwrite a value (at line 3, column 15)"), "", "c")
    'c:3: this key is already set above; keep only one of them (column 15)'
    """
    message = str(e).splitlines()[0] if str(e) else "invalid TOML"
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        line, column = int(found.group(1)), f" (column {found.group(2)})"
        what = message[: found.start()].strip().rstrip(".")
    else:  # "(at end of document)"
        line, column = text.count("\n") + 1, ""
        what = re.sub(r"\s*\(at end of document\)", "", message).strip().rstrip(".")
    lowered = what[:1].lower() + what[1:]
    plain = next((p for start, p in _TOML_PLAIN if lowered.lower().startswith(start)), lowered)
    return f"{path}:{line}: {plain}{column}"


def _did_you_mean(key: str, allowed: set[str], *, table: bool = False) -> str:
    """ "did you mean 'providers'? " for a near miss (a table header is shown as one), else ""."""
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    if not close:
        return ""
    return f"did you mean [{close[0]}.NAME]? " if table else f"did you mean {close[0]!r}? "


class _Builder:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.text = text
        self.notify_default: tuple[str, ...] = ()

    # -- locating mistakes -------------------------------------------------------------------
    def line_of(self, table: tuple[str, ...], key: str | None = None) -> int | None:
        from .tomllines import locate  # knows which lines TOML's multi-line values cover

        found = locate(self.text, table, key)
        if found is None and not table and key is not None:
            # A top-level name used only as a table header: [provider.x] for [providers.x].
            header = re.compile(rf'^\s*\[{{1,2}}\s*"?{re.escape(key)}"?\s*[.\]]', re.MULTILINE)
            match = header.search(self.text)
            found = self.text.count("\n", 0, match.start()) + 1 if match else None
        return found

    def error(self, table: tuple[str, ...], key: str | None, what: str) -> ConfigError:
        line = self.line_of(table, key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        name = ".".join(_quote_key(p) for p in table)
        subject = f"{name}.{key}" if key and name else key or name  # top-level keys: no dot
        return ConfigError(f"{where}: {subject}: {what}")

    # -- building ----------------------------------------------------------------------------
    def build(self, data: dict[str, Any]) -> Config:
        for key in data:
            if key not in _TOP_KEYS:
                hint = _did_you_mean(key, _TOP_KEYS, table=isinstance(data[key], dict))
                raise self.error(
                    (),
                    key,
                    f"unknown setting ({hint}expected one of {', '.join(sorted(_TOP_KEYS))})",
                )
        timeout = data.get("timeout", DEFAULT_TIMEOUT)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout <= 300
        ):
            raise self.error(
                (), "timeout", "must be a number of seconds above 0 and at most 300 (default 15)"
            )
        self.notify_default = self._command((), data, "notify_command")
        providers = dict(BUILTIN)
        for name, table in self._tables(data, "providers").items():
            providers[name] = self._provider(name, table)
        accounts = {
            name: self._account(name, table, providers)
            for name, table in self._tables(data, "accounts").items()
        }
        return Config(
            path=self.path, accounts=accounts, providers=providers, timeout=float(timeout)
        )

    def _tables(self, data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
        value = data.get(section, {})
        if not isinstance(value, dict):
            raise self.error((), section, "must be a table")
        for name, table in value.items():
            if not isinstance(table, dict):
                raise self.error((section,), name, "must be a table")
        return value

    def _provider(self, name: str, table: dict[str, Any]) -> Provider:
        where = ("providers", name)
        self._check_keys(where, table, _PROVIDER_KEYS)
        base = BUILTIN.get(name, Provider(name=name, registration_help=GENERIC_HELP))
        tenant = self._str(where, table, "tenant")
        if tenant is not None:
            base = with_tenant(base, tenant)
        changes: dict[str, Any] = {}
        for key in ("issuer", *ENDPOINTS):
            value = self._str(where, table, key)
            if value is not None:
                insecure = urlrule.insecure_reason(value)
                if insecure is not None:
                    raise self.error(where, key, insecure)
                changes[key] = value.rstrip("/") if key == "issuer" else value
        for key in ("scopes", "identity_scopes"):
            scopes = self._str_list(where, table, key)
            if scopes is not None:
                changes[key] = tuple(scopes)
        for key in ("smtp", "imap", "pop"):
            hostport = self._hostport(where, table, key)
            if hostport is not None:
                changes[key] = hostport
        hosts = self._str_list(where, table, "hosts")
        if hosts is not None:
            changes["other_hosts"] = tuple(hosts)
        redirect_host = self._str(where, table, "redirect_host")
        if redirect_host is not None:
            if redirect_host not in ("127.0.0.1", "localhost"):
                raise self.error(where, "redirect_host", 'must be "127.0.0.1" or "localhost"')
            changes["redirect_host"] = redirect_host
        redirect_uri = self._str(where, table, "redirect_uri")
        if redirect_uri is not None:
            from urllib.parse import urlsplit

            parts = urlsplit(redirect_uri)
            try:
                port = parts.port
            except ValueError:
                port = None
            if (
                parts.scheme != "http"
                or parts.hostname not in ("127.0.0.1", "localhost")
                or not port
            ):
                raise self.error(
                    where,
                    "redirect_uri",
                    "must be http://127.0.0.1:PORT/PATH or "
                    "http://localhost:PORT/PATH (the listener is on this machine)",
                )
            changes["redirect_uri"] = redirect_uri
        for key in ("device_flow", "scope_on_refresh"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise self.error(where, key, "must be true or false")
                changes[key] = table[key]
        provider = replace(base, **changes)
        if provider.token_endpoint is None and provider.issuer is None:
            raise self.error(where, None, "needs either issuer (for discovery) or token_endpoint")
        return provider

    def _account(self, name: str, table: dict[str, Any], providers: dict[str, Provider]) -> Account:
        where = ("accounts", name)
        self._check_keys(where, table, _ACCOUNT_KEYS)
        if "@" not in name:
            raise self.error(where, None, "an account is named by its mail address")
        provider_name = self._str(where, table, "provider")
        if provider_name is None:
            raise self.error(where, "provider", f"missing (one of {', '.join(sorted(providers))})")
        if provider_name not in providers:
            raise self.error(
                where,
                "provider",
                f"unknown provider {provider_name!r} (known: {', '.join(sorted(providers))})",
            )
        provider = providers[provider_name]
        tenant = self._str(where, table, "tenant")
        if tenant is not None:
            if provider.tenant is None:
                raise self.error(where, "tenant", f"provider {provider_name!r} has no tenants")
            provider = with_tenant(provider, tenant)
        scopes = self._str_list(where, table, "scopes")
        if scopes is not None:
            provider = replace(provider, scopes=tuple(scopes))
        hostports: dict[str, Any] = {}
        for key in ("smtp", "imap", "pop"):
            hostport = self._hostport(where, table, key)
            if hostport is not None:
                hostports[key] = hostport
        provider = replace(provider, **hostports)
        store = pick(self._str(where, table, "store") or "file", STORE_KINDS)
        if store is None:
            raise self.error(where, "store", f"must be one of {', '.join(STORE_KINDS)}")
        commands = {
            key: self._command(where, table, key)
            for key in ("store_read", "store_write", "store_erase")
        }
        if store == "command" and not (commands["store_read"] and commands["store_write"]):
            raise self.error(
                where, "store", 'store = "command" needs store_read and store_write commands'
            )
        client_secret = self._str(where, table, "client_secret")
        redact.register(client_secret)
        return Account(
            name=name,
            provider=provider,
            client_id=self._str(where, table, "client_id"),
            client_secret=client_secret,
            store=store,
            store_read=commands["store_read"],
            store_write=commands["store_write"],
            store_erase=commands["store_erase"],
            signed_in_as=self._str(where, table, "signed_in_as"),
            notify_command=self._command(where, table, "notify_command") or self.notify_default,
        )

    # -- typed getters -----------------------------------------------------------------------
    def _check_keys(self, where: tuple[str, ...], table: dict[str, Any], allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(
                    where,
                    key,
                    f"unknown setting ({_did_you_mean(key, allowed)}expected one of "
                    f"{', '.join(sorted(allowed))})",
                )

    def _str(self, where: tuple[str, ...], table: dict[str, Any], key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(where, key, "must be a non-empty string")
        return value.strip()

    def _str_list(
        self, where: tuple[str, ...], table: dict[str, Any], key: str
    ) -> list[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(where, key, "must be a list of strings")
        return value

    def _hostport(self, where: tuple[str, ...], table: dict[str, Any], key: str) -> HostPort | None:
        value = table.get(key)
        if value is None:
            return None
        parsed = parse_hostport(value) if isinstance(value, str) else None
        if parsed is None:
            raise self.error(where, key, 'must be "host:port"')
        return parsed

    def _command(self, where: tuple[str, ...], table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            try:
                argv = shlex.split(value)
            except ValueError as e:
                raise self.error(where, key, f"cannot split the command: {e}") from None
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            argv = value
        else:
            raise self.error(where, key, "must be a command string or a list of strings")
        if not argv:
            raise self.error(where, key, "is empty")
        return tuple(argv)


def parse_hostport(value: str, default_port: int | None = None) -> HostPort | None:
    """'host:port' (or '[v6]:port', or 'host' when a default port is given) -> (host, port)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        host, port = value.strip(), ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port:
        if default_port is None:
            return None
        return (host, default_port) if host else None
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.lower(), int(port)


def _quote_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"'


def account_or_none(config: Config, name: str) -> Account | None:
    try:
        return config.account(name)
    except UnknownAccount:
        return None
