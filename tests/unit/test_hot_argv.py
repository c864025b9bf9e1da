"""The hot path's own `token` argv parser against argparse, the parser it stands in for.

cli.parse_token_args reads mail clients' plain `token` command lines without importing
argparse. Whenever it accepts a command line, argparse must read the very same values from it,
and must find no option the hot parser ignored; when unsure it declines (None) and argparse
decides. Hypothesis draws command lines from the words that matter: every option, abbreviated
and `=` forms, values that look like options, numbers argparse and int() read differently.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oauth_helper import cli

WORDS = [
    "alice@example.com",
    "bob@example.org",
    "",
    "token",
    "--format",
    "--format=xoauth2",
    "--format=",
    "--form",
    "--form=json",
    "xoauth2",
    "oauthbearer",
    "json",
    "raw",
    "--host",
    "--host=imap.example.com",
    "--host=",
    "smtp.example.com",
    "--port",
    "--port=993",
    "--port=",
    "993",
    "0587",
    "-5",
    "²",
    "٣",
    "1e3",
    " 25",
    "--min-validity",
    "--min-validity=600",
    "--min",
    "600",
    "--config",
    "--config=/tmp/oauth-helper.toml",
    "/tmp/other.toml",
    "--force-refresh",
    "-v",
    "--verbose",
    "--debug",
    "--help",
    "-h",
    "--",
    "-",
    "--version",
    "--account",
]


def argparse_reading(argv: list[str]) -> dict[str, object] | None:
    """What argparse makes of `argv`: the token command's values, or None if it refuses it."""
    parser = cli.build_parser()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            ns = parser.parse_args(argv)
        except SystemExit:
            return None
    if getattr(ns, "command", None) != "token":
        return None
    return {
        "account": ns.account,
        "fmt": ns.format,
        "host": ns.host,
        "port": ns.port,
        "min_validity": ns.min_validity,
        "config": getattr(ns, "config", None) or None,
        "force_refresh": ns.force_refresh,
        "verbose": getattr(ns, "verbose", False),
        "debug": getattr(ns, "debug", False),
    }


def hot_reading(argv: list[str]) -> dict[str, object] | None:
    wanted = cli.parse_token_args(argv)
    if wanted is None:
        return None
    return {
        "account": wanted.account,
        "fmt": wanted.fmt,
        "host": wanted.host,
        "port": wanted.port,
        "min_validity": wanted.min_validity,
        "config": wanted.config or None,
        "force_refresh": False,
        "verbose": False,
        "debug": False,
    }


def check(argv: list[str]) -> bool:
    """True if the hot parser accepted `argv` (and then agreed with argparse)."""
    hot = hot_reading(argv)
    if hot is not None:
        assert argparse_reading(argv) == hot, argv
    return hot is not None


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_whatever_the_hot_parser_accepts_argparse_reads_the_same(words: list[str]) -> None:
    check(["token", *words])


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "alice@example.com"],
        ["token", "alice@example.com", "--format", "xoauth2"],
        ["token", "--format=oauthbearer", "--host", "imap.example.com", "--port", "993", "a@b"],
        ["token", "a@b", "--min-validity", "600", "--config", "/tmp/c.toml"],
        ["token", "a@b", "--port", "0587", "--format", "json", "--format", "token"],
    ],
)
def test_what_mail_clients_send_takes_the_hot_path(argv: list[str]) -> None:
    # The point of the hot parser: these must not fall through to argparse.
    assert check(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "a@b", "--force-refresh"],
        ["token", "a@b", "-v"],
        ["token", "a@b", "--form", "json"],  # an abbreviation: argparse's business
        ["token", "a@b", "--port", "-5"],
        ["token", "a@b", "--port", "²"],  # str.isdigit() says yes, int() says no
        ["token", "a@b", "--format", "raw"],
        ["token", "--", "a@b"],
        ["token"],
        ["--config", "/tmp/c.toml", "token", "a@b"],
    ],
)
def test_anything_unusual_is_left_to_argparse(argv: list[str]) -> None:
    assert cli.parse_token_args(argv) is None
