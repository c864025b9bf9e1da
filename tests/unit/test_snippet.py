"""`snippet`: contrib/ is the rendering of the same code, and what it writes per provider."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oauth_helper.errors import ConfigError
from oauth_helper.providers import GOOGLE, Provider, microsoft
from oauth_helper.record import replace
from oauth_helper.snippet import CLIENTS, CONTRIB_FILES, Target, contrib_files, render

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


@pytest.mark.parametrize("relpath", sorted(CONTRIB_FILES))
def test_contrib_files_are_the_rendered_snippets(relpath: str) -> None:
    # One source of truth: edit oauth_helper/snippet.py, then run scripts/gen-contrib.
    assert (CONTRIB / relpath).read_text() == contrib_files()[relpath], (
        f"contrib/{relpath} is stale: run scripts/gen-contrib"
    )


def test_every_client_has_a_contrib_example() -> None:
    assert {client for client, _ in CONTRIB_FILES.values()} == set(CLIENTS)


GMAIL = Target("a@example.com", GOOGLE, exe="/opt/o h/bin/oauth-helper", git_helper="/g/helper")
OUTLOOK = Target("b@example.com", microsoft(), exe="/usr/bin/oauth-helper")


@pytest.mark.parametrize("client", CLIENTS)
def test_the_token_command_is_the_given_executable(client: str) -> None:
    text = render(client, [OUTLOOK])
    assert "/usr/bin/oauth-helper" in text
    # No bare `oauth-helper token ACCOUNT` left that would depend on PATH.
    assert not re.search(r"(?<!/)oauth-helper\W+token\W+b@example", text)


def test_a_path_with_a_space_is_quoted_for_the_shell() -> None:
    assert "passwordeval \"'/opt/o h/bin/oauth-helper' token a@example.com\"" in render(
        "msmtp", [GMAIL]
    )
    # getmail and offlineimap take Python sequences, not shell words.
    assert 'password_command = ("/opt/o h/bin/oauth-helper", "token", "a@example.com")' in (
        render("getmail", [GMAIL])
    )
    # fetchmail splits its plugin command on spaces whatever the quotes: PATH is used instead.
    fetchmailrc = render("fetchmail", [GMAIL])
    assert 'plugin "oauth-helper preauth a@example.com %h %p"' in fetchmailrc
    assert "has a space" in fetchmailrc
    spaced = Target("a@example.com", GOOGLE, git_helper="/opt/o h/bin/git-credential-oauth-helper")
    assert "\thelper = !'/opt/o h/bin/git-credential-oauth-helper'\n" in render("git", [spaced])


def test_microsoft_gets_xoauth2_only_and_msmtp_for_aerc_sending() -> None:
    for client in ("msmtp", "mutt", "neomutt", "aerc"):
        settings = [
            line for line in render(client, [OUTLOOK]).splitlines() if not line.startswith("#")
        ]
        assert "oauthbearer" not in "\n".join(settings).lower(), client
    assert "outgoing = msmtp -a outlook" in render("aerc", [OUTLOOK])
    assert "SMTP AUTH" in render("msmtp", [OUTLOOK])


def test_google_mechanisms_per_client() -> None:
    assert 'imap_authenticators = "oauthbearer:xoauth2"' in render("mutt", [GMAIL])
    # NeoMutt 20220429 refuses OAUTHBEARER tokens of 512 characters or more.
    assert 'imap_authenticators = "xoauth2:oauthbearer"' in render("neomutt", [GMAIL])
    assert "auth oauthbearer" in render("msmtp", [GMAIL])
    assert "outgoing = smtps+oauthbearer://a%40example.com@smtp.gmail.com:465" in render(
        "aerc", [GMAIL]
    )
    assert "AuthMechs XOAUTH2" in render("mbsync", [GMAIL])
    assert "helper = /g/helper" in render("git", [GMAIL])


def test_starttls_imap_and_a_provider_without_oauthbearer_or_xoauth2() -> None:
    custom = Provider(
        name="corp",
        token_endpoint="https://id.corp.example/token",
        smtp=("mail.corp.example", 587),
        imap=("mail.corp.example", 143),
        sasl_mechanisms=("oauthbearer",),
    )
    t = Target("c@corp.example", custom)
    assert "SSLType STARTTLS" in render("mbsync", [t])
    assert "not known to accept XOAUTH2" in render("mbsync", [t])
    assert "preauth --mechanism oauthbearer c@corp.example" in render("fetchmail", [t])
    assert 'set folder = "imap://mail.corp.example:143/"' in render("mutt", [t])
    assert 'set record = "+Sent"' in render("mutt", [t])
    assert "starttls = yes" in render("offlineimap", [t])
    assert "smtpAuth = OAUTHBEARER" in render("git", [t])


def test_a_provider_without_the_server_a_client_needs_is_a_config_error() -> None:
    t = Target("c@corp.example", replace(GOOGLE, imap=None))
    with pytest.raises(
        ConfigError, match=r'add imap = "HOST:PORT" to \[accounts."c@corp.example"\]'
    ):
        render("mbsync", [t])
