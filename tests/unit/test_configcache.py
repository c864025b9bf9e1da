"""configcache: after a successful refresh (config.remember), the next load of the same bytes needs
no TOML parser; the cache is never trusted over the file: any edit, damage, or a loose mode
makes it a miss, and nothing is written before a refresh succeeded."""

from __future__ import annotations

import datetime
import os
import stat
import sys
from pathlib import Path

import pytest

from oauth_helper import config, configcache

TEXT = """\
timeout = 7.5

[accounts."alice@example.com"]
provider = "corp"
client_id = "mail"
client_secret = "s3cret"

[providers.corp]
issuer = "https://sso.example.com/"
token_endpoint = "https://sso.example.com/token"
scopes = ["openid", "mail"]
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(TEXT)
    return path


def no_toml_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, importing tomllib (or tomli) fails: a load must come from the cache."""
    for name in ("tomllib", "tomli"):
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]


def test_second_load_needs_no_toml_parser_and_means_the_same(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = config.load(config_path)
    entry = Path(configcache.entry_path(config_path))
    assert not entry.exists()  # loading alone writes nothing (a command may still fail)
    config.remember(config_path)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600  # it holds the client secret
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    no_toml_parser(monkeypatch)
    second = config.load(config_path)
    assert second == first
    assert second.timeout == 7.5
    assert second.account("alice@example.com").client_secret == "s3cret"


def test_an_edit_is_parsed_again(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.load(config_path)
    config.remember(config_path)
    config_path.write_text(TEXT.replace("timeout = 7.5", "timeout = 9.5"))
    assert config.load(config_path).timeout == 9.5
    # Same size, same second: the content decides, not the file's times.
    config_path.write_text(TEXT.replace("timeout = 7.5", "timeout = 8.5"))
    assert config.load(config_path).timeout == 8.5
    config.remember(config_path)
    no_toml_parser(monkeypatch)
    assert config.load(config_path).timeout == 8.5  # and that is cached in turn


def test_a_mistake_is_reported_from_the_file_whether_cached_or_not(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text(TEXT + 'bogus_key = "x"\n')
    with pytest.raises(config.ConfigError) as first:
        config.load(config_path)
    assert f"{config_path}:" in str(first.value)
    config.remember(config_path)  # valid TOML: kept, though no refresh could follow
    with pytest.raises(config.ConfigError) as second:
        config.load(config_path)
    assert str(second.value) == str(first.value)


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b'{"format": 99}', b"[]", b'{"format": 1, "sha256": "x", "data": 1}'],
)
def test_a_damaged_entry_is_a_miss_and_is_replaced(config_path: Path, damage: bytes) -> None:
    expected = config.load(config_path)
    config.remember(config_path)
    entry = Path(configcache.entry_path(config_path))
    entry.write_bytes(damage)
    assert config.load(config_path) == expected
    config.remember(config_path)
    assert configcache.parsed(config_path.read_bytes(), config_path) is not None


def test_an_entry_readable_by_others_is_not_trusted(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.load(config_path)
    config.remember(config_path)
    entry = Path(configcache.entry_path(config_path))
    os.chmod(entry, 0o644)
    assert configcache.parsed(config_path.read_bytes(), config_path) is None
    assert config.load(config_path).timeout == 7.5  # parsed from the file
    config.remember(config_path)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_values_json_cannot_hold_are_not_cached(config_path: Path) -> None:
    raw = config_path.read_bytes()
    configcache.keep(raw, config_path, {"when": datetime.date(2026, 12, 2)})
    assert not Path(configcache.entry_path(config_path)).exists()
    configcache.keep(raw, config_path, {"x": float("inf"), "n": 2**62, "b": True})
    assert configcache.parsed(raw, config_path) == {"x": float("inf"), "n": 2**62, "b": True}


def test_each_config_file_has_its_own_entry(tmp_path: Path, config_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("timeout = 3\n")
    assert configcache.entry_path(other) != configcache.entry_path(config_path)
    for path in (config_path, other):
        config.remember(path)
    assert configcache.parsed(config_path.read_bytes(), config_path) is not None
    assert configcache.parsed(other.read_bytes(), other) is not None
    assert config.load(config_path).timeout == 7.5
    assert config.load(other).timeout == 3


def test_an_unknown_account_leaves_no_entry(config_path: Path) -> None:
    with pytest.raises(config.UnknownAccount):
        config.load(config_path).account("typo@example.com")
    assert not Path(configcache.entry_path(config_path)).parent.exists()
