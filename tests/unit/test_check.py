"""`test` command, the pure parts: targets, mechanism choice, decoding server answers, diagnosis."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from oauth_helper import check, hints
from oauth_helper.config import parse
from oauth_helper.errors import UsageError

CONFIG = """\
[accounts."alice@gmail.com"]
provider = "google"
client_id = "g"

[accounts."bob@contoso.com"]
provider = "microsoft"
client_id = "m"
signed_in_as = "bob.smith@contoso.com"

[providers.corp]
token_endpoint = "https://sso.corp.example/token"
scopes = ["openid", "mail", "offline_access"]

[accounts."carol@corp.example"]
provider = "corp"
"""
CFG = parse(CONFIG, Path("config.toml"))
ALICE, BOB, CAROL = (
    CFG.account(n) for n in ("alice@gmail.com", "bob@contoso.com", "carol@corp.example")
)
GMAIL_SMTP = check.Target("SMTP", "smtp.gmail.com", 587, "starttls")


def b64json(obj: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


# -- targets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "value", "expected"),
    [
        ("SMTP", "smtp.example.com", ("smtp.example.com", 587, "starttls")),
        ("SMTP", "smtp.example.com:465", ("smtp.example.com", 465, "implicit")),
        ("SMTP", "smtps://127.0.0.1:2465", ("127.0.0.1", 2465, "implicit")),
        ("SMTP", "submission://mx:1587/", ("mx", 1587, "starttls")),
        ("IMAP", "imap.example.com", ("imap.example.com", 993, "implicit")),
        ("IMAP", "IMAP.Example.com:143", ("imap.example.com", 143, "starttls")),
        ("IMAP", "[::1]:10993", ("::1", 10993, None)),
    ],
)
def test_parse_target(protocol: str, value: str, expected: tuple[str, int, str | None]) -> None:
    t = check.parse_target(protocol, value)
    assert (t.host, t.port, t.tls) == expected


@pytest.mark.parametrize(
    ("protocol", "value"),
    [("SMTP", "imaps://x:1"), ("IMAP", "x:notaport"), ("IMAP", "x:70000"), ("SMTP", "ftp://x")],
)
def test_parse_target_rejects(protocol: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"--{protocol.lower()}"):
        check.parse_target(protocol, value)


def test_targets_default_to_the_provider() -> None:
    assert check.choose_targets(ALICE, None, None) == [
        check.Target("SMTP", "smtp.gmail.com", 587, "starttls"),
        check.Target("IMAP", "imap.gmail.com", 993, "implicit"),
    ]
    assert [str(t) for t in check.choose_targets(BOB, None, "outlook.office365.com")] == [
        "smtp.office365.com:587",
        "outlook.office365.com:993",
    ]
    with pytest.raises(UsageError, match="names no SMTP or IMAP server"):
        check.choose_targets(CAROL, None, None)


# -- mechanisms ----------------------------------------------------------------------------------


def test_mechanism_choice() -> None:
    assert check.choose_mechanism({"XOAUTH2", "OAUTHBEARER", "PLAIN"}, None, "SMTP") == "XOAUTH2"
    assert check.choose_mechanism({"OAUTHBEARER"}, None, "SMTP") == "OAUTHBEARER"
    assert (
        check.choose_mechanism({"XOAUTH2", "OAUTHBEARER"}, "oauthbearer", "IMAP") == "OAUTHBEARER"
    )
    with pytest.raises(check._Unsupported) as e:
        check.choose_mechanism({"PLAIN", "LOGIN"}, None, "SMTP")
    assert "neither XOAUTH2 nor OAUTHBEARER" in e.value.reason
    with pytest.raises(check._Unsupported) as e:
        check.choose_mechanism({"XOAUTH2"}, "oauthbearer", "IMAP")
    assert e.value.reason == "the server offers XOAUTH2, not OAUTHBEARER"
    assert e.value.fix == "try --mechanism xoauth2"


# -- decoding what servers answer ----------------------------------------------------------------


def test_gmail_400_challenge_means_scope() -> None:
    challenge = hints.decode_challenge(
        b64json({"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"})
    )
    assert challenge == {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}
    out = check._rejected(
        GMAIL_SMTP,
        "XOAUTH2",
        "535 5.7.8 Username and Password not accepted.",
        challenge,
        check.REJECTED,
    )
    assert "lacks the scope" in out.reason and "mail.google.com" in out.reason
    assert "status=400" in out.answer and out.status == check.REJECTED


def test_gmail_401_challenge_means_bad_token_or_other_account() -> None:
    challenge = hints.decode_challenge(b64json({"status": "401", "schemes": "bearer"}))
    assert challenge is not None
    out = check._rejected(
        GMAIL_SMTP,
        "XOAUTH2",
        "535 5.7.8 Username and Password not accepted.",
        challenge,
        check.REJECTED,
    )
    assert "another account" in out.reason


@pytest.mark.parametrize(
    ("answer", "reason", "fix"),
    [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
            "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "SMTP AUTH is disabled",
            "SmtpClientAuthenticationDisabled $false",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security "
            "defaults policy.",
            "security defaults",
            "turn off security defaults",
        ),
        (
            "535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]",
            "wrong scope or audience",
            "https://outlook.office.com/ scopes",
        ),
    ],
)
def test_microsoft_smtp_answers(answer: str, reason: str, fix: str) -> None:
    target = check.Target("SMTP", "smtp.office365.com", 587, "starttls")
    out = check._rejected(target, "XOAUTH2", answer, None, check.REJECTED)
    assert reason in out.reason and fix in out.fix
    explained = check.explain_rejection(out, BOB, "opaque", 1.0)  # opaque: nothing to inspect
    assert "bob@contoso.com" in explained.fix or "{authorize}" not in explained.fix
    assert "ACCOUNT" not in explained.fix


def test_rate_limit_is_not_a_rejection() -> None:
    out = check._rejected(
        GMAIL_SMTP,
        "XOAUTH2",
        "454 4.7.0 Too many login attempts, please try again later.",
        None,
        check.REJECTED,
    )
    assert out.status == check.UNREACHABLE
    assert check.exit_status([out]) == 75


def test_exit_status_precedence() -> None:
    def o(status: str) -> check.Outcome:
        return check.Outcome(GMAIL_SMTP, status)

    assert check.exit_status([o(check.PASS), o(check.PASS)]) == 0
    assert check.exit_status([o(check.UNREACHABLE), o(check.REJECTED)]) == 77
    assert check.exit_status([o(check.UNREACHABLE), o(check.UNSUPPORTED)]) == 69
    assert check.exit_status([o(check.PASS), o(check.UNREACHABLE)]) == 75


def test_lines() -> None:
    assert check.Outcome(GMAIL_SMTP, check.PASS, "XOAUTH2").line() == (
        "SMTP smtp.gmail.com:587 PASS (XOAUTH2)"
    )
    fail = check.Outcome(
        check.Target("IMAP", "::1", 993, "implicit"),
        check.REJECTED,
        "XOAUTH2",
        reason="why",
        fix="do this",
        answer="NO\r\n[AUTHENTICATIONFAILED]  x",
    )
    assert fail.line() == (
        "IMAP [::1]:993 FAIL (XOAUTH2): why; server said: NO [AUTHENTICATIONFAILED] x — do this"
    )


def test_a_line_never_shows_a_registered_secret() -> None:
    from oauth_helper import redact

    redact.register("ya29.very-secret-token")
    fail = check.Outcome(
        GMAIL_SMTP,
        check.REJECTED,
        "XOAUTH2",
        reason="r",
        answer="535 echoed ya29.very-secret-token",
    )
    assert "ya29" not in fail.line()


# -- diagnosis from the provider's view of the token ---------------------------------------------


def test_diagnose_inactive_other_user_and_scope() -> None:
    dead = check.diagnose(check.TokenFacts("introspection", active=False), CAROL, "IMAP")
    assert dead is not None and "no longer active" in dead[0]
    assert "oauth-helper token carol@corp.example --force-refresh" in dead[1]
    other = check.diagnose(
        check.TokenFacts("introspection", True, ("mail",), "eve@corp.example"), CAROL, "IMAP"
    )
    assert other == (
        "the token belongs to eve@corp.example, not carol@corp.example",
        "run: oauth-helper authorize carol@corp.example and sign in as carol@corp.example",
    )
    scope = check.diagnose(
        check.TokenFacts("introspection", True, ("openid",), "carol@corp.example"), CAROL, "SMTP"
    )
    assert scope is not None and scope[0] == "the token lacks the scope mail (it has: openid)"
    fine = check.TokenFacts("introspection", True, ("openid", "mail"), "Carol@Corp.Example")
    assert check.diagnose(fine, CAROL, "SMTP") is None


def test_microsoft_scopes_per_protocol_and_signed_in_name() -> None:
    assert check.wanted_scopes(BOB, "SMTP") == ["https://outlook.office.com/SMTP.Send"]
    assert check.wanted_scopes(BOB, "IMAP") == ["https://outlook.office.com/IMAP.AccessAsUser.All"]
    assert check.wanted_scopes(ALICE, "IMAP") == ["https://mail.google.com/"]
    claims = {
        "aud": "https://outlook.office.com",
        "scp": "IMAP.AccessAsUser.All",
        "upn": "bob.smith@contoso.com",
    }
    facts = check.facts_from_claims("jwt", claims, active=None)
    assert check.diagnose(facts, BOB, "IMAP") is None  # the recorded signed-in name is fine
    missing = check.diagnose(facts, BOB, "SMTP")
    assert missing is not None and "SMTP.Send" in missing[0]
    graph = check.facts_from_claims(
        "jwt", {**claims, "aud": "https://graph.microsoft.com"}, active=None
    )
    wrong_audience = check.diagnose(graph, BOB, "IMAP")
    assert wrong_audience is not None and "https://graph.microsoft.com" in wrong_audience[0]


def test_jwt_claims_of_a_microsoft_style_token() -> None:
    def part(obj: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    token = (
        f"{part({'alg': 'RS256'})}.{part({'aud': 'https://outlook.office.com', 'scp': 'x'})}.sig"
    )
    assert check.jwt_claims(token) == {"aud": "https://outlook.office.com", "scp": "x"}
    assert check.jwt_claims("a.!!!.c") is None


def test_google_tokeninfo_answer() -> None:
    facts = check.facts_from_claims(
        "tokeninfo",
        {"scope": "https://mail.google.com/ openid", "email": "alice@gmail.com", "aud": "g"},
        active=True,
    )
    assert facts.scopes == ("https://mail.google.com/", "openid")
    assert check.diagnose(facts, ALICE, "SMTP") is None
