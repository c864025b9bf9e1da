"""`snippet CLIENT ACCOUNT`: a ready configuration block for a mail client, and the contrib/ files.

One source of truth: the contrib/ examples are these renderings for two example accounts
(scripts/gen-contrib writes them, tests/unit/test_snippet.py proves they are current), so what
a user gets from `snippet` is what the end-to-end tests run against real clients.

What a renderer knows is what was measured with the Debian 12 clients (docs in the comments it
writes); what it takes from the provider is the hosts, ports, SASL mechanisms and folders
(fields of `providers.Provider`), so nothing here asks which provider it is.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import config as config_mod
from .errors import ConfigError
from .mailservice import IMPLICIT_TLS_PORTS
from .providers import GOOGLE, HostPort, Provider, microsoft
from .record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .settings import Settings

SYSTEM_CAFILE = "/etc/ssl/certs/ca-certificates.crt"


@record
class Target:
    """One account as a client configuration needs it."""

    account: str
    provider: Provider
    exe: str = "oauth-helper"  # the command that runs oauth-helper
    git_helper: str = "oauth-helper"  # git's credential.helper value

    @property
    def label(self) -> str:
        """What the examples call the account in clients that name accounts (msmtp -a NAME)."""
        return self.provider.label

    @property
    def token_command(self) -> str:
        """The shell command printing the raw access token."""
        return f"{shlex.quote(self.exe)} token {shlex.quote(self.account)}"

    @property
    def url_user(self) -> str:
        return self.account.replace("%", "%25").replace("@", "%40")

    def imap(self, client: str) -> HostPort:
        return self._need(self.provider.imap, "imap", client)

    def smtp(self, client: str) -> HostPort:
        return self._need(self.provider.smtp, "smtp", client)

    def implicit_smtp(self) -> HostPort | None:
        """SMTP over implicit TLS: the provider's own port 465, or `smtp` when it is one."""
        if self.provider.smtp and self.provider.smtp[1] in IMPLICIT_TLS_PORTS:
            return self.provider.smtp
        return self.provider.smtps

    def supports(self, mechanism: str) -> bool:
        return mechanism in self.provider.sasl_mechanisms

    def _need(self, hostport: HostPort | None, key: str, client: str) -> HostPort:
        if hostport is None:
            raise ConfigError(
                f"provider {self.provider.name!r} names no {key.upper()} server, which {client} "
                f'needs: add {key} = "HOST:PORT" to [accounts."{self.account}"] or '
                f"[providers.{self.provider.name}]"
            )
        return hostport


def _tls_word(port: int) -> str:
    return "implicit TLS" if port in IMPLICIT_TLS_PORTS else "STARTTLS"


def _smtp_help(t: Target, indent: str = "") -> list[str]:
    return [f"{indent}# SMTP: {t.provider.smtp_help}."] if t.provider.smtp_help else []


def _header(client: str, lines: Sequence[str], targets: Sequence[Target]) -> list[str]:
    first = targets[0]
    out = [lines[0], "#"]
    out.append(f"#   {first.exe} authorize {first.account}" + "      # once")
    out.extend(lines[1:])
    out.append(f"# Made by: oauth-helper snippet {client} {first.account}")
    return out


# -- the renderers: one per client -------------------------------------------------------------


