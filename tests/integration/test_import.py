"""`oauth-helper import`: grants made by mutt_oauth2.py and getmail6 themselves, taken over and
verified by one refresh against the local provider; a dead grant leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require, require_binary
from tests.support.cli_env import (
    config_file,
    provider_config,
    run_cli,
    stored_refresh_token,
    user_env,
)
from tests.support.provider import LocalProvider

MUTT_OAUTH2 = Path("/usr/share/doc/mutt/examples/mutt_oauth2.py")
GETMAIL_TOKENS = "getmail-gmail-xoauth-tokens"
ACCOUNT = "alice@example.test"
CLIENT, SECRET = "import-client", "import-secret"
GOOGLE_SCOPE = "https://mail.google.com/"


def write_config(env: dict[str, str], text: str) -> Path:
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("timeout = 5\n\n" + text)
    return path


def microsoft_config(provider: LocalProvider) -> str:
    # The built-in Microsoft provider (its scopes, XOAUTH2, scope on refresh), served locally.
    return f'[providers.microsoft]\ntoken_endpoint = "{provider.token_endpoint}"\n'


def google_config(provider: LocalProvider) -> str:
    return f'[providers.google]\ntoken_endpoint = "{provider.token_endpoint}"\n'


def configured_accounts(env: dict[str, str]) -> list[str]:
    done = run_cli(env, "accounts")
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().split()


# -- mutt_oauth2.py ---------------------------------------------------------------------------


@pytest.fixture
def gnupg(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A GnuPG home with one key without passphrase (what `gpg --decrypt` uses unattended)."""
    gpg = require_binary("gpg")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [
            gpg,
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Test <t@example.test>",
            "default",
            "default",
            "never",
        ],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    yield env
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, timeout=30, check=False
    )


def mutt_oauth2_script(tmp_path: Path, provider: LocalProvider) -> Path:
    """Debian's mutt_oauth2.py, its configuration (the registrations table and the GPG pipes,
    which its README tells users to edit) pointed at the local provider and the test key."""
    require(MUTT_OAUTH2.exists(), f"{MUTT_OAUTH2} is missing (Debian's mutt package)")
    text = MUTT_OAUTH2.read_text()
    edits = {
        "'YOUR_GPG_IDENTITY']": "'t@example.test', '--trust-model', 'always', '--batch']",
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize": (
            provider.authorization_endpoint
        ),
        "https://login.microsoftonline.com/common/oauth2/v2.0/token": provider.token_endpoint,
        "https://login.microsoftonline.com/common/oauth2/nativeclient": "http://127.0.0.1:9/",
    }
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    ms = text.index("'microsoft': {")
    head, tail = text[:ms], text[ms:]
    tail = tail.replace("'client_id': '',", f"'client_id': '{CLIENT}',", 1)
    tail = tail.replace("'client_secret': '',", f"'client_secret': '{SECRET}',", 1)
    path = tmp_path / "mutt_oauth2.py"
    path.write_text(head + tail)
    return path


