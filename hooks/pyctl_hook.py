# pyctl recording hook. A .pth line imports this module at every start of this venv's Python;
# it does nothing unless the process is pip itself. Then it (1) records changes made since the
# last record by other tools as their own "external" commit, (2) holds pyctl's lock while pip
# runs so concurrent pip runs become separate commits, (3) records what pip changed: for install
# and uninstall that record is started with pip and told on its stdin when pip ends.
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


def _pip_options():
    """pip's general options as its own parser knows them (this process is pip, which imports the
    parser next anyway, so this costs nothing extra): (all long names, long names taking a value,
    short letters taking a value). None when this pip's parser cannot be read."""
    try:
        from pip._internal.cli.main_parser import create_main_parser
        opts = create_main_parser()._get_all_options()
    except Exception:
        return None
    valued = [o for o in opts if o.takes_value()]
    return ([n for o in opts for n in o._long_opts], set(n for o in valued for n in o._long_opts),
            "".join(n[1:] for o in valued for n in o._short_opts))


def _long_takes_value(name, known):
    """As optparse matches long options: an exact name, else an unambiguous prefix."""
    names, valued, _ = known
    if name not in names:
        hits = [n for n in names if n.startswith(name)]
        if len(hits) != 1:
            return False  # unknown or ambiguous: pip itself refuses the command line
        name = hits[0]
    return name in valued


def _subcommand(args):
    """pip's subcommand: the first argument that is not a general option or an option's value."""
    if not args or not args[0].startswith("-"):
        return args[0] if args else None  # the common `pip install ...`: nothing to parse
    known = _pip_options()
    if known is None:  # a pip too old or too new to read: its long-standing options
        valued = set(["--python", "--log", "--log-file", "--local-log", "--keyring-provider", "--proxy",
                      "--retries", "--timeout", "--default-timeout", "--exists-action", "--trusted-host",
                      "--cert", "--client-cert", "--cache-dir", "--use-feature", "--use-deprecated"])
        known = (sorted(valued), valued, "")
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith("--"):
            if "=" not in a and _long_takes_value(a, known):
                i += 1
        elif a.startswith("-") and len(a) > 1:
            for j, ch in enumerate(a[1:]):
                if ch in known[2]:  # takes a value: the rest of this word, or the next one
                    if j == len(a) - 2:
                        i += 1
                    break
        else:
            return a
        i += 1
    return None


def _changed():
    import os
    if os.path.exists(os.path.join(os.path.dirname(CONFIG["lock"]), "interrupted")):
        return True  # a crashed run left the venv in an unknown state: record it
    try:
        now = os.stat(CONFIG["site"]).st_mtime_ns
    except OSError:
        return True
    try:
        with open(CONFIG["stamp"]) as f:
            return int(f.read().strip() or "0") != now
    except (OSError, ValueError):
        return True


def _report(args, sub):
    """Where pip's install report (the origin and sha256 of every file it installs) will be:
    (path, ours). The user's own `--report FILE` is read and left alone; else pyctl asks pip for
    one in its runtime folder (pip >= 22.2), inserted right after the subcommand. (None, False):
    no report (`--report -` goes to stdout; older pip)."""
    import os
    for i, a in enumerate(args):
        if a == "--report" or a.startswith("--report="):
            v = a[len("--report="):] if "=" in a else (args[i + 1] if i + 1 < len(args) else "-")
            return (None if v == "-" else os.path.abspath(v)), False
    try:
        from pip import __version__ as version
        if tuple(int(x) for x in version.split(".")[:2]) < (22, 2):
            return None, False
    except Exception:
        return None, False
    if sys.argv[1:] != list(args) or sub not in args:
        return None, False
    path = os.path.join(os.path.dirname(CONFIG["lock"]), "report-%d.json" % os.getpid())
    i = 1 + list(args).index(sub) + 1
    sys.argv[i:i] = ["--report", path]
    return path, True


def _command(phase, args, sub, code=None, report=None, early=False):
    cmd = [CONFIG["node"], CONFIG["cli"], "_record", "--home", CONFIG["home"], "--phase", phase,
           "--pid", str(__import__("os").getpid()), "--sub", sub or "-"]
    if code is not None:
        cmd += ["--exit", str(code)]
    if report:
        cmd += ["--report", report]
    if early:
        cmd += ["--wait", "stdin", "--since", str(int(__import__("time").time() * 1000))]
    return cmd + ["--"] + list(args)


