#!/bin/sh
# Send a message with curl (>= 7.33) over SMTP, authenticated by an oauth-helper token.
#
#   curl-smtp.sh RECIPIENT MESSAGE-FILE
#
# curl builds the SASL string from --oauth2-bearer itself and picks OAUTHBEARER whenever the
# server offers it, XOAUTH2 otherwise (Microsoft). The token reaches curl through a config on
# stdin ("--config -"), never through the command line where other users could read it.
# Uses implicit TLS on port 465; for STARTTLS on 587 write smtp://...:587 (--ssl-reqd keeps
# it from ever talking in the clear).
set -eu
ACCOUNT="alice@gmail.com"
RCPT="$1"
MESSAGE="$2"

oauth-helper token "$ACCOUNT" | sed 's/^/oauth2-bearer = /' |
  curl --silent --show-error --fail --config - \
    --url "smtps://smtp.gmail.com:465" --ssl-reqd \
    --cacert /etc/ssl/certs/ca-certificates.crt \
    --user "$ACCOUNT" \
    --mail-from "$ACCOUNT" --mail-rcpt "$RCPT" \
    --upload-file "$MESSAGE"
