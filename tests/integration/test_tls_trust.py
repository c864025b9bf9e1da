"""The token endpoint over real TLS: which CAs a refresh trusts, and how they are loaded.

http.tls_context uses OpenSSL's hashed CA directory alone when it can (certificates are looked
up as a chain needs them) instead of parsing the whole CA file on every refresh. These tests
run a refresh against the local provider serving https with a fresh self-signed CA, trusted
(or not) the ways a user's machine does: a hashed SSL_CERT_DIR, an SSL_CERT_FILE, nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.cli_env import make_account, run_cli
from tests.support.mailbed import make_certificate
from tests.support.provider import LocalProvider

ALICE = "alice@example.com"


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


def hashed_dir(tmp_path: Path, cert: Path, name: str = "ca") -> Path:
    """A CA directory as `openssl rehash` makes it: the certificate under its subject hash."""
    directory = tmp_path / name
    directory.mkdir()
    subject_hash = subprocess.run(
        [require_binary("openssl"), "x509", "-hash", "-noout", "-in", str(cert)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    shutil.copy(cert, directory / f"{subject_hash}.0")
    return directory


def another_ca(tmp_path: Path) -> Path:
    (tmp_path / "other").mkdir()
    return make_certificate(tmp_path / "other")[0]


def refresh(env: dict[str, str], **trust: str) -> tuple[int, str, str]:
    env = {k: v for k, v in env.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    done = run_cli({**env, **trust}, "token", ALICE, "--force-refresh")
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_a_hashed_ca_directory_is_trusted(tmp_path: Path, tls: tuple[Path, Path]) -> None:
    with LocalProvider(tls=tls) as provider:
        assert provider.token_endpoint.startswith("https://127.0.0.1:")
        env = make_account(tmp_path, provider, ALICE)
        code, out, err = refresh(env, SSL_CERT_DIR=str(hashed_dir(tmp_path, tls[0])))
        assert (code, err) == (0, ""), err
        assert out.strip() == provider.issued_access_tokens[-1]


def test_ssl_cert_file_is_trusted_even_beside_a_hashed_directory(
    tmp_path: Path, tls: tuple[Path, Path]
) -> None:
    other_cert = another_ca(tmp_path)
    with LocalProvider(tls=tls) as provider:
        env = make_account(tmp_path, provider, ALICE)
        # The directory trusts another CA only: the file named by SSL_CERT_FILE must count.
        code, out, err = refresh(
            env,
            SSL_CERT_FILE=str(tls[0]),
            SSL_CERT_DIR=str(hashed_dir(tmp_path, other_cert, "other-ca")),
        )
        assert (code, err) == (0, ""), err
        assert out.strip() == provider.issued_access_tokens[-1]


def test_an_untrusted_certificate_is_refused_before_the_token_is_sent(
    tmp_path: Path, tls: tuple[Path, Path]
) -> None:
    other_cert = another_ca(tmp_path)
    with LocalProvider(tls=tls) as provider:
        env = make_account(tmp_path, provider, ALICE)
        before = provider.counts["token:refresh_token"]
        code, out, err = refresh(env, SSL_CERT_DIR=str(hashed_dir(tmp_path, other_cert)))
        assert code == 75, err
        assert out == ""
        assert "certificate verification failed" in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert provider.counts["token:refresh_token"] == before
        # The grant is intact: trusted again, the next refresh works.
        code, out, err = refresh(env, SSL_CERT_FILE=str(tls[0]))
        assert (code, err) == (0, ""), err


def by_name(env: dict[str, str]) -> None:
    """Point the account's provider at https://localhost instead of https://127.0.0.1."""
    from tests.support.cli_env import config_file

    path = config_file(env)
    path.write_text(path.read_text().replace("https://127.0.0.1:", "https://localhost:"))


def test_a_host_name_is_checked_against_the_certificate(tmp_path: Path) -> None:
    """By name, as every real provider is reached (the name goes to socket and ssl as ASCII
    bytes, skipping the idna codec): a certificate for that name is accepted..."""
    tls = make_certificate(tmp_path, "DNS:localhost")
    with LocalProvider(tls=tls) as provider:
        env = make_account(tmp_path, provider, ALICE)
        by_name(env)
        code, out, err = refresh(env, SSL_CERT_FILE=str(tls[0]))
        assert (code, err) == (0, ""), err
        assert out.strip() == provider.issued_access_tokens[-1]


def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    """...and one for another name, from a trusted CA, is refused before the token is sent."""
    tls = make_certificate(tmp_path, "DNS:mail.example.org,IP:127.0.0.1")
    with LocalProvider(tls=tls) as provider:
        env = make_account(tmp_path, provider, ALICE)
        by_name(env)
        before = provider.counts["token:refresh_token"]
        code, out, err = refresh(env, SSL_CERT_FILE=str(tls[0]))
        assert code == 75, err
        assert out == ""
        assert "certificate verification failed" in err and "localhost" in err, err
        assert "gave up after 1 try" in err, err  # no retry can change a certificate
        assert provider.counts["token:refresh_token"] == before
