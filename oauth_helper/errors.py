"""The project's errors. Each maps to a sysexits.h code that mail tools already understand.

Messages are one line, say what to do next, and never contain a secret.
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
    """Network failure, timeout, 408/429/5xx or a lock wait that timed out: retry later."""

    exit_code = EX_TEMPFAIL


class ProviderError(OAuthHelperError):
    """The provider refused the request for a reason retrying will not fix (bad client, bad request)."""

    exit_code = EX_CONFIG
