#!/usr/bin/env bash
# End to end on a stock Debian 12 with no root at any step (issue 12): a minimal root with only
# the distro's python3 (no ensurepip, no pip) and Node 18 (no npm), no git; an unprivileged user
# unpacks the `npm pack` tarball, runs ./install.sh, opens a new shell, pip-installs a package
# from an index (served here on 127.0.0.1, named in the user's pip.conf), and checks that it was
# recorded, that `pyctl undo` removes it and that `pyctl doctor` is clean.
#
# Needs root on the host (chroot, mounting /proc). Skips, saying why, where that is impossible.
# The Debian root is built once with mmdebstrap and cached as a tarball in $PYCTL_E2E_CACHE
# (default /var/cache/pyctl-e2e); each run unpacks a fresh copy.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)

skip() { echo "e2e-debian: SKIPPED: $*" >&2; exit 0; }
fail() { echo "e2e-debian: FAILED: $*" >&2; exit 1; }
step() { echo "e2e-debian: $*" >&2; }

[ "$(uname -s)" = Linux ] || skip "needs Linux (chroot into a Debian root)"
[ "$(id -u)" = 0 ] || skip "needs root on the host to chroot (run .ci/run as root)"
chroot / true 2>/dev/null || skip "this machine cannot chroot (no CAP_SYS_CHROOT)"
if ! command -v mmdebstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || skip "mmdebstrap is missing and there is no apt-get to install it"
  step "installing mmdebstrap"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; } ||
    skip "could not install mmdebstrap (apt-get failed)"
fi

CACHE=${PYCTL_E2E_CACHE:-/var/cache/pyctl-e2e}
TARBALL=$CACHE/bookworm-minbase.tar
mkdir -p "$CACHE"
# A cache that is not a regular tar file (an older run's directory, a half-written file) is rebuilt.
[ -f "$TARBALL" ] || rm -rf "$TARBALL"
if [ ! -s "$TARBALL" ]; then
  step "building a minimal Debian 12 root (cached in $TARBALL for later runs)"
  # --format=tar: mmdebstrap picks the format from the name's extension otherwise, and .tmp makes a directory.
  rm -rf "$TARBALL.tmp"
  mmdebstrap --quiet --format=tar --variant=minbase --include=python3,nodejs,ca-certificates,bash,passwd bookworm "$TARBALL.tmp" ||
    { rm -rf "$TARBALL.tmp"; fail "mmdebstrap could not build the root (are Debian's mirrors reachable?)"; }
  mv "$TARBALL.tmp" "$TARBALL"
fi

WORK=$(mktemp -d /tmp/pyctl-e2e.XXXXXX)
ROOT=$WORK/root
SERVER_PID=''
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  mountpoint -q "$ROOT/proc" 2>/dev/null && umount "$ROOT/proc"
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$TARBALL"
mount -t proc proc "$ROOT/proc"
in_root() { chroot "$ROOT" "$@"; }

step "checking the root is what a stock Debian 12 user has"
node_v=$(in_root node -v)
case $node_v in v18.*) ;; *) fail "the root's node is $node_v, not Debian 12's Node 18" ;; esac
in_root python3 -c 'import ensurepip' 2>/dev/null && fail "the root's python3 has ensurepip (python3-venv is installed)"
for tool in npm pip pip3 git; do
  in_root sh -c "command -v $tool" >/dev/null 2>&1 && fail "the root has $tool"
done
[ ! -e "$ROOT/usr/share/python-wheels" ] || fail "the root has /usr/share/python-wheels"

step "packing pyctl (npm pack)"
tgz=$(cd "$REPO" && npm pack --silent --pack-destination "$WORK" 2>/dev/null | tail -n 1)
[ -s "$WORK/$tgz" ] || fail "npm pack made no tarball"
tar -tzf "$WORK/$tgz" >"$WORK/contents"
grep -qx 'package/dist/pyctl.js' "$WORK/contents" || fail "the tarball has no dist/pyctl.js"
if grep -qE '^package/(src|test|node_modules)/' "$WORK/contents"; then fail "the tarball carries src/, test/ or node_modules/"; fi

step "npm install -g of the tarball gives a working pyctl (offline: the package has no dependencies)"
npm install -g --offline --no-audit --no-fund --loglevel=error --prefix "$WORK/npm-prefix" "$WORK/$tgz" >/dev/null || fail "npm install -g of the tarball failed"
"$WORK/npm-prefix/bin/pyctl" --version >/dev/null || fail "the npm-installed pyctl does not run"
help_text=$("$WORK/npm-prefix/bin/pyctl" help setup-shell) || fail "pyctl help setup-shell failed"
case $help_text in *--remove*) ;; *) fail "the npm-installed pyctl has no setup-shell" ;; esac