def _msmtp(targets: Sequence[Target]) -> str:
    out = _header(
        "msmtp",
        [
            "# msmtp (>= 1.8.6) with oauth-helper: ~/.msmtprc or ~/.config/msmtp/config (mode 0600).",
            f"#   msmtp -a {targets[0].label} recipient@example.org < message",
            "#",
            '# msmtp cannot pick an OAuth mechanism by itself ("auth on" never chooses them): each',
            '# account names it with "auth xoauth2" or "auth oauthbearer", and "passwordeval" prints',
            "# the raw access token (what `oauth-helper token` prints); msmtp builds the SASL string.",
            "# msmtp's command-line limit caps an XOAUTH2 token at about 3,000 characters.",
        ],
        targets,
    )
    out += ["", "defaults", "tls on", f"tls_trust_file {SYSTEM_CAFILE}"]
    for t in targets:
        host, port = t.smtp("msmtp")
        blocks = [(t.label, (host, port), t.provider.sasl_mechanisms[0])]
        implicit = t.implicit_smtp()
        if implicit is not None and implicit != (host, port):
            blocks.append((f"{t.label}-{implicit[1]}", implicit, t.provider.sasl_mechanisms[-1]))
        mechs = " and ".join(m.upper() for m in t.provider.sasl_mechanisms)
        for i, (label, (h, p), mech) in enumerate(blocks):
            out.append("")
            if i == 0:
                out.append(
                    f"# {t.account}: port {p} with {_tls_word(p)}; the server accepts {mechs}."
                )
                out += _smtp_help(t)
            else:
                out.append(
                    f"# {t.account} again, over {_tls_word(p)} on port {p}, with {mech.upper()}."
                )
            out += [
                f"account {label}",
                f"host {h}",
                f"port {p}",
                f"tls_starttls {'off' if p in IMPLICIT_TLS_PORTS else 'on'}",
                f"from {t.account}",
                f"user {t.account}",
                f"auth {mech}",
                f'passwordeval "{t.token_command}"',
            ]
    out += ["", f"account default : {targets[0].label}"]
    return "\n".join(out) + "\n"


def _mutt_family(client: str, targets: Sequence[Target]) -> str:
    (t,) = targets
    neo = client == "neomutt"
    name = "NeoMutt (Debian 12: 20220429)" if neo else "mutt (>= 2.0; Debian 12 ships 2.2)"
    mechs: list[str] = list(t.provider.sasl_mechanisms)
    if neo and "xoauth2" in mechs:
        mechs = ["xoauth2"] + [m for m in mechs if m != "xoauth2"]
    lines = [
        f"# {name} with oauth-helper for {t.account}.",
        f'#   {client} -F ~/.config/{client}/{client}rc        # or "source" this file',
        "#",
        f"# {'NeoMutt' if neo else 'mutt'} builds the SASL string itself: the refresh commands "
        "print the raw access",
        "# token (what `oauth-helper token` prints). It runs them whenever it needs a token, and",
        "# oauth-helper answers from its cache until the token is close to expiry.",
        "# OAuth for IMAP is offered only over TLS (imaps:// or STARTTLS).",
        f"# The server accepts {' and '.join(m.upper() for m in t.provider.sasl_mechanisms)}; "
        "they are tried in the order given.",
    ]
    if neo:
        lines += [
            "# NeoMutt 20220429 refuses OAUTHBEARER tokens of 512 characters or more and XOAUTH2",
            "# tokens of 4,096 or more; access tokens that are JWTs (Microsoft's: 1,500-2,500",
            "# characters) pass only as XOAUTH2, so XOAUTH2 comes first.",
        ]
    out = _header(client, lines, targets)
    ihost, iport = t.imap(client)
    ischeme = "imaps" if iport in IMPLICIT_TLS_PORTS else "imap"
    implicit = t.implicit_smtp()
    shost, sport = implicit if implicit is not None else t.smtp(client)
    sscheme = "smtps" if sport in IMPLICIT_TLS_PORTS else "smtp"
    authenticators = ":".join(mechs)
    out += [
        "",
        f'set from = "{t.account}"',
        "set use_from = yes",
        "",
        f"# IMAP over {_tls_word(iport)}.",
        f'set imap_user = "{t.account}"',
        f'set folder = "{ischeme}://{ihost}:{iport}/"',
        f'set {"spool_file" if neo else "spoolfile"} = "+INBOX"',
        f'set postponed = "+{t.provider.drafts_folder}"',
        f'set imap_authenticators = "{authenticators}"',
        f'set imap_oauth_refresh_command = "{t.token_command}"',
        "",
        f"# SMTP over {_tls_word(sport)} (port {sport}).",
        *_smtp_help(t),
    ]
    if neo:
        out += [f'set smtp_user = "{t.account}"', f'set smtp_url = "{sscheme}://{shost}:{sport}/"']
    else:
        out += [
            '# The user name belongs in the URL; "@" is written %40.',
            f'set smtp_url = "{sscheme}://{t.url_user}@{shost}:{sport}/"',
        ]
    out += [
        f'set smtp_authenticators = "{authenticators}"',
        f'set smtp_oauth_refresh_command = "{t.token_command}"',
    ]
    if t.provider.sent_by_server:
        out += [
            f'# The server files what you send in "{t.provider.sent_by_server}" itself; a copy '
            "would be a duplicate.",
            "unset record",
        ]
    else:
        out.append('set record = "+Sent"')
    out += [
        "",
        "# Refuse plain text; trust the system's CA bundle.",
        "set ssl_force_tls = yes",
        "set ssl_starttls = yes",
        f'set ssl_ca_certificates_file = "{SYSTEM_CAFILE}"',
    ]
    return "\n".join(out) + "\n"


