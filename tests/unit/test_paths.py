"""Our XDG shortcut must name the same directories platformdirs would."""

from __future__ import annotations

import pytest

from oauth_helper import paths


@pytest.mark.parametrize("xdg", [True, False])
def test_directories_agree_with_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path, xdg: bool
) -> None:
    import platformdirs

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        if xdg:
            monkeypatch.setenv(name, str(tmp_path / name.lower()))
        else:
            monkeypatch.delenv(name, raising=False)
    assert paths.config_dir() == platformdirs.user_config_dir("oauth-helper", appauthor=False)
    assert paths.cache_dir() == platformdirs.user_cache_dir("oauth-helper", appauthor=False)
    assert paths.data_dir() == platformdirs.user_data_dir("oauth-helper", appauthor=False)


def test_blank_xdg_variable_means_default(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "  ")
    assert paths.cache_dir() == str(tmp_path / ".cache" / "oauth-helper")


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTH_HELPER_CONFIG", "/etc/somewhere.toml")
    assert paths.default_config_file() == "/etc/somewhere.toml"


@pytest.mark.parametrize(
    "account", ["alice@gmail.com", "../../etc/passwd", ".hidden", "a/b", "ü@x", ""]
)
def test_file_names_are_single_safe_components(account: str) -> None:
    name = paths.file_name(account)
    assert "/" not in name and name not in (".", "..") and not name.startswith(".")
    assert name


def test_file_names_do_not_collide() -> None:
    names = {paths.file_name(a) for a in ("a/b", "a%2Fb", "a_b", "A/b")}
    assert len(names) == 4
