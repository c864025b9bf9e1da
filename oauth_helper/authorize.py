"""`oauth-helper authorize ACCOUNT`: obtain a refresh token once, store it, record the account.

Order of work (DESIGN §3-§5, §7):
1. read the config; pick the provider, client ID and secret, the store and the flow; refuse
   what cannot work before anything interactive happens (Google and the device flow, a missing
   client ID with the registration steps, an unreachable store);
2. run the flow (browser, paste or device) and check who signed in (id_token);
3. only then save the refresh token (replacing any old one), record the account in the config
   file, and cache the new access token.
Everything is said on stderr; stdout stays empty.
"""

from __future__ import annotations

import getpass
import sys
import time

from . import cache, config, configedit, detect, hints, identity, oauth, pending, redact, state
from .config import Account
from .errors import (
    AuthorizationRequired,
    ConfigError,
    OAuthHelperError,
    ProviderError,
    StoreUnavailable,
    UsageError,
)
from .flows import browser, codeflow, device
from .flows.common import FlowContext, FlowUnavailable, Say, say_stderr
from .kinds import FLOW_KINDS, STORE_KINDS, pick
from .providers import Provider, guess_provider, mail_scopes, with_tenant
from .record import replace
from .settings import Settings
from .stores import open_store
from .stores.base import Secret, SecretStore, valid_refresh_token
from .stores.file_store import FileStore
from .stores.keyring_store import KeyringStore, real_backend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .kinds import FlowKind, StoreKind


