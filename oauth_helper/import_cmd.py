"""`oauth-helper import FILE`: take over a grant another helper already holds.

Sources: a mutt_oauth2.py token file (encrypted: decrypted by the user's own command, e.g.
`gpg --decrypt`), getmail6's token JSON (getmail-gmail-xoauth-tokens), or a plain JSON with
client_id / client_secret / refresh_token. No browser, no new registration.

Order of work: read and parse everything first (nothing written on any mistake); then save
the refresh token in our store and record the account (configedit), and verify the grant with
one refresh through the token engine (which keeps a rotated refresh token exactly as for
`token`). When that refresh says the grant is dead, both are undone: nothing half-imported
stays behind.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import authorize, cache, config, configedit, pending, redact, state, tokens
from .config import Account
from .errors import ConfigError, OAuthHelperError, UsageError
from .hints import printable
from .kinds import IMPORT_FORMATS
from .providers import BUILTIN, guess_provider, with_tenant
from .record import field, record
from .settings import Settings
from .stores import open_store
from .stores.base import Secret, valid_refresh_token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .kinds import StoreKind

MAX_SOURCE_BYTES = 1 << 20  # a token file is a few KB
DECRYPT_TIMEOUT = 120.0  # seconds: long enough for a pinentry prompt, not for ever


class ImportFailed(OAuthHelperError):
    """The verifying refresh failed; exit with that failure's own status (77, 75, 78...)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@record
class Grant:
    """What a source file says (flags fill the gaps)."""

    source_format: str
    account: str | None = None
    provider: str | None = None
    tenant: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str = field(default="", repr=False)


def run(
    settings: Settings,
    *,
    source: str,
    source_format: str = "auto",
    decrypt_command: str | None = None,
    account: str | None = None,
    provider: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    tenant: str | None = None,
    store: str | None = None,
    say: Any = None,
) -> int:
    redact.register(client_secret)
    tell = say or _stderr
    grant = parse(_read(Path(source), decrypt_command), source_format)
    redact.register(grant.refresh_token)
    redact.register(grant.client_secret)
    name = (account or grant.account or "").strip()
    if "@" not in name or any(c.isspace() for c in name):
        raise UsageError(
            f"{source}: no mail address in the file; pass --account ADDRESS"
            if not name
            else f"ACCOUNT must be the mail address, not {name!r}"
        )
    cfg = config.load(settings.config_path)
    if config.account_or_none(cfg, name) is not None:
        raise UsageError(
            f"{name} is already configured in {cfg.path}; to replace its grant run "
            f"oauth-helper revoke {shlex.quote(name)} --forget first"
        )
    provider_name = provider or grant.provider or guess_provider(name)
    if provider_name is None:
        raise UsageError(
            f"cannot tell the provider of {name}; pass --provider "
            f"({', '.join(sorted(cfg.providers))})"
        )
    if provider_name not in cfg.providers:
        raise UsageError(
            f"unknown provider {provider_name!r} (known: {', '.join(sorted(cfg.providers))})"
        )
    chosen = cfg.providers[provider_name]
    the_tenant = tenant or grant.tenant
    if the_tenant is not None and chosen.tenant is None:
        the_tenant = None  # only Microsoft has tenants; a getmail token_uri of another provider
    the_client_id = client_id or grant.client_id
    if not the_client_id:
        raise UsageError(
            f"{source}: the file holds no client ID ({grant.source_format} keeps it elsewhere); "
            "pass --client-id, the one the grant was issued to"
        )
    secret = client_secret or grant.client_secret
    if chosen.client_secret_required and not secret:
        raise UsageError(
            f"{chosen.title} desktop clients need their client secret: pass --client-secret"
        )
    if not valid_refresh_token(grant.refresh_token):
        raise UsageError(f"{source}: no usable refresh_token in the file")

    store_kind, announcement = authorize.choose_store(store, None, name)
    if the_tenant is not None:
        chosen = with_tenant(chosen, the_tenant)
    target = authorize._open_target_store(name, store_kind, None, chosen, the_client_id)
    if announcement:
        tell(announcement)
    with cache.lock(name):
        target.save(
            Secret(refresh_token=grant.refresh_token, client_secret=secret, obtained_at=time.time())
        )
        pending.clear(name)
        values: dict[str, object | None] = {
            "provider": provider_name,
            "client_id": the_client_id,
            "store": store_kind,
        }
        if the_tenant is not None:
            values["tenant"] = the_tenant
        configedit.update_account(cfg.path, name, values)
        cache.drop(name)
    try:
        token = tokens.get_access_token(settings, name, force_refresh=True)
    except OAuthHelperError as e:
        _undo(cfg.path, name, store_kind, chosen, the_client_id, tell)
        raise ImportFailed(
            f"the imported grant did not refresh ({e}); nothing was imported", e.exit_code
        ) from None
    left = int(token.expires_at - time.time())
    tell(
        f"{name}: imported from {grant.source_format} ({source}) and verified with one refresh "
        f"(a new access token, valid {left} s). Refresh token saved in {target.describe()}; "
        f"account recorded in {cfg.path}. Try: oauth-helper token {name}"
    )
    return 0


