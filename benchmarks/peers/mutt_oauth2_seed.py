"""Seed mutt-oauth2's keyring entry so it refreshes against the local provider.

Runs inside the mutt-oauth2 bench venv, with PYTHON_KEYRING_BACKEND pinned by run.py:
    python mutt_oauth2_seed.py USERNAME EMAIL CLIENT_ID REFRESH_TOKEN BASE_URL TOKEN_URL [EXPIRES_AT]
Without EXPIRES_AT the access token is stored as expired at the epoch, so the next run refreshes
(mutt-oauth2 cannot read back an entry whose expiration is null).
It uses mutt-oauth2's own SavedToken/Registration classes, so the entry is what it would write.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone


def main(argv: list[str]) -> int:
    username, email, client_id, refresh_token, base_url, token_url = argv[:6]
    expires_at = argv[6] if len(argv) > 6 else ""
    access_token = argv[7] if len(argv) > 7 else ""

    from mutt_oauth2.registrations import Registration
    from mutt_oauth2.utils import SavedToken

    registration = Registration(
        authorize_endpoint=base_url + "/authorize",
        device_code_endpoint=base_url + "/device/code",
        token_endpoint=token_url,
        redirect_uri="http://127.0.0.1/",
        imap_endpoint="127.0.0.1",
        pop_endpoint="127.0.0.1",
        smtp_endpoint="127.0.0.1",
        sasl_method="XOAUTH2",
        scope="mail offline_access",
    )
    expiration = datetime.fromtimestamp(float(expires_at or 0), tz=timezone.utc)
    token = SavedToken(
        access_token_expiration=expiration,
        client_id=client_id,
        client_secret=None,
        email=email,
        registration=registration,
        access_token=access_token,
        refresh_token=refresh_token,
    )
    token.persist(username)
    import keyring

    print(type(keyring.get_keyring()).__module__ + "." + type(keyring.get_keyring()).__name__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
