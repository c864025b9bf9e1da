"""Known provider errors and the one-line fix for each. Every command that meets them uses this table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    marker: str  # matched case-insensitively against the error code and description
    explanation: str
    reauthorize: bool = True  # False: authorizing again will not help, something else must change


KNOWN_ERRORS: tuple[Hint, ...] = (
    # Google
    Hint("Token has been expired or revoked",
         "Google expired or revoked the refresh token (apps in \"Testing\" get 7-day tokens: publish "
         "the app to \"In production\"; a password change or revoked access also ends it)"),
    Hint("invalid_rapt", "Google Workspace requires you to sign in again (reauthentication policy)"),
    Hint("admin_policy_enforced", "a Google Workspace administrator blocked this OAuth client",
         reauthorize=False),
    Hint("deleted_client", "the OAuth client was deleted in the Google Cloud console; create a new one",
         reauthorize=False),
    # Microsoft (AADSTS codes)
    Hint("AADSTS700082", "the refresh token expired after 90 days of inactivity"),
    Hint("AADSTS50173", "the password changed, so Microsoft revoked the refresh token"),
    Hint("AADSTS50076", "multi-factor authentication is now required (policy or MFA change)"),
    Hint("AADSTS50079", "multi-factor authentication enrolment is required"),
    Hint("AADSTS65001", "consent for the mail permissions is missing or was withdrawn"),
    Hint("AADSTS7000112", "the application is disabled in the tenant", reauthorize=False),
    Hint("AADSTS700016",
         "the client ID is not registered in this tenant (check client_id and tenant)",
         reauthorize=False),
    Hint("AADSTS90023", "the request was malformed for this endpoint (public vs confidential client, "
         "tenant or redirect URI mismatch)", reauthorize=False),
    Hint("AADSTS7000218",
         "the app registration does not allow public client flows: enable \"Allow public client "
         "flows\", or configure client_secret", reauthorize=False),
    Hint("AADSTS700025", "a public client must not send client_secret: remove it from the config",
         reauthorize=False),
    Hint("AADSTS70008", "the authorization code or refresh token expired"),
    Hint("AADSTS50158", "an external security challenge (conditional access) must be completed"),
    Hint("AADSTS53003", "conditional access blocked the sign-in; ask the tenant administrator",
         reauthorize=False),
    # Generic OAuth2 (RFC 6749 §5.2)
    Hint("invalid_client", "the provider does not accept this client ID or secret", reauthorize=False),
    Hint("unauthorized_client", "this client may not use this grant type", reauthorize=False),
    Hint("invalid_scope", "the provider refused the requested scopes"),
    Hint("consent_required", "consent is required"),
    Hint("interaction_required", "the provider wants you to sign in interactively"),
    Hint("invalid_grant", "the refresh token is no longer valid"),
)


def lookup(code: str, description: str = "") -> Hint | None:
    """The most specific known hint for an OAuth error code and description."""
    haystack = f"{code} {description}".lower()
    for hint in KNOWN_ERRORS:
        if hint.marker.lower() in haystack:
            return hint
    return None


def short_description(description: str) -> str:
    """The first line of a provider's error description, without Microsoft's trace/correlation IDs."""
    first = description.strip().splitlines()[0] if description.strip() else ""
    for cut in (" Trace ID:", " Correlation ID:", " Timestamp:"):
        if cut in first:
            first = first.split(cut, 1)[0]
    return first.strip()[:300]
