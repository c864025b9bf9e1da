"""Hostile input, property-based: never a traceback, always one of our errors with its exit code.

Issue 8 asks for at least 10,000 examples per target. Targets and where they are fuzzed:

- git credential protocol: tests/unit/test_gitcred_parse.py
  (`test_parse_arbitrary_bytes_never_raises_anything_else`, 10,000 examples) and
  tests/unit/test_gitcred_run.py (the whole `get` on arbitrary input);
- the config file: tests/unit/test_config.py
  (`test_arbitrary_text_is_a_config_or_a_config_error`, 10,000 examples, plus structured TOML);
- the pasted redirect URL or code and the listener's request paths: tests/unit/test_flows.py
  (`test_arbitrary_paste_only_raises_usage_errors`, `test_url_like_paste_only_raises_our_errors`,
  `test_listener_judges_any_request_path_without_raising`, 10,000 examples each); here, 2,000
  more over structured redirect URLs, checking that a code is only ever taken with its state;
- the redirect listener itself (127.0.0.1 only, state, one code, timeout):
  tests/integration/test_authorize_listener.py and test_authorize.py;
- provider token responses (`oauth.parse_token_response`), discovery documents
  (`oauth.discover`), and the Retry-After header (`oauth.retry_delay`): here.

Each test counts the examples it ran and asserts the count, so a reader of the test report
sees what was tried. Bugs found are kept as regression tests with the exact input.
"""

from __future__ import annotations

import json
import math
import string
import threading
import unicodedata
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oauth_helper import http, oauth
from oauth_helper.errors import (
    EX_CONFIG,
    EX_NOPERM,
    EX_TEMPFAIL,
    EX_USAGE,
    OAuthHelperError,
    TransientError,
)
from oauth_helper.providers import Provider
from oauth_helper.record import replace

EXAMPLES = 10_000
_BREAKING = ("Cc", "Zl", "Zp")  # control characters (incl. \n, \r, ESC) and line separators
DOCUMENTED_EXITS = {64, 67, 69, 75, 77, 78}  # 70 means "a bug": never the answer to bad input
RecordProperty = Callable[[str, object], None]


def _assert_clear(error: OAuthHelperError, allowed: set[int]) -> None:
    """One of ours, a documented exit code, a one-line message that says something."""
    assert error.exit_code in allowed, f"{type(error).__name__} exit {error.exit_code}: {error}"
    text = str(error)
    # One line, and nothing a terminal would act on (newlines, escape sequences).
    assert text.strip() and not any(unicodedata.category(c) in _BREAKING for c in text), repr(text)


def _counted(record_property: RecordProperty, name: str, calls: Counter[str]) -> None:
    record_property(f"{name}_examples", calls[name])
    assert calls[name] >= EXAMPLES, f"{name}: only {calls[name]} examples ran"


# -- provider token responses ------------------------------------------------------------------

