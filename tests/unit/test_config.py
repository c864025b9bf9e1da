"""Config loading: typed results, and every mistake named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth_helper.config import load, parse, parse_hostport
from oauth_helper.errors import ConfigError, OAuthHelperError, UnknownAccount
from oauth_helper.providers import GOOGLE_MAIL_SCOPE, guess_provider

GOOD = """\
# my accounts
timeout = 10

[accounts."alice@gmail.com"]
provider = "google"
client_id = "1234-abc.apps.googleusercontent.com"
client_secret = "GOCSPX-x"
store = "keyring"

[accounts."bob@contoso.com"]
provider = "microsoft"
tenant = "contoso.com"
client_id = "00000000-0000"

[accounts."carol@corp.example"]
provider = "corp"
client_id = "mail"
store = "command"
store_read = "pass show oauth/carol"
store_write = ["pass", "insert", "-m", "oauth/carol"]

[providers.corp]
issuer = "https://sso.corp.example/realms/mail/"
scopes = ["openid", "mail"]
smtp = "smtp.corp.example:587"
imap = "imap.corp.example:993"
"""


def cfg(text: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_good_config(tmp_path: Path) -> None:
    config = load(cfg(GOOD, tmp_path))
    assert config.timeout == 10
    alice = config.account("alice@gmail.com")
    assert alice.provider.refresh_style == "google-auth" and alice.scopes == (GOOGLE_MAIL_SCOPE,)
    assert alice.store == "keyring" and alice.client_secret == "GOCSPX-x"
    assert "GOCSPX" not in repr(alice)
    bob = config.account("BOB@contoso.com")  # case-insensitive lookup
    assert (
        bob.provider.token_endpoint
        == "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
    )
    assert "smtp.office365.com" in bob.hosts
    carol = config.account("carol@corp.example")
    assert carol.store_read == ("pass", "show", "oauth/carol")
    assert carol.store_write == ("pass", "insert", "-m", "oauth/carol")
    assert carol.provider.issuer == "https://sso.corp.example/realms/mail"
    assert carol.provider.needs_discovery()
    assert carol.provider.smtp == ("smtp.corp.example", 587)


def test_missing_file_is_empty_and_unknown_account_is_67(tmp_path: Path) -> None:
    config = load(tmp_path / "absent.toml")
    assert not config.exists and not config.accounts
    with pytest.raises(UnknownAccount) as info:
        config.account("x@y.z")
    assert info.value.exit_code == 67 and "oauth-helper authorize x@y.z" in str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[accounts."a@b.c"]\nprovider = "google"\nclinet_id = "x"\n', 3, "clinet_id"),
        ('[accounts."a@b.c"]\nprovider = "nope"\n', 2, "unknown provider"),
        ('[accounts."a@b.c"]\nclient_id = "x"\n', 1, "provider"),
        ('[accounts."a@b.c"]\nprovider = "google"\nstore = "vault"\n', 3, "keyring, file, command"),
        ('[accounts."a@b.c"]\nprovider = "google"\nstore = "command"\n', 3, "store_read"),
        ('[accounts."not-an-address"]\nprovider = "google"\n', 1, "mail address"),
        ('[providers.x]\nscopes = ["a"]\n', 1, "issuer"),
        ('[providers.x]\nissuer = "ftp://x"\n', 2, "http"),
        ('[providers.x]\ntoken_endpoint = "https://x/t"\nsmtp = "nohost"\n', 3, "host:port"),
        ("timeout = -1\n", 1, "timeout"),
        ('[accounts."a@b.c"\nprovider = "google"\n', 1, "expected ']' at the end of a table"),
        ("x = = 1\n", 1, "not a valid value"),
        ('[accounts."a@b.c"]\nprovider = "google"\ntenant = "x"\n', 3, "no tenants"),
        (
            '[accounts."a@b.c"]\nprovider = "google"\nstore_read = "unbalanced \'quote"\n',
            3,
            "split",
        ),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = cfg(text, tmp_path)
    with pytest.raises(ConfigError) as info:
        load(path)
    message = str(info.value)
    assert info.value.exit_code == 78
    assert message.startswith(f"{path}:"), message
    assert message.startswith(f"{path}:{line}: "), message  # one format for TOML and our checks
    assert words in message
    assert "\n" not in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'# ok\n[accounts."a@b.c"]\nprovider = "\xff"\n')
    with pytest.raises(ConfigError, match=":3: not valid UTF-8"):
        load(path)


def test_builtin_override_keeps_the_rest(tmp_path: Path) -> None:
    text = (
        '[providers.google]\ntoken_endpoint = "http://127.0.0.1:1/token"\n'
        '[accounts."a@gmail.com"]\nprovider = "google"\nclient_id = "c"\n'
    )
    account = load(cfg(text, tmp_path)).account("a@gmail.com")
    assert account.provider.token_endpoint == "http://127.0.0.1:1/token"
    assert account.provider.refresh_style == "google-auth"
    assert account.provider.smtp == ("smtp.gmail.com", 587)


def test_fingerprint_follows_client_and_scopes(tmp_path: Path) -> None:
    base = '[accounts."a@gmail.com"]\nprovider = "google"\nclient_id = "c"\n'
    one = load(cfg(base, tmp_path)).account("a@gmail.com").fingerprint()
    two = load(cfg(base.replace('"c"', '"d"'), tmp_path)).account("a@gmail.com").fingerprint()
    three = load(cfg(base + 'scopes = ["x"]\n', tmp_path)).account("a@gmail.com").fingerprint()
    assert len({one, two, three}) == 3


def test_hostport() -> None:
    assert parse_hostport("smtp.gmail.com:587") == ("smtp.gmail.com", 587)
    assert parse_hostport("[::1]:993") == ("::1", 993)
    assert parse_hostport("imap.x", 993) == ("imap.x", 993)
    assert parse_hostport("x:0") is None and parse_hostport("x:99999") is None
    assert parse_hostport(":25") is None and parse_hostport("x") is None


def test_guess_provider() -> None:
    assert guess_provider("a@Gmail.com") == "google"
    assert guess_provider("a@hotmail.com") == "microsoft"
    assert guess_provider("a@example.org") is None


@settings(max_examples=10_000)
@given(st.text(max_size=300))
def test_arbitrary_text_is_a_config_or_a_config_error(text: str) -> None:
    try:
        parse(text, Path("/x/config.toml"))
    except ConfigError as e:
        assert str(e).startswith("/x/config.toml") and "\n" not in str(e)
    except OAuthHelperError as e:  # pragma: no cover - any other of ours would be a wrong class
        raise AssertionError(f"unexpected {type(e).__name__}: {e}") from e


_KEYS = st.sampled_from(
    [
        "provider",
        "client_id",
        "store",
        "tenant",
        "scopes",
        "smtp",
        "store_read",
        "issuer",
        "token_endpoint",
        "timeout",
        "redirect_host",
        "device_flow",
    ]
)
_VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=8), max_size=3),
    st.just("google"),
    st.just("microsoft"),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# Fewer examples than the free-text fuzz above (10,000): each one builds a structured document.
@settings(max_examples=2_500)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(['accounts."a@b.c"', "providers.p", "accounts.x"]),
            st.dictionaries(_KEYS, _VALUES, max_size=4),
        ),
        max_size=3,
    )
)
def test_structured_configs_never_crash(tables: list[tuple[str, dict[str, object]]]) -> None:
    lines = []
    seen = set()
    for header, body in tables:
        if header in seen:
            continue
        seen.add(header)
        lines.append(f"[{header}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in body.items() if "\x00" not in str(v))
    try:
        parse("\n".join(lines) + "\n", Path("/c.toml"))
    except ConfigError as e:
        assert "\n" not in str(e)
