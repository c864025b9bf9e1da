"""Built-in providers, and what a provider is: endpoints, scopes, mail hosts, redirect style.

One table per provider (as git-credential-oauth keeps one config-by-host table): every quirk of
a provider is a field of `Provider`, so no other module asks which provider it is, and adding a
provider touches this file only (tests/unit/test_provider_quirks.py keeps it so).
"""

from __future__ import annotations

from collections.abc import Mapping

from .grant import DAY, UNDOCUMENTED, Lifetime, Rule
from .record import record, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .kinds import Mechanism, RefreshStyle

HostPort = tuple[str, int]

GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
MICROSOFT_POP_SCOPE = "https://outlook.office.com/POP.AccessAsUser.All"
MICROSOFT_MAIL_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)
# Asked for at authorize time only, so the token response carries an id_token naming the user.
IDENTITY_SCOPES = ("openid", "email")
# Scopes that say who the user is or that a refresh token is wanted: never a mail scope.
NON_MAIL_SCOPES = frozenset({"openid", "email", "profile", "offline_access"})


# The Provider fields that hold endpoint URLs, named as in RFC 8414 discovery documents.
ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
)


@record
class Provider:
    """An OAuth2 provider as this tool needs it. Endpoints may be None until discovery fills them."""

    name: str
    # What people call it in messages ("Google"); "" means the name.
    display_name: str = ""
    # How a refresh token is traded: "rfc6749" by oauth.py, "google-auth" through google-auth.
    refresh_style: RefreshStyle = "rfc6749"
    # The client has a secret it must send (Google's desktop clients); False: a public client
    # may go without one.
    client_secret_required: bool = False
    issuer: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    scopes: tuple[str, ...] = ()
    smtp: HostPort | None = None
    imap: HostPort | None = None
    pop: HostPort | None = None
    # SMTP with implicit TLS, when the provider offers it beside `smtp` (aerc 0.14 needs it).
    smtps: HostPort | None = None
    # The SASL mechanisms the mail servers accept, best first (what `snippet` configures).
    sasl_mechanisms: tuple[Mechanism, ...] = ("xoauth2", "oauthbearer")
    drafts_folder: str = "Drafts"
    # Where the server itself files what is sent over SMTP (None: the client must save a copy).
    sent_by_server: str | None = None
    smtp_help: str = ""  # what the account needs before SMTP accepts a token
    other_hosts: tuple[str, ...] = ()  # more mail hostnames of the same service
    redirect_host: str = (
        "127.0.0.1"  # Microsoft wants http://localhost; Google takes the loopback IP
    )
    # A client registered with one fixed redirect URI (http://127.0.0.1:PORT/PATH or localhost):
    # the listener takes that port and path, and the URI is sent exactly as registered.
    redirect_uri: str | None = None
    device_flow: bool = True
    device_flow_refusal: str = ""  # why the device flow cannot be used, when it cannot
    identity_scopes: tuple[str, ...] = IDENTITY_SCOPES
    scope_on_refresh: bool = False  # Microsoft wants the scopes repeated on refresh
    registration_help: str = ""
    tenant: str | None = None
    # Scopes only an account that uses POP asks for (Microsoft's can force an admin consent).
    pop_scopes: tuple[str, ...] = ()
    # Extra parameters of the authorization request (Google: access_type=offline, prompt=consent).
    authorize_params: tuple[tuple[str, str], ...] = ()
    # OpenID Connect Core §11: offline_access is ignored unless the request says prompt=consent.
    # Microsoft issues refresh tokens without it, and there prompt=consent would ask users for a
    # consent their administrator may already have given (or must give).
    offline_needs_consent: bool = True
    # Other spellings of the issuer an id_token may carry in `iss` (only while `issuer` is one of
    # them); () means the issuer itself, or without an issuer any https URL (Microsoft's
    # multi-tenant endpoints answer with the tenant's own issuer).
    id_token_issuers: tuple[str, ...] = ()
    # Where the signed-in name is asked when the id_token does not say it (OpenID userinfo).
    userinfo_endpoint: str | None = None
    # RFC 9207: the provider puts `iss` in every authorization response (from its metadata).
    iss_in_authorization_response: bool = False
    # Whether `authorize` reads the issuer's discovery document for userinfo and RFC 9207
    # (False where everything needed is built in).
    read_metadata: bool = True
    # Why no refresh token came back, and the fix, where the provider has its own reason.
    no_refresh_token_fix: str = ""
    # What to tick (or ask for) when the provider grants fewer scopes than requested.
    scope_help: str = (
        "tick every permission on the consent page, or ask the provider's administrator to "
        "allow these scopes for the client"
    )
    # How its refresh tokens die: why at a stated expiry, and after how long unused (grant.py).
    grant_lifetime: Lifetime = UNDOCUMENTED
    # Where a user removes the app's access by hand (revoke --local, or no revocation endpoint).
    manual_revocation: str = ""
    # A non-standard endpoint that describes an access token, for `test` when the provider
    # has no RFC 7662 introspection (Google's tokeninfo).
    tokeninfo_endpoint: str | None = None
    # The audiences (JWT `aud` prefixes) of a token its mail servers accept, and that service's
    # name: `test` explains a login refused with a token for another audience.
    mail_audiences: tuple[str, ...] = ()
    mail_audience_name: str = ""
    # Mail domains whose addresses are this provider's (authorize without --provider).
    mail_domains: tuple[str, ...] = ()
    # Mail exchangers of custom domains it serves, as documented: a name, or ".suffix" for the
    # names below it; and what the service is called (detect.py).
    mx_hosts: tuple[str, ...] = ()
    mx_service: str = ""
    # The OpenID configuration URL of a domain's tenant ({domain} filled in; detect.py).
    tenant_discovery: str | None = None
    # Hosts of the token URIs other tools record for it (getmail6's token_uri; import_cmd.py).
    token_hosts: tuple[str, ...] = ()
    # Its name in mutt_oauth2.py's registrations table (import_cmd.py).
    mutt_oauth2_registration: str = ""
    # What the contrib/ examples call its account in clients that name accounts (msmtp -a).
    example_label: str = ""

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def label(self) -> str:
        return self.example_label or self.name

    @property
    def hosts(self) -> frozenset[str]:
        names = {hp[0].lower() for hp in (self.smtp, self.imap, self.pop) if hp}
        names.update(h.lower() for h in self.other_hosts)
        return frozenset(names)

    def needs_discovery(self) -> bool:
        return self.token_endpoint is None

    def accepted_id_token_issuers(self) -> tuple[str, ...]:
        """The `iss` an id_token may carry: the issuer's known spellings, else the issuer."""
        if self.issuer in self.id_token_issuers:
            return self.id_token_issuers
        return (self.issuer,) if self.issuer else ()


