"""contrib/man/oauth-helper.1 renders cleanly and names every command and option the CLI has."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from oauth_helper.cli import build_parser
from tests.support.binaries import require_binary

MAN = Path(__file__).resolve().parents[2] / "contrib" / "man" / "oauth-helper.1"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_renders_without_warnings() -> None:
    groff = require_binary("groff")
    result = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-z", str(MAN)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_names_every_command_and_option() -> None:
    text = MAN.read_text().replace("\\-", "-")
    for name, sub in _subparsers(build_parser()).items():
        assert f"oauth-helper {name}" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in text, f"{name} {flag}"
    for code in ("64", "67", "69", "70", "75", "77", "78"):
        assert f".B {code}\n" in MAN.read_text()
