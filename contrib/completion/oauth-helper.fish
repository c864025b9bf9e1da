# fish completion for oauth-helper, generated from its parser: `oauth-helper completion fish`.
# Install: oauth-helper completion fish > ~/.config/fish/completions/oauth-helper.fish

# The positional arguments after the command, without options and their values.
function __oauth_helper_args
    set -l words (commandline -opc)[2..-1]
    set -l out
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
        else if contains -- $w --account --cafile --client-id --client-secret --config --decrypt-command --flow --format --from --host --imap --issuer --mechanism --min-validity --port --provider --scope --smtp --store --tenant --timeout --within
            set skip 1
        else if not string match -q -- '-*' $w
            set -a out $w
        end
    end
    printf '%s\n' $out
end

# True when the next positional of command $argv[1] is number $argv[2] (1: the first).
function __oauth_helper_pos
    set -l args (__oauth_helper_args)
    test (count $args) -ge 1; and test $args[1] = $argv[1]; or return 1
    set -l n (count $args)  # args[1] is the command: n-1 positionals so far
    test $n -eq $argv[2]; or begin; test (count $argv) -ge 3; and test $n -ge $argv[2]; end
end

complete -c oauth-helper -f
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -a "authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth"
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -s h
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -l help
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -l config -r -F
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -s v
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -l verbose
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -l debug
complete -c oauth-helper -n "not __fish_seen_subcommand_from authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth" -l version
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l provider -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l issuer -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l scope -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l client-id -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l client-secret -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l tenant -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l flow -x -a "browser paste device"
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l no-browser
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l port -x
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l store -x -a "keyring file command"
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l allow-other-identity
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l select-account
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l no-login-hint
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l allow-unverified-identity
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l pop
complete -c oauth-helper -n "__fish_seen_subcommand_from authorize" -l timeout -x
complete -c oauth-helper -n "__oauth_helper_pos authorize 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l format -x -a "token xoauth2 oauthbearer json"
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l host -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l port -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l min-validity -x
complete -c oauth-helper -n "__fish_seen_subcommand_from token" -l force-refresh
complete -c oauth-helper -n "__oauth_helper_pos token 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from git-credential" -l debug
complete -c oauth-helper -n "__oauth_helper_pos git-credential 1" -a "get store erase"
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l all
complete -c oauth-helper -n "__fish_seen_subcommand_from refresh" -l within -x
complete -c oauth-helper -n "__oauth_helper_pos refresh 1 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from status" -l json
complete -c oauth-helper -n "__oauth_helper_pos status 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l smtp -x
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l imap -x
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l mechanism -x -a "xoauth2 oauthbearer"
complete -c oauth-helper -n "__fish_seen_subcommand_from test" -l cafile -r -F
complete -c oauth-helper -n "__oauth_helper_pos test 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l forget
complete -c oauth-helper -n "__fish_seen_subcommand_from revoke" -l local
complete -c oauth-helper -n "__oauth_helper_pos revoke 1" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l from -x -a "auto mutt_oauth2 getmail json"
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l decrypt-command -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l account -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l provider -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l client-id -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l client-secret -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l tenant -x
complete -c oauth-helper -n "__fish_seen_subcommand_from import" -l store -x -a "keyring file command"
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from snippet" -l debug
complete -c oauth-helper -n "__oauth_helper_pos snippet 1" -a "msmtp mutt neomutt git mbsync fetchmail offlineimap getmail aerc curl"
complete -c oauth-helper -n "__oauth_helper_pos snippet 2" -a "(oauth-helper accounts 2>/dev/null)"
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from accounts" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from completion" -l debug
complete -c oauth-helper -n "__oauth_helper_pos completion 1" -a "bash zsh fish"
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from manpage" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from providers" -l json
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -s h
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l help
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l config -r -F
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -s v
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l verbose
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l debug
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l mechanism -x -a "xoauth2 oauthbearer"
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l pop3
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l tls
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l starttls
complete -c oauth-helper -n "__fish_seen_subcommand_from preauth" -l cafile -r -F
complete -c oauth-helper -n "__oauth_helper_pos preauth 1" -a "(oauth-helper accounts 2>/dev/null)"
