"""docs/reference.md's "Where things live" table names each platform's real paths, as platformdirs computes
them (Linux through our own XDG code, macOS and Windows through platformdirs' own classes)."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs.macos
import platformdirs.windows
import pytest

README = Path(__file__).resolve().parents[2] / "docs" / "reference.md"
APP = "oauth-helper"
CACHE_ROW = "Cached access token, lock, last refresh, the parsed config (`config-HASH.json`)"


def rows() -> dict[str, list[str]]:
    text = README.read_text()
    table = text[text.index("| What | Linux") :].split("\n\n", 1)[0]
    found = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        found[cells[0]] = [re.sub(r"^`|`$", "", c) for c in cells[1:]]
    return found


def test_macos_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)  # recent platformdirs honour them on macOS too
    mac = platformdirs.macos.MacOS(APP, appauthor=False)
    table = rows()
    home = str(Path.home())
    assert table["Configuration"][1] == mac.user_config_dir.replace(home, "~") + "/config.toml"
    assert table['Refresh token, `store = "file"` (0600 in a 0700 directory)'][1] == (
        mac.user_data_dir.replace(home, "~") + "/ACCOUNT.json"
    )
    assert table[CACHE_ROW][1] == (mac.user_cache_dir.replace(home, "~") + "/")


def test_windows_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        platformdirs.windows,
        "get_win_folder",
        lambda csidl: (
            "%" + {"CSIDL_LOCAL_APPDATA": "LOCALAPPDATA", "CSIDL_APPDATA": "APPDATA"}[csidl] + "%"
        ),
    )
    win = platformdirs.windows.Windows(APP, appauthor=False)

    def native(path: str) -> str:
        return path.replace("/", "\\")

    table = rows()
    assert table["Configuration"][2] == native(win.user_config_dir) + "\\config.toml"
    assert table['Refresh token, `store = "file"` (0600 in a 0700 directory)'][2] == (
        native(win.user_data_dir) + "\\ACCOUNT.json"
    )
    assert table[CACHE_ROW][2] == native(win.user_cache_dir) + "\\"


def test_linux_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from oauth_helper import paths

    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    table = rows()

    def short(path: str) -> str:
        return path.replace(str(tmp_path), "~")

    assert table["Configuration"][0] == short(paths.config_dir()) + "/config.toml"
    assert table[CACHE_ROW][0] == short(paths.cache_dir()) + "/"
