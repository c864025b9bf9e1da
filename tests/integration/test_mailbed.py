"""The mail-server test bed itself: Dovecot validating OAuth2 tokens by introspection.

Logs in with the standard library's imaplib, smtplib and poplib, building the XOAUTH2 and
OAUTHBEARER initial responses by hand, so the bed is checked independently of oauth-helper.
"""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.mailbed import MailBed
from tests.support.provider import LocalProvider

ALICE = "alice@example.test"
BOB = "bob@example.test"
CLIENT = "mailbed-test"

pytestmark = pytest.mark.e2e

Issuer = Callable[[str], str]


# -- fixtures: one provider and one bed for the module -----------------------------------------


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        p.register_client(CLIENT)
        yield p


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory, idp: LocalProvider) -> Iterator[MailBed]:
    with MailBed(tmp_path_factory.mktemp("bed"), idp.introspection_endpoint) as b:
        yield b


@pytest.fixture()
def issue(idp: LocalProvider) -> Issuer:
    """issue(user) -> a fresh access token the provider's introspection calls active."""
    return lambda user: idp.issue_access_token(user, CLIENT)


# -- SASL helpers ------------------------------------------------------------------------------


def xoauth2_raw(user: str, token: str) -> bytes:
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer_raw(user: str, token: str, host: str, port: int) -> bytes:
    return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


def imap_auth(conn: imaplib.IMAP4, mech: str, raw: bytes) -> tuple[str, list[object]]:
    """AUTHENTICATE; on an error challenge answer as the mechanism requires (empty / ^A)."""
    calls = [0]

    def step(_challenge: bytes) -> bytes:
        calls[0] += 1
        if calls[0] == 1:
            return raw
        return b"" if mech == "XOAUTH2" else b"\x01"

    return conn.authenticate(mech, step)  # type: ignore[no-any-return]


def smtp_auth(conn: smtplib.SMTP, mech: str, raw: bytes) -> None:
    def step(challenge: bytes | None = None) -> str:
        if challenge is None:
            return raw.decode()
        return "" if mech == "XOAUTH2" else "\x01"

    conn.ehlo()
    conn.auth(mech, step)  # type: ignore[arg-type]


def a_message(to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = ALICE
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("sent through the test bed\n")
    return msg


# -- IMAP ----------------------------------------------------------------------------------------


def test_imap_starttls_xoauth2_fetches_seeded_message(bed: MailBed, issue: Issuer) -> None:
    bed.seed_message(ALICE, "seeded for imap", "hello alice")
    with imaplib.IMAP4(bed.host, bed.imap_port, timeout=10) as conn:
        conn.starttls(bed.ssl_context())
        status, _ = imap_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(ALICE)))
        assert status == "OK"
        conn.select("INBOX", readonly=True)
        _, data = conn.search(None, "SUBJECT", '"seeded for imap"')
        numbers = data[0].split()
        assert numbers
        _, fetched = conn.fetch(numbers[0], "(BODY.PEEK[TEXT])")
        assert b"hello alice" in fetched[0][1]  # type: ignore[index]
    bed.wait_for_log("method=XOAUTH2")
    assert bed.login_succeeded(ALICE, "XOAUTH2", "imap")


def test_imaps_oauthbearer(bed: MailBed, issue: Issuer) -> None:
    with imaplib.IMAP4_SSL(bed.host, bed.imaps_port, ssl_context=bed.ssl_context()) as conn:
        assert "AUTH=OAUTHBEARER" in conn.capabilities
        raw = oauthbearer_raw(BOB, issue(BOB), bed.host, bed.imaps_port)
        status, _ = imap_auth(conn, "OAUTHBEARER", raw)
        assert status == "OK"
    bed.wait_for_log(f"user=<{BOB}>, method=OAUTHBEARER")
    assert bed.login_succeeded(BOB, "OAUTHBEARER", "imap")


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_imap_rejects_invalid_token(bed: MailBed, mech: str) -> None:
    raw = (
        xoauth2_raw(ALICE, "not-a-valid-token")
        if mech == "XOAUTH2"
        else oauthbearer_raw(ALICE, "not-a-valid-token", bed.host, bed.imaps_port)
    )
    with (
        imaplib.IMAP4_SSL(bed.host, bed.imaps_port, ssl_context=bed.ssl_context()) as conn,
        pytest.raises(imaplib.IMAP4.error, match=r"(?i)authentication failed"),
    ):
        imap_auth(conn, mech, raw)


def test_imap_rejects_token_of_another_user(bed: MailBed, issue: Issuer) -> None:
    with (
        imaplib.IMAP4_SSL(bed.host, bed.imaps_port, ssl_context=bed.ssl_context()) as conn,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(BOB)))


def test_imap_offers_starttls_and_no_plaintext_login(bed: MailBed) -> None:
    with imaplib.IMAP4(bed.host, bed.imap_port, timeout=10) as conn:
        assert "STARTTLS" in conn.capabilities
        assert "LOGINDISABLED" in conn.capabilities


# -- submission ----------------------------------------------------------------------------------


