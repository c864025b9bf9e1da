"""Issue 12 cases the certified server (tests/conformance) cannot produce, injected at the local
provider: a DPoP token type, a mail scope un-ticked on a granular consent screen, Microsoft's
`authorization_declined`, and id_tokens that are wrong in each way OIDC Core §3.1.3.7 names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_authorize import (
    ACCOUNT,
    authorize,
    setup_env,
    start_device,
    wait_for_device,
)
from tests.support.cli_env import cache_file, make_account, run_cli, stored_refresh_token
from tests.support.provider import LocalProvider


def refused(result: object, code: int) -> str:
    import subprocess

    assert isinstance(result, subprocess.CompletedProcess)
    text = result.stderr.decode()
    assert result.returncode == code, text
    assert result.stdout == b"" and "Traceback" not in text
    return text


@pytest.mark.parametrize("token_type", ["DPoP", "mac", "N_A"])
def test_authorize_refuses_a_token_that_is_not_bearer(
    tmp_path: Path, provider: LocalProvider, token_type: str
) -> None:
    # Item 6. Before: exit 0 and the DPoP token printed by `token` as if it were a bearer token.
    env = setup_env(tmp_path, provider)
    provider.token_response_extra = {"token_type": token_type}
    text = refused(authorize(env, "--store", "file"), 78)
    assert f"issued a '{token_type}' token, not a Bearer token" in text
    assert stored_refresh_token(env, ACCOUNT) is None


def test_bearer_is_case_insensitive_and_may_be_missing(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = setup_env(tmp_path, provider)
    provider.token_response_extra = {"token_type": "bearer"}
    refused(authorize(env, "--store", "file"), 0)
    provider.token_response_extra = {"token_type": None}  # a provider that leaves it out
    forced = run_cli(env, "token", ACCOUNT, "--force-refresh")
    assert forced.returncode == 0, forced.stderr.decode()


def test_refresh_refuses_a_token_that_is_not_bearer(
    tmp_path: Path, provider: LocalProvider
) -> None:
    env = make_account(tmp_path, provider, ACCOUNT)
    provider.token_response_extra = {"token_type": "DPoP"}
    text = refused(run_cli(env, "token", ACCOUNT), 78)
    assert "not a Bearer token" in text
    assert not cache_file(env, ACCOUNT).exists()
    assert stored_refresh_token(env, ACCOUNT) is not None  # the grant is kept


def test_google_granular_consent_without_gmail_is_refused(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # Item 5: the user unticked Gmail; the provider grants openid email only. Before: exit 0.
    env = setup_env(tmp_path, provider)
    provider.token_response_extra = {"scope": "openid email offline_access"}
    text = refused(authorize(env, "--store", "file"), 77)
    assert "did not grant mail" in text and "tick" in text
    assert stored_refresh_token(env, ACCOUNT) is None


def test_scope_absent_means_as_requested(tmp_path: Path, provider: LocalProvider) -> None:
    env = setup_env(tmp_path, provider)
    provider.token_response_extra = {"scope": None}
    refused(authorize(env, "--store", "file"), 0)


def test_microsoft_device_flow_authorization_declined_is_77(
    tmp_path: Path, provider: LocalProvider
) -> None:
    # Item 7. Before: exit 78 ("refused the request") where the README promises 77.
    env = setup_env(tmp_path, provider)
    provider.device_interval = 0.1
    provider.device_denied_error = "authorization_declined"
    proc = start_device(env)
    provider.deny_device(wait_for_device(provider, polls=1))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 77, err.decode()
    assert "authorization_declined" in err.decode()
    assert stored_refresh_token(env, ACCOUNT) is None


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"aud": "another-client"}, "not for this client"),
        ({"iss": "https://evil.example"}, "issued by"),
        ({"exp": 1_000_000}, "expired"),
        ({"nonce": None}, "no nonce"),
        ({"azp": "another-client"}, "another party"),
    ],
)
def test_id_token_checked_per_oidc_core(
    tmp_path: Path, provider: LocalProvider, claims: dict[str, object], words: str
) -> None:
    # Item 3. Before: all of these were accepted (only a wrong nonce was refused).
    env = setup_env(tmp_path, provider)
    provider.id_token_claims_extra = claims
    text = refused(authorize(env, "--store", "file"), 77)
    assert words in text and "nothing was stored" in text
    assert stored_refresh_token(env, ACCOUNT) is None
