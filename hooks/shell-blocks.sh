#!/usr/bin/env bash
# pyctl's shell start-up blocks: the one implementation of the marked PATH block, shared by
# install.sh (which sources this file) and `pyctl doctor --fix` (which runs it as
#   bash shell-blocks.sh add
# with HOME, PYCTL_HOME, SHELL, ZDOTDIR, XDG_* as the user has them). `add` writes or refreshes
# the block in ~/.bashrc (and the bash login file, ~/.zshrc, fish conf.d as install.sh does)
# and prints one line per file: "<file> (<added|updated|unchanged|...>)".

MARK_BEGIN='# >>> pyctl >>>'
MARK_END='# <<< pyctl <<<'
# An absolute version of $1 (which need not exist), without resolving symlinks.
absolute() {
  case $1 in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$(pwd)" "$1" ;;
  esac
}

# $1 with symlinks followed to the file itself (portable: no GNU `readlink -f`).
resolve_link() {
  local f=$1 t n=0
  while [ -L "$f" ] && [ $n -lt 40 ]; do
    t=$(readlink "$f") || break
    case $t in /*) f=$t ;; *) f="$(dirname "$f")/$t" ;; esac
    n=$((n + 1))
  done
  printf '%s' "$f"
}

# The bash-completion loader, if the system has one (it is what reads
# ~/.local/share/bash-completion/completions/); empty when bash-completion is not installed.
# PYCTL_BASH_COMPLETION_LOADER names it instead (tests; unusual installs).
bash_completion_loader() {
  local f
  for f in ${PYCTL_BASH_COMPLETION_LOADER-/usr/share/bash-completion/bash_completion /etc/bash_completion \
    /usr/local/share/bash-completion/bash_completion /opt/homebrew/etc/profile.d/bash_completion.sh \
    /usr/local/etc/profile.d/bash_completion.sh}; do
    if [ -f "$f" ]; then printf '%s' "$f"; return 0; fi
  done
}

# $1 escaped for use inside double quotes in sh/bash/zsh.
dq_sh() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//\$/\\\$}; s=${s//\`/\\\`}; printf '%s' "$s"; }
# $1 escaped for use inside double quotes in fish.
dq_fish() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//\$/\\\$}; printf '%s' "$s"; }

# ---------------------------------------------------------------------------------------------
# Paths (all derived from the environment, never from the real ~ behind HOME's back)

# shellcheck disable=SC2034 # the paths are used by install.sh, which sources this file
set_paths() {
  [ -n "${HOME:-}" ] || die "HOME is not set"
  HOME_DIR=${HOME%/}
  local data=${XDG_DATA_HOME:-}
  case $data in /*) ;; *) data="$HOME_DIR/.local/share" ;; esac # relative XDG paths are ignored
  APP_DIR="${data%/}/pyctl"
  BIN_DIR="$HOME_DIR/.local/bin"
  LAUNCHER="$BIN_DIR/pyctl"
  if [ -n "${PYCTL_HOME:-}" ]; then
    PYCTL_HOME_DIR=$(absolute "${PYCTL_HOME%/}")
  else
    PYCTL_HOME_DIR="$HOME_DIR/.local/python-packages"
  fi
  VENV_DIR="$PYCTL_HOME_DIR/venv"
  BASHRC="$HOME_DIR/.bashrc"
  ZSHRC="${ZDOTDIR:-$HOME_DIR}/.zshrc"
  local conf=${XDG_CONFIG_HOME:-}
  case $conf in /*) ;; *) conf="$HOME_DIR/.config" ;; esac
  FISH_DIR="${conf%/}/fish"
  FISH_FILE="$FISH_DIR/conf.d/pyctl.fish"
  # >>> completion paths (pyctl completion) >>>
  BASH_COMPLETION_FILE="${data%/}/bash-completion/completions/pyctl"
  ZSH_COMPLETION_DIR="$APP_DIR/zsh" # on fpath through the zsh PATH block; removed with the program
  FISH_COMPLETION_FILE="$FISH_DIR/completions/pyctl.fish"
  # <<< completion paths <<<
}

# A path as the shell block writes it: "$HOME/..." when under HOME, so the block stays readable.
home_relative() {
  case $1 in
    "$HOME_DIR"/*) printf '$HOME/%s' "$(dq_sh "${1#"$HOME_DIR"/}")" ;;
    *) dq_sh "$1" ;;
  esac
}
home_relative_fish() {
  case $1 in
    "$HOME_DIR"/*) printf '$HOME/%s' "$(dq_fish "${1#"$HOME_DIR"/}")" ;;
    *) dq_fish "$1" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Shell start-up files: one marked block each

block_sh() {
  local venv_bin bin
  venv_bin=$(home_relative "$VENV_DIR/bin")
  bin=$(home_relative "$BIN_DIR")
  printf '%s\n' "$MARK_BEGIN"
  printf '%s\n' "# Added by pyctl (install.sh or 'pyctl setup-shell'); 'pyctl setup-shell --remove' or './install.sh --uninstall' removes it."
  [ -n "${PYCTL_HOME:-}" ] && printf 'export PYCTL_HOME="%s"\n' "$(home_relative "$PYCTL_HOME_DIR")"
  printf 'export PATH="%s:%s:$PATH"\n' "$venv_bin" "$bin"
  if [ "${1:-}" = zsh ]; then # completion: _pyctl on fpath (compinit finds it), or registered now if compinit ran
    printf 'fpath=("%s" $fpath)\n' "$(home_relative "$ZSH_COMPLETION_DIR")"
    printf '(( $+functions[compdef] )) && autoload -Uz _pyctl && compdef _pyctl pyctl\n'
  elif [ -z "$(bash_completion_loader)" ]; then # no bash-completion to load our completions file
    printf '%s\n' "case \$- in *i*) command -v pyctl >/dev/null 2>&1 && source <(pyctl completion bash) ;; esac"
  fi
  printf '%s\n' "$MARK_END"
}

block_fish() {
  local venv_bin bin
  venv_bin=$(home_relative_fish "$VENV_DIR/bin")
  bin=$(home_relative_fish "$BIN_DIR")
  printf '%s\n' "$MARK_BEGIN"
  printf '%s\n' "# Added by pyctl (install.sh or 'pyctl setup-shell'); 'pyctl setup-shell --remove' or './install.sh --uninstall' removes it."
  [ -n "${PYCTL_HOME:-}" ] && printf 'set -gx PYCTL_HOME "%s"\n' "$(home_relative_fish "$PYCTL_HOME_DIR")"
  printf 'set -gx PATH "%s" "%s" $PATH\n' "$venv_bin" "$bin"
  printf '%s\n' "$MARK_END"
}

# Are the markers in file $1 well formed (each begin closed by an end, no nesting)?
markers_ok() {
  awk -v b="$MARK_BEGIN" -v e="$MARK_END" '
    $0 == b { if (open) bad = 1; open = 1; next }
    $0 == e { if (!open) bad = 1; open = 0; next }
    END { exit (bad || open) ? 1 : 0 }' "$1"
}

# Write $2 (a block, or empty to remove) into file $1 in place of its marked block(s); append
# if there is none. Writes through symlinks and keeps the file's permissions. Prints the verb.
put_block() {
  local file=$1 block=$2
  if [ -L "$file" ]; then file=$(resolve_link "$file"); fi
  if [ ! -e "$file" ]; then
    [ -n "$block" ] || return 0
    mkdir -p "$(dirname "$file")"
    printf '%s' "$block" >"$file"
    echo added
    return 0
  fi
  if ! markers_ok "$file"; then
    warn "$file has a '$MARK_BEGIN' line without its matching '$MARK_END' (or the other way round): fix it by hand; left unchanged"
    echo "NOT changed: its pyctl markers are broken"
    return 0
  fi
  local tmp
  tmp=$(mktemp "${TMPDIR:-/tmp}/pyctl-rc.XXXXXX")
  # An appended block gets one blank line before it; a blank line is held back until the next
  # line, so removing a block removes that blank line too and leaves the file as it was.
  BLOCK=$block awk -v b="$MARK_BEGIN" -v e="$MARK_END" '
    BEGIN { block = ENVIRON["BLOCK"] }
    $0 == b {
      skip = 1
      if (block == "") held = 0
      else if (!done) { if (held) { print ""; held = 0 }; printf "%s", block }
      done = 1
      next
    }
    skip && $0 == e { skip = 0; next }
    skip { next }
    $0 == "" { if (held) print ""; held = 1; next }
    { if (held) { print ""; held = 0 }; print }
    END {
      if (held) print ""
      if (!done && block != "") { if (NR > 0) print ""; printf "%s", block }
    }' "$file" >"$tmp"
  if cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    echo unchanged
    return 0
  fi
  local verb=updated
  grep -qxF "$MARK_BEGIN" "$file" || verb=added
  [ -n "$block" ] || verb=removed
  cat "$tmp" >"$file" # in place: keeps symlinks, owner and mode
  rm -f "$tmp"
  echo "$verb"
}

# The file a bash login shell reads, if it does not already read ~/.bashrc (else empty).
bash_login_file() {
  local f
  for f in "$HOME_DIR/.bash_profile" "$HOME_DIR/.bash_login" "$HOME_DIR/.profile"; do
    if [ -e "$f" ]; then
      grep -q 'bashrc' "$f" 2>/dev/null || printf '%s' "$f"
      return 0
    fi
  done
}

user_shell() { basename "${SHELL:-}"; }

SHELL_FILES=()
install_shell_blocks() {
  local sh_block fish_block verb
  sh_block=$(block_sh; echo x)
  sh_block=${sh_block%x}
  fish_block=$(block_fish; echo x)
  fish_block=${fish_block%x}
  verb=$(put_block "$BASHRC" "$sh_block")
  SHELL_FILES+=("$BASHRC ($verb)")
  local login
  login=$(bash_login_file)
  if [ -n "$login" ]; then
    verb=$(put_block "$login" "$sh_block")
    SHELL_FILES+=("$login ($verb; bash login shells read it instead of ~/.bashrc)")
  fi
  if [ "$(user_shell)" = zsh ] || [ -e "$ZSHRC" ]; then
    local zsh_block
    zsh_block=$(block_sh zsh; echo x)
    zsh_block=${zsh_block%x}
    verb=$(put_block "$ZSHRC" "$zsh_block")
    SHELL_FILES+=("$ZSHRC ($verb)")
  fi
  if command -v fish >/dev/null 2>&1 || [ -d "$FISH_DIR" ]; then
    verb=$(put_block "$FISH_FILE" "$fish_block")
    SHELL_FILES+=("$FISH_FILE ($verb)")
  fi
}

# ---------------------------------------------------------------------------------------------
# Run directly (not sourced): `bash shell-blocks.sh add`

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  warn() { printf 'pyctl: warning: %s\n' "$*" >&2; }
  die() { printf 'pyctl: %s\n' "$*" >&2; exit 1; }
  case ${1:-} in
    add)
      set_paths
      install_shell_blocks
      for f in "${SHELL_FILES[@]}"; do printf '%s\n' "$f"; done
      ;;
    remove)
      set_paths
      for f in "$BASHRC" "$HOME_DIR/.bash_profile" "$HOME_DIR/.bash_login" "$HOME_DIR/.profile" "$ZSHRC" "$FISH_FILE"; do
        [ -e "$f" ] || continue
        [ "$(put_block "$f" "")" = removed ] && printf '%s (removed)\n' "$f"
      done
      ;;
    *) die "usage: shell-blocks.sh add|remove" ;;
  esac
fi