step "a local index: pip and a small package, with sha256 fragments, served on 127.0.0.1"
INDEX=$WORK/index
mkdir -p "$INDEX/files"
pip_whl=$(ls /usr/share/python-wheels/pip-*.whl "$(python3 -c 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))' 2>/dev/null)"/_bundled/pip-*.whl 2>/dev/null | head -n 1 || true)
[ -n "$pip_whl" ] || skip "no pip wheel on this host to serve (no /usr/share/python-wheels, no ensurepip bundle)"
cp "$pip_whl" "$INDEX/files/"
python3 - "$INDEX/files" <<'EOF'
import base64, hashlib, sys, zipfile
out = sys.argv[1]
files = {
    'e2e_demo/__init__.py': 'GREETING = "hello from e2e-demo"\n',
    'e2e_demo-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: e2e-demo\nVersion: 1.0\n',
    'e2e_demo-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\nGenerator: pyctl-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}
rec = []
for name, text in files.items():
    d = hashlib.sha256(text.encode()).digest()
    rec.append('%s,sha256=%s,%d' % (name, base64.urlsafe_b64encode(d).rstrip(b'=').decode(), len(text.encode())))
rec.append('e2e_demo-1.0.dist-info/RECORD,,')
with zipfile.ZipFile(out + '/e2e_demo-1.0-py3-none-any.whl', 'w') as z:
    for name, text in files.items():
        z.writestr(name, text)
    z.writestr('e2e_demo-1.0.dist-info/RECORD', '\n'.join(rec) + '\n')
EOF
for whl in "$INDEX"/files/*.whl; do
  f=$(basename "$whl")
  project=$(printf '%s' "${f%%-*}" | tr '_.' '--' | tr '[:upper:]' '[:lower:]')
  mkdir -p "$INDEX/simple/$project"
  printf '<!DOCTYPE html><html><body>\n<a href="../../files/%s#sha256=%s">%s</a>\n</body></html>\n' "$f" "$(sha256sum "$whl" | cut -d' ' -f1)" "$f" >"$INDEX/simple/$project/index.html"
done
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$INDEX" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
port=''
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the index server did not start: $(cat "$WORK/server.log")"

step "an unprivileged user with the tarball and a pip.conf naming the index"
in_root useradd -m -s /bin/bash ann
cp "$WORK/$tgz" "$ROOT/home/ann/"
mkdir -p "$ROOT/home/ann/.config/pip"
printf '[global]\nindex-url = http://127.0.0.1:%s/simple/\n' "$port" >"$ROOT/home/ann/.config/pip/pip.conf"
in_root chown -R ann:ann /home/ann
touch "$WORK/marker"
sleep 1 # file times: what is written after this is the user's doing
# As the user: a login shell (su -) for the install, then a new interactive shell as a terminal opens.
as_ann() { in_root su - ann -c "$1"; }
as_ann_shell() { in_root su - ann -c "bash -i -c $(printf '%q' "$1") 2>&1 | grep -v -e 'no job control' -e 'cannot set terminal process group'"; }

step "unpack and ./install.sh (only node on PATH: no npm, no network beyond the index, no git)"
as_ann "tar -xzf $tgz && cd package && ./install.sh" || fail "./install.sh failed"

step "a new shell: pip is the venv's, pip install from the index is recorded"
out=$(as_ann_shell 'command -v pip; command -v pyctl; pip install e2e-demo && python -c "import e2e_demo; print(e2e_demo.GREETING)" && pyctl history')
printf '%s\n' "$out" | sed 's/^/    /' >&2
printf '%s\n' "$out" | grep -qx '/home/ann/.local/python-packages/venv/bin/pip' || fail "pip in a new shell is not the venv's"
printf '%s\n' "$out" | grep -q 'hello from e2e-demo' || fail "e2e-demo did not install"
printf '%s\n' "$out" | grep -q 'pip install e2e-demo' || fail "the install was not recorded in pyctl history"
[ -f "$ROOT/home/ann/.local/python-packages/wheelhouse/$(basename "$pip_whl")" ] || fail "the downloaded pip wheel was not kept in the wheelhouse"

step "pyctl undo, then pyctl doctor"
out=$(as_ann_shell 'pyctl undo && ! python -c "import e2e_demo" 2>/dev/null && echo UNDONE; pyctl doctor; echo "doctor exit $?"')
printf '%s\n' "$out" | sed 's/^/    /' >&2
printf '%s\n' "$out" | grep -qx 'UNDONE' || fail "pyctl undo did not remove e2e-demo"
printf '%s\n' "$out" | grep -qx 'doctor exit 0' || fail "pyctl doctor is not clean"
if printf '%s\n' "$out" | grep -qE '^\s+(PROBLEM|warning)\s'; then fail "pyctl doctor reports problems or warnings"; fi

step "nothing was written outside the user's home (and /tmp)"
stray=$(cd "$ROOT" && find . -xdev -newer "$WORK/marker" ! -path './home/ann' ! -path './home/ann/*' ! -path './tmp' ! -path './tmp/*' ! -path './var/tmp' ! -path './var/tmp/*' ! -path './var/log/*' ! -path './var/log' ! -path './run/*' ! -path './dev/*' ! -path './proc/*' 2>/dev/null | head -n 20)
[ -z "$stray" ] || fail "written outside the home: $stray"
step "ok (Debian 12, $node_v, $(in_root python3 -V))"