# Any text but lone surrogates (which JSON cannot carry): Unicode digits such as "²", control
# characters and line separators included, as the fixed oauth._number / retry_delay / _describe
# must cope with all of them.
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
    _text,
)
# Flat containers only: nesting adds nothing the parsers could trip on (json.loads depth is
# covered by the "[" * 5000 bodies) and costs generation time across 10,000 examples.
_json_values = st.one_of(
    _json_scalars,
    st.lists(_json_scalars, max_size=2),
    st.dictionaries(st.text(max_size=4), _json_scalars, max_size=2),
)
# Numbers as providers have been seen to send them, and as a hostile one might (ASCII digits).
_numberish = st.one_of(
    _json_values,
    st.integers(min_value=-10, max_value=10**9),
    st.text(alphabet=string.digits + " -+.e", max_size=12),
)
_token_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + "-._~+/=", min_size=1, max_size=60),
    st.sampled_from(["", " ", "a b", "tok\n", "tok\r\nX-Injected: 1", "\x00", "é", "\u2028"]),
)
_token_object = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.one_of(_token_text, _json_values),
        "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "mac"]), _json_values),
        "expires_in": _numberish,
        "refresh_token": st.one_of(_token_text, _json_values),
        "refresh_token_expires_in": _numberish,
        "id_token": st.one_of(_token_text, _json_values),
        "scope": st.one_of(st.text(max_size=30), _json_values),
        "error": st.one_of(
            st.sampled_from(
                [
                    "invalid_grant",
                    "invalid_client",
                    "invalid_request",
                    "invalid_scope",
                    "unauthorized_client",
                    "temporarily_unavailable",
                    "server_error",
                    "slow_down",
                    "consent_required",
                    "interaction_required",
                    "expired_token",
                    "access_denied",
                ]
            ),
            _json_values,
        ),
        "error_description": st.one_of(
            st.sampled_from(
                [
                    "AADSTS700082: The refresh token has expired due to inactivity.",
                    "AADSTS50173: The provided grant has expired due to it being revoked.",
                    "AADSTS65001: The user or administrator has not consented.",
                    "AADSTS7000112: Application is disabled.",
                    "Token has been expired or revoked.",
                ]
            ),
            _text,
            _json_values,
        ),
    },
)
_bodies = st.one_of(
    _token_object.map(lambda d: json.dumps(d).encode()),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _token_object.map(lambda d: json.dumps(d).encode()[: max(0, len(json.dumps(d)) // 2)]),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"<html><body>502 Bad Gateway</body></html>",
            b"[" * 5000,
            b'{"access_token": "x", "expires_in": NaN}',
            b'{"access_token": "x", "expires_in": -Infinity}',
            b"\xef\xbb\xbf{}",
            b'{"access_token": "a", "access_token": "b c"}',
        ]
    ),
)
_statuses = st.one_of(
    st.sampled_from([200, 200, 200, 400, 401, 403, 408, 425, 429, 500, 502, 503, 504]),
    st.integers(min_value=100, max_value=599),
)
_headers = st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after", "Content-Type", "WWW-Authenticate", "X-Other"]),
    st.one_of(_text, st.sampled_from(["1", "0", "3600", "-1", " 2 ", "Wed, 21", "9" * 400])),
    max_size=3,
)


def _check_token_response(status: int, headers: dict[str, str], body: bytes) -> None:
    try:
        got = oauth.parse_token_response(http.Response(status, headers, body), "token.example")
    except OAuthHelperError as e:
        _assert_clear(e, {EX_TEMPFAIL, EX_NOPERM, EX_CONFIG})
        if isinstance(e, TransientError):
            # The retry loop reads Retry-After from the error: that must not blow up either.
            delay = oauth.retry_delay(e, 0)
            assert 0 <= delay <= oauth.MAX_RETRY_AFTER
        return
    assert status == 200
    assert isinstance(got, oauth.TokenResponse)
    token = got.access_token
    # What we will print as a password: one line, no spaces, nothing unprintable.
    assert isinstance(token, str) and token and token.isprintable() and " " not in token
    assert isinstance(got.expires_in, float | int) and math.isfinite(got.expires_in)
    assert got.expires_in >= 0  # 0: already expired (tokens.py then refuses to hand it out)
    assert got.refresh_token is None or (isinstance(got.refresh_token, str) and got.refresh_token)
    # repr() shows none of the secrets: it does not change when they do.
    blank = replace(got, access_token="A", refresh_token="R", id_token="I")
    assert repr(got) == repr(blank)


def test_token_responses_are_a_token_or_one_of_our_errors(record_property: RecordProperty) -> None:
    calls: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(_statuses, _headers, _bodies)
    def check(status: int, headers: dict[str, str], body: bytes) -> None:
        calls["token_response"] += 1
        _check_token_response(status, headers, body)

    check()
    _counted(record_property, "token_response", calls)


