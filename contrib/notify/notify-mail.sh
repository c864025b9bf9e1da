#!/bin/sh
# oauth-helper notify_command: a mail through the local MTA with mail(1) (bsd-mailx, mailutils).
# notify_command = ["/path/to/notify-mail.sh", "you@example.org"]
to=${1:?usage: notify-mail.sh RECIPIENT}
{
    printf '%s\n' "$OAUTH_HELPER_REASON"
    [ -n "$OAUTH_HELPER_FIX" ] && printf '\nTo fix it, run:\n    %s\n' "$OAUTH_HELPER_FIX"
    printf '\n(sent by oauth-helper notify_command on %s)\n' "$(uname -n)"
} | exec mail -s "oauth-helper: $OAUTH_HELPER_ACCOUNT" "$to"
