"""When a grant (the refresh token) will stop working: what the provider told us, and the
rules it documents (each provider's `grant_lifetime`, in providers.py). Pure functions;
`status`, `refresh` and the notifications all ask here, so they always agree.
"""

from __future__ import annotations

from .record import record

DAY = 86400.0
# Warn (status) and notify (notify_command) this long before a grant dies: time enough to act
# over a weekend, late enough not to be ignored as noise.
NOTICE = 3 * DAY


@record
class Rule:
    """A documented reason a refresh token dies; `code` is stable (status --json, notifications)."""

    code: str
    text: str
    fix: str = ""  # what to do about it, with `{authorize}` (hints.with_command); "": sign in again


PROVIDER_LIMIT = Rule(
    "provider_limit", "the provider said when the refresh token expires (refresh_token_expires_in)"
)


@record
class Lifetime:
    """What a provider documents about the death of its refresh tokens (Provider.grant_lifetime)."""

    # Why a refresh token dies at the expiry the provider stated (refresh_token_expires_in).
    stated_expiry: Rule = PROVIDER_LIMIT
    # Unused for this many seconds, the refresh token dies, by this rule (None: no known window).
    inactivity: tuple[float, Rule] | None = None

    def rules(self) -> tuple[Rule, ...]:
        return (self.stated_expiry, *((self.inactivity[1],) if self.inactivity else ()))


# A provider that documents nothing: only an expiry it states counts.
UNDOCUMENTED = Lifetime()


@record
class Deadline:
    """The earliest moment the grant is known to die, and by which rule."""

    at: float
    rule: Rule

    @property
    def inactivity(self) -> bool:
        return self.rule.code.endswith("_inactivity")


def deadline(
    lifetime: Lifetime, *, expires_at: float | None, last_used: float | None
) -> Deadline | None:
    """The grant's earliest known death: the provider's stated expiry, or the end of its
    inactivity window counted from the last time the refresh token was used (None: unknown).

    >>> idle = Lifetime(inactivity=(90 * DAY, Rule("idle_inactivity", "unused 90 days")))
    >>> deadline(idle, expires_at=None, last_used=0.0).at / DAY
    90.0
    >>> deadline(idle, expires_at=7 * DAY, last_used=0.0).rule.code
    'provider_limit'
    >>> deadline(Lifetime(), expires_at=None, last_used=0.0) is None
    True
    """
    found: list[Deadline] = []
    if expires_at:
        found.append(Deadline(expires_at, lifetime.stated_expiry))
    window = lifetime.inactivity
    if window is not None and last_used is not None:
        found.append(Deadline(last_used + window[0], window[1]))
    return min(found, key=lambda d: d.at) if found else None


def last_used(last_success_at: float | None, obtained_at: float | None) -> float | None:
    """When the refresh token was last used or obtained, as far as this machine knows.

    `obtained_at` of 1 or less means "unknown" (tokens imported or seeded without a date).
    """
    known = [t for t in (last_success_at, obtained_at) if t is not None and t > 1]
    return max(known) if known else None


def soon(found: Deadline | None, now: float) -> bool:
    return found is not None and found.at - now < NOTICE


def human_span(seconds: float) -> str:
    """A span of time for people, two units at most.

    >>> human_span(59), human_span(3600 * 5 + 60), human_span(86400 * 6.5)
    ('59 s', '5 h 1 min', '6 days 12 h')
    """
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"