# Found by fuzzing with the full range of JSON numbers and Unicode digits (exit 70 or a token
# cached for ever before the fix): kept as regression tests.
_BUG_NUMBERS = [
    pytest.param(
        b'{"access_token": "tok", "expires_in": ' + b"1" + b"0" * 400 + b"}",
        id="expires_in-integer-beyond-float-range",
    ),
    pytest.param(
        '{"access_token": "tok", "expires_in": "²"}'.encode(), id="expires_in-superscript-digit"
    ),
    pytest.param(b'{"access_token": "tok", "expires_in": 1e999}', id="expires_in-infinite"),
    pytest.param(
        b'{"access_token": "tok", "expires_in": "' + b"9" * 400 + b'"}',
        id="expires_in-digits-to-infinity",
    ),
    pytest.param(b'{"access_token": "tok", "expires_in": "0"}', id="expires_in-string-zero"),
    pytest.param(
        '{"access_token": "tok", "refresh_token_expires_in": "①"}'.encode(),
        id="refresh_token_expires_in-circled-digit",
    ),
]


@pytest.mark.parametrize("body", _BUG_NUMBERS)
def test_absurd_lifetimes_are_refused_or_defaulted(body: bytes) -> None:
    _check_token_response(200, {}, body)
    got = oauth.parse_token_response(http.Response(200, {}, body), "token.example")
    assert got.expires_in >= 0


@pytest.mark.parametrize("value", [0, -1, -3600, "0", "-5", "000", -1e300, 0.0])
def test_non_positive_lifetime_means_expired(value: object) -> None:
    body = json.dumps({"access_token": "tok", "expires_in": value}).encode()
    got = oauth.parse_token_response(http.Response(200, {}, body), "token.example")
    assert got.expires_in == 0


@pytest.mark.parametrize("value", [None, "", "soon", "²", True, [], 1e999, math.nan])
def test_unusable_lifetime_means_the_default(value: object) -> None:
    body = json.dumps({"access_token": "tok", "expires_in": value}).encode()  # 1e999: Infinity
    got = oauth.parse_token_response(http.Response(200, {}, body), "token.example")
    assert got.expires_in == oauth.DEFAULT_EXPIRES_IN


def test_unicode_digit_retry_after_is_ignored() -> None:
    _check_token_response(503, {"Retry-After": "²"}, b"")


# ASCII, Arabic-Indic and Devanagari digits (float() reads these), with number punctuation.
_DIGITS = "0123456789" + "".join(map(chr, range(0x660, 0x66A))) + "\u0966\u0967\u0968 .-+e"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(400, b'{"error": "\\n"}', id="newline-in-error-400"),
        pytest.param(408, b'{"error": "\\n"}', id="newline-in-error-408"),
        pytest.param(400, b'{"error": "x\\u001b[2J"}', id="escape-in-error"),
        pytest.param(
            400,
            b'{"error": "invalid_client", "error_description": "a\\u001b[31mred"}',
            id="escape-in-description",
        ),
    ],
)
def test_provider_text_is_made_printable(status: int, body: bytes) -> None:
    _check_token_response(status, {}, body)


def test_numbers_fuzz_with_unicode_digits_and_huge_values(record_property: RecordProperty) -> None:
    """The same contract over numbers only."""
    calls: Counter[str] = Counter()

    @settings(max_examples=2_000, deadline=None)
    @given(
        st.one_of(
            st.integers(min_value=-(10**300), max_value=10**300),
            st.floats(allow_infinity=False, max_value=1e300, min_value=-1e300),
            st.just(math.nan),
            st.text(alphabet=_DIGITS, max_size=30),
        )
    )
    def check(value: object) -> None:
        calls["numbers"] += 1
        body = json.dumps({"access_token": "tok", "expires_in": value}).encode()
        _check_token_response(200, {}, body)

    check()
    record_property("numbers_examples", calls["numbers"])
    assert calls["numbers"] >= 2_000


# -- discovery documents -----------------------------------------------------------------------

