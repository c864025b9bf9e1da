"""The project's errors. Each maps to a sysexits.h code that mail tools already understand.

Messages are one line, say what to do next, and never contain a secret. The whole tree (the
exit code in brackets; the modules named define the subclasses):

    OAuthHelperError [70]                     base: cli reports it as one line on stderr
    ├── UsageError [64]                       bad command line or protocol input
    │   ├── CredentialProtocolError           malformed git credential input
    │   └── CallbackError, StateMismatch,     a redirect or paste that cannot be used;
    │       FlowUnavailable (flows.common)    a flow the provider does not allow
    ├── UnknownAccount [67]                   not in the config file
    ├── StoreUnavailable [69]                 keyring locked or unreachable, store command failed
    ├── TransientError [75]                   network, timeout, 408/429/5xx: retry later;
    │   │                                     carries retry_after and retry as fields
    │   ├── AuthorizationTimeout (flows.common)   nobody finished the sign-in in time
    │   └── _NotTLS (preauth)                 a plain greeting where TLS was expected
    ├── AuthorizationRequired [77]            run `authorize` again
    │   ├── AuthorizationDenied (flows.common), DeviceCodeExpired (flows.device)
    │   ├── IdentityMismatch, IdentityUnknown, InvalidIdToken (identity)
    │   └── ScopeNotGranted (authorize)
    ├── ConfigError [78]                      the config file: file, line and what is wrong
    ├── InsecureFile [78]                     a file or directory others could use: fix its mode
    ├── ProviderError [78]                    the provider refuses what retrying will not fix
    │   ├── OAuthError (oauth)                an OAuth error answer; carries code, description
    │   ├── UnsupportedTokenType (oauth)      a token type other than Bearer
    │   └── NoRefreshToken (authorize)        the provider gave no refresh token
    ├── ImportFailed (import_cmd) [its own]    a grant that cannot be taken over
    └── LoginRejected (preauth) [77]          the mail server refused the token
"""

from __future__ import annotations

# sysexits.h
EX_OK = 0
EX_USAGE = 64
EX_NOUSER = 67
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_TEMPFAIL = 75
EX_NOPERM = 77
EX_CONFIG = 78
EX_INTERRUPTED = 130  # 128 + SIGINT, as shells report a job stopped by Ctrl-C


class OAuthHelperError(Exception):
    """Base of every error the command line reports as one line on stderr."""

    exit_code = EX_SOFTWARE

    def __init__(self, *args: object) -> None:
        # Messages may quote a provider, a server or a store; none may carry a secret we know.
        from .redact import scrub

        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class UsageError(OAuthHelperError):
    """The command line or an input protocol was used wrongly."""

    exit_code = EX_USAGE


class CredentialProtocolError(UsageError):
    """Malformed input on the git credential protocol."""


class UnknownAccount(OAuthHelperError):
    """The account is not in the configuration file."""

    exit_code = EX_NOUSER


class ConfigError(OAuthHelperError):
    """The configuration file is invalid: the message names the file, the line and the problem."""

    exit_code = EX_CONFIG


class StoreUnavailable(OAuthHelperError):
    """The account's secret store cannot be reached (no keyring, a locked keyring, a failing command)."""

    exit_code = EX_UNAVAILABLE


class InsecureFile(OAuthHelperError):
    """A secret or cache file has loose permissions, another owner, or is a symlink."""

    exit_code = EX_CONFIG


class AuthorizationRequired(OAuthHelperError):
    """The refresh token is missing, expired or revoked: `oauth-helper authorize` must be run again."""

    exit_code = EX_NOPERM


class TransientError(OAuthHelperError):
    """Network failure, timeout, 408/429/5xx or a lock wait that timed out: retry later.

    `retry_after`: the server's Retry-After value, as sent (the retry loop judges it);
    `retry`: False when retrying here would be wrong (google-auth already retried it).
    """

    exit_code = EX_TEMPFAIL

    def __init__(self, *args: object, retry_after: str | None = None, retry: bool = True) -> None:
        super().__init__(*args)
        self.retry_after = retry_after
        self.retry = retry


class ProviderError(OAuthHelperError):
    """The provider refused the request for a reason retrying will not fix (bad client, bad request)."""

    exit_code = EX_CONFIG
