"""The git credential protocol: parsing and formatting, including property-based tests."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth_helper import gitcred
from oauth_helper.errors import CredentialProtocolError, UsageError

# --- examples -----------------------------------------------------------------------------


def test_parse_what_git_send_email_sends() -> None:
    data = b"protocol=smtp\nhost=smtp.gmail.com:587\nusername=alice@gmail.com\n\n"
    assert gitcred.parse(data) == {
        "protocol": "smtp",
        "host": "smtp.gmail.com:587",
        "username": "alice@gmail.com",
    }


def test_parse_stops_at_blank_line_and_accepts_eof() -> None:
    assert gitcred.parse(b"a=1\n\nb=2\n") == {"a": "1"}
    assert gitcred.parse(b"a=1\nb=2") == {"a": "1", "b": "2"}
    assert gitcred.parse(b"") == {}
    assert gitcred.parse(b"\n") == {}


def test_parse_crlf_and_last_value_wins() -> None:
    assert gitcred.parse(b"a=1\r\na=2\r\n\r\nz=9") == {"a": "2"}


def test_parse_value_keeps_equals_and_spaces() -> None:
    assert gitcred.parse(b"password= a=b= \n") == {"password": " a=b= "}


def test_parse_url_attribute_replaces_parts() -> None:
    got = gitcred.parse(
        b"host=old\nusername=x\nurl=imaps://bob%40contoso.com@outlook.office365.com/\n"
    )
    assert got == {
        "protocol": "imaps",
        "host": "outlook.office365.com",
        "username": "bob@contoso.com",
    }


def test_parse_url_with_encoded_newline_is_not_smuggled() -> None:
    got = gitcred.parse(b"url=smtp://a%0apassword=x@host.example\n")
    assert got == {"protocol": "smtp", "host": "host.example"}


def test_parse_non_utf8_is_kept_not_fatal() -> None:
    got = gitcred.parse(b"protocol=https\npath=\xff\xfe\n")
    assert got["protocol"] == "https"
    assert got["path"].encode("utf-8", "surrogateescape") == b"\xff\xfe"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"protocol=smtp\nsecret-without-equals\n", "line 2"),
        (b"protocol=sm\0tp\n", "NUL"),
        (b"a=" + b"x" * (gitcred.MAX_LINE + 1) + b"\n", "longer than"),
        (b"a=1\n" * (gitcred.MAX_INPUT // 4 + 1), "longer than"),
    ],
)
def test_parse_malformed(data: bytes, fragment: str) -> None:
    with pytest.raises(CredentialProtocolError, match=fragment) as info:
        gitcred.parse(data)
    message = str(info.value)
    assert "\n" not in message
    assert "secret-without-equals" not in message
    assert isinstance(info.value, UsageError)


def test_format() -> None:
    assert gitcred.format_credential({"username": "a@b", "password": "t", "quit": "1"}) == (
        b"username=a@b\npassword=t\nquit=1\n"
    )


@pytest.mark.parametrize(
    "attributes",
    [{"password": "a\nb"}, {"password": "a\rb"}, {"password": "a\0b"}, {"a=b": "x"}, {"": "x"}],
)
def test_format_refuses_injection(attributes: dict[str, str]) -> None:
    with pytest.raises(CredentialProtocolError):
        gitcred.format_credential(attributes)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("smtp.gmail.com", ("smtp.gmail.com", None)),
        ("SMTP.Gmail.COM.:465", ("smtp.gmail.com", 465)),
        ("127.0.0.1:2525", ("127.0.0.1", 2525)),
        ("h:", ("h", None)),
        ("[::1]:587", ("::1", 587)),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        ("fe80::1:587", ("fe80::1:587", None)),  # a valid IPv6 address as a whole
        ("2001:db8::1:x:25", ("2001:db8::1:x", 25)),
    ],
)
def test_split_host(host: str, expected: tuple[str, int | None]) -> None:
    assert gitcred.split_host(host) == expected


@pytest.mark.parametrize("host", ["h:0", "h:65536", "h:x", "[::1", "[::1]x", ":25", "h:٣"])
def test_split_host_malformed(host: str) -> None:
    with pytest.raises(CredentialProtocolError):
        gitcred.split_host(host)


def test_request_from_ignores_other_protocols() -> None:
    assert gitcred.request_from({"protocol": "https", "host": "github.com"}) is None
    assert gitcred.request_from({"protocol": "smtp"}) is None
    assert gitcred.request_from({}) is None
    request = gitcred.request_from({"protocol": "IMAPS", "host": "Outlook.Office365.com"})
    assert request == gitcred.Request("imaps", "imap", "outlook.office365.com", None, None)


def test_read_input_stops_at_blank_line() -> None:
    stream = io.BytesIO(b"protocol=smtp\nhost=h\n\nnot read\n")
    assert gitcred.read_input(stream) == b"protocol=smtp\nhost=h\n\n"
    assert stream.read() == b"not read\n"


def test_read_input_limits() -> None:
    with pytest.raises(CredentialProtocolError):
        gitcred.read_input(io.BytesIO(b"a=" + b"x" * (gitcred.MAX_LINE + 10)))
    with pytest.raises(CredentialProtocolError):
        gitcred.read_input(io.BytesIO(b"a=b\n" * (gitcred.MAX_INPUT // 4 + 1)))


# --- properties ---------------------------------------------------------------------------

keys = st.text(
    alphabet=st.characters(blacklist_characters="=\n\r\0", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=20,
).filter(lambda k: k != "url")
values = st.text(
    alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)),
    max_size=40,
)


@settings(max_examples=10_000, deadline=None)
@given(st.binary(max_size=300))
def test_parse_arbitrary_bytes_never_raises_anything_else(data: bytes) -> None:
    try:
        got = gitcred.parse(data)
    except CredentialProtocolError as e:
        assert "\n" not in str(e)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in got.items())
    # A request that parses either is a mail request, is none of ours, or is malformed.
    with contextlib.suppress(CredentialProtocolError):
        gitcred.request_from(got)


line_fragments = st.lists(
    st.sampled_from(
        [
            b"protocol=smtp",
            b"protocol=imaps",
            b"host=",
            b"host=smtp.gmail.com",
            b"host=[::1]:",
            b"username=",
            b"url=smtp://",
            b"url=",
            b"password=",
            b":587",
            b"@",
            b"%0a",
            b"%00",
            b"=",
            b"\r",
            b"\n",
            b"\n\n",
            b"\0",
            b"\xff",
            b"[",
            b"]",
            b":",
            b"x",
            b"imap",
            b"65536",
            b"\xc3\xa9",
        ]
    ),
    max_size=16,
).map(b"".join)


@settings(max_examples=5_000, deadline=None)
@given(line_fragments)
def test_parse_protocol_shaped_bytes_never_raises_anything_else(data: bytes) -> None:
    try:
        gitcred.request_from(gitcred.parse(data))
    except CredentialProtocolError as e:
        assert "\n" not in str(e)


@settings(max_examples=2_000, deadline=None)
@given(st.dictionaries(keys, values, max_size=8))
def test_format_then_parse_round_trips(attributes: dict[str, str]) -> None:
    assert gitcred.parse(gitcred.format_credential(attributes)) == attributes


@settings(max_examples=2_000, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5))
def test_format_never_writes_an_extra_line(attributes: dict[str, str]) -> None:
    try:
        out = gitcred.format_credential(attributes)
    except CredentialProtocolError:
        return
    assert out.count(b"\n") == len(attributes)
    assert b"\r" not in out
    assert b"\0" not in out


@settings(max_examples=2_000, deadline=None)
@given(st.binary(max_size=200))
def test_read_input_then_parse_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(CredentialProtocolError):
        gitcred.parse(gitcred.read_input(io.BytesIO(data)))


@settings(max_examples=2_000, deadline=None)
@given(st.text(max_size=40))
def test_split_host_never_raises_anything_else(host: str) -> None:
    try:
        name, port = gitcred.split_host(host)
    except CredentialProtocolError:
        return
    assert name == name.lower()
    assert port is None or 0 < port < 65536
