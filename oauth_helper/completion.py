"""`completion bash|zsh|fish`: shell completion scripts generated from the argparse parser.

The parser is the one source of truth: commands, options, the values an option takes (its
choices, a file, or free text) and what each positional argument is (an account, a fixed
choice, free text) are read from it, so a new option completes without anyone editing a
script. Accounts come from `oauth-helper accounts` at completion time. contrib/completion/
holds the same scripts (scripts/gen-contrib; a unit test proves they are current).
"""

from __future__ import annotations

import argparse

from .record import field, record

SHELLS = ("bash", "zsh", "fish")
FILE_OPTIONS = frozenset({"--config", "--cafile"})
ACCOUNT_DESTS = frozenset({"account", "accounts"})


@record
class Command:
    name: str
    flags: tuple[str, ...]  # every option string, long and short, in parser order
    # (what each positional takes: "account", "" for free text, or the choices), and
    # whether the last one repeats (nargs * or +)
    positionals: tuple[tuple[str, ...] | str, ...] = ()
    repeats: bool = False


@record
class Spec:
    global_flags: tuple[str, ...]
    commands: tuple[Command, ...]
    # option -> its choices, ("<file>",) for a file name, () for free text
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser, values: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    flags: list[str] = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        flags.extend(action.option_strings)
        if action.nargs != 0:  # takes a value
            for flag in action.option_strings:
                if flag in FILE_OPTIONS:
                    values[flag] = ("<file>",)
                else:
                    values[flag] = tuple(str(c) for c in action.choices or ())
    return tuple(flags)


def spec(parser: argparse.ArgumentParser) -> Spec:
    values: dict[str, tuple[str, ...]] = {}
    global_flags = _flags(parser, values)
    commands = []
    for name, sub in _subparsers(parser).items():
        flags = _flags(sub, values)
        positionals: list[tuple[str, ...] | str] = []
        repeats = False
        for action in sub._actions:
            if action.option_strings:
                continue
            if action.dest in ACCOUNT_DESTS:
                positionals.append("account")
            elif action.choices:
                positionals.append(tuple(str(c) for c in action.choices))
            else:
                positionals.append("")
            repeats = action.nargs in ("*", "+")
        commands.append(Command(name, flags, tuple(positionals), repeats))
    return Spec(global_flags, tuple(commands), values)


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](spec(parser))


def _words(items: tuple[str, ...] | list[str]) -> str:
    return " ".join(items)


def _value_options(s: Spec) -> list[str]:
    return sorted(s.values)


# -- bash --------------------------------------------------------------------------------------


def _bash(s: Spec) -> str:
    lines = [
        "# bash completion for oauth-helper, generated from its parser: `oauth-helper completion bash`.",
        "# Install: oauth-helper completion bash > ~/.local/share/bash-completion/completions/oauth-helper",
        "# (or `source <(oauth-helper completion bash)` in ~/.bashrc).",
        "",
        "_oauth_helper() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" npos=0 i w opts="" kind=""',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        w="${COMP_WORDS[i]}"',
        '        case "$w" in',
        f"            {'|'.join(_value_options(s))}) ((i++)) ;;",
        "            -*) ;;",
        '            *) if [ -z "$cmd" ]; then cmd="$w"; else ((npos++)); fi ;;',
        "        esac",
        "    done",
        '    case "$prev" in',
    ]
    by_values: dict[tuple[str, ...], list[str]] = {}
    for flag, vals in sorted(s.values.items()):
        by_values.setdefault(vals, []).append(flag)
    for vals, flags in by_values.items():
        if vals == ("<file>",):
            action = 'COMPREPLY=($(compgen -f -- "$cur"))'
        elif vals:
            action = f'COMPREPLY=($(compgen -W "{_words(vals)}" -- "$cur"))'
        else:
            action = "COMPREPLY=()"
        lines.append(f"        {'|'.join(flags)}) {action}; return ;;")
    lines += [
        "    esac",
        '    if [ -z "$cmd" ]; then',
        f'        COMPREPLY=($(compgen -W "{_words([c.name for c in s.commands])} '
        f'{_words(s.global_flags)}" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$cmd" in',
    ]
    for c in s.commands:
        kinds = " ".join(_kind_word(p) for p in c.positionals)
        lines.append(
            f'        {c.name}) opts="{_words(c.flags)}"; kinds=({kinds}); rep={int(c.repeats)} ;;'
        )
    lines += [
        "        *) return ;;",
        "    esac",
        '    if [[ "$cur" == -* ]]; then',
        '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
        "        return",
        "    fi",
        "    if ((npos >= ${#kinds[@]})); then ((rep)) && npos=$((${#kinds[@]} - 1)) || return; fi",
        '    kind="${kinds[npos]}"',
        '    case "$kind" in',
        '        account) COMPREPLY=($(compgen -W "$(oauth-helper accounts 2>/dev/null)" -- "$cur")) ;;',
        "        -) ;;",
        '        *) COMPREPLY=($(compgen -W "${kind//,/ }" -- "$cur")) ;;',
        "    esac",
        "}",
        "complete -F _oauth_helper oauth-helper",
    ]
    return "\n".join(lines) + "\n"


