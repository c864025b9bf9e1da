"""XOAUTH2 and OAUTHBEARER strings, byte for byte against the published examples."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from oauth_helper.sasl import oauthbearer, saslname, xoauth2


def test_xoauth2_matches_googles_documented_example() -> None:
    # Google's XOAUTH2 protocol page: user someuser@example.com, token ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg
    expected = (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
        "SFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    assert (
        xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg") == expected
    )


def test_oauthbearer_matches_rfc7628_section_4_1() -> None:
    # RFC 7628 §4.1: IMAP example, host server.example.com port 143.
    raw = (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
    )
    got = oauthbearer(
        "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143
    )
    assert base64.b64decode(got) == raw
    assert got == base64.b64encode(raw).decode()


def test_oauthbearer_without_host_and_port() -> None:
    raw = base64.b64decode(oauthbearer("a@b.c", "tok"))
    assert raw == b"n,a=a@b.c,\x01auth=Bearer tok\x01\x01"


def test_user_names_with_comma_and_equals_are_escaped_in_oauthbearer_only() -> None:
    assert saslname("we,ird=name@example.com") == "we=2Cird=3Dname@example.com"
    raw = base64.b64decode(oauthbearer("we,ird=name@example.com", "t", "h", 1))
    assert raw.startswith(b"n,a=we=2Cird=3Dname@example.com,\x01")
    # XOAUTH2 has no GS2 header and no escaping.
    assert base64.b64decode(xoauth2("we,ird=name@example.com", "t")) == (
        b"user=we,ird=name@example.com\x01auth=Bearer t\x01\x01"
    )


@given(
    st.text(min_size=1).filter(lambda s: "\x01" not in s),
    st.text(alphabet="abcXYZ0129-._~+/=", min_size=1),
)
def test_oauthbearer_round_trips(user: str, token: str) -> None:
    raw = base64.b64decode(oauthbearer(user, token)).decode()
    header, _, rest = raw.partition(",\x01")
    assert header == "n,a=" + saslname(user)
    assert rest == f"auth=Bearer {token}\x01\x01"
    unescaped = header[4:].replace("=2C", ",").replace("=3D", "=")
    assert unescaped == user