def _mutt(targets: Sequence[Target]) -> str:
    return _mutt_family("mutt", targets)


def _neomutt(targets: Sequence[Target]) -> str:
    return _mutt_family("neomutt", targets)


def _git(targets: Sequence[Target]) -> str:
    (t,) = targets
    host, port = t.smtp("git send-email")
    mech = "xoauth2" if t.supports("xoauth2") else t.provider.sasl_mechanisms[0]
    out = _header(
        "git",
        [
            f"# git send-email as {t.account}, with an OAuth2 access token from oauth-helper as the",
            '# "password" through git\'s credential helper protocol (gitcredentials(7)).',
            "#   git config --global --add include.path /path/to/this.gitconfig   # at the END",
            f"#   git send-email --to={t.account} -1",
            "#",
            "# On Debian 12 / Ubuntu 22.04 / 24.04 (Authen::SASL older than 2.1800) git send-email",
            '# dies with "No SASL mechanism found": add the mechanism modules of contrib/perl',
            "# (see contrib/git/README.md), or send through msmtp (sendemail.sendmailCmd).",
        ],
        targets,
    )
    out += [
        "",
        "[sendemail]",
        f"\tsmtpServer = {host}",
        f"\t# {_tls_word(port)} on port {port}. git matches the [credential] section below on",
        "\t# the port too: keep the two in step.",
        f"\tsmtpServerPort = {port}",
        f"\tsmtpEncryption = {'ssl' if port in IMPLICIT_TLS_PORTS else 'tls'}",
        f"\tsmtpUser = {t.account}",
        *_smtp_help(t, "\t"),
        f"\t# The server accepts {' and '.join(m.upper() for m in t.provider.sasl_mechanisms)}.",
        f"\tsmtpAuth = {mech.upper()}",
        "\t# The server is verified against the system's CA certificates; name a CA file or",
        "\t# directory only if you need another one:",
        "\t# smtpSSLCertPath = /etc/ssl/certs",
        "",
        "# Ask oauth-helper, and only oauth-helper, for the password of this SMTP server. The empty",
        "# `helper =` clears every helper configured before this line (store, cache, libsecret,",
        "# osxkeychain, manager...): they would otherwise be offered the access token to keep.",
        "# oauth-helper answers `store` with nothing; `erase` (git's reaction to a refused login)",
        "# drops its cached access token, never the refresh token.",
        f'[credential "smtp://{host}:{port}"]',
        "\thelper =",
        f"\thelper = {_git_helper_value(t.git_helper)}",
        f"\tusername = {t.account}",
    ]
    return "\n".join(out) + "\n"


def _git_helper_value(helper: str) -> str:
    """git runs an absolute helper path through the shell, split on spaces: a path with a space
    needs the `!` (shell snippet) form with the path quoted."""
    if any(c.isspace() for c in helper):
        return "!" + shlex.quote(helper)
    return helper