_URL_KEYS = (
    "token_endpoint",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
)
_urlish = st.one_of(
    st.sampled_from(
        [
            "https://sso.example/token",
            "http://127.0.0.1:1/token",
            "https://",
            "http://",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "HTTPS://SSO.EXAMPLE/TOKEN",
            "https://a b/c",
            "https://sso.example/token\r\nX: y",
        ]
    ),
    st.text(max_size=40),
    _json_values,
)
_discovery_object = st.fixed_dictionaries(
    {},
    optional={
        "issuer": _urlish,
        **{key: _urlish for key in _URL_KEYS},
        "scopes_supported": _json_values,
        "code_challenge_methods_supported": _json_values,
    },
)
_discovery_bodies = st.one_of(
    _discovery_object.map(lambda d: json.dumps(d).encode()),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.sampled_from([b"", b"[" * 5000, b"<html>login page</html>", b"\xff\xfe{}"]),
)
_discovery_statuses = st.sampled_from([200, 200, 200, 200, 404, 400, 405, 500, 503, 429, 401, 302])


@contextmanager
def _served(answers: list[tuple[int, bytes]]) -> Iterator[list[str]]:
    """Patch the one HTTP function discovery uses: answer GETs in order, record the URLs."""
    asked: list[str] = []

    def fake_request(method: str, url: str, **kwargs: Any) -> http.Response:
        assert method == "GET"
        index = min(len(asked), len(answers) - 1)
        asked.append(url)
        status, body = answers[index]
        return http.Response(status, {"Content-Type": "application/json"}, body)

    # No real backoff sleeps: 10,000 examples must take seconds, not hours.
    with (
        mock.patch.object(http, "request", fake_request),
        mock.patch.object(oauth, "retry_delay", lambda error, attempt: 0.0),
    ):
        yield asked


def _check_discovery_result(got: dict[str, Any]) -> None:
    assert isinstance(got, dict)
    assert isinstance(got["token_endpoint"], str)
    for key in _URL_KEYS:
        value = got.get(key)
        assert value is None or (
            isinstance(value, str) and value.startswith(("https://", "http://"))
        ), (key, value)


def test_discovery_documents_are_metadata_or_one_of_our_errors(
    record_property: RecordProperty,
) -> None:
    calls: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(
        st.lists(st.tuples(_discovery_statuses, _discovery_bodies), min_size=1, max_size=2),
        st.sampled_from(["https://sso.example", "https://sso.example/realms/mail/", "http://x"]),
    )
    def check(answers: list[tuple[int, bytes]], issuer: str) -> None:
        calls["discovery"] += 1
        with _served(answers) as asked:
            try:
                got = oauth.discover(issuer, timeout=3)
            except OAuthHelperError as e:
                _assert_clear(e, {EX_TEMPFAIL, EX_CONFIG})
            else:
                _check_discovery_result(got)
        assert 1 <= len(asked) <= 2 * oauth.RETRY_ATTEMPTS  # bounded, whatever the answers

    check()
    _counted(record_property, "discovery", calls)


# -- the pasted redirect URL or code -----------------------------------------------------------

_callback = pytest.importorskip("oauth_helper.flows.callback")
STATE = "s-Q2hlY2sgdGhlIHN0YXRlIQ"
PASTE_EXAMPLES = 2_000  # the 10,000-example paste fuzzes live in tests/unit/test_flows.py

_param_names = st.one_of(
    st.sampled_from(
        ["code", "state", "error", "error_description", "iss", "session_state", "scope"]
    ),
    st.text(max_size=6),
)
_param_values = st.one_of(
    st.sampled_from([STATE, "4/0AbCd-EfGh_ij", "M.C507_BAY.2.U.abc", "", "access_denied", "x y"]),
    st.text(max_size=30),
    st.text(alphabet=string.printable, max_size=60),
)


@st.composite
def _pasted(draw: st.DrawFn) -> str:
    params = draw(st.lists(st.tuples(_param_names, _param_values), max_size=5))
    raw = draw(st.booleans())
    query = "&".join(
        f"{k}={v}" if raw else f"{urllib.parse.quote(k)}={urllib.parse.quote(v)}" for k, v in params
    )
    prefix = draw(
        st.sampled_from(
            [
                "http://127.0.0.1:8080/?",
                "http://localhost/?",
                "https://login.example/cb?",
                "http://localhost/#",
                "?",
                "",
                "urn:ietf:wg:oauth:2.0:oob?",
            ]
        )
    )
    fragment = draw(st.sampled_from(["", "#", "#_=_", "#code=evil"]))
    wrap = draw(st.sampled_from(["", " ", "\n", '"', "<", "'"]))
    return wrap + prefix + query + fragment + wrap[::-1].replace("<", ">")


