"""The pure halves of issue 13's rules: the URL rule, the scrubber's encodings, file names that
fit, the Google help text. No sockets."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oauth_helper import config, paths, redact, urlrule
from oauth_helper.errors import ConfigError
from oauth_helper.providers import GOOGLE_HELP


@pytest.mark.parametrize(
    "url",
    [
        "https://login.example/token",
        "http://127.0.0.1:8080/token",
        "http://127.1.2.3/token",
        "http://[::1]:9/token",
        "http://localhost/token",
        "http://LOCALHOST:1/x",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert urlrule.insecure_reason(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://sso.example/token",
        "http://localhost.evil.example/token",
        "http://localhost./token",
        "http://127.0.0.1.nip.io/token",
        "http://[::ffff:127.0.0.1]/token",
        "http://10.0.0.1/token",
        "http://0.0.0.0/token",
        "ftp://x/y",
        "https:///no-host",
        "http://[bad/x",
    ],
)
def test_refused_urls(url: str) -> None:
    assert urlrule.insecure_reason(url) is not None


def test_config_refuses_plain_http_with_file_and_line() -> None:
    text = '[providers.corp]\nissuer = "https://sso.example"\ntoken_endpoint = "http://sso.example/t"\n'
    with pytest.raises(
        ConfigError, match=r"config.toml:3: providers.corp.token_endpoint: plain http"
    ):
        config.parse(text, Path("config.toml"))


def test_http_request_refuses_plain_http_before_connecting() -> None:
    from oauth_helper import http

    # A name that does not resolve: a connection attempt would be a TransientError, not this.
    with pytest.raises(
        ConfigError, match=re.escape("refusing to send a request to http://sso.invalid/t")
    ):
        http.request("POST", "http://sso.invalid/t", body=b"x", timeout=1)


SECRET_CHARS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_categories=("Cs",)),
    min_size=redact.MIN_SECRET_LENGTH,
    max_size=60,
)


@given(SECRET_CHARS, st.text(max_size=5), st.text(max_size=5))
def test_every_encoding_we_produce_is_scrubbed(secret: str, before: str, after: str) -> None:
    redact.register(secret)
    for form in (
        secret,
        urllib.parse.quote_plus(secret),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ):
        assert form not in redact.scrub(f"{before}{form}{after}")
    if len(secret.encode()) >= 12:  # base64 of a string around it, at any alignment
        wrapped = base64.b64encode(f"{before}auth=Bearer {secret}\x01\x01".encode()).decode()
        scrubbed = redact.scrub(wrapped)
        assert redact.REDACTED in scrubbed


def test_file_names_always_fit_and_short_ones_do_not_change() -> None:
    assert paths.file_name("alice@gmail.com") == "alice@gmail.com"
    for account in ("a" * 64 + "@" + "b" * 189, "\u00e9" * 254 + "@x", "%" * 300):
        name = paths.file_name(account)
        longest = f".{name}.state.json.4194304.{2**64}.tmp"
        assert len(longest.encode()) <= 255
    assert paths.file_name("x" * 300 + "@a") != paths.file_name("x" * 300 + "@b")


def test_google_help_suggests_the_hidden_prompt() -> None:
    assert "--client-secret" not in GOOGLE_HELP.replace("--client-secret would show", "")
    assert "asks for the secret with the input hidden" in GOOGLE_HELP
