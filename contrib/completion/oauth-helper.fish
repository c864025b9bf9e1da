# fish completion for oauth-helper.
# Install: copy to ~/.config/fish/completions/oauth-helper.fish
# Plain shell, no Python: account names are read from the config file.

function __oauth_helper_accounts
    set -l config $OAUTH_HELPER_CONFIG
    if test -z "$config"
        set -l base $XDG_CONFIG_HOME
        test -z "$base"; and set base $HOME/.config
        set config $base/oauth-helper/config.toml
    end
    test -r $config; or return
    sed -n 's/^[[:space:]]*\[[[:space:]]*accounts\.["'\'']\{0,1\}\([^]"'\'']*\)["'\'']\{0,1\}[[:space:]]*\].*/\1/p' $config
end

set -l commands authorize token git-credential refresh status test revoke providers preauth
complete -c oauth-helper -f
complete -c oauth-helper -l config -r -F -d 'config file'
complete -c oauth-helper -s v -l verbose -d 'say what is happening on stderr'
complete -c oauth-helper -l debug -d 'more detail on stderr'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -l version -d 'show the version'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a authorize -d 'obtain and store a refresh token'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a token -d 'print a valid access token'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a git-credential -d 'git credential helper'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a refresh -d 'refresh tokens ahead of need (for a timer)'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a status -d 'accounts, stores and token lifetimes'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a test -d 'log in to SMTP/IMAP with a fresh token'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a revoke -d 'revoke and delete the stored tokens'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a providers -d 'built-in and configured providers'
complete -c oauth-helper -n "not __fish_seen_subcommand_from $commands" -a preauth -d 'PREAUTH session for fetchmail'
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize token refresh status test revoke preauth" -a '(__oauth_helper_accounts)' -d account
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -a 'get store erase'
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l provider -x -a 'google microsoft'
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l client-id -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l client-secret -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l tenant -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l flow -x -a 'browser paste device'
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l no-browser
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l port -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l store -x -a 'keyring file command'
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l allow-other-identity
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l timeout -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l format -x -a 'token xoauth2 oauthbearer json'
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l host -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l port -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l min-validity -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l force-refresh
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l all -d 'every account'
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l within -x -d SECONDS
complete -c oauth-helper -n "__fish_seen_subcommand_from status providers" -l json
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l smtp -x -d 'HOST[:PORT]'
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l imap -x -d 'HOST[:PORT]'
complete -c oauth-helper -n "__fish_seen_subcommand_from test preauth" -l mechanism -x -a 'xoauth2 oauthbearer'
complete -c oauth-helper -n "__fish_seen_subcommand_from test preauth" -l cafile -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l forget -d 'also remove from the config'
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l local -d 'only delete the local copies'
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l pop3
