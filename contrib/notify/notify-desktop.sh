#!/bin/sh
# oauth-helper notify_command: a desktop notification (notify-send, Debian package libnotify-bin).
# notify_command = ["/path/to/notify-desktop.sh"]
urgency=critical
case $OAUTH_HELPER_REASON in recovered:*) urgency=normal ;; esac
body=$OAUTH_HELPER_REASON
[ -n "$OAUTH_HELPER_FIX" ] && body="$body
Fix: $OAUTH_HELPER_FIX"
exec notify-send --app-name=oauth-helper --urgency="$urgency" \
    "oauth-helper: $OAUTH_HELPER_ACCOUNT" "$body"