def _mbsync(targets: Sequence[Target]) -> str:
    (t,) = targets
    host, port = t.imap("mbsync")
    lines = [
        "# isync / mbsync (Debian 12: 1.4.4) with oauth-helper: ~/.mbsyncrc",
        "#   apt install isync libsasl2-modules-kdexoauth2     # XOAUTH2 for Cyrus SASL",
        f"#   mkdir -p ~/Mail/{t.label} && mbsync {t.label}",
        "#",
        "# mbsync hands the PassCmd output to Cyrus SASL as the password; the kdexoauth2 plugin",
        "# turns it into the XOAUTH2 response. There is no OAUTHBEARER plugin in Debian 12.",
        '# When the server rejects the token, mbsync 1.4.4 waits for ever ("IMAP wants more',
        '# steps"): run it from cron/systemd under a timeout (e.g. "timeout 300 mbsync -a").',
    ]
    if not t.supports("xoauth2"):
        lines.append(
            f"# Warning: provider {t.provider.name!r} is not known to accept XOAUTH2, the only "
            "mechanism mbsync has."
        )
    out = _header("mbsync", lines, targets)
    out += [
        "",
        f"IMAPAccount {t.label}",
        f"Host {host}",
        f"Port {port}",
        f"User {t.account}",
        f'PassCmd "{t.token_command}"',
        "AuthMechs XOAUTH2",
        f"SSLType {'IMAPS' if port in IMPLICIT_TLS_PORTS else 'STARTTLS'}",
        f"CertificateFile {SYSTEM_CAFILE}",
        "",
        f"IMAPStore {t.label}-remote",
        f"Account {t.label}",
        "",
        f"MaildirStore {t.label}-local",
        f"Path ~/Mail/{t.label}/",
        f"Inbox ~/Mail/{t.label}/INBOX",
        "SubFolders Verbatim",
        "",
        f"Channel {t.label}",
        f"Far :{t.label}-remote:",
        f"Near :{t.label}-local:",
        "Patterns INBOX",
        "Create Near",
        "SyncState *",
    ]
    return "\n".join(out) + "\n"


def _fetchmail(targets: Sequence[Target]) -> str:
    (t,) = targets
    exe = t.exe
    lines = [
        "# fetchmail 6.4 (Debian 12: 6.4.37) with oauth-helper: ~/.fetchmailrc (mode 0600).",
        f'#   fetchmail {t.label}-imap                        # or just "fetchmail"',
        "#",
        '# fetchmail 6.4 cannot do OAuth ("auth oauthbearer" is a syntax error). Its "plugin"',
        "# option runs a command per connection and speaks IMAP/POP3 over its stdin/stdout:",
        '# "oauth-helper preauth" logs in over TLS and hands fetchmail an authenticated session;',
        '# "auth ssh" tells fetchmail not to log in itself, and "sslproto \'\'" not to try STARTTLS',
        "# inside the session the plugin already secured. fetchmail splits the plugin command on",
        "# spaces and ignores quotes, so no argument may contain a space. %h, %p: host and port.",
        "# fetchmail 7 (not in Debian 12) does OAuth itself: there `auth oauthbearer` (or",
        '# xoauth2) with passwordeval "oauth-helper token ACCOUNT" replaces the plugin.',
    ]
    if any(c.isspace() for c in exe):
        lines.append(f"# ({exe!r} has a space: the plugin runs `oauth-helper` from PATH instead.)")
        exe = "oauth-helper"
    mech = "" if t.supports("xoauth2") else f" --mechanism {t.provider.sasl_mechanisms[0]}"
    ihost, iport = t.imap("fetchmail")
    blocks = [("imap", "IMAP", ihost, iport, "")]
    if t.provider.pop is not None:
        blocks.append(("pop3", "POP3", *t.provider.pop, " --pop3"))
        if t.provider.pop_scopes:
            lines.append(
                "# POP needs the provider's POP scope: authorize with --pop to fetch over POP3."
            )
    out = _header("fetchmail", lines, targets)
    out += ["", "set no bouncemail"]
    for suffix, protocol, host, port, flag in blocks:
        out += [
            "",
            f"poll {t.label}-{suffix} via {host} protocol {protocol} port {port}",
            f'    plugin "{exe} preauth{flag}{mech} {t.account} %h %p"',
            "    auth ssh",
            f'    user "{t.account}"',
            "    sslproto ''",
            "    keep",
            "    smtphost localhost",
        ]
    return "\n".join(out) + "\n"


