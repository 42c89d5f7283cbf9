#!/usr/bin/env bash
# pyctl installer.
#
#   ./install.sh [--python X]         install for this user (no sudo)
#   ./install.sh --uninstall [--purge]
#   ./install.sh --system             (not supported yet; see install_system)
#
# Everything is derived from HOME, PYCTL_HOME, XDG_DATA_HOME (and ZDOTDIR, XDG_CONFIG_HOME),
# so tests can run it against a temporary HOME. PYCTL_SKIP_BUILD=1 uses the existing dist/.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LAUNCHER_TAG='# pyctl launcher, written by install.sh'
APP_TAG='pyctl-installed-app'
MIN_NODE=20
# The PATH block logic (paths, markers, put_block) is shared with `pyctl doctor --fix`.
# shellcheck source=sh/shell-blocks.sh
. "$SRC_DIR/sh/shell-blocks.sh"

# ---------------------------------------------------------------------------------------------
# Small helpers

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'install.sh: %s (see ./install.sh --help)\n' "$*" >&2; exit 2; }

usage() {
  cat <<'EOF'
Usage: ./install.sh [--python X]
       ./install.sh --uninstall [--purge]

Install pyctl for the current user: no sudo needed.

  (no option)        build pyctl, install it, create the user venv (pyctl init) and put
                     the venv's bin first on PATH in your shell start-up files
  --python X         the Python to build the venv with (passed to `pyctl init`)
  --uninstall        remove the pyctl program, its launcher and the PATH lines;
                     your venv and its history are kept
  --purge            with --uninstall: also delete the pyctl home (venv and history)
  --system           system-wide install (not supported yet)
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


# ---------------------------------------------------------------------------------------------
# Prerequisites: checked before anything is changed

NODE=''
PYTHON=''

check_node() {
  local found
  found=$(command -v node 2>/dev/null) || die "pyctl needs Node.js $MIN_NODE or newer (none found on PATH): install it from your package manager or nodejs.org"
  NODE=$(absolute "$found")
  local v
  v=$("$NODE" -v 2>/dev/null) || die "pyctl needs Node.js $MIN_NODE or newer ($NODE -v failed): install it from your package manager or nodejs.org"
  local major=${v#v}
  major=${major%%.*}
  case $major in '' | *[!0-9]*) die "pyctl needs Node.js $MIN_NODE or newer (cannot read the version of $NODE: '$v'): install it from your package manager or nodejs.org" ;; esac
  [ "$major" -ge "$MIN_NODE" ] || die "pyctl needs Node.js $MIN_NODE or newer (found $v at $NODE): install it from your package manager or nodejs.org"
}

check_python() {
  local spec=${PYTHON_OPT:-python3}
  case $spec in
    [0-9]*) spec="python$spec" ;; # --python 3.12 -> python3.12
  esac
  local found
  found=$(command -v "$spec" 2>/dev/null) || die "pyctl needs $spec to create its venv (not found on PATH): install python3 from your package manager (Debian/Ubuntu: python3 python3-venv)"
  PYTHON=$found
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' 2>/dev/null ||
    die "pyctl needs Python 3.8 or newer ($PYTHON is $("$PYTHON" -V 2>&1 || echo unknown)): install a newer python3 or pass --python"
  "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$spec cannot create venvs (no venv/ensurepip module): install Debian/Ubuntu's python3-venv package (sudo apt install python3-venv) or your distribution's equivalent"
}

# ---------------------------------------------------------------------------------------------
# Build and install the program

build() {
  if [ "${PYCTL_SKIP_BUILD:-}" = 1 ]; then
    [ -f "$SRC_DIR/dist/pyctl.js" ] || die "PYCTL_SKIP_BUILD=1 but $SRC_DIR/dist/pyctl.js does not exist: run without it or 'npm run build' first"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "pyctl needs npm to build (not found on PATH): install it with Node.js from your package manager or nodejs.org"
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
  cp -R "$SRC_DIR/sh" "$tmp/sh"
  # The bundle is ESM: Node needs "type": "module" from the nearest package.json.
  printf '{ "name": "pyctl-app", "private": true, "type": "module" }\n' >"$tmp/package.json"
  {
    printf 'installed-by: install.sh\n'
    printf 'source: %s\n' "$SRC_DIR"
    printf 'node: %s\n' "$NODE"
    printf 'commit: %s\n' "$(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
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
    printf 'exec %s %s "$@"\n' "$(sq_sh "$NODE")" "$(sq_sh "$APP_DIR/dist/pyctl.js")"
  } >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$LAUNCHER"
}

run_init() {
  local args=(init)
  [ -n "${PYTHON_OPT:-}" ] && args+=(--python "$PYTHON_OPT")
  "$LAUNCHER" "${args[@]}" || die "'pyctl ${args[*]}' failed (see above); the program is installed, fix the problem and run ./install.sh again"
}

# The venv's pip hook calls the pyctl copy that ran `pyctl init`; warn if that is not this one.
check_hook() {
  local hook
  hook=$(ls "$VENV_DIR"/lib/python3*/site-packages/_pyctl_hook.py 2>/dev/null | head -n 1) || true
  [ -n "$hook" ] || return 0
  local want
  want=$(cd "$APP_DIR/dist" && pwd -P)/pyctl.js
  if ! grep -qF "\"cli\": \"$want\"" "$hook" && ! grep -qF "\"cli\":\"$want\"" "$hook"; then
    warn "the pip hook in $VENV_DIR calls another pyctl copy (set up by an earlier 'pyctl init'); pip runs are recorded by that copy until the hook is refreshed"
  fi
}


