"""`git-credential-oauth-helper get|store|erase`: choosing the account and answering git.

The token engine is replaced by a fake; the configuration is a real file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from oauth_helper import cache, gitcred, tokens
from oauth_helper.config import load
from oauth_helper.errors import AuthorizationRequired, ConfigError, TransientError
from oauth_helper.settings import Settings

CONFIG = """\
[providers.corp]
token_endpoint = "https://sso.corp.example/token"
smtp = "mail.corp.example:587"
imap = "mail.corp.example:993"

[accounts."alice@gmail.com"]
provider = "google"
client_id = "id"

[accounts."bob@corp.example"]
provider = "corp"
client_id = "id"

[accounts."carol@corp.example"]
provider = "corp"
client_id = "id"
"""

TOKEN = "ya29.fake-access-token"


class FakeEngine:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.dropped: list[str] = []
        self.error: Exception | None = None

    def get_access_token(
        self, settings: Settings, account_name: str, **_: object
    ) -> tokens.AccessToken:
        self.asked.append(account_name)
        if self.error is not None:
            raise self.error
        return tokens.AccessToken(TOKEN, 1_900_000_000.5)

    def drop(self, account_name: str) -> bool:
        self.dropped.append(account_name)
        return True


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(tokens, "get_access_token", fake.get_access_token)
    monkeypatch.setattr(cache, "drop", fake.drop)
    return fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return Settings(config_path=path)


def call(settings: Settings, action: str, data: bytes) -> tuple[int, bytes, str]:
    stdout = io.BytesIO()
    stderr = io.StringIO()
    code = gitcred.run(settings, action, io.BytesIO(data), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_get_with_username(settings: Settings, engine: FakeEngine) -> None:
    code, out, err = call(
        settings, "get", b"protocol=smtp\nhost=smtp.gmail.com:587\nusername=alice@gmail.com\n\n"
    )
    assert (code, err) == (0, "")
    assert out == (
        b"username=alice@gmail.com\npassword="
        + TOKEN.encode()
        + b"\npassword_expiry_utc=1900000000\n"
    )
    assert engine.asked == ["alice@gmail.com"]


def test_get_writes_text_streams_too(settings: Settings, engine: FakeEngine) -> None:
    stdout = io.StringIO()
    data = io.BytesIO(b"protocol=imaps\nhost=imap.gmail.com\n\n")
    assert gitcred.run(settings, "get", data, stdout, io.StringIO()) == 0
    assert stdout.getvalue().startswith("username=alice@gmail.com\npassword=")


@pytest.mark.parametrize(
    "request_",
    [
        b"protocol=smtp\nhost=smtp.gmail.com\n",  # only account on that host
        b"protocol=smtps\nhost=smtp.gmail.com:465\n",  # well-known alternative port
        b"protocol=imap\nhost=IMAP.GMAIL.COM:143\n",
        b"protocol=pop3\nhost=pop.gmail.com:995\n",
        b"protocol=smtp\nhost=smtp.gmail.com:2525\nusername=Alice@Gmail.com\n",  # named: any port
    ],
)
def test_get_chooses_the_account(settings: Settings, engine: FakeEngine, request_: bytes) -> None:
    code, out, _ = call(settings, "get", request_)
    assert code == 0
    assert out.startswith(b"username=alice@gmail.com\n")


@pytest.mark.parametrize(
    "request_",
    [
        b"protocol=https\nhost=github.com\n",
        b"protocol=smtp\nhost=smtp.example.net\n",
        b"protocol=smtp\nhost=smtp.gmail.com:2525\n",  # unknown port, guessing
        b"protocol=smtp\nhost=smtp.gmail.com\nusername=mallory@gmail.com\n",
        b"protocol=smtp\nhost=mail.corp.example\n",  # two accounts fit: ambiguous
        b"protocol=smtp\nhost=smtp.gmail.com\nusername=bob@corp.example\n",  # not bob's host
        b"protocol=smtp\n",
        b"",
    ],
)
def test_get_answers_nothing_when_not_ours(
    settings: Settings, engine: FakeEngine, request_: bytes
) -> None:
    assert call(settings, "get", request_) == (0, b"", "")
    assert engine.asked == []


def test_get_ambiguous_host_with_username(settings: Settings, engine: FakeEngine) -> None:
    code, out, _ = call(
        settings, "get", b"protocol=smtp\nhost=mail.corp.example:587\nusername=carol@corp.example\n"
    )
    assert code == 0
    assert out.startswith(b"username=carol@corp.example\n")


def test_verbose_says_why_nothing(settings: Settings, engine: FakeEngine) -> None:
    verbose = Settings(config_path=settings.config_path, verbose=True)
    code, out, err = call(verbose, "get", b"protocol=smtp\nhost=smtp.example.net\n")
    assert (code, out) == (0, b"")
    assert err == "oauth-helper: no configured account for smtp://smtp.example.net\n"


def test_missing_config_answers_nothing(tmp_path: Path, engine: FakeEngine) -> None:
    settings = Settings(config_path=tmp_path / "absent.toml")
    assert call(settings, "get", b"protocol=smtp\nhost=smtp.gmail.com\n") == (0, b"", "")


def test_broken_config_is_one_line_no_answer(tmp_path: Path, engine: FakeEngine) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[accounts.x\n")
    code, out, err = call(
        Settings(config_path=path), "get", b"protocol=smtp\nhost=smtp.gmail.com\n"
    )
    assert (code, out) == (ConfigError.exit_code, b"")
    assert err.startswith("oauth-helper: ") and err.count("\n") == 1


def test_broken_config_does_not_bother_other_protocols(tmp_path: Path, engine: FakeEngine) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[accounts.x\n")
    assert call(Settings(config_path=path), "get", b"protocol=https\nhost=github.com\n") == (
        0,
        b"",
        "",
    )


def test_authorization_required_quits(settings: Settings, engine: FakeEngine) -> None:
    engine.error = AuthorizationRequired(
        "alice@gmail.com: the refresh token was revoked; "
        "run: oauth-helper authorize alice@gmail.com"
    )
    code, out, err = call(settings, "get", b"protocol=smtp\nhost=smtp.gmail.com\n")
    assert code == AuthorizationRequired.exit_code
    assert out == b"quit=1\n"
    assert err == (
        "oauth-helper: alice@gmail.com: the refresh token was revoked; "
        "run: oauth-helper authorize alice@gmail.com\n"
    )


def test_transient_error_quits_too(settings: Settings, engine: FakeEngine) -> None:
    engine.error = TransientError("token endpoint timed out; try again later")
    code, out, err = call(settings, "get", b"protocol=smtp\nhost=smtp.gmail.com\n")
    assert (code, out) == (TransientError.exit_code, b"quit=1\n")
    assert err.count("\n") == 1


def test_debug_raises_for_the_cli_to_report(settings: Settings, engine: FakeEngine) -> None:
    engine.error = AuthorizationRequired("run: oauth-helper authorize alice@gmail.com")
    debug = Settings(config_path=settings.config_path, debug=True)
    stdout = io.BytesIO()
    with pytest.raises(AuthorizationRequired):
        gitcred.run(
            debug, "get", io.BytesIO(b"protocol=smtp\nhost=smtp.gmail.com\n"), stdout, io.StringIO()
        )
    assert stdout.getvalue() == b"quit=1\n"


def test_store_does_nothing(settings: Settings, engine: FakeEngine) -> None:
    data = (
        b"protocol=smtp\nhost=smtp.gmail.com\nusername=alice@gmail.com\npassword=" + TOKEN.encode()
    )
    assert call(settings, "store", data) == (0, b"", "")
    assert engine.asked == engine.dropped == []


def test_erase_drops_the_cached_token_only(settings: Settings, engine: FakeEngine) -> None:
    data = b"protocol=smtp\nhost=smtp.gmail.com:587\nusername=alice@gmail.com\npassword=x\n\n"
    assert call(settings, "erase", data) == (0, b"", "")
    assert engine.dropped == ["alice@gmail.com"]
    assert engine.asked == []


def test_erase_of_someone_else_does_nothing(settings: Settings, engine: FakeEngine) -> None:
    assert call(settings, "erase", b"protocol=https\nhost=github.com\n") == (0, b"", "")
    assert engine.dropped == []


def test_malformed_input_is_one_line(settings: Settings, engine: FakeEngine) -> None:
    code, out, err = call(settings, "get", b"protocol=smtp\nhunter2\n")
    assert (code, out) == (64, b"")
    assert err.startswith("oauth-helper: line 2 ") and err.count("\n") == 1
    assert "hunter2" not in err


def test_unknown_action(settings: Settings, engine: FakeEngine) -> None:
    code, out, err = call(settings, "approve", b"")
    assert (code, out) == (64, b"")
    assert "get, store or erase" in err


def test_real_accounts_satisfy_the_protocol(settings: Settings) -> None:
    cfg = load(settings.config_path)
    request = gitcred.request_from({"protocol": "imaps", "host": "mail.corp.example:993"})
    assert request is not None
    assert {a.name for a in cfg.accounts.values() if gitcred.fits(a, request)} == {
        "bob@corp.example",
        "carol@corp.example",
    }


request_bytes = st.lists(
    st.sampled_from(
        [
            b"protocol=smtp\n",
            b"protocol=imaps\n",
            b"protocol=https\n",
            b"host=smtp.gmail.com",
            b"host=mail.corp.example",
            b":587",
            b":2525",
            b":x",
            b"\n",
            b"username=alice@gmail.com\n",
            b"username=bob@corp.example\n",
            b"url=smtp://smtp.gmail.com\n",
            b"\r",
            b"\0",
            b"\xff",
            b"=",
        ]
    )
    | st.binary(max_size=6),
    max_size=10,
).map(b"".join)


@hypothesis_settings(max_examples=1_000, deadline=None)
@given(data=request_bytes, action=st.sampled_from(["get", "store", "erase"]))
def test_run_on_arbitrary_input_answers_or_says_one_line(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, action: str
) -> None:
    path = tmp_path_factory.getbasetemp() / "config.toml"
    if not path.exists():
        path.write_text(CONFIG)
    engine = FakeEngine()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tokens, "get_access_token", engine.get_access_token)
        mp.setattr(cache, "drop", engine.drop)
        code, out, err = call(Settings(config_path=path), action, data)
    assert err.count("\n") <= 1
    if out:
        assert action == "get" and code == 0
        assert gitcred.parse(out)["password"] == TOKEN
    else:
        assert code in (0, 64)
        assert (code == 64) == bool(err)