def _offlineimap(targets: Sequence[Target]) -> str:
    (t,) = targets
    host, port = t.imap("offlineimap")
    out = _header(
        "offlineimap",
        [
            "# offlineimap3 (Debian 12: the 2021 snapshot) with oauth-helper: ~/.offlineimaprc",
            "#   offlineimap -o                              # one sync",
            "#",
            "# offlineimap speaks XOAUTH2 only. oauth2_access_token_eval is a Python expression",
            "# evaluated at each login; it runs oauth-helper, which answers from its cache. Do not",
            "# set oauth2_client_id/secret or oauth2_refresh_token: oauth-helper does the refreshing.",
        ],
        targets,
    )
    argv = [t.exe, "token", t.account]
    out += [
        "",
        "[general]",
        f"accounts = {t.label}",
        "metadata = ~/.local/share/offlineimap",
        "",
        f"[Account {t.label}]",
        f"localrepository = {t.label}-local",
        f"remoterepository = {t.label}-remote",
        "",
        f"[Repository {t.label}-local]",
        "type = Maildir",
        f"localfolders = ~/Mail/{t.label}",
        "",
        f"[Repository {t.label}-remote]",
        "type = IMAP",
        f"remotehost = {host}",
        f"remoteport = {port}",
        f"remoteuser = {t.account}",
        f"ssl = {'yes' if port in IMPLICIT_TLS_PORTS else 'no'}",
    ]
    if port not in IMPLICIT_TLS_PORTS:
        out.append("starttls = yes")
    out += [
        f"sslcacertfile = {SYSTEM_CAFILE}",
        "auth_mechanisms = XOAUTH2",
        'oauth2_access_token_eval = __import__("subprocess").run('
        + _py_list(argv)
        + ", capture_output=True, text=True, check=True).stdout.strip()",
        'folderfilter = lambda folder: folder == "INBOX"',
    ]
    return "\n".join(out) + "\n"


def _py_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _getmail(targets: Sequence[Target]) -> str:
    (t,) = targets
    host, port = t.imap("getmail")
    out = _header(
        "getmail",
        [
            "# getmail6 (Debian 12: 6.18) with oauth-helper: ~/.config/getmail/getmailrc",
            f"#   mkdir -p ~/Mail/{t.label}/INBOX/cur ~/Mail/{t.label}/INBOX/new "
            f"~/Mail/{t.label}/INBOX/tmp",
            "#   getmail --rcfile getmailrc",
            "#",
            "# With use_xoauth2, getmail takes the output of password_command as the access token and",
            "# builds the XOAUTH2 string itself (getmail6 has no OAUTHBEARER). password_command is a",
            "# Python tuple: program, then arguments. getmail refuses to deliver as root; run it as the",
            '# mail\'s owner (as root, name that user in [destination] with "user = NAME").',
        ],
        targets,
    )
    implicit = port in IMPLICIT_TLS_PORTS
    out += [
        "",
        "[retriever]",
        f"type = {'SimpleIMAPSSLRetriever' if implicit else 'SimpleIMAPRetriever'}",
        f"server = {host}",
        f"port = {port}",
        f"username = {t.account}",
        "use_xoauth2 = True",
        f"password_command = ({_py_list([t.exe, 'token', t.account])[1:-1]})",
    ]
    out.append(f"ca_certs = {SYSTEM_CAFILE}" if implicit else "use_starttls = True")
    out += [
        'mailboxes = ("INBOX",)',
        "",
        "[destination]",
        "type = Maildir",
        f"path = ~/Mail/{t.label}/INBOX/",
        "",
        "[options]",
        "# Only what is new since the last run, and leave it on the server.",
        "read_all = false",
        "delete = false",
        "message_log_syslog = false",
    ]
    return "\n".join(out) + "\n"


