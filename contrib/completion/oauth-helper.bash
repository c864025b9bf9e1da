# bash completion for oauth-helper.
# Install: copy to ~/.local/share/bash-completion/completions/oauth-helper
# (or /usr/share/bash-completion/completions/), or `source` it from ~/.bashrc.
# Plain shell, no Python: account names are read from the config file with sed.

_oauth_helper_accounts() {
    local config="${OAUTH_HELPER_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/oauth-helper/config.toml}"
    [ -r "$config" ] || return 0
    sed -n 's/^[[:space:]]*\[[[:space:]]*accounts\.["'\'']\{0,1\}\([^]"'\'']*\)["'\'']\{0,1\}[[:space:]]*\].*/\1/p' "$config"
}

_oauth_helper() {
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    }
    local commands="authorize token git-credential refresh status test revoke providers preauth"
    local common="--config -v --verbose --debug --help"
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            --config) ((i++)) ;;
            -*) ;;
            *) cmd="${words[i]}"; break ;;
        esac
    done
    case "$prev" in
        --config|--cafile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "token xoauth2 oauthbearer json" -- "$cur")); return ;;
        --mechanism) COMPREPLY=($(compgen -W "xoauth2 oauthbearer" -- "$cur")); return ;;
        --flow) COMPREPLY=($(compgen -W "browser paste device" -- "$cur")); return ;;
        --store) COMPREPLY=($(compgen -W "keyring file command" -- "$cur")); return ;;
        --provider) COMPREPLY=($(compgen -W "google microsoft" -- "$cur")); return ;;
        --client-id|--client-secret|--tenant|--port|--timeout|--host|--min-validity|--within|--smtp|--imap)
            return ;;
    esac
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands $common --version" -- "$cur"))
        return
    fi
    local opts=""
    case "$cmd" in
        authorize) opts="--provider --client-id --client-secret --tenant --flow --no-browser --port --store --allow-other-identity --timeout" ;;
        token) opts="--format --host --port --min-validity --force-refresh" ;;
        git-credential) COMPREPLY=($(compgen -W "get store erase" -- "$cur")); return ;;
        refresh) opts="--all --within" ;;
        status|providers) opts="--json" ;;
        test) opts="--smtp --imap --mechanism --cafile" ;;
        revoke) opts="--forget --local" ;;
        preauth) opts="--mechanism --pop3 --cafile" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
    elif [ "$cmd" != providers ]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$(_oauth_helper_accounts)" -- "$cur"))
    fi
}
complete -F _oauth_helper oauth-helper