def authorize_with_mutt_oauth2(
    script: Path, token_file: Path, provider: LocalProvider, env: dict[str, str]
) -> None:
    """`mutt_oauth2.py TOKENFILE --authorize` (authcode flow), answering as the user would;
    the test plays the signed-in browser."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(token_file), "--authorize", "--authflow", "authcode"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"microsoft\nauthcode\n{ACCOUNT}\n")
        proc.stdin.flush()
        url = ""
        for line in proc.stdout:
            found = re.search(r"(http://127\.0\.0\.1:\d+/authorize\?\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url, proc.stderr.read() if proc.stderr else ""
        # The browser: signed in at the provider, which requires `state` (mutt_oauth2.py sends
        # none; the code exchange does not involve it).
        no_redirect = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        try:
            no_redirect.open(url + "&state=browser", timeout=10)
            raise AssertionError("the provider did not redirect")
        except urllib.error.HTTPError as e:
            location = e.headers["Location"]
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
        out, err = proc.communicate(code + "\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, out + err
    assert token_file.exists()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_import_a_mutt_oauth2_token_file(
    tmp_path: Path, provider: LocalProvider, gnupg: dict[str, str]
) -> None:
    provider.register_client(CLIENT, SECRET)
    provider.signed_in_user = ACCOUNT
    token_file = tmp_path / "alice.tokens"
    authorize_with_mutt_oauth2(
        mutt_oauth2_script(tmp_path, provider),
        token_file,
        provider,
        {**gnupg, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"},
    )
    assert not token_file.read_bytes().lstrip().startswith(b"{")  # encrypted, as shipped
    grant = json.loads(
        subprocess.run(
            ["gpg", "--batch", "--decrypt", str(token_file)],
            env=gnupg,
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
    )
    assert grant["registration"] == "microsoft" and grant["email"] == ACCOUNT

    env = {**user_env(tmp_path), "GNUPGHOME": gnupg["GNUPGHOME"]}
    write_config(env, microsoft_config(provider))
    refreshes = provider.counts["token:refresh_token"]
    done = run_cli(
        env,
        "import",
        str(token_file),
        "--decrypt-command",
        "gpg --batch --decrypt",
        "--client-id",
        CLIENT,
        "--client-secret",
        SECRET,
        "--store",
        "file",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    err = done.stderr.decode()
    assert "imported from mutt_oauth2.py" in err and "verified with one refresh" in err, err
    assert grant["refresh_token"] not in err
    assert provider.counts["token:refresh_token"] == refreshes + 1
    assert configured_accounts(env) == [ACCOUNT]
    assert stored_refresh_token(env, ACCOUNT) == grant["refresh_token"]
    assert 'provider = "microsoft"' in config_file(env).read_text()
    served = run_cli(env, "token", ACCOUNT)
    assert served.returncode == 0 and provider.introspect(served.stdout.decode().strip())["active"]


def test_an_encrypted_file_without_decrypt_command_is_one_line(
    tmp_path: Path, provider: LocalProvider, gnupg: dict[str, str]
) -> None:
    encrypted = tmp_path / "t.gpg"
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--trust-model",
            "always",
            "-e",
            "-r",
            "t@example.test",
            "-o",
            str(encrypted),
        ],
        input=b'{"refresh_token": "x"}',
        env=gnupg,
        capture_output=True,
        timeout=30,
        check=True,
    )
    env = user_env(tmp_path)
    write_config(env, microsoft_config(provider))
    done = run_cli(env, "import", str(encrypted), "--client-id", CLIENT)
    assert done.returncode == 64 and b"--decrypt-command" in done.stderr
    failed = run_cli(env, "import", str(encrypted), "--decrypt-command", "false")
    assert failed.returncode == 78 and b"--decrypt-command failed (exit 1)" in failed.stderr
    assert configured_accounts(env) == []


# -- getmail6 ------------------------------------------------------------------------------


def test_import_a_getmail6_token_file(tmp_path: Path, provider: LocalProvider) -> None:
    tool = require_binary(GETMAIL_TOKENS)
    provider.register_client(CLIENT, SECRET)
    refresh_token = provider.seed_refresh_token(ACCOUNT, CLIENT, [GOOGLE_SCOPE])
    token_file = tmp_path / "getmail-alice.json"
    # What getmail6's documentation has the user write (then `--init`, the browser part, which
    # gave this refresh token); getmail-gmail-xoauth-tokens then refreshes it as getmail does.
    token_file.write_text(
        json.dumps(
            {
                "scope": GOOGLE_SCOPE,
                "user": ACCOUNT,
                "client_id": CLIENT,
                "client_secret": SECRET,
                "token_uri": provider.token_endpoint,
                "auth_uri": provider.authorization_endpoint,
                "refresh_token": refresh_token,
                "expires_at": 0,
            }
        )
    )
    env = user_env(tmp_path)
    ran = subprocess.run(
        [tool, str(token_file)], env=env, capture_output=True, timeout=30, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert "access_token" in json.loads(token_file.read_text())  # written by getmail6

    write_config(env, google_config(provider))
    done = run_cli(env, "import", str(token_file), "--provider", "google", "--store", "file")
    assert done.returncode == 0, done.stderr
    assert b"imported from getmail6" in done.stderr
    assert configured_accounts(env) == [ACCOUNT]
    assert stored_refresh_token(env, ACCOUNT) == refresh_token
    assert SECRET not in config_file(env).read_text()  # the secret went to the store
    assert run_cli(env, "token", ACCOUNT).returncode == 0


# -- plain JSON, and failures ----------------------------------------------------------------


def test_import_plain_json_with_rotation(tmp_path: Path, provider: LocalProvider) -> None:
    provider.rotation = "strict"
    provider.register_client(CLIENT)
    refresh_token = provider.seed_refresh_token(ACCOUNT, CLIENT, ["mail", "offline_access"])
    source = tmp_path / "grant.json"
    source.write_text(
        json.dumps({"client_id": CLIENT, "refresh_token": refresh_token, "account": ACCOUNT})
    )
    env = user_env(tmp_path)
    write_config(env, provider_config(provider, "local"))
    done = run_cli(env, "import", str(source), "--provider", "local", "--store", "file")
    assert done.returncode == 0, done.stderr
    rotated = stored_refresh_token(env, ACCOUNT)
    assert rotated and rotated != refresh_token and provider.is_refresh_token_valid(rotated)
    assert run_cli(env, "token", ACCOUNT).returncode == 0


def test_a_dead_grant_is_77_and_leaves_nothing(tmp_path: Path, provider: LocalProvider) -> None:
    provider.register_client(CLIENT)
    source = tmp_path / "grant.json"
    source.write_text(
        json.dumps(
            {"client_id": CLIENT, "refresh_token": "rt-revoked-long-ago", "account": ACCOUNT}
        )
    )
    env = user_env(tmp_path)
    write_config(env, provider_config(provider, "local"))
    before = config_file(env).read_text()
    done = run_cli(env, "import", str(source), "--provider", "local", "--store", "file")
    assert done.returncode == 77, done.stderr
    assert b"nothing was imported" in done.stderr and b"rt-revoked-long-ago" not in done.stderr
    assert config_file(env).read_text() == before
    assert stored_refresh_token(env, ACCOUNT) is None
    cache_dir = Path(env["XDG_CACHE_HOME"]) / "oauth-helper"
    left = sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []
    # No cached token and no recorded problem for an account that is not configured (status
    # and notifications would report it); only the lock files stay, as after revoke --forget.
    assert [n for n in left if not n.endswith(".lock")] == [], left


@pytest.mark.parametrize(
    ("content", "args", "code", "message"),
    [
        (b"not json", [], 64, b"not JSON"),
        (
            b'{"client_id": "c", "account": "alice@example.test"}',
            [],
            64,
            b"no usable refresh_token",
        ),
        (b'{"client_id": "c", "refresh_token": "r1234567"}', [], 64, b"--account"),
        (b'{"refresh_token": "r1234567", "account": "alice@example.test"}', [], 64, b"--client-id"),
        (
            b'{"client_id": "c", "refresh_token": "r1234567", "account": "a@b.c"}',
            ["--provider", "nope"],
            64,
            b"unknown provider",
        ),
    ],
)
def test_bad_sources_are_refused_before_anything_is_written(
    tmp_path: Path,
    provider: LocalProvider,
    content: bytes,
    args: list[str],
    code: int,
    message: bytes,
) -> None:
    source = tmp_path / "grant.json"
    source.write_bytes(content)
    env = user_env(tmp_path)
    write_config(env, provider_config(provider, "local"))
    before = config_file(env).read_text()
    done = run_cli(env, "import", str(source), "--provider", "local", *args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and done.stdout == b""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert config_file(env).read_text() == before
