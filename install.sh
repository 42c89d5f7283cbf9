#!/usr/bin/env bash
# pyctl installer.
#
#   ./install.sh [--python X]         install for this user (no sudo)
#   ./install.sh --uninstall [--purge]
#   sudo ./install.sh --system [--prefix DIR] [--with-system-venv | --no-system-venv]
#
# Everything is derived from HOME, PYCTL_HOME, XDG_DATA_HOME (and ZDOTDIR, XDG_CONFIG_HOME),
# so tests can run it against a temporary HOME; system mode from --prefix and PYCTL_SYSTEM_HOME.
# PYCTL_SKIP_BUILD=1 uses the existing dist/.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LAUNCHER_TAG='# pyctl launcher, written by install.sh'
WRAPPER_TAG='# pyctl pip wrapper, written by install.sh --system'
APP_TAG='pyctl-installed-app'
MIN_NODE=18.19 # Debian 12 ships 18.19+, Ubuntu 24.04 18.19
NODE_HINT='without root: unpack a Node.js 18.19+ binary from nodejs.org in your home (or use nvm) and put its bin on PATH; with root: your package manager (Debian/Ubuntu: apt install nodejs)'
# The PATH block logic (paths, markers, put_block) is shared with `pyctl doctor --fix`.
# shellcheck source=hooks/shell-blocks.sh
. "$SRC_DIR/hooks/shell-blocks.sh"

# ---------------------------------------------------------------------------------------------
# Small helpers

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'install.sh: %s (see ./install.sh --help)\n' "$*" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: ./install.sh [--python X] [--pip-wheel FILE]
       ./install.sh --uninstall [--purge]
       sudo ./install.sh --system [--prefix DIR] [--with-system-venv | --no-system-venv] [--python X]
       sudo ./install.sh --system --uninstall [--prefix DIR] [--purge]

Install pyctl for the current user: no sudo needed.

  (no option)        build pyctl, install it, create the user venv (pyctl init) and put
                     the venv's bin first on PATH in your shell start-up files
  --python X         the Python to build the venv with (passed to `pyctl init`)
  --pip-wheel FILE   a pip wheel to seed the venv with, for a Python without ensurepip and
                     no reachable index (passed to `pyctl init`)
  --uninstall        remove the pyctl program, its launcher and the PATH lines;
                     your venv and its history are kept
  --purge            with --uninstall: also delete the pyctl home (venv and history)
  --system           install pyctl for all users (needs root): the program in PREFIX/lib/pyctl,
                     PREFIX/bin/pyctl, and a pip wrapper as PREFIX/bin/pip and pip3 that sends
                     each user's `pip install` to their own venv (root's to the system venv)
  --prefix DIR       with --system: where to install (default /usr/local)
  --with-system-venv with --system: also create the root-owned system venv in
                     $PYCTL_SYSTEM_HOME/venv (default /opt/system-python/venv); asked
                     interactively when neither this nor --no-system-venv is given
  --system --uninstall   remove the system-wide program, launcher and pip wrapper (an earlier
                     pip they replaced is put back); the system venv is kept unless --purge
  -h, --help         show this help

Where things go:
  program   ${XDG_DATA_HOME:-~/.local/share}/pyctl/
  launcher  ~/.local/bin/pyctl
  home      $PYCTL_HOME, or ~/.local/python-packages (venv + history)
  PATH      a block between '# >>> pyctl >>>' and '# <<< pyctl <<<' in ~/.bashrc,
            ~/.zshrc (zsh users) and ~/.config/fish/conf.d/pyctl.fish (fish users)

Running it again is safe: the program is replaced, the venv and history are kept,
and the PATH block is rewritten in place, never duplicated.
EOF
}

# $1 single-quoted for sh.
sq_sh() { printf "'%s'" "${1//\'/\'\\\'\'}"; }


