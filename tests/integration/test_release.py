"""One version, defined once (oauth_helper/__init__.py): the installed distribution's metadata,
`oauth-helper --version` and the manual page all say it. scripts/test runs this against the
wheel it built (scripts/release-check checks the built files themselves)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from pathlib import Path

import oauth_helper
from tests.support.cli_env import oauth_helper_cmd

ROOT = Path(__file__).resolve().parents[2]


def test_installed_metadata_version_is_the_cli_version() -> None:
    said = subprocess.run(
        [oauth_helper_cmd(), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert said == f"oauth-helper {importlib.metadata.version('oauth-helper')}\n"
    assert said == f"oauth-helper {oauth_helper.__version__}\n"


def test_version_is_defined_once() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^version\s*=\s*\"", pyproject, re.M) is None  # no second copy to forget
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "oauth_helper.__version__" }' in pyproject
    page = (ROOT / "oauth_helper" / "data" / "oauth-helper.1").read_text()
    assert f'"oauth-helper {oauth_helper.__version__}"' in page.splitlines()[0]
