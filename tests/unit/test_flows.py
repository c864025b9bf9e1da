"""Pure parts of `authorize`: PKCE, redirect/paste parsing (property tests), identity, choices."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth_helper import authorize, identity
from oauth_helper.errors import (
    AuthorizationRequired,
    OAuthHelperError,
    ProviderError,
    TransientError,
    UsageError,
)
from oauth_helper.flows import browser, callback, pkce
from oauth_helper.flows.common import AuthorizationDenied, CallbackError, StateMismatch
from oauth_helper.flows.loopback import Listener
from oauth_helper.providers import BUILTIN, GOOGLE, Provider

STATE = "st-4f9a"
CODE = "4/0AX4XfWh-code_with.chars~"


def url(**params: str) -> str:
    return "http://127.0.0.1:43123/?" + urllib.parse.urlencode(params)


# -- PKCE and the request URL ---------------------------------------------------------------------


def test_pkce_rfc7636_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.challenge_for(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_request_values_are_fresh_and_valid() -> None:
    first, second = pkce.AuthorizationRequest.new(), pkce.AuthorizationRequest.new()
    assert first.verifier != second.verifier and first.state != second.state
    assert 43 <= len(first.verifier) <= 128
    assert "verifier" not in repr(first) or first.verifier not in repr(first)


def test_google_url_asks_offline_consent_and_hints_the_account() -> None:
    request = pkce.AuthorizationRequest.new()
    scopes = authorize.requested_scopes(GOOGLE)
    query = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlsplit(
                request.url(GOOGLE, "cid", scopes, "a@gmail.com", "http://127.0.0.1:5/")
            ).query
        )
    )
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == request.challenge
    assert query["state"] == request.state and query["login_hint"] == "a@gmail.com"
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["scope"] == "https://mail.google.com/ openid email"
    assert request.verifier not in str(query)


def test_oidc_offline_access_asks_consent_microsoft_does_not() -> None:
    # Issue 12 item 2: OIDC Core §11 servers drop offline_access without prompt=consent.
    request = pkce.AuthorizationRequest.new()
    corp = Provider(
        name="corp",
        issuer="https://sso.example",
        authorization_endpoint="https://sso.example/auth",
        scopes=("mail", "offline_access"),
    )

    def query(provider: Provider, scopes: tuple[str, ...]) -> dict[str, str]:
        link = request.url(provider, "cid", scopes, "a@x.com", "http://127.0.0.1:5/")
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))

    assert query(corp, authorize.requested_scopes(corp))["prompt"] == "consent"
    assert "prompt" not in query(corp, ("mail", "openid"))  # no offline_access asked
    assert "prompt" not in query(
        BUILTIN["microsoft"], authorize.requested_scopes(BUILTIN["microsoft"])
    )


def test_microsoft_pop_scope_only_for_pop_accounts() -> None:
    # Issue 12 item 7: the POP scope can force an admin consent screen.
    microsoft = BUILTIN["microsoft"]
    assert not any("POP." in s for s in authorize.requested_scopes(microsoft))
    assert "https://outlook.office.com/POP.AccessAsUser.All" in authorize.requested_scopes(
        microsoft, pop=True
    )
    assert authorize.requested_scopes(GOOGLE, pop=True) == authorize.requested_scopes(GOOGLE)


def test_requested_scopes_dedupe_in_order() -> None:
    scopes = authorize.requested_scopes(BUILTIN["microsoft"])
    assert scopes[-3:] == ("openid", "email", "profile")
    assert scopes.count("offline_access") == 1
    assert scopes[0] == "https://outlook.office.com/IMAP.AccessAsUser.All"


# -- parsing what comes back ----------------------------------------------------------------------


def test_full_redirect_url() -> None:
    found = callback.parse_pasted(url(code=CODE, state=STATE, scope="x"))
    assert callback.code_from(found, STATE) == CODE


def test_pasted_url_without_state_is_refused_but_a_bare_code_is_not() -> None:
    # Issue 12 item 4: a pasted redirect URL whose state was removed used to be accepted.
    for text in (url(code=CODE), f"code={CODE}", f"http://localhost:5/#code={CODE}"):
        with pytest.raises(StateMismatch, match="no state"):
            callback.code_from(callback.parse_pasted(text), STATE)
    assert callback.code_from(callback.parse_pasted(CODE), STATE) == CODE


def test_rfc9207_iss_required_when_the_provider_advertises_it() -> None:
    # Issue 12 item 4: RFC 9207 §2.4, a response without iss MUST be rejected then.
    strict = Provider(name="corp", issuer="https://sso.example", iss_in_authorization_response=True)
    lax = Provider(name="corp", issuer="https://sso.example")
    no_iss = callback.parse_query(f"code=abc&state={STATE}")
    with pytest.raises(CallbackError, match="RFC 9207"):
        callback.code_from(no_iss, STATE, provider=strict)
    assert callback.code_from(no_iss, STATE, provider=lax) == "abc"
    good = callback.parse_query(f"code=abc&state={STATE}&iss=https%3A%2F%2Fsso.example")
    assert callback.code_from(good, STATE, provider=strict) == "abc"
    assert callback.code_from(callback.parse_pasted("abc"), STATE, provider=strict) == "abc"


def test_bare_code_and_percent_encoded_code() -> None:
    assert callback.code_from(callback.parse_pasted(f"  {CODE}\n"), STATE) == CODE
    encoded = urllib.parse.quote(CODE, safe="")
    assert callback.parse_pasted(encoded).code == CODE


def test_query_only_and_fragment() -> None:
    assert callback.parse_pasted(f"code={CODE}&state={STATE}").code == CODE
    assert callback.parse_pasted(f"?state={STATE}&code=abc").code == "abc"
    assert callback.parse_pasted(f"http://localhost:1/#code=abc&state={STATE}").code == "abc"


def test_wrong_state_is_refused() -> None:
    found = callback.parse_pasted(url(code=CODE, state="another"))
    with pytest.raises(StateMismatch):
        callback.code_from(found, STATE)


def test_listener_requires_state() -> None:
    with pytest.raises(StateMismatch):
        callback.code_from(callback.parse_query("code=abc"), STATE)


def test_issuer_mix_up_is_refused() -> None:
    found = callback.parse_pasted(url(code=CODE, state=STATE, iss="https://evil.example"))
    with pytest.raises(CallbackError, match="issuer"):
        callback.code_from(found, STATE, provider=GOOGLE)
    same = callback.parse_pasted(url(code=CODE, state=STATE, iss="https://accounts.google.com/"))
    assert callback.code_from(same, STATE, provider=GOOGLE) == CODE


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("access_denied", AuthorizationDenied),
        ("consent_required", AuthorizationRequired),
        ("temporarily_unavailable", TransientError),
        ("invalid_scope", ProviderError),
        ("unauthorized_client", ProviderError),
        ("weird", ProviderError),
    ],
)
def test_error_redirects(error: str, kind: type[Exception]) -> None:
    found = callback.parse_pasted(url(error=error, error_description="Nope\x1b[31m", state=STATE))
    with pytest.raises(kind) as caught:
        callback.code_from(found, STATE)
    message = str(caught.value)
    assert error in message and "\x1b" not in message and "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "http://127.0.0.1:5/?state=x",
        "https://example.com/",
        "two words",
        "code=a&code=b",
        "code=%FF%FE",
        "a" * 5000,
        "line1\nline2",
        "c\u00f6de",
        "code=",
    ],
)
def test_unusable_input_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        callback.parse_pasted(text)


@settings(max_examples=10_000)
@given(st.text(max_size=300))
def test_arbitrary_paste_only_raises_usage_errors(text: str) -> None:
    try:
        found = callback.parse_pasted(text)
    except UsageError as e:
        assert "\n" not in str(e)
        return
    assert found.code is not None or found.error is not None
    if found.code is not None:
        assert found.code.isascii() and found.code.isprintable() and " " not in found.code


_URL_CHARS = st.sampled_from("abcXYZ019-._~%&=?#/:+ \"'<>\n\u00e9\x00")


@settings(max_examples=10_000)
@given(
    st.text(_URL_CHARS, max_size=80),
    st.sampled_from(["", "?", "code=", "?code=", "error=", f"state={STATE}&code=", "http://x/?"]),
)
def test_url_like_paste_only_raises_our_errors(tail: str, head: str) -> None:
    try:
        found = callback.parse_pasted(head + tail)
    except UsageError:
        return
    try:
        code = callback.code_from(found, STATE)
    except (UsageError, AuthorizationRequired, ProviderError, TransientError) as e:
        assert "\n" not in str(e)
        return
    assert code == found.code


@settings(max_examples=10_000)
@given(st.text(max_size=200))
def test_listener_judges_any_request_path_without_raising(path: str) -> None:
    import queue

    lst = Listener(queue.Queue())
    lst.state = STATE
    status, title, text = lst.handle(path)
    assert title and "\n" not in text
    assert status in (200, 400, 404, 409)
    assert status != 200 or lst.inbox.qsize() == 1


def test_paste_errors_are_usage_errors_family() -> None:
    assert issubclass(CallbackError, UsageError) and issubclass(StateMismatch, UsageError)
    assert issubclass(AuthorizationDenied, AuthorizationRequired)


# -- identity -------------------------------------------------------------------------------------


def jwt(claims: dict[str, object]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(b'{}')}.{b64(json.dumps(claims).encode())}.sig"


def test_claims_and_name_preference() -> None:
    claims = identity.decode_claims(jwt({"email": "a@x.com", "preferred_username": "p@x.com"}))
    assert identity.signed_in_name(claims) == "a@x.com"
    assert identity.signed_in_name({"preferred_username": "p@x.com", "upn": "u@x"}) == "p@x.com"
    assert identity.signed_in_name({"upn": "u@x.com"}) == "u@x.com"
    assert identity.signed_in_name({"sub": "123"}) is None


@pytest.mark.parametrize(
    "token", ["", "a.b", "a.!!!.c", f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c"]
)
def test_unreadable_id_token(token: str) -> None:
    with pytest.raises(AuthorizationRequired):
        identity.decode_claims(token)


def who(name: str | None) -> identity.SignedIn:
    return identity.SignedIn(name, "id_token" if name else "")


def test_identity_check() -> None:
    assert identity.check("Alice@Example.com", who("alice@example.COM"), allow_other=False) is None
    with pytest.raises(identity.IdentityMismatch) as caught:
        identity.check("alice@example.com", who("bob@example.com"), allow_other=False)
    message = str(caught.value)
    assert "alice@example.com" in message and "bob@example.com" in message
    assert caught.value.exit_code == 77
    assert (
        identity.check("alice@example.com", who("asmith@corp"), allow_other=True) == "asmith@corp"
    )


def test_unknown_identity_is_refused_unless_explicitly_accepted() -> None:
    # Issue 12 item 1: nothing naming the account used to be a warning only.
    with pytest.raises(identity.IdentityUnknown, match="--allow-unverified-identity") as caught:
        identity.check("alice@example.com", who(None), allow_other=False)
    assert caught.value.exit_code == 77
    assert (
        identity.check("alice@example.com", who(None), allow_other=False, allow_unverified=True)
        is None
    )


ISSUER = "https://sso.example"
CORP = Provider(name="corp", issuer=ISSUER)
NOW = 1_800_000_000.0
GOOD = {"iss": ISSUER, "aud": "cid", "exp": NOW + 600, "iat": NOW, "sub": "s1", "nonce": "n1"}


def test_valid_id_token_passes() -> None:
    identity.validate(dict(GOOD), CORP, "cid", "n1", now=NOW)
    identity.validate({**GOOD, "aud": ["cid", "api"], "azp": "cid"}, CORP, "cid", "n1", now=NOW)
    identity.validate({**GOOD, "exp": NOW - 60}, CORP, "cid", "n1", now=NOW)  # within the skew
    identity.validate({**GOOD, "iss": ISSUER + "/"}, CORP, "cid", "n1", now=NOW)
    identity.validate({k: v for k, v in GOOD.items() if k != "nonce"}, CORP, "cid", None, now=NOW)
    google = {**GOOD, "iss": "accounts.google.com"}
    identity.validate(google, GOOGLE, "cid", "n1", now=NOW)
    microsoft = {**GOOD, "iss": "https://login.microsoftonline.com/9188040d/v2.0"}
    identity.validate(microsoft, BUILTIN["microsoft"], "cid", "n1", now=NOW)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"nonce": None}, "no nonce"),
        ({"nonce": "other"}, "nonce mismatch"),
        ({"aud": "another-client"}, "not for this client"),
        ({"aud": ["cid", "api"]}, "another party"),
        ({"azp": "another-client"}, "another party"),
        ({"iss": "https://evil.example"}, "issued by"),
        ({"iss": None}, "no issuer"),
        ({"exp": NOW - 3600}, "expired"),
        ({"exp": None}, "no expiry"),
        ({"exp": "soon"}, "no expiry"),
    ],
)
def test_id_token_refused_per_oidc_core_3_1_3_7(change: dict[str, object], words: str) -> None:
    # Issue 12 item 3: only a wrong nonce used to be refused.
    claims = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(identity.InvalidIdToken, match=words) as caught:
        identity.validate(claims, CORP, "cid", "n1", now=NOW)
    assert caught.value.exit_code == 77 and "nothing was stored" in str(caught.value)


def test_microsoft_id_token_issuer_must_be_https() -> None:
    with pytest.raises(identity.InvalidIdToken, match="https"):
        identity.validate(
            {**GOOD, "iss": "login.example"}, BUILTIN["microsoft"], "cid", "n1", now=NOW
        )


# -- choices --------------------------------------------------------------------------------------


def test_browser_availability() -> None:
    assert browser.unavailable_reason({}, "linux") is not None
    assert browser.unavailable_reason({"DISPLAY": ":0"}, "linux") is None
    assert browser.unavailable_reason({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert browser.unavailable_reason({"BROWSER": "lynx"}, "linux") is None
    assert browser.unavailable_reason({}, "darwin") is None
    assert browser.unavailable_reason({}, "win32") is None


def test_flow_choice() -> None:
    assert authorize.choose_flow(None, False) == "browser"
    assert authorize.choose_flow(None, True) == "paste"
    assert authorize.choose_flow("device", True) == "device"
    with pytest.raises(UsageError):
        authorize.choose_flow("browser", True)


def test_all_flow_errors_are_ours() -> None:
    for error in (CallbackError, StateMismatch, AuthorizationDenied, identity.IdentityMismatch):
        assert issubclass(error, OAuthHelperError)


# -- device grant parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (None, 5.0),
        (0.2, 0.2),
        ("3", 3.0),
        ("²", 5.0),
        (True, 5.0),
        (-1, 5.0),
        (float("nan"), 5.0),
        (float("inf"), 5.0),
        (10**400, 60.0),
        ("9" * 400, 60.0),
        (0, 5.0),
        (1e-9, 0.05),
    ],
)
def test_device_interval_is_sane(interval: object, expected: float) -> None:
    from oauth_helper.flows import device

    data = {
        "device_code": "dc-secret",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://example.com/device",
        "interval": interval,
        "expires_in": interval,
    }
    grant = device.parse_grant(data, "example.com")
    assert grant.interval == expected
    assert 0 < grant.expires_in <= 3600
    assert "dc-secret" not in repr(grant)


@settings(max_examples=2_000)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "device_code",
                "user_code",
                "verification_uri",
                "verification_uri_complete",
                "interval",
                "expires_in",
            ]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    )
)
def test_device_grant_parsing_only_raises_our_errors(data: dict[str, object]) -> None:
    from oauth_helper.flows import device

    try:
        grant = device.parse_grant(data, "example.com")
    except OAuthHelperError:
        return
    assert 0.05 <= grant.interval <= 60 and 0 < grant.expires_in <= 3600