# --uninstall: delete a pyctl home with --purge (never /, $HOME, or a folder that is no pyctl
# home), else note it as kept. Adds to the caller's removed/kept lists.
purge_or_keep_home() {
  local dir=$1 what=$2 real
  [ -e "$dir" ] || return 0
  if [ "$PURGE" != 1 ]; then
    kept+=("$dir ($what; --purge deletes it)")
    return 0
  fi
  real=$(cd "$dir" && pwd -P)
  if [ "$real" = / ] || { [ -n "${HOME:-}" ] && [ "$real" = "$(cd "$HOME" 2>/dev/null && pwd -P)" ]; }; then
    die "refusing to delete $dir (it is / or your home directory)"
  fi
  if [ ! -f "$dir/config.toml" ] && [ ! -d "$dir/.git/pyctl" ]; then
    die "$dir does not look like a pyctl home (no config.toml, no .git/pyctl); not deleting it"
  fi
  rm -rf "$dir"
  removed+=("$dir ($what)")
}

# --uninstall: remove file $1 if this installer wrote it (it carries tag $2); 1 if it is someone else's.
remove_tagged() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  if grep -qF "$2" "$1" 2>/dev/null; then
    rm -f "$1"
    removed+=("$1")
  else
    warn "$1 was not written by this installer; left in place"
    return 1
  fi
}

# --uninstall: remove the program folder if this installer made it, and any half-swapped copies.
remove_app() {
  if [ -e "$APP_DIR" ]; then
    if [ -f "$APP_DIR/.$APP_TAG" ]; then
      rm -rf "$APP_DIR"
      removed+=("$APP_DIR")
    else
      warn "$APP_DIR was not made by this installer; left in place"
    fi
  fi
  rm -rf "$APP_DIR".new.* "$APP_DIR".old.* 2>/dev/null || true
}