def _aerc(targets: Sequence[Target]) -> str:
    out = _header(
        "aerc",
        [
            "# aerc (Debian 12: 0.14) with oauth-helper: ~/.config/aerc/accounts.conf",
            "#   chmod 600 ~/.config/aerc/accounts.conf      # aerc refuses a file others can read",
            "#",
            '# "+oauthbearer" / "+xoauth2" in the URL scheme makes aerc log in with that mechanism.',
            "# With no token_endpoint in the URL aerc takes the password as the access token, which",
            "# source-cred-cmd / outgoing-cred-cmd print: no client id or secret belongs here.",
            "# aerc runs source-cred-cmd once, at start, and keeps that token for IMAP: should it",
            "# reconnect after the token expired (about an hour), the login fails; restart aerc.",
            "# aerc 0.14 does OAuth for SMTP only over implicit TLS (smtps://); where the provider",
            "# has only STARTTLS, aerc hands the message to msmtp (`oauth-helper snippet msmtp`).",
        ],
        targets,
    )
    for t in targets:
        host, port = t.imap("aerc")
        mech = t.provider.sasl_mechanisms[0]
        scheme = "imaps" if port in IMPLICIT_TLS_PORTS else "imap"
        out += [
            "",
            f"[{t.label.capitalize()}]",
            f"# The server accepts {' and '.join(m.upper() for m in t.provider.sasl_mechanisms)}.",
            f"source = {scheme}+{mech}://{t.url_user}@{host}:{port}",
            f"source-cred-cmd = {t.token_command}",
        ]
        implicit = t.implicit_smtp()
        if implicit is not None:
            out += [
                f"outgoing = smtps+{mech}://{t.url_user}@{implicit[0]}:{implicit[1]}",
                f"outgoing-cred-cmd = {t.token_command}",
                "# Ask for every message sent (oauth-helper answers from its cache: cheap).",
                "outgoing-cred-cmd-cache = false",
            ]
        else:
            out += [
                "# SMTP is STARTTLS only here, and with smtp+MECH:// aerc 0.14 hangs up after EHLO",
                f'# ("Sending..." for ever): the "{t.label}" account of the msmtp snippet sends.',
                f"outgoing = msmtp -a {t.label}",
            ]
        out += [f"from = {t.account}", "default = INBOX"]
        if t.provider.sent_by_server:
            out.append(
                f'# The server files what you send in "{t.provider.sent_by_server}": no copy-to.'
            )
        else:
            out.append("copy-to = Sent")
    return "\n".join(out) + "\n"


def _curl(targets: Sequence[Target]) -> str:
    (t,) = targets
    ihost, iport = t.imap("curl")
    implicit = t.implicit_smtp()
    shost, sport = implicit if implicit is not None else t.smtp("curl")
    out = [
        "#!/bin/sh",
        *_header(
            "curl",
            [
                f"# Mail with curl (>= 7.33) as {t.account}, with an oauth-helper token.",
                "#   oauth-mail.sh list                    the UIDs of INBOX",
                "#   oauth-mail.sh fetch UID               print one message",
                "#   oauth-mail.sh send RCPT MESSAGE-FILE  send a message",
                "#",
                "# curl builds the SASL string from the bearer token and picks OAUTHBEARER whenever",
                "# the server offers it, XOAUTH2 otherwise. The token reaches curl through a config",
                '# on stdin ("--config -"), never through the command line other users can read.',
            ],
            targets,
        ),
        "set -eu",
        f"ACCOUNT={shlex.quote(t.account)}",
        f'IMAP="{"imaps" if iport in IMPLICIT_TLS_PORTS else "imap"}://{ihost}:{iport}"',
        f'SMTP="{"smtps" if sport in IMPLICIT_TLS_PORTS else "smtp"}://{shost}:{sport}"',
        f"CAFILE={SYSTEM_CAFILE}",
        "",
        "with_token() {",
        f"  {shlex.quote(t.exe)} token \"$ACCOUNT\" | sed 's/^/oauth2-bearer = /' |",
        '    curl --silent --show-error --fail --ssl-reqd --config - --cacert "$CAFILE" \\',
        '      --user "$ACCOUNT" "$@"',
        "}",
        "",
        'case "${1:-}" in',
        '  list) with_token --url "$IMAP/INBOX?ALL" ;;',
        '  fetch) with_token --url "$IMAP/INBOX;UID=$2" ;;',
        '  send) with_token --url "$SMTP" --mail-from "$ACCOUNT" --mail-rcpt "$2" --upload-file "$3" ;;',
        '  *) echo "usage: $0 list | fetch UID | send RCPT MESSAGE-FILE" >&2; exit 64 ;;',
        "esac",
    ]
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Target]], str]] = {
    "msmtp": _msmtp,
    "mutt": _mutt,
    "neomutt": _neomutt,
    "git": _git,
    "mbsync": _mbsync,
    "fetchmail": _fetchmail,
    "offlineimap": _offlineimap,
    "getmail": _getmail,
    "aerc": _aerc,
    "curl": _curl,
}
CLIENTS = tuple(RENDERERS)


