"""Keyring calls are bounded: a Secret Service waiting on an unlock prompt nobody sees (a locked
collection on a headless D-Bus session) must not hang `token` for ever."""

from __future__ import annotations

import time

import pytest

from oauth_helper.stores import keyring_store


def test_a_hung_call_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring_store, "KEYRING_TIMEOUT", 0.3)
    started = time.monotonic()
    with pytest.raises(keyring_store.KeyringTimeout):
        keyring_store.bounded(lambda: time.sleep(10))
    assert time.monotonic() - started < 2
    reason = keyring_store._explain(keyring_store.KeyringTimeout())
    assert "did not answer within 0 s" in reason and "unlock prompt" in reason


def test_results_and_errors_come_through() -> None:
    assert keyring_store.bounded(lambda a, b: a + b, "x", "y") == "xy"
    with pytest.raises(KeyError):
        keyring_store.bounded(lambda: {}["missing"])
