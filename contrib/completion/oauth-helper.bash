# bash completion for oauth-helper, generated from its parser: `oauth-helper completion bash`.
# Install: oauth-helper completion bash > ~/.local/share/bash-completion/completions/oauth-helper
# (or `source <(oauth-helper completion bash)` in ~/.bashrc).

_oauth_helper() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local cmd="" npos=0 i w opts="" kind=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        case "$w" in
            --account|--cafile|--client-id|--client-secret|--config|--decrypt-command|--flow|--format|--from|--host|--imap|--issuer|--mechanism|--min-validity|--port|--provider|--scope|--smtp|--store|--tenant|--timeout|--within) ((i++)) ;;
            -*) ;;
            *) if [ -z "$cmd" ]; then cmd="$w"; else ((npos++)); fi ;;
        esac
    done
    case "$prev" in
        --account|--client-id|--client-secret|--decrypt-command|--host|--imap|--issuer|--min-validity|--port|--provider|--scope|--smtp|--tenant|--timeout|--within) COMPREPLY=(); return ;;
        --cafile|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --flow) COMPREPLY=($(compgen -W "browser paste device" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "token xoauth2 oauthbearer json" -- "$cur")); return ;;
        --from) COMPREPLY=($(compgen -W "auto mutt_oauth2 getmail json" -- "$cur")); return ;;
        --mechanism) COMPREPLY=($(compgen -W "xoauth2 oauthbearer" -- "$cur")); return ;;
        --store) COMPREPLY=($(compgen -W "keyring file command" -- "$cur")); return ;;
    esac
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "authorize token git-credential refresh status test revoke import snippet accounts completion manpage providers preauth -h --help --config -v --verbose --debug --version" -- "$cur"))
        return
    fi
    case "$cmd" in
        authorize) opts="-h --help --config -v --verbose --debug --provider --issuer --scope --client-id --client-secret --tenant --flow --no-browser --port --store --allow-other-identity --select-account --no-login-hint --allow-unverified-identity --pop --timeout"; kinds=(account); rep=0 ;;
        token) opts="-h --help --config -v --verbose --debug --format --host --port --min-validity --force-refresh"; kinds=(account); rep=0 ;;
        git-credential) opts="-h --help --config -v --verbose --debug"; kinds=(get,store,erase); rep=0 ;;
        refresh) opts="-h --help --config -v --verbose --debug --all --within"; kinds=(account); rep=1 ;;
        status) opts="-h --help --config -v --verbose --debug --json"; kinds=(account); rep=0 ;;
        test) opts="-h --help --config -v --verbose --debug --smtp --imap --mechanism --cafile"; kinds=(account); rep=0 ;;
        revoke) opts="-h --help --config -v --verbose --debug --forget --local"; kinds=(account); rep=0 ;;
        import) opts="-h --help --config -v --verbose --debug --from --decrypt-command --account --provider --client-id --client-secret --tenant --store"; kinds=(-); rep=0 ;;
        snippet) opts="-h --help --config -v --verbose --debug"; kinds=(msmtp,mutt,neomutt,git,mbsync,fetchmail,offlineimap,getmail,aerc,curl account); rep=0 ;;
        accounts) opts="-h --help --config -v --verbose --debug"; kinds=(); rep=0 ;;
        completion) opts="-h --help --config -v --verbose --debug"; kinds=(bash,zsh,fish); rep=0 ;;
        manpage) opts="-h --help --config -v --verbose --debug"; kinds=(); rep=0 ;;
        providers) opts="-h --help --config -v --verbose --debug --json"; kinds=(); rep=0 ;;
        preauth) opts="-h --help --config -v --verbose --debug --mechanism --pop3 --tls --starttls --cafile"; kinds=(account - -); rep=0 ;;
        *) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    if ((npos >= ${#kinds[@]})); then ((rep)) && npos=$((${#kinds[@]} - 1)) || return; fi
    kind="${kinds[npos]}"
    case "$kind" in
        account) COMPREPLY=($(compgen -W "$(oauth-helper accounts 2>/dev/null)" -- "$cur")) ;;
        -) ;;
        *) COMPREPLY=($(compgen -W "${kind//,/ }" -- "$cur")) ;;
    esac
}
complete -F _oauth_helper oauth-helper
