"""Shell completion: the words each shell completes are the parser's commands, options, choices
and the configured accounts (bash and fish run for real, zsh is checked for syntax and parsed)."""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oauth_helper import completion
from oauth_helper.cli import build_parser
from tests.support.binaries import require_binary
from tests.support.cli_env import make_account, run_cli
from tests.support.provider import LocalProvider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = ["bob@example.test", "alice@example.test"]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no commands")


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {f for a in parser._actions for f in a.option_strings if f.startswith("--")}


def option_choices() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for sub in subparsers().values():
        for a in sub._actions:
            if a.option_strings and a.choices:
                for f in a.option_strings:
                    found[f] = {str(c) for c in a.choices}
    return found


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("completion")
    with LocalProvider() as provider:
        env = make_account(tmp, provider, ACCOUNTS[0], seed=False)
        env = make_account(tmp, provider, ACCOUNTS[1], seed=False, env=env)
    return env


def script_file(env: dict[str, str], shell: str, tmp_path: Path) -> Path:
    done = run_cli(env, "completion", shell)
    assert done.returncode == 0, done.stderr
    path = tmp_path / f"completion.{shell}"
    path.write_bytes(done.stdout)
    return path


def bash_complete(env: dict[str, str], script: Path, *words: str) -> set[str]:
    bash = require_binary("bash")
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}; complete -p oauth-helper >/dev/null || exit 9; "
        f"COMP_WORDS=(oauth-helper {quoted}); COMP_CWORD={len(words)}; "
        '_oauth_helper; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        [bash, "--norc", "-c", program], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return {w for w in done.stdout.split("\n") if w}


def fish_complete(env: dict[str, str], script: Path, line: str) -> set[str]:
    fish = require_binary("fish")
    done = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C {line!r}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return {w.split("\t")[0] for w in done.stdout.split("\n") if w}


def test_contrib_completion_is_the_generated_script() -> None:
    for relpath, text in completion.contrib_files(build_parser()).items():
        assert (ROOT / "contrib" / relpath).read_text() == text, (
            f"run scripts/gen-contrib ({relpath})"
        )


def test_bash(env: dict[str, str], tmp_path: Path) -> None:
    script = script_file(env, "bash", tmp_path)
    commands = set(subparsers())
    top = bash_complete(env, script, "")
    assert commands <= top and "--version" in top
    for name, sub in subparsers().items():
        assert bash_complete(env, script, name, "--") == long_options(sub), name
    for flag, choices in option_choices().items():
        command = next(n for n, s in subparsers().items() if flag in long_options(s))
        assert bash_complete(env, script, command, flag, "") == choices, flag
    for name in ("token", "status", "revoke", "test", "authorize", "preauth"):
        assert bash_complete(env, script, name, "") == set(ACCOUNTS), name
    assert bash_complete(env, script, "refresh", ACCOUNTS[0], "") == set(ACCOUNTS)
    assert bash_complete(env, script, "--config", "x", "tok") == {"token"}
    assert bash_complete(env, script, "snippet", "") == set(
        completion.spec(build_parser())
        .commands[[c.name for c in completion.spec(build_parser()).commands].index("snippet")]
        .positionals[0]
    )
    assert bash_complete(env, script, "snippet", "mutt", "") == set(ACCOUNTS)
    assert bash_complete(env, script, "token", "--format", "json", "a") == {ACCOUNTS[1]}
    assert bash_complete(env, script, "token", ACCOUNTS[0], "") == set()


def test_fish(env: dict[str, str], tmp_path: Path) -> None:
    script = script_file(env, "fish", tmp_path)
    assert set(subparsers()) <= fish_complete(env, script, "oauth-helper ")
    for name, sub in subparsers().items():
        assert fish_complete(env, script, f"oauth-helper {name} --") == long_options(sub), name
    for flag, choices in option_choices().items():
        command = next(n for n, s in subparsers().items() if flag in long_options(s))
        assert fish_complete(env, script, f"oauth-helper {command} {flag} ") == choices, flag
    for name in ("token", "status", "revoke", "test"):
        assert fish_complete(env, script, f"oauth-helper {name} ") == set(ACCOUNTS), name
    assert fish_complete(env, script, "oauth-helper snippet mutt ") == set(ACCOUNTS)
    assert "msmtp" in fish_complete(env, script, "oauth-helper snippet ")


def test_zsh_parses_and_lists_every_option(env: dict[str, str], tmp_path: Path) -> None:
    script = script_file(env, "zsh", tmp_path)
    zsh = require_binary("zsh")
    done = subprocess.run([zsh, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    text = script.read_text()
    assert text.startswith("#compdef oauth-helper\n")
    for name, sub in subparsers().items():
        found = re.search(rf"^\s+{re.escape(name)}\) opts=\(([^)]*)\)", text, re.M)
        assert found, name
        assert {f for f in found.group(1).split() if f.startswith("--")} == long_options(sub)
    assert "oauth-helper accounts 2>/dev/null" in text


def test_manpage_is_package_data(env: dict[str, str]) -> None:
    done = run_cli(env, "manpage")
    page = ROOT / "oauth_helper" / "data" / "oauth-helper.1"
    assert done.returncode == 0 and done.stdout == page.read_bytes()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["oauth_helper"]
    assert any(fnmatch.fnmatch("data/oauth-helper.1", p) for p in patterns)
    assert (ROOT / "contrib" / "man" / "oauth-helper.1").read_bytes() == page.read_bytes()