_paste_texts = st.one_of(
    _pasted(),
    st.text(max_size=200),
    st.text(alphabet=string.printable, max_size=200),
    st.sampled_from(["x" * 5000, "a" * 20000, "%", "%ff", "code=%C3%28", "code=&code="]),
)


def test_pasted_urls_and_codes_are_a_code_or_a_clear_error(record_property: RecordProperty) -> None:
    calls: Counter[str] = Counter()
    visible = set(map(chr, range(0x21, 0x7F)))

    @settings(max_examples=PASTE_EXAMPLES, deadline=None)
    @given(_paste_texts, st.sampled_from([STATE, "other-state"]), st.booleans())
    def check(text: str, state: str, require_iss: bool) -> None:
        calls["paste"] += 1
        try:
            got = _callback.parse_pasted(text)
        except OAuthHelperError as e:
            _assert_clear(e, {EX_USAGE})
            return
        if got.code is not None:
            assert 0 < len(got.code) <= _callback.MAX_CODE_LENGTH
            assert set(got.code) <= visible, repr(got.code)  # it goes into a POST form
            assert repr(got) == repr(replace(got, code="C"))  # repr hides the code
        try:
            code = _callback.code_from(
                got,
                state,
                provider=Provider(
                    name="x",
                    issuer="https://login.example",
                    iss_in_authorization_response=require_iss,
                ),
            )
        except OAuthHelperError as e:
            _assert_clear(e, DOCUMENTED_EXITS)
            return
        # A code is only ever taken from the attempt that sent this state.
        assert code == got.code and got.error is None
        # A code pasted alone is the only answer without a state (the user vouches for it).
        assert got.state == state or (got.state is None and got.bare)
        assert got.bare or not require_iss or got.iss is not None

    check()
    record_property("paste_examples", calls["paste"])
    assert calls["paste"] >= PASTE_EXAMPLES


@example(query="code=abc&state=" + STATE)
@given(st.text(max_size=100))
@settings(max_examples=2_000, deadline=None)
def test_redirect_queries_never_raise_anything_else(query: str) -> None:
    """What the loopback listener hands to parse_query: any query string at all."""
    try:
        got = _callback.parse_query(query)
    except OAuthHelperError as e:
        _assert_clear(e, {EX_USAGE})
        return
    assert got.code is not None or got.error is not None


# The same documents through the real HTTP stack (urllib, a real socket), 100 of them: each
# example costs up to six real requests (about 15 ms each, most of it building a TLS context).
class _DocumentHandler(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, bytes]]] = [(404, b"")]
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        index = min(len(self.asked), len(self.answers) - 1)
        self.asked.append(self.path)
        status, body = self.answers[index]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_discovery_documents_over_real_http(record_property: RecordProperty) -> None:
    calls: Counter[str] = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DocumentHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}/realms/mail"

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.tuples(_discovery_statuses, _discovery_bodies), min_size=1, max_size=2))
    def check(answers: list[tuple[int, bytes]]) -> None:
        calls["discovery_http"] += 1
        _DocumentHandler.answers = answers
        _DocumentHandler.asked = []
        with mock.patch.object(oauth, "retry_delay", lambda error, attempt: 0.0):
            try:
                got = oauth.discover(issuer, timeout=3)
            except OAuthHelperError as e:
                _assert_clear(e, {EX_TEMPFAIL, EX_CONFIG})
            else:
                _check_discovery_result(got)
        assert 1 <= len(_DocumentHandler.asked) <= 2 * oauth.RETRY_ATTEMPTS

    try:
        check()
    finally:
        server.shutdown()
        server.server_close()
    record_property("discovery_http_examples", calls["discovery_http"])
    assert calls["discovery_http"] >= 100