def mail_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes of a request that are about mail (what a granted scope must still contain)."""
    return tuple(s for s in scopes if s not in NON_MAIL_SCOPES)


GOOGLE_HELP = """\
Google needs an OAuth client of your own (no client ID is shipped with oauth-helper):
  1. https://console.cloud.google.com/ > create a project > APIs & Services > enable "Gmail API".
  2. OAuth consent screen: External (or Internal for Workspace); add the scope https://mail.google.com/.
  3. Publish the app ("In production"): apps left in "Testing" get refresh tokens that die after 7 days.
  4. Credentials > Create credentials > OAuth client ID > "Desktop app". Note the ID and the secret
     (a desktop client's secret is not confidential).
Then run: oauth-helper authorize {account} --provider google --client-id ID
(it asks for the secret with the input hidden; --client-secret would show it to every local user
in the process list)"""

MICROSOFT_HELP = """\
Microsoft needs an app registration of your own (no client ID is shipped with oauth-helper):
  1. https://entra.microsoft.com/ > App registrations > New registration. Supported account types:
     your organisation only (tenant = your domain or tenant ID), or any organisation and personal
     accounts (tenant = common).
  2. Authentication > Add a platform > "Mobile and desktop applications" > redirect URI http://localhost;
     set "Allow public client flows" to Yes (needed for --flow device).
  3. API permissions > Add > APIs my organization uses > "Office 365 Exchange Online" (delegated):
     IMAP.AccessAsUser.All, SMTP.Send (and POP.AccessAsUser.All if you use POP: then authorize
     with --pop); plus Microsoft Graph offline_access, openid, email, profile. An administrator
     may have to grant consent.
  4. SMTP AUTH must be enabled for the mailbox (Exchange admin centre) for sending.
Then run: oauth-helper authorize {account} --provider microsoft --client-id ID --tenant TENANT"""

GENERIC_HELP = """\
Register an OAuth2 client with your provider (a public/native client with a loopback redirect URI
http://127.0.0.1 on any port), describe the provider in the config file under [providers.NAME], then
run: oauth-helper authorize {account} --provider NAME --client-id ID"""

GOOGLE_TESTING = Rule(
    "google_testing_app",
    'Google ends refresh tokens of apps in "Testing" after 7 days (refresh_token_expires_in)',
    'the Google OAuth app is in "Testing", so its refresh tokens die after 7 days: publish it '
    '(Google Cloud console > APIs & Services > OAuth consent screen > Publish app, "In '
    'production"), then run: {authorize}',
)
# Google: "a refresh token that has not been used for six months" stops working (180 days
# here, to err early). Microsoft identity platform: refresh tokens expire after 90 days of
# inactivity (AADSTS700082).
GOOGLE_INACTIVITY = Rule("google_inactivity", "Google ends refresh tokens unused for 6 months")
MICROSOFT_INACTIVITY = Rule(
    "microsoft_inactivity", "Microsoft ends refresh tokens unused for 90 days"
)

GOOGLE = Provider(
    name="google",
    display_name="Google",
    refresh_style="google-auth",
    client_secret_required=True,
    issuer="https://accounts.google.com",
    authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    token_endpoint="https://oauth2.googleapis.com/token",
    revocation_endpoint="https://oauth2.googleapis.com/revoke",
    scopes=(GOOGLE_MAIL_SCOPE,),
    smtp=("smtp.gmail.com", 587),
    imap=("imap.gmail.com", 993),
    pop=("pop.gmail.com", 995),
    smtps=("smtp.gmail.com", 465),
    sasl_mechanisms=("oauthbearer", "xoauth2"),
    drafts_folder="[Gmail]/Drafts",
    sent_by_server="[Gmail]/Sent Mail",
    redirect_host="127.0.0.1",
    device_flow=False,
    device_flow_refusal=(
        "Google does not allow mail scopes in the device flow; use --flow browser, or --flow paste "
        "on a machine without a browser"
    ),
    registration_help=GOOGLE_HELP,
    # Google hands out a refresh token only for offline access, and only at consent time.
    authorize_params=(("access_type", "offline"), ("prompt", "consent")),
    offline_needs_consent=False,  # no offline_access scope at Google: access_type says it
    read_metadata=False,
    no_refresh_token_fix=(
        "Google sends one only at the first consent of an app; remove the app's access at "
        "https://myaccount.google.com/permissions, then authorize again"
    ),
    id_token_issuers=("https://accounts.google.com", "accounts.google.com"),
    userinfo_endpoint="https://openidconnect.googleapis.com/v1/userinfo",
    scope_help=(
        "on Google's consent screen, leave \"Read, compose, send, and permanently delete all your "
        "email from Gmail\" ticked (and add https://mail.google.com/ to the OAuth consent screen's "
        "scopes in the Google Cloud console)"
    ),
    grant_lifetime=Lifetime(GOOGLE_TESTING, (180 * DAY, GOOGLE_INACTIVITY)),
    manual_revocation="https://myaccount.google.com/permissions",
    tokeninfo_endpoint="https://oauth2.googleapis.com/tokeninfo",
    mail_domains=("gmail.com", "googlemail.com"),
    mx_hosts=("aspmx.l.google.com", ".aspmx.l.google.com", "smtp.google.com", ".googlemail.com"),
    mx_service="Google Workspace",
    token_hosts=("oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com"),
    mutt_oauth2_registration="google",
    example_label="gmail",
)

_MS_LOGIN = "https://login.microsoftonline.com"


def microsoft(tenant: str = "common") -> Provider:
    """Microsoft identity platform v2 endpoints for a tenant (common, organizations, consumers, an ID or domain)."""
    base = f"{_MS_LOGIN}/{tenant}/oauth2/v2.0"
    return Provider(
        name="microsoft",
        display_name="Microsoft",
        issuer=None,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        device_authorization_endpoint=f"{base}/devicecode",
        scopes=MICROSOFT_MAIL_SCOPES,
        smtp=("smtp.office365.com", 587),
        imap=("outlook.office365.com", 993),
        pop=("outlook.office365.com", 995),
        sasl_mechanisms=("xoauth2",),  # Exchange Online has no OAUTHBEARER
        sent_by_server="Sent Items",
        smtp_help='the tenant must allow SMTP AUTH for the mailbox ("Authenticated SMTP")',
        other_hosts=("smtp-mail.outlook.com", "imap-mail.outlook.com", "pop-mail.outlook.com"),
        redirect_host="localhost",
        identity_scopes=("openid", "email", "profile"),
        scope_on_refresh=True,
        registration_help=MICROSOFT_HELP,
        tenant=tenant,
        pop_scopes=(MICROSOFT_POP_SCOPE,),
        offline_needs_consent=False,
        scope_help=(
            "accept every permission on Microsoft's consent page; where users may not consent, "
            "an administrator must grant consent for the app's Office 365 Exchange Online "
            "permissions (Entra admin centre > App registrations > API permissions > Grant "
            "admin consent)"
        ),
        grant_lifetime=Lifetime(inactivity=(90 * DAY, MICROSOFT_INACTIVITY)),
        manual_revocation="https://myaccount.microsoft.com/ > Apps (work or school) or "
        "https://account.live.com/consent/Manage (personal accounts)",
        mail_audiences=(
            "https://outlook.office.com",
            "https://outlook.office365.com",
            "00000002-0000-0ff1-ce00-000000000000",  # Office 365 Exchange Online's app ID
        ),
        mail_audience_name="Exchange Online",
        mail_domains=("outlook.com", "hotmail.com", "live.com", "msn.com"),
        mx_hosts=(".mail.protection.outlook.com",),
        mx_service="Microsoft 365",
        tenant_discovery=f"{_MS_LOGIN}/{{domain}}/v2.0/.well-known/openid-configuration",
        token_hosts=(_MS_LOGIN.removeprefix("https://"),),
        mutt_oauth2_registration="microsoft",
        example_label="outlook",
    )


BUILTIN: Mapping[str, Provider] = {p.name: p for p in (GOOGLE, microsoft())}


def guess_provider(account: str) -> str | None:
    """The built-in provider for a well-known mail domain, else None (then we ask)."""
    domain = account.rpartition("@")[2].lower()
    return next((p.name for p in BUILTIN.values() if domain in p.mail_domains), None)


def grant_rule(code: str) -> Rule | None:
    """The built-in providers' grant rule with this code (a notification keeps only the code)."""
    rules = (rule for p in BUILTIN.values() for rule in p.grant_lifetime.rules())
    return next((rule for rule in rules if rule.code == code), None)


def serves_mx(provider: Provider, host: str) -> bool:
    """Whether a mail exchanger's name (any case, trailing dot or not) is one of the provider's.

    >>> serves_mx(GOOGLE, "ALT1.ASPMX.L.GOOGLE.COM."), serves_mx(GOOGLE, "smtp.google.com")
    (True, True)
    >>> serves_mx(GOOGLE, "aspmx.l.google.com.evil.example")
    False
    """
    name = host.lower().rstrip(".")
    return any(name == h or (h.startswith(".") and name.endswith(h)) for h in provider.mx_hosts)


def with_tenant(provider: Provider, tenant: str | None) -> Provider:
    """The Microsoft provider for another tenant; other providers have none."""
    if tenant is None or provider.tenant is None or tenant == provider.tenant:
        return provider
    fresh = microsoft(tenant)
    return replace(
        provider,
        tenant=tenant,
        authorization_endpoint=_retenant(provider.authorization_endpoint, provider.tenant, fresh),
        token_endpoint=_retenant(provider.token_endpoint, provider.tenant, fresh),
        device_authorization_endpoint=_retenant(
            provider.device_authorization_endpoint, provider.tenant, fresh
        ),
    )


def _retenant(url: str | None, old: str, fresh: Provider) -> str | None:
    # Endpoints overridden in the config keep their URL, only the tenant segment moves.
    if url is None:
        return None
    return url.replace(f"/{old}/", f"/{fresh.tenant}/", 1)