def _env():
    """The record's environment: pip's, without NODE_EXTRA_CA_CERTS. Node parses that CA bundle
    when it starts (~50 ms of CPU on every pip run), and the record never opens a connection."""
    import os
    if "NODE_EXTRA_CA_CERTS" not in os.environ:
        return None
    env = dict(os.environ)
    del env["NODE_EXTRA_CA_CERTS"]
    return env


def _wait(p):
    while True:
        try:
            return p.wait()
        except KeyboardInterrupt:
            continue  # Ctrl-C reaches pyctl too; it finishes the record, then pip exits


def _record(phase, args, sub, code=None, report=None):
    import subprocess
    try:
        p = subprocess.Popen(_command(phase, args, sub, code, report), env=_env())
    except OSError as e:
        sys.stderr.write("pyctl: could not record this pip run (%s); run 'pyctl doctor --fix'\n" % e)
        return None
    return _wait(p)


def _start(args, sub, report):
    """The post record, started now rather than when pip ends: Node starts and loads while pip
    works, and keeps each package pip finishes in the store. It records when _finish tells it
    pip's status on its stdin; pip killed, its stdin ends and it records nothing. None: could
    not start (the record after pip is then started as before, and says why)."""
    import subprocess
    try:
        return subprocess.Popen(_command("post", args, sub, report=report, early=True), stdin=subprocess.PIPE, env=_env())
    except OSError:
        return None


def _test_pause(point):
    """Test-only, as pyctl's own (src/debug/faults.ts): with PYCTL_TEST_PAUSE_AT=point, say so on
    stderr and wait there until SIGUSR2 or Ctrl-C (at most a minute). One lookup otherwise."""
    import os
    if os.environ.get("PYCTL_TEST_PAUSE_AT") != point:
        return
    import signal, time
    woke = []
    old = signal.signal(signal.SIGUSR2, lambda *_: woke.append(1))
    sys.stderr.write("pyctl: test pause at %s\n" % point)
    sys.stderr.flush()
    deadline = time.time() + 60
    try:
        while not woke and time.time() < deadline:
            time.sleep(0.02)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGUSR2, old)


def _finish(p, line):
    """Tell the early record how pip ended ("skip": nothing changed); its exit status, or None
    when it ended before it could hear (then the hook records as before)."""
    try:
        p.stdin.write(line.encode() + b"\n")
        p.stdin.close()
    except OSError:
        pass  # it is gone: its status below says so
    code = _wait(p)
    return code if code in (0, 3) else None


def _read(path):
    """A lock file's (pid, host, what), or None. Its first line only: the second, if any, is what a
    failed record of a pip run would have written (src/gitstore/lock.ts noteUnrecorded)."""
    try:
        with open(path) as f:
            parts = f.readline().split(None, 2)
    except OSError:
        return None
    parts += ["", "", ""]
    return parts[0], parts[1], parts[2].strip()


def _alive(holder, host):
    import os
    pid = holder[0]
    if holder[1] != host or not pid.isdigit() or int(pid) <= 0:
        return True  # another machine, or unreadable: can't tell, assume alive
    try:
        os.kill(int(pid), 0)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True


def _create(path, line):
    """Create path holding line, atomically, only if it does not exist (same as src/gitstore/lock.ts)."""
    import os
    tmp = "%s.new-%d-0" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(line)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _stale(path, holder, host):
    import os, time
    if holder is None or not holder[0].isdigit() or not holder[1]:
        try:
            return time.time() - os.stat(path).st_mtime > 10
        except OSError:
            return False
    if _alive(holder, host):
        return False
    helper = _read(path + ".helper")
    return helper is None or not _alive(helper, host)


