"""Mark mutt-oauth2's stored access token as expired (keeps its refresh token), so the next run refreshes.

Runs inside the mutt-oauth2 bench venv:  python mutt_oauth2_expire.py USERNAME
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone


def main(argv: list[str]) -> int:
    from mutt_oauth2.utils import SavedToken

    token = SavedToken.from_keyring(argv[0])
    if token is None:
        print("no mutt-oauth2 entry in the keyring", file=sys.stderr)
        return 1
    token.access_token_expiration = datetime.fromtimestamp(0, tz=timezone.utc)
    token.persist(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
