"""Shell completion: the scripts `jobc completion SHELL` prints, and the answers of `jobc __complete WORDS...`.

The shell passes the words after `jobc` up to the one being completed (the last, maybe empty). The answer's
first line says what to offer: `words` (the lines that follow), `specs` (.json/.yaml/.yml files and
directories), `files`, `dirs` or `none`; the shell lists the files itself, so its own quoting and `~` work.
Made from the tables in `jobc.cli_table`, so a new option completes without a change here; imports nothing else.
"""

from __future__ import annotations

from .cli_table import COMMANDS, SHELLS, TOP_OPTIONS, Command


def complete(words: list[str]) -> list[str]:
    current = words[-1] if words else ""
    before = words[:-1]
    if not before:
        if current.startswith("-"):
            return _words([f for o in TOP_OPTIONS for f in o.flags], current)
        return _words([name for name, c in COMMANDS.items() if not c.hidden], current)
    command = COMMANDS.get(before[0])
    if command is None:
        return ["none"]
    if "--" not in before[1:]:
        previous = command.options_by_flag.get(before[-1]) if len(before) > 1 else None
        if previous is not None and previous.takes_value:
            return _kind(previous.complete, previous.choices, current)
        if current.startswith("-"):
            return _words(_flags(command), current)
    if command.argument is None:
        return ["none"]
    return _kind(command.argument.complete, (), current)


def _flags(command: Command) -> list[str]:
    return [flag for flag in command.options_by_flag if flag.startswith("--")]


def _kind(kind: str, choices: tuple[str, ...], current: str) -> list[str]:
    if choices:
        return _words(list(choices), current)
    if kind == "shells":
        return _words(list(SHELLS), current)
    return [kind if kind in ("spec", "file", "dir") else "none"]


def _words(candidates: list[str], current: str) -> list[str]:
    return ["words", *(c for c in candidates if c.startswith(current))]


BASH = r"""# jobc completion for bash: eval "$(jobc completion bash)" (e.g. in ~/.bashrc)
_jobc_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n' candidate
    local -a reply
    reply=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    COMPREPLY=()
    case "${reply[0]}" in
        words) COMPREPLY=($(compgen -W "${reply[*]:1}" -- "$cur")) ;;
        spec)
            compopt -o filenames 2>/dev/null
            for candidate in $(compgen -f -- "$cur"); do
                case "$candidate" in
                    *.json | *.yaml | *.yml) COMPREPLY+=("$candidate") ;;
                    *) [[ -d "$candidate" ]] && COMPREPLY+=("$candidate") ;;
                esac
            done ;;
        file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    esac
}
complete -F _jobc_complete jobc
"""

ZSH = r"""#compdef jobc
# jobc completion for zsh: eval "$(jobc completion zsh)" after compinit (e.g. in ~/.zshrc)
_jobc() {
    local -a reply
    reply=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "$reply[1]" in
        words) compadd -- "${(@)reply[2,-1]}" ;;
        spec) _files -g '*.(json|yaml|yml)' ;;
        file) _files ;;
        dir) _files -/ ;;
    esac
}
compdef _jobc jobc
"""

FISH = r"""# jobc completion for fish: jobc completion fish > ~/.config/fish/completions/jobc.fish
function __jobc_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l reply ($words[1] __complete $words[2..-1] 2>/dev/null)
    switch "$reply[1]"
        case words
            printf '%s\n' $reply[2..-1]
        case spec
            __fish_complete_suffix .json
            __fish_complete_suffix .yaml
            __fish_complete_suffix .yml
        case file
            __fish_complete_path (commandline -ct)
        case dir
            __fish_complete_directories (commandline -ct)
    end
end
complete -c jobc -f -a '(__jobc_complete)'
"""


def script(shell: str) -> str:
    return {"bash": BASH, "zsh": ZSH, "fish": FISH}[shell]
