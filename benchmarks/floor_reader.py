"""The floor: the least a cached-token helper can do. Not part of oauth-helper.

Reads a two-line 0600 cache file (token, expiry in epoch seconds), refuses a file that other
users can read or that is not ours, and prints the token if it stays valid for five more
minutes. run.py installs it as a console script into its own venv (to measure pip's wrapper)
and also runs it as a plain script.
"""

import os
import sys
import time


def main() -> int:
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return 78
        data = os.read(fd, 65536)
    finally:
        os.close(fd)
    token, expires_at = data.decode().split("\n")[:2]
    if float(expires_at) - time.time() <= 300:
        return 75
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
