"""Issue 12 item 7: provider and server error codes matched as whole codes, and the new ones."""

from __future__ import annotations

import pytest

from oauth_helper import hints, oauth
from oauth_helper.errors import AuthorizationRequired


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("AADSTS9002331: Application is configured for use by Microsoft Account users only", None),
        ("AADSTS700084: The refresh token was issued to a single page app", None),
        ("AADSTS90023: Public clients can't send a client secret", "AADSTS90023"),
        (
            "AADSTS70008: The provided authorization code or refresh token has expired",
            "AADSTS70008",
        ),
        (
            "AADSTS50020: User account from identity provider does not exist in tenant",
            "AADSTS50020",
        ),
        ("AADSTS50194: Application is not configured as a multi-tenant application", "AADSTS50194"),
        ("AADSTS7000012: The grant was obtained for a different tenant", "AADSTS7000012"),
        ("AADSTS50011: The redirect URI specified in the request does not match", "AADSTS50011"),
        ("AADSTS500113: No reply address is registered for the application", "AADSTS500113"),
        ("AADSTS900971: No reply address provided", "AADSTS900971"),
        ("AADSTS53000: Device is not in required device state", "AADSTS53000"),
        ("AADSTS53001: Device is not domain joined", "AADSTS53001"),
        ("AADSTS53002: Application used is not an approved application", "AADSTS53002"),
        ("AADSTS53003: Access has been blocked by Conditional Access policies", "AADSTS53003"),
        ("AADSTS53004: Proof up required", "AADSTS53004"),
    ],
)
def test_aadsts_codes_are_matched_whole(text: str, marker: str | None) -> None:
    found = hints.lookup("invalid_grant", text)
    assert (found.marker if found and found.marker.startswith("AADSTS") else None) == marker


def test_substring_codes_no_longer_get_a_wrong_hint() -> None:
    # Before: AADSTS9002331 got the AADSTS90023 hint ("malformed ... public vs confidential").
    error = oauth.error_for(
        "invalid_request",
        "AADSTS9002331: for Microsoft Account users only",
        "login.microsoftonline.com",
    )
    assert "public vs confidential" not in str(error)
    expired = oauth.error_for("invalid_grant", "AADSTS700084: refresh token for a SPA", "x")
    assert isinstance(expired, AuthorizationRequired)
    assert "authorization code or refresh token expired" not in str(expired)


def test_smtp_5_7_30_is_not_mistaken_for_5_7_3() -> None:
    found = hints.lookup_server(
        "550 5.7.30 Basic authentication is not supported for Client Submission."
    )
    assert found is not None and found.marker == "5.7.30" and "XOAUTH2" in found.fix
    plain = hints.lookup_server("535 5.7.3 Authentication unsuccessful")
    assert plain is not None and plain.marker == "5.7.3"
    assert hints.lookup_server("554 5.7.139 Authentication unsuccessful").marker == "5.7.139"


def test_granted_scope_as_microsoft_and_google_spell_it() -> None:
    # NOTES "Granted scopes": Microsoft answers with full resource URIs, may add .default and
    # leave out offline_access/openid; Google answers with what stayed ticked.
    from oauth_helper import authorize
    from oauth_helper.providers import BUILTIN, GOOGLE, mail_scopes

    microsoft = mail_scopes(authorize.requested_scopes(BUILTIN["microsoft"]))
    assert microsoft == (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
    )
    granted = (
        "https://outlook.office.com/IMAP.AccessAsUser.All "
        "https://outlook.office.com/SMTP.Send https://outlook.office.com/.default"
    )
    assert oauth.missing_scopes(microsoft, granted) == ()
    assert oauth.missing_scopes(microsoft, "https://outlook.office.com/SMTP.Send") == (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
    )
    google = mail_scopes(authorize.requested_scopes(GOOGLE))
    unticked = "openid https://www.googleapis.com/auth/userinfo.email"
    assert oauth.missing_scopes(google, unticked) == ("https://mail.google.com/",)
    assert oauth.missing_scopes(google, None) == ()  # absent scope: as requested
