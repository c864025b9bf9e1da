"""Run the installed oauth-helper as a user would: its own HOME and XDG dirs in a temp dir."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from oauth_helper.stores.base import Secret
from oauth_helper.stores.file_store import FileStore

from .provider import LocalProvider

LOCAL_SCOPES = ["mail", "offline_access"]
_DROP = (
    "OAUTH_HELPER_CONFIG",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "BROWSER",
    "TERM",  # with a terminal type, webbrowser falls back to w3m/lynx, which draw on stderr
    "DISPLAY",
    "WAYLAND_DISPLAY",
)


def oauth_helper_cmd() -> str:
    """The `oauth-helper` command installed next to this interpreter (bin/oauth-helper)."""
    path = Path(sys.executable).parent / "oauth-helper"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: install the project (pip install -e .) first")
    return str(path)


def user_env(tmp_path: Path) -> dict[str, str]:
    """os.environ with HOME and the XDG dirs inside tmp_path, and the project's commands first on PATH."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    for name, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    home.chmod(0o700)
    env["HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def config_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "oauth-helper" / "config.toml"


def provider_config(provider: LocalProvider, name: str = "local", *, extra: str = "") -> str:
    """A [providers.NAME] table for the local provider. name="google" overrides Google's endpoints."""
    lines = [f"[providers.{name}]"]
    if name != "google":
        lines.append(f'issuer = "{provider.issuer}"')
        lines.append(f'authorization_endpoint = "{provider.authorization_endpoint}"')
        lines.append(f'device_authorization_endpoint = "{provider.device_authorization_endpoint}"')
        lines.append(f"scopes = {LOCAL_SCOPES!r}".replace("'", '"'))
    else:
        lines.append(f'authorization_endpoint = "{provider.authorization_endpoint}"')
    lines.append(f'token_endpoint = "{provider.token_endpoint}"')
    lines.append(f'revocation_endpoint = "{provider.revocation_endpoint}"')
    lines.append(f'introspection_endpoint = "{provider.introspection_endpoint}"')
    if extra:
        lines.append(extra.strip())
    return "\n".join(lines) + "\n"


def make_account(
    tmp_path: Path,
    provider: LocalProvider,
    account: str,
    *,
    store: str = "file",
    client_id: str = "test-client",
    client_secret: str | None = None,
    provider_name: str = "local",
    extra_config: str = "",
    account_extra: str = "",
    timeout: float = 3,
    seed: bool = True,
    env: dict[str, str] | None = None,
) -> dict[str, str]:
    """Register the client, write a config for `account`, seed a refresh token, return the env.

    Call it again with the returned env to add more accounts to the same config.
    """
    env = env if env is not None else user_env(tmp_path)
    provider.register_client(client_id, client_secret)
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else f"timeout = {timeout}\n\n"
    if f"[providers.{provider_name}]" not in text:
        text += provider_config(provider, provider_name, extra=extra_config) + "\n"
    text += f'[accounts."{account}"]\nprovider = "{provider_name}"\nclient_id = "{client_id}"\n'
    if client_secret:
        text += f'client_secret = "{client_secret}"\n'
    text += f'store = "{store}"\n'
    if account_extra:
        text += account_extra.strip() + "\n"
    path.write_text(text + "\n")
    if seed:
        scopes = LOCAL_SCOPES if provider_name != "google" else ["https://mail.google.com/"]
        refresh_token = provider.seed_refresh_token(account, client_id, scopes)
        seed_refresh_token(env, account, refresh_token, store=store)
    return env


def make_flavoured_account(
    tmp_path: Path,
    provider: LocalProvider,
    account: str,
    flavour: str = "local",
    *,
    env: dict[str, str] | None = None,
    account_extra: str = "",
    seed: bool = True,
) -> dict[str, str]:
    """make_account for the local provider ("local"), or for a built-in provider ("google",
    "microsoft") whose endpoints point at it: hosts, ports and mechanisms stay the built-in's,
    which is what `oauth-helper snippet` writes into client configurations."""
    secret = "test-secret" if flavour == "google" else None  # google-auth wants a secret
    return make_account(
        tmp_path,
        provider,
        account,
        provider_name=flavour,
        client_secret=secret,
        env=env,
        account_extra=account_extra,
        seed=seed,
    )


def seed_refresh_token(
    env: dict[str, str], account: str, refresh_token: str, *, store: str = "file"
) -> None:
    secret = Secret(refresh_token=refresh_token, obtained_at=1.0)
    if store == "file":
        FileStore(account, directory=str(Path(env["XDG_DATA_HOME"]) / "oauth-helper")).save(secret)
    elif store == "keyring":
        from oauth_helper.stores.keyring_store import KeyringStore

        KeyringStore(account).save(secret)
    else:
        raise ValueError(f"seed the {store} store yourself")


def stored_refresh_token(env: dict[str, str], account: str, store: str = "file") -> str | None:
    if store == "file":
        loaded = FileStore(
            account, directory=str(Path(env["XDG_DATA_HOME"]) / "oauth-helper")
        ).load()
    else:
        from oauth_helper.stores.keyring_store import KeyringStore

        loaded = KeyringStore(account).load()
    return loaded.refresh_token if loaded else None


def cache_file(env: dict[str, str], account: str) -> Path:
    from oauth_helper.paths import file_name

    return Path(env["XDG_CACHE_HOME"]) / "oauth-helper" / f"{file_name(account)}.json"


def run_cli(
    env: dict[str, str],
    *args: str,
    input: bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run `oauth-helper ARGS...` with the test user's environment; stdin closed unless given."""
    return subprocess.run(
        [oauth_helper_cmd(), *args],
        env=env,
        input=input if input is not None else b"",
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def lock_is_free(path: Path) -> bool:
    """No process holds the flock on `path` (a missing file holds none): take it and let go."""
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the lock we just took
    return True
