"""configedit: accounts added, changed and removed without disturbing anything else."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oauth_helper import configedit
from oauth_helper.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NAME = "alice@example.com"
USER_TEXT = """\
# oauth-helper settings, written by hand
timeout = 10  # seconds

[providers.corp]   # our SSO
issuer = "https://sso.corp.example/realms/mail"
scopes = [
  "openid",
  # a comment inside an array
  "mail",
]
notes = \"\"\"
[accounts."alice@example.com"]
this is a string, not a table
\"\"\"

[accounts."alice@example.com"]
provider = "corp"   # chosen by hand
  "client_id" = 'old-id'
store = "keyring"
# trailing comment of alice

# Bob follows
[accounts."bob@example.com"]
provider = "google"
client_id = "bob"
"""


def parsed(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text())


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode())
    path.chmod(mode)
    return path


def test_creates_missing_file_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    configedit.update_account(
        path, NAME, {"provider": "google", "client_id": "x", "store": "file", "signed_in_as": None}
    )
    assert (
        path.read_text()
        == f'[accounts."{NAME}"]\nprovider = "google"\nclient_id = "x"\nstore = "file"\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_changes_in_place_keeping_comments_spelling_and_order(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT, 0o644)
    configedit.update_account(
        path,
        NAME,
        {"provider": "corp", "client_id": "new-id", "store": "file", "signed_in_as": "asmith@corp"},
    )
    expected = USER_TEXT.replace("""  "client_id" = 'old-id'""", """  "client_id" = "new-id\"""")
    expected = expected.replace(
        'store = "keyring"\n', 'store = "file"\nsigned_in_as = "asmith@corp"\n'
    )
    assert path.read_text() == expected
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # the user's mode is kept
    data = parsed(path)
    assert data["accounts"][NAME]["client_id"] == "new-id"  # type: ignore[index]
    assert data["providers"]["corp"]["notes"].startswith("[accounts.")  # type: ignore[index]


