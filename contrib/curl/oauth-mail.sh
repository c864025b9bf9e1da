#!/bin/sh
# Generated from oauth_helper/snippet.py by scripts/gen-contrib: do not edit by hand.
# Mail with curl (>= 7.33) as alice@gmail.com, with an oauth-helper token.
#
#   oauth-helper authorize alice@gmail.com      # once
#   oauth-mail.sh list                    the UIDs of INBOX
#   oauth-mail.sh fetch UID               print one message
#   oauth-mail.sh send RCPT MESSAGE-FILE  send a message
#
# curl builds the SASL string from the bearer token and picks OAUTHBEARER whenever
# the server offers it, XOAUTH2 otherwise. The token reaches curl through a config
# on stdin ("--config -"), never through the command line other users can read.
# Made by: oauth-helper snippet curl alice@gmail.com
set -eu
ACCOUNT=alice@gmail.com
IMAP="imaps://imap.gmail.com:993"
SMTP="smtps://smtp.gmail.com:465"
CAFILE=/etc/ssl/certs/ca-certificates.crt

with_token() {
  oauth-helper token "$ACCOUNT" | sed 's/^/oauth2-bearer = /' |
    curl --silent --show-error --fail --ssl-reqd --config - --cacert "$CAFILE" \
      --user "$ACCOUNT" "$@"
}

case "${1:-}" in
  list) with_token --url "$IMAP/INBOX?ALL" ;;
  fetch) with_token --url "$IMAP/INBOX;UID=$2" ;;
  send) with_token --url "$SMTP" --mail-from "$ACCOUNT" --mail-rcpt "$2" --upload-file "$3" ;;
  *) echo "usage: $0 list | fetch UID | send RCPT MESSAGE-FILE" >&2; exit 64 ;;
esac