def _kind_word(p: tuple[str, ...] | str) -> str:
    """A positional's kind as one shell word: account, - (free text), or a,b,c (choices)."""
    if p == "account":
        return "account"
    return ",".join(p) if isinstance(p, tuple) else "-"


# -- zsh ---------------------------------------------------------------------------------------


def _zsh(s: Spec) -> str:
    lines = [
        "#compdef oauth-helper",
        "# zsh completion for oauth-helper, generated from its parser: `oauth-helper completion zsh`.",
        "# Install: oauth-helper completion zsh > ~/.zfunc/_oauth-helper, with fpath+=(~/.zfunc)",
        "# before compinit in ~/.zshrc (or `source <(oauth-helper completion zsh)` after compinit).",
        "",
        "_oauth_helper() {",
        '    local cmd="" npos=0 i w kind="" rep=0',
        "    local -a opts kinds",
        f"    local -a value_opts=({_words(_value_options(s))})",
        "    for ((i = 2; i < CURRENT; i++)); do",
        '        w="${words[i]}"',
        "        if (( ${value_opts[(Ie)$w]} )); then ((i++)); continue; fi",
        '        case "$w" in',
        "            -*) ;;",
        '            *) if [[ -z "$cmd" ]]; then cmd="$w"; else ((npos++)); fi ;;',
        "        esac",
        "    done",
        '    case "${words[CURRENT-1]}" in',
    ]
    by_values: dict[tuple[str, ...], list[str]] = {}
    for flag, vals in sorted(s.values.items()):
        by_values.setdefault(vals, []).append(flag)
    for vals, flags in by_values.items():
        if vals == ("<file>",):
            action = "_files"
        elif vals:
            action = f"compadd -- {_words(vals)}"
        else:
            action = ":"
        lines.append(f"        {'|'.join(flags)}) {action}; return ;;")
    lines += [
        "    esac",
        '    if [[ -z "$cmd" ]]; then',
        f"        compadd -- {_words([c.name for c in s.commands])} {_words(s.global_flags)}",
        "        return",
        "    fi",
        '    case "$cmd" in',
    ]
    for c in s.commands:
        kinds = " ".join(_kind_word(p) for p in c.positionals)
        lines.append(
            f"        {c.name}) opts=({_words(c.flags)}); kinds=({kinds}); rep={int(c.repeats)} ;;"
        )
    lines += [
        "        *) return ;;",
        "    esac",
        '    if [[ "${words[CURRENT]}" == -* ]]; then compadd -- $opts; return; fi',
        "    if ((npos >= ${#kinds})); then ((rep)) && npos=$((${#kinds} - 1)) || return; fi",
        '    kind="${kinds[npos+1]}"',
        '    case "$kind" in',
        '        account) compadd -- ${(f)"$(oauth-helper accounts 2>/dev/null)"} ;;',
        "        -) ;;",
        "        *) compadd -- ${(s:,:)kind} ;;",
        "    esac",
        "}",
        "",
        'if [[ "${zsh_eval_context[-1]}" == loadautofunc ]]; then',
        '    _oauth_helper "$@"',
        "else",
        "    compdef _oauth_helper oauth-helper",
        "fi",
    ]
    return "\n".join(lines) + "\n"