def _take_over(path, host):
    """Remove a dead holder's lock under the takeover guard; one that was changing the venv
    becomes the crash marker, so the next record is marked interrupted."""
    import os, re
    if not _stale(path, _read(path), host):
        return False
    guard = path + ".takeover"
    if not _create(guard, "%d %s takeover\n" % (os.getpid(), host)):
        g = _read(guard)
        if g is not None and not _alive(g, host):
            try:
                os.unlink(guard)
            except OSError:
                pass
        return False
    try:
        holder = _read(path)
        if not _stale(path, holder, host):
            return False
        what = holder[2] if holder else ""
        try:
            if re.match(r"pip\b|pyctl (undo|redo|restore|clean|autoremove|init|doctor --fix)\b", what):
                os.rename(path, os.path.join(os.path.dirname(path), "interrupted"))
            else:
                os.unlink(path)
        except OSError:
            return False
        try:
            os.unlink(path + ".helper")
        except OSError:
            pass
        return True
    finally:
        try:
            os.unlink(guard)
        except OSError:
            pass


def _lock(sub):
    import os, socket, time, random
    path = CONFIG["lock"]
    host = socket.gethostname()
    me = "%d %s pip %s\n" % (os.getpid(), host, sub)
    told = False
    # The documented deadline (docs/safety.md): 10 minutes, or PYCTL_LOCK_TIMEOUT seconds, as pyctl's.
    try:
        wait = float(os.environ.get("PYCTL_LOCK_TIMEOUT") or 600)
    except ValueError:
        wait = 600.0
    deadline = time.time() + (wait if wait > 0 else 600.0)
    while True:
        try:
            if _create(path, me):
                return path
        except OSError:
            return None  # read-only home or missing state dir: pip still runs
        if os.path.isdir(path):
            return None  # not a lock file: pyctl reports it; pip still runs
        try:
            if _take_over(path, host):
                continue
        except OSError:
            pass
        holder = _read(path)
        where = ""
        if holder:
            where = "pid %s%s: %s" % (holder[0], "" if holder[1] == host else " on host %s" % holder[1], holder[2])
        if time.time() > deadline:
            # pip runs unrecorded rather than waiting forever; the next record sees its change.
            sys.stderr.write("pyctl: gave up waiting for the lock (%s); this pip run is not recorded now, the next "
                             "record finds its change; if nothing runs there any more, 'pyctl unlock' clears it\n" % where)
            return None
        if not told and holder:
            sys.stderr.write("pyctl: waiting for another change to this venv to finish (%s)...\n" % where)
            told = True
        time.sleep(0.03 + random.random() * 0.04)


def _install():
    import os
    if os.environ.get("PYCTL_NO_RECORD") or not CONFIG:
        return
    argv = _argv()
    args = _pip_args(argv) if argv else None
    if args is None:
        return
    sub = _subcommand(args)
    if not os.path.exists(CONFIG["cli"]):
        # pyctl was uninstalled (install.sh --uninstall keeps the venv): plain pip, said once
        # for a run that changes packages, since it will show up only as an anonymous change.
        if sub in MUTATING:
            sys.stderr.write("pyctl: not recording this pip run: pyctl is no longer installed (%s is gone); "
                             "reinstall it (./install.sh), or remove the venv with './install.sh --uninstall --purge'\n"
                             % CONFIG["cli"])
        return
    lock = _lock(sub) if sub in MUTATING else None
    if _changed():
        _record("pre", args, sub)
    report, ours = _report(args, sub) if sub == "install" else (None, False)
    early = _start(args, sub, report) if sub in MUTATING else None
    state = {"done": False}

    def post(code):
        if state["done"]:
            return
        state["done"] = True
        try:
            changed = _changed()
            status = None
            _test_pause("pip-end")  # pip has ended; its early record not yet told
            if early is not None:
                status = _finish(early, ("-" if code is None else str(code)) if changed else "skip")
            if status is None and changed:
                status = _record("post", args, sub, code, report)
            # Status 3: the record failed (a full disk...). The lock stays, naming this pip run and
            # what its record would have written: the next command records the change as this run.
            if status == 3:
                state["unrecorded"] = True
        finally:
            if ours:
                try:
                    os.unlink(report)
                except OSError:
                    pass
            if lock and not state.get("unrecorded"):
                try:
                    holder = _read(lock)
                    if holder and holder[0] == str(os.getpid()):
                        os.unlink(lock)  # only our own: it may have been taken over
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
