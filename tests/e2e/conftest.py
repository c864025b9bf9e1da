"""Fixtures shared by the end-to-end tests of real mail clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mailbed import MailBed
from tests.support.provider import LocalProvider


@pytest.fixture
def bed(tmp_path: Path, provider: LocalProvider) -> Iterator[MailBed]:
    """A Dovecot IMAP/submission server validating tokens at the test's local provider.

    Test files that need another bed (one mechanism only, a required scope, seeded folders)
    define their own `bed` fixture, which takes precedence.
    """
    with MailBed(tmp_path / "bed", provider.introspection_endpoint) as b:
        yield b
