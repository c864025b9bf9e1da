"""When a grant (the refresh token) will stop working: what the provider told us, and the
providers' documented inactivity rules. Pure functions; `status`, `refresh` and the
notifications all ask here, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400.0
# Warn (status) and notify (notify_command) this long before a grant dies: time enough to act
# over a weekend, late enough not to be ignored as noise.
NOTICE = 3 * DAY


@dataclass(frozen=True)
class Rule:
    """A documented reason a refresh token dies; `code` is stable (status --json, notifications)."""

    code: str
    text: str


GOOGLE_TESTING = Rule(
    "google_testing_app",
    'Google ends refresh tokens of apps in "Testing" after 7 days (refresh_token_expires_in)',
)
PROVIDER_LIMIT = Rule(
    "provider_limit", "the provider said when the refresh token expires (refresh_token_expires_in)"
)
# Inactivity windows, by provider name. Google: "a refresh token that has not been used for six
# months" stops working (180 days here, to err early). Microsoft identity platform: refresh
# tokens expire after 90 days of inactivity (AADSTS700082).
INACTIVITY: dict[str, tuple[float, Rule]] = {
    "google": (
        180 * DAY,
        Rule("google_inactivity", "Google ends refresh tokens unused for 6 months"),
    ),
    "microsoft": (
        90 * DAY,
        Rule("microsoft_inactivity", "Microsoft ends refresh tokens unused for 90 days"),
    ),
}


@dataclass(frozen=True)
class Deadline:
    """The earliest moment the grant is known to die, and by which rule."""

    at: float
    rule: Rule

    @property
    def inactivity(self) -> bool:
        return self.rule.code.endswith("_inactivity")


def deadline(
    provider_name: str,
    provider_kind: str,
    *,
    expires_at: float | None,
    last_used: float | None,
) -> Deadline | None:
    """The grant's earliest known death: the provider's stated expiry, or the end of its
    inactivity window counted from the last time the refresh token was used (None: unknown).

    >>> deadline("microsoft", "oauth2", expires_at=None, last_used=0.0).at / DAY
    90.0
    >>> deadline("google", "google", expires_at=7 * DAY, last_used=0.0).rule.code
    'google_testing_app'
    >>> deadline("corp", "oauth2", expires_at=None, last_used=0.0) is None
    True
    """
    found: list[Deadline] = []
    if expires_at:
        found.append(
            Deadline(expires_at, GOOGLE_TESTING if provider_kind == "google" else PROVIDER_LIMIT)
        )
    window = INACTIVITY.get(provider_name)
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