def run(
    settings: Settings,
    *,
    account: str,
    provider: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    tenant: str | None = None,
    flow: str | None = None,
    no_browser: bool = False,
    port: int | None = None,
    store: str | None = None,
    allow_other_identity: bool = False,
    allow_unverified_identity: bool = False,
    pop: bool = False,
    login_hint: bool = True,
    select_account: bool = False,
    timeout: float = 300.0,
    say: Say = say_stderr,
) -> int:
    """Authorize ACCOUNT interactively; returns 0 or raises one of our errors."""
    redact.register(client_secret)
    name = account.strip()
    if "@" not in name or any(c.isspace() for c in name):
        raise UsageError(f"ACCOUNT must be the mail address, not {account!r}")
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: not a TCP port number")
    if not timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    cfg = config.load(settings.config_path)
    existing = config.account_or_none(cfg, name)
    if existing is not None:
        name = existing.name  # the spelling the config already uses
    elif provider is None and guess_provider(name) is None:
        # A custom domain: its MX records may tell.
        found = detect.for_account(name, timeout=cfg.timeout, say=say)
        provider, tenant = found.provider, tenant or found.tenant
    chosen = choose_provider(cfg, name, provider, existing)
    if tenant is not None:
        if chosen.tenant is None:
            raise UsageError(f"--tenant is for the microsoft provider, not {chosen.name}")
        chosen = with_tenant(chosen, tenant)
    if not chosen.scopes:
        raise ConfigError(
            f"provider {chosen.name} has no scopes, so only {' '.join(chosen.identity_scopes)} "
            "would be asked for: no mail scope and no refresh token. Add the mail scopes and "
            f"offline_access under [providers.{chosen.name}] in {cfg.path}, e.g. scopes = "
            '["offline_access", "<your mail scope>"]'
        )
    scopes = requested_scopes(chosen, pop=pop)
    flow_name = choose_flow(flow, no_browser)
    if flow_name == "device" and not chosen.device_flow:
        raise FlowUnavailable(
            chosen.device_flow_refusal
            or f"provider {chosen.name} does not allow the device flow; use "
            "--flow browser or --flow paste"
        )
    same_provider = existing is not None and existing.provider.name == chosen.name
    the_client_id = client_id or (existing.client_id if existing and same_provider else None)
    if not the_client_id:
        help_text = chosen.registration_help or ""
        if help_text:
            say(help_text.format(account=name))
        raise ConfigError(
            f"no client ID for {name}: register an OAuth client as described above, "
            "then run authorize again with --client-id"
        )
    store_kind, announcement = choose_store(store, existing, name)
    target = _open_target_store(name, store_kind, existing, chosen, the_client_id)
    secret_value, secret_in_config = _client_secret(
        client_secret, existing if same_provider else None, chosen, name
    )
    resolved = with_metadata(oauth.resolve(chosen, timeout=cfg.timeout), timeout=cfg.timeout)
    if flow_name != "device" and not resolved.authorization_endpoint:
        raise ConfigError(
            f"provider {chosen.name} has no authorization_endpoint; set it (or issuer) "
            f"under [providers.{chosen.name}] in {cfg.path}"
        )
    if announcement:
        say(announcement)
    ctx = FlowContext(
        account=name,
        provider=resolved,
        client_id=the_client_id,
        client_secret=secret_value,
        scopes=scopes,
        timeout=timeout,
        http_timeout=cfg.timeout,
        port=port or None,
        say=say,
        login_hint=login_hint,
        select_account=select_account,
    )
    response = _run_flow(ctx, flow_name, no_browser=no_browser, explicit=flow is not None)
    signed_in_as = _check_identity(ctx, response, allow_other_identity, allow_unverified_identity)
    check_granted_scopes(ctx, response)
    if not valid_refresh_token(response.refresh_token):
        raise NoRefreshToken(no_refresh_token_reason(resolved, scopes, cfg.path))

    # The authorization succeeded: now, and only now, replace what was stored. Under the
    # account lock: a refresh in flight finishes first, instead of overwriting the new grant
    # with the rotated old one afterwards.
    with cache.lock(name):
        now = time.time()
        expires_at = (
            now + response.refresh_token_expires_in if response.refresh_token_expires_in else None
        )
        target.save(
            Secret(
                refresh_token=response.refresh_token,
                client_secret=None if secret_in_config else secret_value,
                obtained_at=now,
                refresh_token_expires_at=expires_at,
            )
        )
        pending.clear(name)  # a kept rotated token of the old grant must not win over this one
        values: dict[str, object | None] = {
            "provider": chosen.name,
            "client_id": the_client_id,
            "store": store_kind,
            "signed_in_as": signed_in_as,
        }
        if pop and tuple(scopes) != requested_scopes(chosen):
            values["scopes"] = tuple(s for s in scopes if s not in chosen.identity_scopes)
        if tenant is not None:
            values["tenant"] = tenant
        elif chosen.tenant is None:
            values["tenant"] = None  # another provider before: its tenant would now be an error
        configedit.update_account(cfg.path, name, values)
        if existing is not None and existing.store != store_kind:
            _forget_old_store(existing, say, store_kind)
        _cache_access_token(settings, name, response, say)
        # The last failure is history now; what was granted is kept in the same write.
        state.record_refresh(name, True, scopes=(response.scope, ctx.scopes))
    who = f" (signed in as {signed_in_as})" if signed_in_as else ""
    say(
        f"{name}: authorized{who}. Refresh token saved in {target.describe()}; account recorded in "
        f"{cfg.path}. Try: oauth-helper token {name}"
    )
    return 0


# -- choices --------------------------------------------------------------------------------------


def choose_provider(
    cfg: config.Config, name: str, flag: str | None, existing: Account | None
) -> Provider:
    """--provider, else the account's provider, else a guess from the domain, else ask (or fail)."""
    wanted = flag or (existing.provider.name if existing else None) or guess_provider(name)
    if wanted is None:
        wanted = _ask_provider(cfg, name)
    if wanted not in cfg.providers:
        known = ", ".join(sorted(cfg.providers))
        raise UsageError(
            f"unknown provider {wanted!r} (known: {known}; others go under "
            f"[providers.NAME] in {cfg.path})"
        )
    if existing is not None and existing.provider.name == wanted:
        return existing.provider  # with the account's tenant, scopes and hosts
    return cfg.providers[wanted]