# -- fish --------------------------------------------------------------------------------------


def _fish_flag(flag: str) -> str:
    return f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"


def _fish(s: Spec) -> str:
    names = _words([c.name for c in s.commands])
    lines = [
        "# fish completion for oauth-helper, generated from its parser: `oauth-helper completion fish`.",
        "# Install: oauth-helper completion fish > ~/.config/fish/completions/oauth-helper.fish",
        "",
        "# The positional arguments after the command, without options and their values.",
        "function __oauth_helper_args",
        "    set -l words (commandline -opc)[2..-1]",
        "    set -l out",
        "    set -l skip 0",
        "    for w in $words",
        "        if test $skip = 1",
        "            set skip 0",
        f"        else if contains -- $w {_words(_value_options(s))}",
        "            set skip 1",
        "        else if not string match -q -- '-*' $w",
        "            set -a out $w",
        "        end",
        "    end",
        "    printf '%s\\n' $out",
        "end",
        "",
        "# True when the next positional of command $argv[1] is number $argv[2] (1: the first).",
        "function __oauth_helper_pos",
        "    set -l args (__oauth_helper_args)",
        "    test (count $args) -ge 1; and test $args[1] = $argv[1]; or return 1",
        "    set -l n (count $args)  # args[1] is the command: n-1 positionals so far",
        "    test $n -eq $argv[2]; or begin; test (count $argv) -ge 3; and test $n -ge $argv[2]; end",
        "end",
        "",
        "complete -c oauth-helper -f",
        f'complete -c oauth-helper -n "not __fish_seen_subcommand_from {names}" -a "{names}"',
    ]
    for flag in s.global_flags:
        lines.append(_fish_option(f"not __fish_seen_subcommand_from {names}", flag, s))
    for c in s.commands:
        cond = f"__fish_seen_subcommand_from {c.name}"
        for flag in c.flags:
            lines.append(_fish_option(cond, flag, s))
        for i, p in enumerate(c.positionals, 1):
            rep = " 1" if c.repeats and i == len(c.positionals) else ""
            pos = f"__oauth_helper_pos {c.name} {i}{rep}"
            if p == "account":
                lines.append(
                    f'complete -c oauth-helper -n "{pos}" -a "(oauth-helper accounts 2>/dev/null)"'
                )
            elif isinstance(p, tuple):
                lines.append(f'complete -c oauth-helper -n "{pos}" -a "{_words(p)}"')
    return "\n".join(lines) + "\n"


def _fish_option(cond: str, flag: str, s: Spec) -> str:
    parts = ["complete -c oauth-helper", f'-n "{cond}"']
    parts.append(_fish_flag(flag))
    vals = s.values.get(flag)
    if vals == ("<file>",):
        parts.append("-r -F")
    elif vals:
        parts.append(f'-x -a "{_words(vals)}"')
    elif vals is not None:
        parts.append("-x")
    return " ".join(parts)


# contrib/completion/ file -> shell
CONTRIB_FILES = {
    "completion/oauth-helper.bash": "bash",
    "completion/_oauth-helper": "zsh",
    "completion/oauth-helper.fish": "fish",
}


def contrib_files(parser: argparse.ArgumentParser) -> dict[str, str]:
    """contrib/completion/'s files for `parser` (cli.build_parser(): passed in, so that this
    module, which cli imports, does not import cli back)."""
    return {relpath: script(shell, parser) for relpath, shell in CONTRIB_FILES.items()}
