#!/bin/sh
# Read mail with curl (>= 7.33) over IMAP, authenticated by an oauth-helper token.
#
#   curl-imap.sh              list the messages of INBOX (UIDs)
#   curl-imap.sh UID          print the message with that UID
#
# curl picks OAUTHBEARER whenever the server offers it, XOAUTH2 otherwise (Microsoft). The
# token reaches curl through a config on stdin, never through the command line.
set -eu
ACCOUNT="alice@gmail.com"
MAILBOX="INBOX"

if [ $# -ge 1 ]; then
  URL="imaps://imap.gmail.com:993/$MAILBOX;UID=$1"
else
  URL="imaps://imap.gmail.com:993/$MAILBOX?ALL"
fi

oauth-helper token "$ACCOUNT" | sed 's/^/oauth2-bearer = /' |
  curl --silent --show-error --fail --config - \
    --url "$URL" \
    --cacert /etc/ssl/certs/ca-certificates.crt \
    --user "$ACCOUNT"