# ---------------------------------------------------------------------------------------------
# Modes

install_user() {
  check_node
  check_python
  build
  install_app
  install_launcher
  run_init
  check_hook
  install_shell_blocks
  local rc='~/.bashrc'
  case $(user_shell) in zsh) rc='~/.zshrc' ;; fish) rc='~/.config/fish/conf.d/pyctl.fish' ;; esac
  say ""
  say "pyctl is installed:"
  say "  program   $APP_DIR (run by $NODE)"
  say "  launcher  $LAUNCHER"
  say "  venv      $VENV_DIR (history in $PYCTL_HOME_DIR)"
  local f
  for f in "${SHELL_FILES[@]}"; do say "  PATH      $f"; done
  say ""
  say "Open a new shell (or \`source $rc\`), then \`pip install <pkg>\`; \`pyctl status\` checks the setup."
}

uninstall_user() {
  local removed=() kept=() f verb
  if [ -e "$LAUNCHER" ] || [ -L "$LAUNCHER" ]; then
    if grep -qF "$LAUNCHER_TAG" "$LAUNCHER" 2>/dev/null; then
      rm -f "$LAUNCHER"
      removed+=("$LAUNCHER")
    else
      warn "$LAUNCHER was not written by this installer; left in place"
    fi
  fi
  if [ -e "$APP_DIR" ]; then
    if [ -f "$APP_DIR/.$APP_TAG" ]; then
      rm -rf "$APP_DIR"
      removed+=("$APP_DIR")
    else
      warn "$APP_DIR was not made by this installer; left in place"
    fi
  fi
  rm -rf "$APP_DIR".new.* "$APP_DIR".old.* 2>/dev/null || true
  for f in "$BASHRC" "$HOME_DIR/.bash_profile" "$HOME_DIR/.bash_login" "$HOME_DIR/.profile" "$ZSHRC" "$FISH_FILE"; do
    [ -e "$f" ] || continue
    verb=$(put_block "$f" "")
    [ "$verb" = removed ] && removed+=("the PATH block in $f")
  done
  # Our own fish file: delete it when nothing else is left in it.
  if [ -f "$FISH_FILE" ] && ! grep -q '[^[:space:]]' "$FISH_FILE"; then rm -f "$FISH_FILE"; fi
  if [ -e "$PYCTL_HOME_DIR" ]; then
    if [ "$PURGE" = 1 ]; then
      local real
      real=$(cd "$PYCTL_HOME_DIR" && pwd -P)
      if [ "$real" = / ] || [ "$real" = "$(cd "$HOME_DIR" && pwd -P)" ]; then
        die "refusing to delete $PYCTL_HOME_DIR (it is / or your home directory)"
      fi
      if [ ! -f "$PYCTL_HOME_DIR/config.toml" ] && [ ! -d "$PYCTL_HOME_DIR/.git/pyctl" ]; then
        die "$PYCTL_HOME_DIR does not look like a pyctl home (no config.toml, no .git/pyctl); not deleting it"
      fi
      rm -rf "$PYCTL_HOME_DIR"
      removed+=("$PYCTL_HOME_DIR (venv and history)")
    else
      kept+=("$PYCTL_HOME_DIR (venv and history; --uninstall --purge deletes it)")
    fi
  fi
  if [ ${#removed[@]} -eq 0 ]; then
    say "Nothing to remove: pyctl's program, launcher and PATH lines are not installed for this user."
  else
    say "Removed:"
    for f in "${removed[@]}"; do say "  $f"; done
  fi
  if [ ${#kept[@]} -gt 0 ]; then
    say "Kept:"
    for f in "${kept[@]}"; do say "  $f"; done
    say "That venv's pip still calls pyctl to record each run and complains while pyctl is absent: reinstall, or use --purge."
  fi
  say "Shells that are already open keep their PATH until you open a new one."
}

# System-wide mode (sudo ./install.sh --system): /usr/local/bin/pyctl, the pip wrapper and
# /opt/system-python/venv per the product README. To be written; keep it separate from the
# user mode above and reuse check_node/check_python/build.
install_system() {
  printf 'install.sh: --system is not supported yet; run ./install.sh without it for a per-user install\n' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Arguments

MODE=user
PURGE=0
PYTHON_OPT=''
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --system) MODE=system ;;
    --python)
      [ $# -ge 2 ] && [ -n "$2" ] || usage_error "--python needs a value (a path or a version such as 3.12)"
      PYTHON_OPT=$2
      shift ;;
    --python=*)
      PYTHON_OPT=${1#--python=}
      [ -n "$PYTHON_OPT" ] || usage_error "--python needs a value (a path or a version such as 3.12)" ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done
[ "$PURGE" = 0 ] || [ "$MODE" = uninstall ] || usage_error "--purge only goes with --uninstall"

set_paths
case $MODE in
  user) install_user ;;
  uninstall) uninstall_user ;;
  system) install_system ;;
esac