def render(client: str, targets: Sequence[Target]) -> str:
    return RENDERERS[client](targets)


# -- the contrib/ examples -----------------------------------------------------------------------


def example_targets() -> dict[str, Target]:
    return {
        "gmail": Target("alice@gmail.com", GOOGLE),
        "outlook": Target("bob@contoso.com", microsoft()),
    }


# contrib file -> (client, example accounts it shows)
CONTRIB_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "msmtp/msmtprc": ("msmtp", ("gmail", "outlook")),
    "mutt/muttrc-gmail": ("mutt", ("gmail",)),
    "mutt/muttrc-outlook": ("mutt", ("outlook",)),
    "neomutt/neomuttrc-gmail": ("neomutt", ("gmail",)),
    "neomutt/neomuttrc-outlook": ("neomutt", ("outlook",)),
    "git/gmail.gitconfig": ("git", ("gmail",)),
    "git/microsoft.gitconfig": ("git", ("outlook",)),
    "mbsync/mbsyncrc": ("mbsync", ("gmail",)),
    "fetchmail/fetchmailrc": ("fetchmail", ("gmail",)),
    "offlineimap/offlineimaprc": ("offlineimap", ("gmail",)),
    "getmail/getmailrc": ("getmail", ("gmail",)),
    "aerc/accounts.conf": ("aerc", ("gmail", "outlook")),
    "curl/oauth-mail.sh": ("curl", ("gmail",)),
}
_GENERATED = (
    "# Generated from oauth_helper/snippet.py by scripts/gen-contrib: do not edit by hand.\n"
)


def contrib_files() -> dict[str, str]:
    """Every generated contrib/ file's text, by path below contrib/."""
    examples = example_targets()
    texts = {}
    for relpath, (client, names) in CONTRIB_FILES.items():
        text = render(client, [examples[n] for n in names])
        if text.startswith("#!"):
            shebang, _, rest = text.partition("\n")
            texts[relpath] = f"{shebang}\n{_GENERATED}{rest}"
        else:
            texts[relpath] = _GENERATED + text
    return texts


# -- the command ---------------------------------------------------------------------------------


def installed_command(name: str = "oauth-helper") -> str:
    """The absolute path of the installed command `name` (as the user would run it).

    Not resolved through symlinks: pipx's ~/.local/bin link survives an upgrade, its target
    may not.
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "oauth-helper" and os.path.isfile(argv0):
        candidate = os.path.join(os.path.dirname(os.path.abspath(argv0)), name)
        if os.path.isfile(candidate):
            return candidate
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)

    found = shutil.which(name)
    return os.path.abspath(found) if found else name


def text(settings: Settings, client: str, account: str) -> str:
    """The snippet of `client` for a configured account (UnknownAccount: exit 67)."""
    acct = config_mod.load(settings.config_path).account(account)
    target = Target(
        acct.name,
        acct.provider,
        exe=installed_command(),
        git_helper=installed_command("git-credential-oauth-helper"),
    )
    return render(client, [target])