def test_submission_starttls_xoauth2_relays_to_sink(bed: MailBed, issue: Issuer) -> None:
    with smtplib.SMTP(bed.host, bed.submission_port, timeout=10) as conn:
        conn.starttls(context=bed.ssl_context())
        smtp_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(ALICE)))
        conn.send_message(a_message("carol@example.test", "via starttls xoauth2"))
    got = bed.wait_delivered("carol@example.test")
    assert [m["Subject"] for m in got] == ["via starttls xoauth2"]
    assert got[0]["X-Sink-Mail-From"] == f"<{ALICE}>"
    bed.wait_for_log("submission-login: Info: Login: ")
    assert bed.login_succeeded(ALICE, "XOAUTH2", "submission")


def test_submissions_oauthbearer_relays_to_sink(bed: MailBed, issue: Issuer) -> None:
    with smtplib.SMTP_SSL(
        bed.host, bed.submissions_port, timeout=10, context=bed.ssl_context()
    ) as conn:
        raw = oauthbearer_raw(BOB, issue(BOB), bed.host, bed.submissions_port)
        smtp_auth(conn, "OAUTHBEARER", raw)
        conn.send_message(a_message("dave@example.test", "via implicit tls oauthbearer"))
    got = bed.wait_delivered("dave@example.test")
    assert [m["Subject"] for m in got] == ["via implicit tls oauthbearer"]
    bed.wait_for_log(f"user=<{BOB}>, method=OAUTHBEARER")
    assert bed.login_succeeded(BOB, "OAUTHBEARER", "submission")


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_submission_rejects_invalid_token(bed: MailBed, mech: str) -> None:
    raw = (
        xoauth2_raw(ALICE, "not-a-valid-token")
        if mech == "XOAUTH2"
        else oauthbearer_raw(ALICE, "not-a-valid-token", bed.host, bed.submissions_port)
    )
    with (
        smtplib.SMTP_SSL(
            bed.host, bed.submissions_port, timeout=10, context=bed.ssl_context()
        ) as conn,
        pytest.raises(smtplib.SMTPAuthenticationError) as caught,
    ):
        smtp_auth(conn, mech, raw)
    assert caught.value.smtp_code == 535


# -- POP3 ----------------------------------------------------------------------------------------


def test_pop3s_xoauth2_retrieves_seeded_message(bed: MailBed, issue: Issuer) -> None:
    user = "pop@example.test"
    bed.seed_message(user, "seeded for pop", "hello pop")
    conn = poplib.POP3_SSL(bed.host, bed.pop3s_port, context=bed.ssl_context(), timeout=10)
    try:
        ir = base64.b64encode(xoauth2_raw(user, issue(user))).decode()
        assert conn._shortcmd(f"AUTH XOAUTH2 {ir}").startswith(b"+OK")
        count, _ = conn.stat()
        assert count == 1
        _, lines, _ = conn.retr(1)
        assert b"Subject: seeded for pop" in lines
    finally:
        conn.quit()
    bed.wait_for_log(f"user=<{user}>, method=XOAUTH2")
    assert bed.login_succeeded(user, "XOAUTH2", "pop3")


# -- a second, XOAUTH2-only server next to the first (Microsoft-like) ---------------------------


def test_xoauth2_only_bed_side_by_side(
    bed: MailBed, tmp_path: Path, idp: LocalProvider, issue: Issuer
) -> None:
    with MailBed(tmp_path / "ms", idp.introspection_endpoint, mechanisms=("xoauth2",)) as ms:
        assert ms.imaps_port != bed.imaps_port
        with imaplib.IMAP4_SSL(ms.host, ms.imaps_port, ssl_context=ms.ssl_context()) as conn:
            assert "AUTH=XOAUTH2" in conn.capabilities
            assert "AUTH=OAUTHBEARER" not in conn.capabilities
            assert imap_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(ALICE)))[0] == "OK"
        with smtplib.SMTP(ms.host, ms.submission_port, timeout=10) as conn:
            conn.starttls(context=ms.ssl_context())
            conn.ehlo()
            assert conn.esmtp_features["auth"].split() == ["XOAUTH2"]
            smtp_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(ALICE)))
            conn.send_message(a_message("erin@example.test", "via the second bed"))
        assert [m["Subject"] for m in ms.wait_delivered("erin@example.test")] == [
            "via the second bed"
        ]
        assert ms.delivered("erin@example.test") and not bed.delivered("erin@example.test")
        ms.wait_for_log("method=XOAUTH2")
        assert ms.login_succeeded(ALICE, "XOAUTH2", "imap")
    # The first bed is unaffected by the second one stopping.
    with imaplib.IMAP4_SSL(bed.host, bed.imaps_port, ssl_context=bed.ssl_context()) as conn:
        assert imap_auth(conn, "XOAUTH2", xoauth2_raw(ALICE, issue(ALICE)))[0] == "OK"


def test_log_shows_failed_login_mechanism(bed: MailBed) -> None:
    with (
        imaplib.IMAP4_SSL(bed.host, bed.imaps_port, ssl_context=bed.ssl_context()) as conn,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap_auth(conn, "XOAUTH2", xoauth2_raw("mallory@example.test", "bogus"))
    text = bed.wait_for_log("mallory@example.test")
    assert "mallory@example.test" in text
    assert "bogus" not in text