def test_trailing_comment_kept_on_a_changed_line(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    configedit.update_account(path, NAME, {"provider": "google"})
    assert 'provider = "google"  # chosen by hand\n' in path.read_text()


def test_nothing_to_change_leaves_the_file_alone(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    before = path.stat()
    configedit.update_account(
        path,
        NAME,
        {"provider": "corp", "client_id": "old-id", "signed_in_as": None, "tenant": None},
    )
    assert path.read_text() == USER_TEXT
    assert path.stat().st_ino == before.st_ino  # not even rewritten


def test_removing_a_key(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    configedit.update_account(path, "bob@example.com", {"client_id": None})
    assert path.read_text() == USER_TEXT.replace('client_id = "bob"\n', "")


def test_new_account_appended_after_everything(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    configedit.update_account(
        path,
        "carol@x.org",
        {"provider": "microsoft", "tenant": "x.org", "client_id": "c", "signed_in_as": None},
    )
    assert path.read_text() == USER_TEXT + (
        '\n[accounts."carol@x.org"]\nprovider = "microsoft"\ntenant = "x.org"\nclient_id = "c"\n'
    )


@pytest.mark.parametrize("text", ["timeout = 3", "timeout = 3\n", "timeout = 3\n\n", ""])
def test_separation_from_existing_text(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    configedit.update_account(path, NAME, {"provider": "google"})
    result = path.read_text()
    assert result.startswith(text)
    assert "\n\n\n" not in result
    assert parsed(path)["accounts"] == {NAME: {"provider": "google"}}


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    text = USER_TEXT.replace("\n", "\r\n")
    path = write(tmp_path, text)
    configedit.update_account(path, "bob@example.com", {"store": "file"})
    configedit.update_account(path, "new@example.com", {"provider": "google"})
    result = path.read_bytes().decode()
    assert result.startswith(
        text.replace('client_id = "bob"\r\n', 'client_id = "bob"\r\nstore = "file"\r\n')
    )
    assert "\n" not in result.replace("\r\n", "")


def test_header_spelled_differently_is_found(tmp_path: Path) -> None:
    text = "[ accounts . 'alice@example.com' ]  # hi\nprovider = 'google'\n"
    path = write(tmp_path, text)
    configedit.update_account(path, NAME, {"store": "file"})
    assert path.read_text() == text + 'store = "file"\n'


def test_inline_table_is_refused_untouched(tmp_path: Path) -> None:
    text = '[accounts]\n"alice@example.com" = { provider = "google" }\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="table"):
        configedit.update_account(path, NAME, {"store": "file"})
    with pytest.raises(ConfigError):
        configedit.remove_account(path, NAME)
    assert path.read_text() == text


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "this is = = not toml\n")
    with pytest.raises(ConfigError):
        configedit.update_account(path, NAME, {"provider": "google"})
    assert path.read_text() == "this is = = not toml\n"


def test_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = write(tmp_path, "timeout = 3\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    configedit.update_account(link, NAME, {"provider": "google"})
    assert link.is_symlink() and NAME in real.read_text()


def test_strange_values_round_trip(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    value = 'quote " backslash \\ tab \t newline \n del \x7f bell \x07 é 😀'
    configedit.update_account(path, 'odd "name"@x', {"client_id": value})
    assert parsed(path)["accounts"]['odd "name"@x'] == {"client_id": value}  # type: ignore[index]


# -- remove_account -------------------------------------------------------------------------------


def test_remove_middle_account_keeps_the_rest_byte_identical(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    assert configedit.remove_account(path, NAME) is True
    start = USER_TEXT.index('[accounts."alice@example.com"]\nprovider')
    end = USER_TEXT.index("# trailing comment of alice")
    assert path.read_text() == USER_TEXT[:start] + USER_TEXT[end:]
    assert NAME not in parsed(path)["accounts"]  # type: ignore[operator]


def test_remove_last_account(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    assert configedit.remove_account(path, "bob@example.com") is True
    assert path.read_text() == USER_TEXT[: USER_TEXT.index('[accounts."bob@example.com"]')]


def test_add_then_remove_restores_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    configedit.update_account(path, "new@x.org", {"provider": "google", "client_id": "c"})
    assert configedit.remove_account(path, "new@x.org") is True
    assert path.read_text() == USER_TEXT


def test_remove_only_account_and_its_subtables(tmp_path: Path) -> None:
    text = (
        'timeout = 3\n\n[accounts."a@x"]\nprovider = "google"\n\n[accounts."a@x".extra]\n'
        'k = 1\n\n[providers.p]\nissuer = "https://p"\n'
    )
    path = write(tmp_path, text)
    assert configedit.remove_account(path, "a@x") is True
    assert path.read_text() == 'timeout = 3\n\n[providers.p]\nissuer = "https://p"\n'


def test_remove_unknown_account_or_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, USER_TEXT)
    assert configedit.remove_account(path, "nobody@example.com") is False
    assert path.read_text() == USER_TEXT
    assert configedit.remove_account(tmp_path / "absent.toml", NAME) is False
    assert not (tmp_path / "absent.toml").exists()


# -- properties -----------------------------------------------------------------------------------

_names = st.text(min_size=1, max_size=30).map(lambda s: s + "@example.com")
_values = st.text(max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_names, client_id=_values, store=st.sampled_from(["file", "keyring", "command"]))
def test_any_name_and_value_round_trip(
    tmp_path: Path, name: str, client_id: str, store: str
) -> None:
    path = write(tmp_path, USER_TEXT)
    configedit.update_account(
        path, name, {"provider": "corp", "client_id": client_id, "store": store}
    )
    data = parsed(path)
    assert data["accounts"][name]["client_id"] == client_id  # type: ignore[index]
    others = {k: v for k, v in data["accounts"].items() if k != name}  # type: ignore[union-attr]
    before = tomllib.loads(USER_TEXT)
    assert {k: v for k, v in before["accounts"].items() if k != name} == others
    assert data["providers"] == before["providers"]
    if name not in before["accounts"]:
        assert configedit.remove_account(path, name) is True
        assert path.read_text() == USER_TEXT


def test_written_atomically_without_leftovers(tmp_path: Path) -> None:
    directory = tmp_path / "cfg"
    directory.mkdir()
    path = write(directory, USER_TEXT)
    for i in range(3):
        configedit.update_account(path, NAME, {"client_id": f"id-{i}"})
    assert sorted(os.listdir(directory)) == ["config.toml"]
