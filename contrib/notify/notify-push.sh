#!/bin/sh
# oauth-helper notify_command: an HTTP push (ntfy-style: title header, text body) with curl.
# notify_command = ["/path/to/notify-push.sh", "https://push.example.org/your-topic"]
url=${1:?usage: notify-push.sh URL}
text=$OAUTH_HELPER_REASON
[ -n "$OAUTH_HELPER_FIX" ] && text="$text
Fix: $OAUTH_HELPER_FIX"
# The notify command is killed after 30 s: give up well before.
exec curl --fail --silent --show-error --max-time 20 \
    -H "Title: oauth-helper: $OAUTH_HELPER_ACCOUNT" --data-binary "$text" "$url"