def _ask_provider(cfg: config.Config, name: str) -> str:
    known = ", ".join(sorted(cfg.providers))
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"cannot tell the provider of {name}; pass --provider ({known})")
    sys.stderr.write(f"Which provider serves {name}? ({known}): ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if not answer:
        raise UsageError(f"no provider chosen; pass --provider ({known})")
    return answer


def choose_flow(flow: str | None, no_browser: bool) -> FlowKind:
    chosen = None if flow is None else pick(flow, FLOW_KINDS)
    if flow is not None and chosen is None:
        raise UsageError(f"--flow must be one of {', '.join(FLOW_KINDS)}")
    if chosen == "browser" and no_browser:
        raise UsageError("--no-browser contradicts --flow browser; use --flow paste or device")
    if chosen is not None:
        return chosen
    return "paste" if no_browser else "browser"


def choose_store(
    flag: str | None, existing: Account | None, name: str
) -> tuple[StoreKind, str | None]:
    """(store kind, announcement or None): --store, else the account's, else keyring if usable, else file."""
    if flag is not None:
        kind = pick(flag, STORE_KINDS)
        if kind is None:
            raise UsageError(f"--store must be one of {', '.join(STORE_KINDS)}")
        return kind, None
    if existing is not None:
        return existing.store, None
    return choose_default_store(name)


def choose_default_store(name: str) -> tuple[StoreKind, str]:
    """Keyring where a real backend answers a test read; else the file store, announced with its path."""
    backend, reason = real_backend()
    if backend is not None:
        reason = KeyringStore(name).unavailable_reason()
        if reason is None:
            return (
                "keyring",
                f"The refresh token will be kept in the keyring ({KeyringStore(name).describe()}).",
            )
    path = FileStore(name).describe()
    return "file", (
        f"No usable keyring here ({reason}): the refresh token will be kept in the file "
        f"{path} (mode 0600). Use --store keyring or --store command to choose otherwise."
    )


def requested_scopes(provider: Provider, *, pop: bool = False) -> tuple[str, ...]:
    """The provider's scopes (and its POP scopes for an account that uses POP), then the
    identity scopes (openid email...), each once, order kept."""
    extra = provider.pop_scopes if pop else ()
    return tuple(dict.fromkeys((*provider.scopes, *extra, *provider.identity_scopes)))


class NoRefreshToken(ProviderError):
    """The authorization succeeded but the provider issued no refresh token (exit 78)."""


class ScopeNotGranted(AuthorizationRequired):
    """The provider (or the user, on the consent page) did not grant the mail scopes (exit 77)."""


def no_refresh_token_reason(provider: Provider, scopes: tuple[str, ...], path: object) -> str:
    """Why no refresh token came back, and the fix, as far as the request tells."""
    head = f"{provider.name} issued no refresh token, so nothing was stored: "
    if provider.no_refresh_token_fix:
        return head + provider.no_refresh_token_fix
    if "offline_access" not in scopes:
        return head + (
            f"offline_access is not among the scopes; add it to scopes under "
            f"[providers.{provider.name}] in {path}, then authorize again"
        )
    return head + (
        "it did not grant offline_access; allow the refresh_token grant (offline "
        "access) for this client at the provider, then authorize again"
    )


def check_granted_scopes(ctx: FlowContext, response: oauth.TokenResponse) -> None:
    """The granted scope must contain every mail scope asked for (absent scope: as requested)."""
    missing = oauth.missing_scopes(mail_scopes(ctx.scopes), response.scope)
    if missing:
        raise ScopeNotGranted(
            f"{ctx.provider.name} did not grant {' '.join(missing)} (granted: "
            f"{hints.printable(response.scope or '', 300) or 'nothing'}), so the mail server would "
            f"refuse the token; nothing was stored. Run authorize again and "
            f"{ctx.provider.scope_help}"
        )


def with_metadata(provider: Provider, *, timeout: float) -> Provider:
    """The provider with what its discovery document says about userinfo and RFC 9207."""
    if not provider.issuer or not provider.read_metadata:
        return provider
    try:
        data = oauth.discover(provider.issuer, timeout=timeout)
    except ProviderError:
        return provider  # endpoints configured by hand, no discovery document: nothing to add
    # A TransientError goes up (exit 75): going on without the metadata would silently drop
    # the RFC 9207 check the provider asked for.
    userinfo = data.get("userinfo_endpoint")
    return replace(
        provider,
        userinfo_endpoint=provider.userinfo_endpoint
        or (userinfo if oauth.is_http_url(userinfo) else None),
        iss_in_authorization_response=data.get("authorization_response_iss_parameter_supported")
        is True,
    )


def _open_target_store(
    name: str, kind: StoreKind, existing: Account | None, provider: Provider, client_id: str
) -> SecretStore:
    if existing is not None:
        account = replace(existing, store=kind)
    else:
        account = Account(name=name, provider=provider, client_id=client_id, store=kind)
    if kind == "command" and not (account.store_read and account.store_write):
        raise ConfigError(
            f'store "command" needs store_read and store_write commands in '
            f'[accounts."{name}"]; add them to the config, then run authorize again'
        )
    target = open_store(account, kind)
    reason = target.unavailable_reason()
    if reason is not None:
        hint = " (or choose --store file)" if kind != "file" else ""
        raise StoreUnavailable(
            f"the {kind} store cannot be used: {reason}{hint}; nothing was changed"
        )
    return target


def _client_secret(
    flag: str | None, existing: Account | None, provider: Provider, name: str
) -> tuple[str | None, bool]:
    """(client secret or None, True if it lives in the config file)."""
    if flag:
        return flag, False
    if existing is not None and existing.client_secret:
        redact.register(existing.client_secret)
        return existing.client_secret, True
    if existing is not None:
        try:
            stored = open_store(existing).load()
        except OAuthHelperError:
            stored = None
        if stored is not None and stored.client_secret:
            redact.register(stored.client_secret)
            return stored.client_secret, False
    if not provider.client_secret_required:
        return None, False  # a public client: no secret is sent
    if not (sys.stdin and sys.stdin.isatty()):
        raise ConfigError(
            f"{provider.title} desktop clients need their client secret: run this on a terminal "
            f"to be asked for it, or pass --client-secret (for {name})"
        )
    try:
        value = getpass.getpass(
            f"Client secret of {provider.name} client (input hidden): ", stream=sys.stderr
        ).strip()
    except EOFError:
        value = ""
    if not value:
        raise ConfigError(f"no client secret given; {provider.title} desktop clients need it")
    redact.register(value)
    return value, False


# -- the flow and what follows it -----------------------------------------------------------------


def _run_flow(
    ctx: FlowContext, flow_name: FlowKind, *, no_browser: bool, explicit: bool
) -> oauth.TokenResponse:
    if flow_name == "device":
        return device.run(ctx)

    interactive = bool(sys.stdin and sys.stdin.isatty())
    if flow_name == "paste":
        return codeflow.run_code_flow(ctx, use_browser=False, interactive=interactive)
    reason = None if explicit else browser.unavailable_reason()
    return codeflow.run_code_flow(
        ctx, use_browser=reason is None, browser_unavailable=reason or "", interactive=interactive
    )


def _check_identity(
    ctx: FlowContext, response: oauth.TokenResponse, allow_other: bool, allow_unverified: bool
) -> str | None:
    """The name to record as signed_in_as (None when it is ACCOUNT, or unverified and allowed)."""
    claims = identity.decode_claims(response.id_token) if response.id_token else None
    who = identity.signed_in(
        claims, ctx.provider.userinfo_endpoint, response.access_token, timeout=ctx.http_timeout
    )
    if who.name is None and allow_unverified:
        ctx.say(
            f"Warning: {ctx.provider.name} did not say which account signed in; stored as "
            f"{ctx.account} because of --allow-unverified-identity."
        )
    return identity.check(
        ctx.account,
        who,
        allow_other=allow_other,
        allow_unverified=allow_unverified,
        provider=ctx.provider.name,
    )


def _forget_old_store(old: Account, say: Say, new_kind: str) -> None:
    """The account moved to another store: delete the refresh token left in the old one."""
    store = open_store(old)
    try:
        if store.delete():
            say(f"Deleted the old refresh token from {store.describe()}.")
    except OAuthHelperError as e:
        say(
            f"Warning: the account now uses the {new_kind} store, but the old refresh token was "
            f"left in the {old.store} store: {e}"
        )


def _cache_access_token(
    settings: Settings, name: str, response: oauth.TokenResponse, say: Say
) -> None:
    """Drop the old cached access token and cache the new one, stamped with the new config."""
    try:
        cache.drop(name)
        cfg = config.load(settings.config_path)
        account = cfg.account(name)
        now = time.time()
        cache.store(
            account.name,
            cache.CachedToken(
                response.access_token,
                now + response.expires_in,
                account.fingerprint(),
                cache.config_stamp(str(cfg.path)),
                now,
            ),
        )
    except OAuthHelperError as e:
        say(f"Warning: the new access token was not cached ({e}); `token` will refresh it.")