# --uninstall: say what was removed ($1 when nothing was) and what was kept.
report_removal() {
  local f
  if [ ${#removed[@]} -eq 0 ]; then
    say "$1"
  else
    say "Removed:"
    for f in "${removed[@]}"; do say "  $f"; done
  fi
  if [ ${#kept[@]} -gt 0 ]; then
    say "Kept:"
    for f in "${kept[@]}"; do say "  $f"; done
  fi
}

# ---------------------------------------------------------------------------------------------
# Prerequisites: checked before anything is changed

NODE=''
PYTHON=''

check_node() {
  local found
  found=$(command -v node 2>/dev/null) || die "pyctl needs Node.js $MIN_NODE or newer (none found on PATH): $NODE_HINT"
  NODE=$(absolute "$found")
  local v
  v=$("$NODE" -v 2>/dev/null) || die "pyctl needs Node.js $MIN_NODE or newer ($NODE -v failed): $NODE_HINT"
  local ver=${v#v} major minor
  major=${ver%%.*}
  minor=${ver#*.}
  minor=${minor%%.*}
  case $major$minor in '' | *[!0-9]*) die "pyctl needs Node.js $MIN_NODE or newer (cannot read the version of $NODE: '$v'): $NODE_HINT" ;; esac
  if [ "$major" -lt "${MIN_NODE%%.*}" ] || { [ "$major" -eq "${MIN_NODE%%.*}" ] && [ "$minor" -lt "${MIN_NODE#*.}" ]; }; then
    die "pyctl needs Node.js $MIN_NODE or newer (found $v at $NODE): $NODE_HINT"
  fi
}

# The Python to build the venv with, found by pyctl itself (`pyctl _find-python`, src/venv/find-python.ts):
# one implementation for paths, versions (3.12), commands (python3.12), pyenv shims and versions,
# Homebrew's and the distro's Pythons, and venvs (followed to their base). Needs the build.
check_python() {
  local found
  if ! found=$("$NODE" "$SRC_DIR/dist/pyctl.js" _find-python ${PYTHON_OPT:+"$PYTHON_OPT"} 2>&1); then
    found=$(printf '%s\n' "$found" | sed -n 's/^error: //p' | head -n 1)
    die "pyctl needs ${PYTHON_OPT:+Python $PYTHON_OPT}${PYTHON_OPT:-python3} to create its venv ($found): without root, install a Python in your home (e.g. pyenv, or uv python install) and pass --python PATH; with root: apt install python3 (or your package manager)"
  fi
  PYTHON=$found
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' 2>/dev/null ||
    die "pyctl needs Python 3.8 or newer ($PYTHON is $("$PYTHON" -V 2>&1 || echo unknown)): install a newer python3 or pass --python"
  # No ensurepip (Debian/Ubuntu without python3-venv) is fine: pyctl init finds pip elsewhere
  # (docs/install.md, "No root needed").
}

# ---------------------------------------------------------------------------------------------
# Build and install the program

# An unpacked package (npm pack) ships dist/ and no src/: nothing to build, only node is needed.
prebuilt() { [ ! -d "$SRC_DIR/src" ] && [ -f "$SRC_DIR/dist/pyctl.js" ]; }

build() {
  if [ "${PYCTL_SKIP_BUILD:-}" = 1 ] || prebuilt; then
    [ -f "$SRC_DIR/dist/pyctl.js" ] || die "PYCTL_SKIP_BUILD=1 but $SRC_DIR/dist/pyctl.js does not exist: run without it or 'npm run build' first"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "building pyctl from a checkout needs npm (not found on PATH): use the prebuilt package instead (npm pack on any machine, then ./install.sh in the unpacked folder needs only node; docs/install.md), or install npm with Node.js"
  if [ ! -d "$SRC_DIR/node_modules" ]; then
    say "Installing build dependencies (npm ci)..."
    (cd "$SRC_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in $SRC_DIR (run it there to see why)"
  fi
  (cd "$SRC_DIR" && npm run --silent build) || die "the build failed (npm run build in $SRC_DIR)"
  [ -f "$SRC_DIR/dist/pyctl.js" ] || die "the build did not produce $SRC_DIR/dist/pyctl.js"
}

install_app() {
  local parent
  parent=$(dirname "$APP_DIR")
  mkdir -p "$parent"
  if [ -e "$APP_DIR" ] && [ ! -f "$APP_DIR/.$APP_TAG" ]; then
    die "$APP_DIR exists and was not made by this installer: move it away and run ./install.sh again"
  fi
  local tmp
  tmp=$(mktemp -d "$APP_DIR.new.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  cp -R "$SRC_DIR/dist" "$tmp/dist"
  cp -R "$SRC_DIR/hooks" "$tmp/hooks"
  # The bundle is ESM: Node needs "type": "module" from the nearest package.json.
  printf '{ "name": "pyctl-app", "private": true, "type": "module" }\n' >"$tmp/package.json"
  {
    printf 'installed-by: install.sh\n'
    printf 'mode: %s\n' "$MODE"
    printf 'source: %s\n' "$SRC_DIR"
    printf 'node: %s\n' "$NODE"
    printf 'commit: %s\n' "$(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || sed -n 's/^ *"version": *"\(.*\)",*$/package \1/p' "$SRC_DIR/package.json" 2>/dev/null | head -n 1)"
  } >"$tmp/.$APP_TAG"
  chmod 755 "$tmp"
  # Swap in the new copy. The path stays the same (the venv's pip hook calls it), so no symlinks.
  if [ -e "$APP_DIR" ]; then
    local old="$APP_DIR.old.$$"
    mv "$APP_DIR" "$old"
    mv "$tmp" "$APP_DIR"
    rm -rf "$old"
  else
    mv "$tmp" "$APP_DIR"
  fi
  trap - EXIT
  rm -rf "$APP_DIR".new.* "$APP_DIR".old.* 2>/dev/null || true # leftovers of interrupted runs
}

install_launcher() {
  mkdir -p "$BIN_DIR"
  if [ -e "$LAUNCHER" ] && ! grep -qF "$LAUNCHER_TAG" "$LAUNCHER" 2>/dev/null; then
    warn "replacing $LAUNCHER, which was not written by this installer"
  fi
  local tmp="$LAUNCHER.tmp.$$"
  {
    printf '#!/bin/sh\n'
    printf '%s (%s). Run it again to update.\n' "$LAUNCHER_TAG" "$SRC_DIR"
    # The system launcher remembers where the system venv is (pyctl --system, pyctl status).
    [ "$MODE" = system ] && printf ': "${PYCTL_SYSTEM_HOME:=%s}"; export PYCTL_SYSTEM_HOME\n' "$(dq_sh "$SYSTEM_HOME_DIR")"
    printf 'exec %s %s "$@"\n' "$(sq_sh "$NODE")" "$(sq_sh "$APP_DIR/dist/pyctl.js")"
  } >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$LAUNCHER"
}

run_init() {
  local args=(init)
  [ -n "${PYTHON_OPT:-}" ] && args+=(--python "$PYTHON_OPT")
  [ -n "${PIP_WHEEL_OPT:-}" ] && args+=(--pip-wheel "$PIP_WHEEL_OPT")
  "$LAUNCHER" "${args[@]}" || die "'pyctl ${args[*]}' failed (see above); the program is installed, fix the problem and run ./install.sh again"
}

# The venv's pip hook calls the pyctl copy that ran `pyctl init`; warn if that is not this one.
check_hook() {
  local hook
  local f
  for f in "$VENV_DIR"/lib/python3*/site-packages/_pyctl_hook.py; do [ -f "$f" ] && hook=$f && break; done
  [ -n "${hook:-}" ] || return 0
  local want
  want=$(cd "$APP_DIR/dist" && pwd -P)/pyctl.js
  if ! grep -qF "\"cli\": \"$want\"" "$hook" && ! grep -qF "\"cli\":\"$want\"" "$hook"; then
    warn "the pip hook in $VENV_DIR calls another pyctl copy (set up by an earlier 'pyctl init'); pip runs are recorded by that copy until the hook is refreshed"
  fi
}


# ---------------------------------------------------------------------------------------------
# Shell completion (generated by `pyctl completion SHELL`; files carry that line, so only ours are replaced or removed)

COMPLETION_TAG='generated by `pyctl completion`'
COMPLETIONS=()

# Write `pyctl completion $1` to file $2 unless a file not made by pyctl is there.
put_completion() {
  local shell=$1 file=$2
  if [ -e "$file" ] && ! grep -qF "$COMPLETION_TAG" "$file" 2>/dev/null; then
    warn "$file was not written by pyctl; left in place (pyctl completion $shell prints the script)"
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  if ! { "$LAUNCHER" completion "$shell" >"$file.tmp.$$" && mv -f "$file.tmp.$$" "$file"; }; then
    rm -f "$file.tmp.$$"
    warn "could not write $file; shell completion for $shell is not installed"
    return 0
  fi
  COMPLETIONS+=("$shell: $file")
}

install_completions() {
  # Without bash-completion nothing reads the completions folder: the bash PATH block sources
  # `pyctl completion bash` itself (block_sh), and the file is not written.
  if [ -n "$(bash_completion_loader)" ]; then
    put_completion bash "$BASH_COMPLETION_FILE"
  else
    COMPLETIONS+=("bash: a 'source <(pyctl completion bash)' line in the PATH block of $BASHRC (bash-completion is not installed)")
  fi
  if [ "$(user_shell)" = zsh ] || [ -e "$ZSHRC" ]; then put_completion zsh "$ZSH_COMPLETION_DIR/_pyctl"; fi
  if command -v fish >/dev/null 2>&1 || [ -d "$FISH_DIR" ]; then put_completion fish "$FISH_COMPLETION_FILE"; fi
}

# Prints each completion file removed; empty folders we may have made go too.
uninstall_completions() {
  local f
  for f in "$BASH_COMPLETION_FILE" "$FISH_COMPLETION_FILE"; do
    if [ -f "$f" ] && grep -qF "$COMPLETION_TAG" "$f" 2>/dev/null; then
      rm -f "$f"
      printf '%s\n' "$f"
    fi
  done
  rmdir "$(dirname "$BASH_COMPLETION_FILE")" "$(dirname "$(dirname "$BASH_COMPLETION_FILE")")" 2>/dev/null || true
  rmdir "$(dirname "$FISH_COMPLETION_FILE")" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Modes

install_user() {
  check_node
  build
  check_python
  install_app
  install_launcher
  run_init
  check_hook
  install_shell_blocks
  install_completions
  # shellcheck disable=SC2088 # shown to the user as written, not expanded
  local rc='~/.bashrc'
  # shellcheck disable=SC2088
  case $(user_shell) in zsh) rc='~/.zshrc' ;; fish) rc='~/.config/fish/conf.d/pyctl.fish' ;; esac
  say ""
  say "pyctl is installed:"
  say "  program   $APP_DIR (run by $NODE)"
  say "  launcher  $LAUNCHER"
  say "  venv      $VENV_DIR (history in $PYCTL_HOME_DIR)"
  local f
  for f in "${SHELL_FILES[@]}"; do say "  PATH      $f"; done
  for f in "${COMPLETIONS[@]}"; do say "  complete  $f"; done
  say ""
  say "Open a new shell (or \`source $rc\`), then \`pip install <pkg>\`; \`pyctl status\` checks the setup."
}

uninstall_user() {
  local removed=() kept=() f verb
  remove_tagged "$LAUNCHER" "$LAUNCHER_TAG" || true
  remove_app
  for f in "$BASHRC" "$HOME_DIR/.bash_profile" "$HOME_DIR/.bash_login" "$HOME_DIR/.profile" "$ZSHRC" "$FISH_FILE"; do
    [ -e "$f" ] || continue
    verb=$(put_block "$f" "")
    [ "$verb" = removed ] && removed+=("the PATH block in $f")
  done
  while IFS= read -r f; do [ -n "$f" ] && removed+=("shell completion $f"); done < <(uninstall_completions)
  # Our own fish file: delete it when nothing else is left in it.
  if [ -f "$FISH_FILE" ] && ! grep -q '[^[:space:]]' "$FISH_FILE"; then rm -f "$FISH_FILE"; fi
  purge_or_keep_home "$PYCTL_HOME_DIR" "venv and history"
  report_removal "Nothing to remove: pyctl's program, launcher and PATH lines are not installed for this user."
  [ ${#kept[@]} -eq 0 ] || say "That venv's pip no longer records: each pip install/uninstall there says so in one line. Reinstall pyctl to record again, or use --purge."
  say "Shells that are already open keep their PATH until you open a new one."
}

# ---------------------------------------------------------------------------------------------
# System-wide mode (sudo ./install.sh --system): PREFIX/bin/pyctl, the pip wrapper as
# PREFIX/bin/pip and pip3, and optionally the root-owned system venv in PYCTL_SYSTEM_HOME.
# Separate from the user mode above; shares check_node/check_python/build/install_app.

set_system_paths() {
  local prefix=${PREFIX_OPT:-/usr/local}
  PREFIX=$(absolute "$prefix")
  [ "$PREFIX" = / ] || PREFIX=${PREFIX%/}
  SYS_BIN="$PREFIX/bin"
  BIN_DIR=$SYS_BIN
  APP_DIR="$PREFIX/lib/pyctl"
  LAUNCHER="$SYS_BIN/pyctl"
  local sys=${PYCTL_SYSTEM_HOME:-/opt/system-python}
  SYSTEM_HOME_DIR=$(absolute "$sys")
  [ "$SYSTEM_HOME_DIR" = / ] || SYSTEM_HOME_DIR=${SYSTEM_HOME_DIR%/}
  SYSTEM_VENV="$SYSTEM_HOME_DIR/venv"
}

# Can users other than root run file $1 (symlinks resolved)? Every directory on the way must be
# searchable by others and the file readable and executable by them.
others_can_run() {
  local p
  p=$(resolve_link "$1")
  [ -n "$(find "$p" -maxdepth 0 -perm -005 2>/dev/null)" ] || return 1
  while [ "$p" != / ] && [ -n "$p" ]; do
    p=$(dirname "$p")
    [ -n "$(find "$p" -maxdepth 0 -perm -001 2>/dev/null)" ] || return 1
  done
}

# Give the sources back to the user who ran sudo, so a later user-mode build is not blocked by
# root-owned dist/ or node_modules/.
give_back_build() {
  [ "${PYCTL_SKIP_BUILD:-}" = 1 ] && return 0
  [ -n "${SUDO_UID:-}" ] || return 0
  local owner
  # shellcheck disable=SC2012 # ls -n is the portable way to the owner's uid (stat's flags differ)
  owner=$(ls -nd "$SRC_DIR" | awk '{print $3}')
  [ "$owner" = "$SUDO_UID" ] || return 0
  local d
  for d in "$SRC_DIR/dist" "$SRC_DIR/node_modules"; do
    [ -d "$d" ] && [ ! -L "$d" ] && chown -hR "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$d" 2>/dev/null
  done
  return 0
}

# The system tier must not be writable by anyone but root: root-owned, 0755 dirs, 0644 files
# (executables 0755). -h: never follow the venv's symlinks to the interpreter.
lock_down() {
  chown -hR 0:0 "$1"
  chmod -R u+rwX,go+rX,go-w "$1"
}

# The pip wrapper. A tiny sh script: it only chooses a venv and execs that venv's pip, so exit
# status, output, stdin and Ctrl-C are pip's own.
write_pip_wrapper() {
  local target=$1
  if [ -e "$target" ] || [ -L "$target" ]; then
    if ! grep -qF "$WRAPPER_TAG" "$target" 2>/dev/null; then
      local saved="$target.pyctl-saved"
      [ -e "$saved" ] || [ -L "$saved" ] || mv -f "$target" "$saved"
      warn "$target was not written by this installer: moved it to $saved"
    fi
  fi
  local tmp="$target.tmp.$$"
  {
    printf '#!/bin/sh\n'
    printf '%s (%s). Run it again to update.\n' "$WRAPPER_TAG" "$SRC_DIR"
    printf '#\n'
    printf '# Which pip runs: an active project venv ($VIRTUAL_ENV) -> its own pip; root -> the system\n'
    printf "# venv's pip (recorded in the system state repo); anyone else -> their own user venv's pip\n"
    printf '# (created on first use with `pyctl init`), recorded in their own history. Never sudo.\n'
    printf 'PYCTL=%s\n' "$(sq_sh "$LAUNCHER")"
    printf 'SYSTEM_HOME=${PYCTL_SYSTEM_HOME:-%s}\n' "$(sq_sh "$SYSTEM_HOME_DIR")"
    cat <<'EOF'
name=${0##*/}
case $name in pip | pip3 | pip3.*) ;; *) name=pip ;; esac
# PIP: $1's pip under the name we were called by (pip3 -> pip3), else its plain pip.
pick() { if [ -x "$1/bin/$name" ]; then PIP=$1/bin/$name; else PIP=$1/bin/pip; fi; }

# 1. A project venv is active: step aside.
if [ -n "${VIRTUAL_ENV:-}" ] && [ "${VIRTUAL_ENV%/}" != "${SYSTEM_HOME%/}/venv" ]; then
  pick "$VIRTUAL_ENV"
  if [ ! -x "$PIP" ]; then
    echo "pip: the active venv $VIRTUAL_ENV has no pip: run 'python -m ensurepip' in it, or 'deactivate'" >&2
    exit 1
  fi
  exec "$PIP" "$@"
fi

# 2. root: the system venv.
if [ "$(id -u)" = 0 ]; then
  pick "$SYSTEM_HOME/venv"
  if [ ! -x "$PIP" ]; then
    echo "pip: there is no system venv ($SYSTEM_HOME/venv), so root's pip has nowhere to install." >&2
    echo "pip: create it with 'sudo pyctl --system init' (or 'sudo ./install.sh --system --with-system-venv'); users' own installs need no sudo." >&2
    exit 1
  fi
  umask 022 # everyone reads the system venv and its history
  exec "$PIP" "$@"
fi

# 3. Anyone else: their own user venv.
case ${PYCTL_HOME:-} in
  '') [ -n "${HOME:-}" ] || { echo "pip: HOME is not set, so your user venv cannot be found" >&2; exit 1; }
      home=$HOME/.local/python-packages ;;
  /*) home=$PYCTL_HOME ;;
  *) home=$PWD/$PYCTL_HOME ;;
esac
home=${home%/}
venv=$home/venv
if [ ! -x "$venv/bin/pip" ] || [ ! -f "$home/.git/HEAD" ]; then
  echo "pip: setting up your own Python venv in $venv (first use; no sudo needed)" >&2
  "$PYCTL" init >&2 || { rc=$?; echo "pip: could not set up $venv (see above); nothing was installed" >&2; exit $rc; }
fi
case ":${PATH:-}:" in
  *":$venv/bin:"*) ;;
  *)
    marker=$home/.git/pyctl/pip-wrapper-note
    if [ ! -e "$marker" ]; then
      echo "pyctl: pip installs into your own venv $venv (no sudo; 'pyctl history' lists every change, 'pyctl undo' reverts)." >&2
      echo "pyctl: to run what you install, put it first on PATH, e.g. in ~/.bashrc: export PATH=\"$venv/bin:\$PATH\" (shown once)" >&2
      : >"$marker" 2>/dev/null || true
    fi ;;
esac
pick "$venv"
exec "$PIP" "$@"
EOF
  } >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$target"
}

uninstall_system() {
  [ "$(id -u)" = 0 ] || die "--system --uninstall needs root: run 'sudo ./install.sh --system --uninstall' (nothing was changed)"
  set_system_paths
  local removed=() kept=() f
  remove_tagged "$LAUNCHER" "$LAUNCHER_TAG" || true
  for f in "$SYS_BIN/pip" "$SYS_BIN/pip3"; do
    remove_tagged "$f" "$WRAPPER_TAG" || continue
    if [ -e "$f.pyctl-saved" ] || [ -L "$f.pyctl-saved" ]; then
      mv -f "$f.pyctl-saved" "$f"
      removed+=("(put back the $f that was there before)")
    fi
  done
  remove_app
  purge_or_keep_home "$SYSTEM_HOME_DIR" "the system venv and its history"
  report_removal "Nothing to remove: pyctl is not installed system-wide in $PREFIX."
  say "Users' own venvs and histories (~/.local/python-packages) are theirs and are not touched."
}

# Whether to create the system venv: the option, else ask on a terminal, else no.
want_system_venv() {
  case $SYSTEM_VENV_OPT in
    1) return 0 ;;
    0) return 1 ;;
  esac
  [ -t 0 ] && [ -t 1 ] || return 1
  local answer
  printf 'Create the root-owned system venv %s (for OS tools run by root; users never need it)? [y/N] ' "$SYSTEM_VENV"
  read -r answer || return 1
  case $answer in [yY] | [yY][eE][sS]) return 0 ;; *) return 1 ;; esac
}

install_system() {
  # Checked before anything else: without root nothing is changed.
  [ "$(id -u)" = 0 ] || die "--system installs pyctl for all users and needs root: run 'sudo ./install.sh --system' (nothing was changed; ./install.sh alone installs for you only)"
  umask 022
  set_system_paths
  check_node
  others_can_run "$NODE" || die "$NODE cannot be run by other users (it is in a directory only its owner can enter), so they could not run pyctl: install Node.js $MIN_NODE+ system-wide (e.g. /usr/bin/node) and run again with it first on PATH"
  local make_venv=0
  if [ -d "$SYSTEM_VENV" ] && [ -f "$SYSTEM_HOME_DIR/.git/HEAD" ]; then
    make_venv=1 # already there: refresh its hook and permissions
  elif want_system_venv; then
    make_venv=1
  fi
  build
  give_back_build
  if [ "$make_venv" = 1 ]; then
    check_python
    local real
    real=$("$PYTHON" -c 'import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))' 2>/dev/null) || real=$PYTHON
    others_can_run "$real" || warn "$real cannot be run by other users, so only root can use the system venv's python: pass --python with a system-wide Python (e.g. /usr/bin/python3) to change that"
  fi
  mkdir -p "$SYS_BIN"
  install_app
  lock_down "$APP_DIR"
  install_launcher
  write_pip_wrapper "$SYS_BIN/pip"
  write_pip_wrapper "$SYS_BIN/pip3"
  local venv_line="not created (create it later with 'sudo pyctl --system init' or 'sudo ./install.sh --system --with-system-venv')"
  if [ "$make_venv" = 1 ]; then
    local args=(--system init)
    [ -n "${PYTHON_OPT:-}" ] && args+=(--python "$PYTHON")
    PYCTL_SYSTEM_HOME=$SYSTEM_HOME_DIR "$LAUNCHER" "${args[@]}" || die "'pyctl ${args[*]}' failed (see above); pyctl is installed, fix the problem and run again"
    lock_down "$SYSTEM_HOME_DIR"
    venv_line="$SYSTEM_VENV (root-owned, read-only for users; history in $SYSTEM_HOME_DIR)"
  fi
  say ""
  say "pyctl is installed for all users:"
  say "  program      $APP_DIR (run by $NODE)"
  say "  launcher     $LAUNCHER"
  say "  pip wrapper  $SYS_BIN/pip, $SYS_BIN/pip3"
  say "  system venv  $venv_line"
  say ""
  say "Users' \`pip install\` now lands in their own venv (created on first use, no sudo); root's in the system venv."
  case ":$PATH:" in *":$SYS_BIN:"*) ;; *) warn "$SYS_BIN is not on PATH here: users need it on PATH for pyctl and the pip wrapper" ;; esac
}

# ---------------------------------------------------------------------------------------------
# Arguments

MODE=user
UNINSTALL=0
SYSTEM=0
PURGE=0
PYTHON_OPT=''
PIP_WHEEL_OPT=''
PREFIX_OPT=''
SYSTEM_VENV_OPT=''
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --system) SYSTEM=1 ;;
    --prefix)
      { [ $# -ge 2 ] && [ -n "$2" ]; } || usage_error "--prefix needs a directory"
      PREFIX_OPT=$2
      shift ;;
    --prefix=*)
      PREFIX_OPT=${1#--prefix=}
      [ -n "$PREFIX_OPT" ] || usage_error "--prefix needs a directory" ;;
    --with-system-venv) SYSTEM_VENV_OPT=1 ;;
    --no-system-venv) SYSTEM_VENV_OPT=0 ;;
    --python)
      { [ $# -ge 2 ] && [ -n "$2" ]; } || usage_error "--python needs a value (a path or a version such as 3.12)"
      PYTHON_OPT=$2
      shift ;;
    --pip-wheel)
      { [ $# -ge 2 ] && [ -n "$2" ]; } || usage_error "--pip-wheel needs a file (a pip-*.whl)"
      PIP_WHEEL_OPT=$(absolute "$2")
      shift ;;
    --pip-wheel=*)
      PIP_WHEEL_OPT=$(absolute "${1#--pip-wheel=}") ;;
    --python=*)
      PYTHON_OPT=${1#--python=}
      [ -n "$PYTHON_OPT" ] || usage_error "--python needs a value (a path or a version such as 3.12)" ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || usage_error "--purge only goes with --uninstall"
[ -z "$PREFIX_OPT" ] || [ "$SYSTEM" = 1 ] || usage_error "--prefix only goes with --system"
[ -z "$SYSTEM_VENV_OPT" ] || [ "$SYSTEM" = 1 ] || usage_error "--with-system-venv and --no-system-venv only go with --system"
[ -z "$SYSTEM_VENV_OPT" ] || [ "$UNINSTALL" = 0 ] || usage_error "--with-system-venv and --no-system-venv do not go with --uninstall"
case $SYSTEM$UNINSTALL in
  00) MODE=user ;;
  01) MODE=uninstall ;;
  10) MODE=system ;;
  11) MODE=system-uninstall ;;
esac

case $MODE in
  user) set_paths; install_user ;;
  uninstall) set_paths; uninstall_user ;;
  system) install_system ;;
  system-uninstall) uninstall_system ;;
esac