def parse(data: bytes, source_format: str = "auto") -> Grant:
    """The grant in a token file's (decrypted) bytes; UsageError for anything else."""
    if source_format not in IMPORT_FORMATS:
        raise UsageError(f"--from must be one of {', '.join(IMPORT_FORMATS)}")
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise UsageError(
            "the token file is not JSON (encrypted? pass --decrypt-command, e.g. 'gpg --decrypt')"
        ) from None
    if not isinstance(obj, dict):
        raise UsageError("the token file is not a JSON object")
    if source_format == "auto":
        if "registration" in obj and "email" in obj:
            source_format = "mutt_oauth2"
        elif "token_uri" in obj and "user" in obj:
            source_format = "getmail"
        else:
            source_format = "json"

    def text(key: str) -> str | None:
        value = obj.get(key)
        return value if isinstance(value, str) and value else None

    refresh_token = text("refresh_token") or ""
    if source_format == "mutt_oauth2":
        # mutt_oauth2.py keeps client_id/secret in its own registrations table, not the file.
        registrations = {p.mutt_oauth2_registration: p.name for p in BUILTIN.values()}
        registration = text("registration")
        return Grant(
            "mutt_oauth2.py",
            text("email"),
            registrations.get(registration) if registration else None,
            None,
            None,
            None,
            refresh_token,
        )
    if source_format == "getmail":
        provider, tenant = _provider_of_token_uri(text("token_uri"))
        return Grant(
            "getmail6",
            text("user"),
            provider,
            tenant,
            text("client_id"),
            text("client_secret"),
            refresh_token,
        )
    return Grant(
        "JSON",
        text("account") or text("email") or text("user"),
        text("provider"),
        text("tenant"),
        text("client_id"),
        text("client_secret"),
        refresh_token,
    )


def _provider_of_token_uri(uri: str | None) -> tuple[str | None, str | None]:
    if not uri:
        return None, None
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    for provider in BUILTIN.values():
        if host in provider.token_hosts:
            # A provider with tenants has the tenant as the path's first segment.
            segments = [s for s in parts.path.split("/") if s] if provider.tenant else []
            return provider.name, segments[0] if segments else None
    return None, None


def _read(path: Path, decrypt_command: str | None) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SOURCE_BYTES + 1)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise UsageError(f"{path}: larger than a token file can be")
    if not decrypt_command:
        return raw
    argv = shlex.split(decrypt_command)
    if not argv:
        raise UsageError("--decrypt-command is empty")
    try:
        done = subprocess.run(
            argv, input=raw, capture_output=True, timeout=DECRYPT_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise ConfigError(f"--decrypt-command: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"--decrypt-command did not finish in {DECRYPT_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        # Its stderr says why (no secret key, agent locked); its stdout could be plaintext.
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        why = printable(lines[-1], 200) if lines else ""
        raise ConfigError(
            f"--decrypt-command failed (exit {done.returncode})" + (f": {why}" if why else "")
        )
    return done.stdout


def _undo(
    path: str, name: str, store_kind: StoreKind, provider: Any, client_id: str, tell: Any
) -> None:
    try:
        open_store(
            Account(name=name, provider=provider, client_id=client_id, store=store_kind)
        ).delete()
        configedit.remove_account(path, name)
        cache.drop(name)
        state.forget(name)  # the failed refresh recorded a problem for an account now gone
    except OAuthHelperError as e:
        tell(
            f"Warning: could not undo the import of {name} ({e}); run: oauth-helper revoke "
            f"{shlex.quote(name)} --forget"
        )


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
