"""Store a refresh token in oauth-helper's file store, through the installed package's own API.

Runs inside our bench venv (XDG_DATA_HOME set by run.py):  python ours_seed.py ACCOUNT REFRESH_TOKEN
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    from oauth_helper.stores.base import Secret
    from oauth_helper.stores.file_store import FileStore

    account, refresh_token = argv[:2]
    FileStore(account).save(Secret(refresh_token=refresh_token, obtained_at=time.time()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
