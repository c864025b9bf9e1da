"""Discovery documents are checked before any endpoint in them is used (no sockets)."""

from __future__ import annotations

import json

import pytest

from oauth_helper import http, oauth
from oauth_helper.errors import ProviderError

ISSUER = "https://sso.example/realms/mail"


def serve(monkeypatch: pytest.MonkeyPatch, document: dict[str, object]) -> list[str]:
    asked: list[str] = []

    def fake(method: str, url: str, **kwargs: object) -> http.Response:
        asked.append(url)
        return http.Response(
            200, {"Content-Type": "application/json"}, json.dumps(document).encode()
        )

    monkeypatch.setattr(http, "request", fake)
    return asked


def test_good_document(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = serve(monkeypatch, {"issuer": ISSUER + "/", "token_endpoint": "https://sso.example/t"})
    assert oauth.discover(ISSUER, timeout=1)["token_endpoint"] == "https://sso.example/t"
    assert asked == [ISSUER + "/.well-known/openid-configuration"]


def test_document_for_another_issuer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(
        monkeypatch, {"issuer": "https://evil.example", "token_endpoint": "https://evil.example/t"}
    )
    with pytest.raises(ProviderError, match=r"evil\.example"):
        oauth.discover(ISSUER, timeout=1)


@pytest.mark.parametrize(
    "endpoint", ["https://", "https://x/\r\nHost: y", "ftp://x/t", "https://a b/t", 7]
)
def test_unusable_endpoints_are_refused(monkeypatch: pytest.MonkeyPatch, endpoint: object) -> None:
    serve(monkeypatch, {"issuer": ISSUER, "token_endpoint": endpoint})
    with pytest.raises(ProviderError):
        oauth.discover(ISSUER, timeout=1)
