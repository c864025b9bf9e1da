"""Secret hygiene: no token, code, verifier or client secret in stderr, logs, exception text or argv.

Every command here runs with `--debug` (tracebacks and debug logging on: the most verbose the
tool gets). The provider is made hostile where it can be: it echoes the refresh token and the
client secret back in its error descriptions, as a careless server might.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oauth_helper.paths import file_name
from tests.conftest import ACCOUNT
from tests.support.cli_env import (
    config_file,
    make_account,
    run_cli,
    stored_refresh_token,
)
from tests.support.provider import LocalProvider

CLIENT_SECRET = "cs-hygiene-0123456789abcdef"
SMTP = "smtp.hygiene.test:587"
RecordProperty = Callable[[str, object], None]


def _secrets_of(provider: LocalProvider, *extra: str | None) -> set[str]:
    """Every secret the provider ever handed out, plus the ones given."""
    found = set(provider.issued_access_tokens)
    for body in [provider.last_token_response or {}]:
        found.update(v for k, v in body.items() if k in ("refresh_token", "id_token"))
    for request in provider.requests:
        form = request["form"]
        found.update(
            form[k]
            for k in ("refresh_token", "client_secret", "code", "code_verifier", "token")
            if form.get(k)
        )
    found.update(v for v in extra if v)
    return {s for s in found if len(s) >= 6}


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return [s[:10] + "..." for s in secrets if s in text]


def _state_files(env: dict[str, str]) -> Iterator[Path]:
    yield from (Path(env["XDG_CACHE_HOME"]) / "oauth-helper").glob("*.state.json")


@pytest.fixture
def hostile_env(tmp_path: Path, provider: LocalProvider) -> dict[str, str]:
    provider.rotation = "strict"
    return make_account(
        tmp_path,
        provider,
        ACCOUNT,
        client_secret=CLIENT_SECRET,
        extra_config=f'smtp = "{SMTP}"',
    )


def test_every_command_with_debug_keeps_secrets_out_of_stderr(
    hostile_env: dict[str, str], provider: LocalProvider, record_property: RecordProperty
) -> None:
    env = hostile_env
    seeded = stored_refresh_token(env, ACCOUNT)
    runs: list[tuple[str, bytes, bytes, int]] = []

    def run(*args: str, stdin: bytes | None = None) -> None:
        done = run_cli(env, *args, "--debug", input=stdin)
        runs.append((" ".join(args), done.stdout, done.stderr, done.returncode))

    run("token", ACCOUNT)
    run("token", ACCOUNT, "--format", "xoauth2")
    run("token", ACCOUNT, "--force-refresh", "--format", "json")
    run("git-credential", "get", stdin=f"protocol=smtp\nhost={SMTP}\n\n".encode())
    run("status")
    run("status", ACCOUNT, "--json")
    # A provider that echoes what it was sent into its error descriptions.
    current = stored_refresh_token(env, ACCOUNT) or ""
    provider.fail_next(
        "error_json",
        status=400,
        body={
            "error": "invalid_grant",
            "error_description": f"refresh token {current} for client secret {CLIENT_SECRET} "
            "has been revoked",
        },
    )
    run("token", ACCOUNT, "--force-refresh")
    provider.fail_next(
        "error_json",
        status=503,
        body={"error": "temporarily_unavailable", "error_description": f"busy ({current})"},
    )
    provider.fail_next("500", count=2)  # with the 503: the three attempts of one refresh
    run("token", ACCOUNT, "--force-refresh")
    provider.fail_next(
        "error_json",
        status=401,
        body={"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"},
    )
    run("token", ACCOUNT, "--force-refresh")
    provider.fail_next("garbage")
    run("token", ACCOUNT, "--force-refresh")
    run("git-credential", "erase", stdin=f"protocol=smtp\nhost={SMTP}\n\n".encode())
    run("status", ACCOUNT)
    run("revoke", ACCOUNT)

    secrets = _secrets_of(provider, seeded, CLIENT_SECRET)
    assert len(secrets) >= 5 and CLIENT_SECRET in secrets
    failures = []
    for what, stdout, stderr, code in runs:
        err = stderr.decode("utf-8", "replace")
        if leaked := _leaks(err, secrets):
            failures.append(f"`{what}` (exit {code}) stderr shows {leaked}")
        if what.startswith(("status", "revoke")) and (leaked := _leaks(stdout.decode(), secrets)):
            failures.append(f"`{what}` stdout shows {leaked}")
    codes = [code for _, _, _, code in runs]
    print(f"hygiene: {len(runs)} --debug runs (exit codes {codes}), {len(secrets)} secrets checked")
    record_property("debug_runs", len(runs))
    record_property("secrets_checked", len(secrets))
    assert failures == []
    assert codes[:4] == [0, 0, 0, 0], runs[:4]
    assert 77 in codes and 75 in codes  # the hostile answers really were exercised


def test_state_file_records_no_secret(hostile_env: dict[str, str], provider: LocalProvider) -> None:
    current = stored_refresh_token(hostile_env, ACCOUNT) or ""
    provider.fail_next(
        "error_json",
        status=400,
        body={"error": "invalid_grant", "error_description": f"token {current} revoked"},
    )
    assert run_cli(hostile_env, "token", ACCOUNT, "--debug").returncode == 77
    for path in _state_files(hostile_env):
        assert current not in path.read_text()


def test_exception_text_carries_no_secret(
    hostile_env: dict[str, str], provider: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oauth_helper.errors import OAuthHelperError
    from oauth_helper.settings import Settings
    from oauth_helper.tokens import get_access_token

    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, hostile_env[name])
    current = stored_refresh_token(hostile_env, ACCOUNT) or ""
    provider.fail_next(
        "error_json",
        status=400,
        body={"error": "invalid_grant", "error_description": f"token {current} revoked"},
    )
    settings = Settings(config_path=config_file(hostile_env), verbose=True, debug=True)
    with pytest.raises(OAuthHelperError) as caught:
        get_access_token(settings, ACCOUNT)
    assert current not in str(caught.value) and current not in repr(caught.value)


# -- argv: the command store gets secrets on stdin only -----------------------------------------

_STORE_SCRIPT = textwrap.dedent(
    """\
    import json, os, sys
    log, secret_file, action = sys.argv[1], sys.argv[2], sys.argv[3]
    data = sys.stdin.buffer.read()
    with open("/proc/%d/cmdline" % os.getppid(), "rb") as f:
        parent = f.read().decode("utf-8", "replace").split("\\0")
    entry = {"argv": sys.argv, "env": dict(os.environ), "stdin": data.decode(), "parent": parent}
    with open(log, "a") as f:
        f.write(json.dumps(entry) + "\\n")
    if action == "read":
        if os.path.exists(secret_file):
            sys.stdout.write(open(secret_file).read())
    else:
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        os.close(fd)
    """
)


def test_command_store_gets_secrets_on_stdin_never_argv(
    tmp_path: Path, provider: LocalProvider, record_property: RecordProperty
) -> None:
    script = tmp_path / "store.py"
    script.write_text(_STORE_SCRIPT)
    log = tmp_path / "store.log"
    secret_file = tmp_path / "secret.json"
    provider.rotation = "strict"
    argv = [sys.executable, str(script), str(log), str(secret_file)]

    def toml_list(action: str) -> str:
        return json.dumps([*argv, action])  # a JSON array of strings is a TOML array too

    env = make_account(
        tmp_path,
        provider,
        ACCOUNT,
        store="command",
        client_secret=CLIENT_SECRET,
        seed=False,
        account_extra=f"store_read = {toml_list('read')}\nstore_write = {toml_list('write')}",
    )
    seeded = provider.seed_refresh_token(ACCOUNT, "test-client", ["mail", "offline_access"])
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps({"version": 1, "refresh_token": seeded}).encode())
    os.close(fd)

    first = run_cli(env, "token", ACCOUNT, "--debug")
    assert first.returncode == 0, first.stderr.decode()
    second = run_cli(env, "token", ACCOUNT, "--debug", "--force-refresh")
    assert second.returncode == 0, second.stderr.decode()

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    secrets = _secrets_of(provider, seeded, CLIENT_SECRET)
    writes = [e for e in entries if e["argv"][-1] == "write"]
    assert len(writes) == 2  # one rotated refresh token per refresh, saved through stdin
    assert all(json.loads(e["stdin"])["refresh_token"] in secrets for e in writes)
    for entry in entries:
        shown = json.dumps([entry["argv"], entry["env"], entry["parent"]])
        assert _leaks(shown, secrets) == [], entry["argv"]
        assert "oauth-helper" in " ".join(entry["parent"])  # we looked at the right process
    for done in (first, second):
        assert _leaks(done.stderr.decode(), secrets) == []
    record_property("store_commands_checked", len(entries))
    print(f"argv: {len(entries)} store command runs checked against {len(secrets)} secrets")


# -- repr() of everything that holds a secret -------------------------------------------------


def _secret_holders(secret: str) -> Iterator[tuple[str, object]]:
    from oauth_helper import cache, http, oauth, tokens
    from oauth_helper.config import Account
    from oauth_helper.providers import BUILTIN
    from oauth_helper.stores.base import Secret

    provider = next(iter(BUILTIN.values()))
    yield "TokenResponse", oauth.TokenResponse(secret, 3600, secret, secret)
    yield "Secret", Secret(refresh_token=secret, client_secret=secret)
    yield "Account", Account(name="a@b.c", provider=provider, client_secret=secret)
    yield "CachedToken", cache.CachedToken(secret, 1.0, "fp", "stamp")
    yield "AccessToken", tokens.AccessToken(secret, 1.0)
    yield "http.Response", http.Response(200, {}, secret.encode())
    try:
        from oauth_helper.flows.callback import Callback
        from oauth_helper.flows.common import FlowContext
        from oauth_helper.flows.pkce import AuthorizationRequest
    except ImportError:
        return
    yield "Callback", Callback(code=secret, state="s")
    yield "FlowContext", FlowContext("a@b.c", provider, "cid", client_secret=secret)
    yield "AuthorizationRequest", AuthorizationRequest(verifier=secret, state="s", nonce="n")


def test_repr_of_secret_holders_redacts(record_property: RecordProperty) -> None:
    secret = "sEcReT-" + "x" * 30
    checked = []
    for name, holder in _secret_holders(secret):
        assert secret not in repr(holder), name
        assert secret not in str(holder), name
        checked.append(name)
    record_property("repr_checked", len(checked))
    assert len(checked) >= 6, checked


def test_config_repr_hides_client_secret(tmp_path: Path) -> None:
    from oauth_helper.config import parse

    text = (
        f'[accounts."{ACCOUNT}"]\nprovider = "google"\nclient_id = "x.apps"\n'
        f'client_secret = "{CLIENT_SECRET}"\nstore = "file"\n'
    )
    cfg = parse(text, tmp_path / "config.toml")
    assert CLIENT_SECRET not in repr(cfg)


def test_lock_and_cache_names_carry_no_secret(hostile_env: dict[str, str]) -> None:
    """File names are derived from the account, never from a token (ls shows names to all)."""
    assert run_cli(hostile_env, "token", ACCOUNT).returncode == 0
    names = [p.name for p in Path(hostile_env["XDG_CACHE_HOME"]).rglob("*")]
    assert any(n.startswith(file_name(ACCOUNT)) for n in names)
    token = stored_refresh_token(hostile_env, ACCOUNT) or ""
    assert not any(token[:12] in n for n in names)


def test_status_never_shows_the_client_secret(
    hostile_env: dict[str, str], provider: LocalProvider
) -> None:
    provider.fail_next(
        "error_json",
        status=401,
        body={"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"},
    )
    failed = run_cli(hostile_env, "token", ACCOUNT, "--debug")
    assert failed.returncode == 78 and CLIENT_SECRET.encode() not in failed.stderr
    for args in (["status", ACCOUNT], ["status", "--json"]):
        shown = run_cli(hostile_env, *args, "--debug")
        assert CLIENT_SECRET.encode() not in shown.stdout + shown.stderr, args
