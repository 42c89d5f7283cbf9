# pyctl recording hook. A .pth line imports this module at every start of this venv's Python;
# it does nothing unless the process is pip itself. Then it (1) records changes made since the
# last record by other tools as their own "external" commit, (2) holds pyctl's lock while pip
# runs so concurrent pip runs become separate commits, (3) records what pip changed.
# Cost when pip is not running: one sys.orig_argv check. pyctl writes CONFIG when it installs this.
import sys

CONFIG = {}

MUTATING = ("install", "uninstall")


def _argv():
    argv = getattr(sys, "orig_argv", None)  # Python 3.10+
    if argv is None:
        try:
            with open("/proc/self/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0")[:-1]]
        except OSError:
            return None
    return argv


def _pip_args(argv):
    """The arguments given to pip when this process is pip's main program, else None."""
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-m":
            return argv[i + 2:] if argv[i + 1:i + 2] == ["pip"] else None
        if a.startswith("-m"):
            return argv[i + 1:] if a[2:] == "pip" else None
        if a.startswith("-c") or a == "-":
            return None
        if a in ("-W", "-X"):
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        base = a.rsplit("/", 1)[-1]
        if base in ("pip", "pip3") or (base.startswith("pip3.") and base[5:].isdigit()):
            return argv[i + 1:]
        return None
    return None


def _subcommand(args):
    skip_next = False
    for a in args:
        if skip_next:
            skip_next = False
        elif a in ("--python", "--log", "--cache-dir", "--proxy", "--cert", "--client-cert", "--timeout",
                   "--retries", "--exists-action", "--trusted-host", "--src", "--config-settings"):
            skip_next = True
        elif not a.startswith("-"):
            return a
    return None


def _changed():
    import os
    try:
        now = os.stat(CONFIG["site"]).st_mtime_ns
    except OSError:
        return True
    try:
        with open(CONFIG["stamp"]) as f:
            return int(f.read().strip() or "0") != now
    except (OSError, ValueError):
        return True


def _record(phase, args, code=None):
    import subprocess
    cmd = [CONFIG["node"], CONFIG["cli"], "_record", "--home", CONFIG["home"], "--phase", phase,
           "--pid", str(__import__("os").getpid())]
    if code is not None:
        cmd += ["--exit", str(code)]
    cmd += ["--"] + list(args)
    try:
        p = subprocess.Popen(cmd)
    except OSError as e:
        sys.stderr.write("pyctl: could not record this pip run (%s); run 'pyctl doctor --fix'\n" % e)
        return
    while True:
        try:
            p.wait()
            return
        except KeyboardInterrupt:
            continue  # Ctrl-C reaches pyctl too; it finishes the record, then pip exits


def _lock(sub):
    import os, socket, time
    path = CONFIG["lock"]
    me = "%d %s pip %s\n" % (os.getpid(), socket.gethostname(), sub)
    told = False
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, me.encode())
            os.close(fd)
            return path
        except FileExistsError:
            pass
        except OSError:
            return None  # read-only home or missing state dir: pip still runs
        try:
            with open(path) as f:
                pid, host = (f.read().split() + ["", ""])[:2]
            if host == socket.gethostname() and pid.isdigit():
                try:
                    os.kill(int(pid), 0)
                except ProcessLookupError:
                    # Its holder died: take the lock over (rename is atomic, so only one wins).
                    try:
                        os.rename(path, "%s.stale-%d" % (path, os.getpid()))
                        os.unlink("%s.stale-%d" % (path, os.getpid()))
                    except OSError:
                        pass
                    continue
                except PermissionError:
                    pass
            if not told:
                sys.stderr.write("pyctl: waiting for another change to this venv to finish (pid %s)...\n" % pid)
                told = True
        except OSError:
            pass
        time.sleep(0.05)


def _install():
    import os
    if os.environ.get("PYCTL_NO_RECORD") or not CONFIG:
        return
    if not os.path.exists(CONFIG["cli"]):
        return  # pyctl was uninstalled (install.sh --uninstall keeps the venv): plain pip
    argv = _argv()
    args = _pip_args(argv) if argv else None
    if args is None:
        return
    sub = _subcommand(args)
    lock = _lock(sub) if sub in MUTATING else None
    if _changed():
        _record("pre", args)
    state = {"done": False}

    def post(code):
        if state["done"]:
            return
        state["done"] = True
        try:
            if _changed():
                _record("post", args, code)
        finally:
            if lock:
                try:
                    os.unlink(lock)
                except OSError:
                    pass

    real_exit = sys.exit

    def exit_(code=None):
        post(code if isinstance(code, int) else (0 if code is None else 1))
        real_exit(code)

    sys.exit = exit_
    real_hook = sys.excepthook

    def excepthook(kind, value, tb):
        state["crashed"] = True  # pip died of an exception: its status is 1
        real_hook(kind, value, tb)

    sys.excepthook = excepthook
    import atexit
    atexit.register(lambda: post(1 if state.get("crashed") else None))


try:
    _install()
except Exception as e:  # never break pip because recording failed
    sys.stderr.write("pyctl: recording hook failed (%s); run 'pyctl doctor --fix'\n" % e)
