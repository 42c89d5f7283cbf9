"""Starts processes for a vitest worker (test/helpers/spawner.ts says why and how it is used).

Requests on stdin, each a 4-byte big-endian length of the rest, the 4-byte length of the input
(0xffffffff for none), NUL-separated fields: id, file, cwd ('-' for none, else 'c' and the
folder), the count of args, the args, the environment's entries as KEY=VALUE; then the input.
Answers on stdout, one a run, once it has exited and its stdout and stderr are read to the end:
  a header '>IiiII' (id, pid or 0 when it did not start, exit code: -1 when a signal ended it or it
  did not start, stdout's length, stderr's length), then stdout's bytes, then stderr's (the reason
  it did not start, when it did not).
The child's stdin is a pipe nobody writes to, closed when it exits; or, given an input, a pipe
that gets the input and then its end. This ends when its stdin does.

With a folder as its argument, the same requests also come on the FIFO `req` in it and their
answers go to the FIFO `ans`, for the worker's synchronous callers (which block reading `ans`).
Answers on stdout are queued and written as the worker reads them: a worker blocked on `ans`
reads none, and a blocking write there would keep its synchronous answer from it.
"""
import errno
import os
import selectors
import signal
import struct
import subprocess
import sys

HEADER = struct.Struct('>IiiII')
STARTED = [0]


class Child:
    def __init__(self, rid, proc, reply):
        self.rid = rid
        self.reply = reply
        self.proc = proc
        self.out = []
        self.err = []
        self.open = 2  # stdout and stderr not yet at their end
        self.code = None
        self.feed = None  # the Feed writing its input, until it is all written


class Feed:
    """A child's input, written to its stdin as it takes it; then its stdin is closed."""

    def __init__(self, sel, child, data):
        self.sel = sel
        self.child = child
        self.data = memoryview(data)
        self.fd = child.proc.stdin.fileno()
        if data:
            os.set_blocking(self.fd, False)
            sel.register(self.fd, selectors.EVENT_WRITE, self)
            child.feed = self
        else:
            child.proc.stdin.close()

    def write(self):
        if self.child.feed is not self:
            return  # closed when the child exited, in the same round of events
        try:
            self.data = self.data[os.write(self.fd, self.data):]
        except BlockingIOError:
            return
        except OSError:
            self.data = self.data[:0]  # it ended without reading it all, as node lets it
        if not self.data:
            self.close()

    def close(self):
        self.sel.unregister(self.fd)
        self.child.proc.stdin.close()
        self.child.feed = None


class Replies:
    """Answers to the worker on stdout, written as it takes them."""

    def __init__(self, sel):
        self.sel = sel
        self.queue = bytearray()
        os.set_blocking(1, False)

    def __call__(self, data):
        if not self.queue:
            self.sel.register(1, selectors.EVENT_WRITE, 'replies')
        self.queue += data

    def flush(self):
        try:
            del self.queue[:os.write(1, self.queue)]
        except BlockingIOError:
            return
        if not self.queue:
            self.sel.unregister(1)


def blocking_writer(fd):
    def write(data):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    return write


def answer(reply, rid, pid, code, out, err):
    reply(HEADER.pack(rid, pid, code, len(out), len(err)) + out + err)


def start(sel, children, frame, reply):
    size = int.from_bytes(frame[:4], 'big')
    fields = frame[4:len(frame) - size if size != 0xffffffff else None].split(b'\0')
    data = frame[len(frame) - size:] if size != 0xffffffff else None
    rid = int(fields[0])
    file = fields[1]
    cwd = fields[2][1:] if fields[2][:1] == b'c' else None
    nargs = int(fields[3])
    args = fields[4:4 + nargs]
    env = {}
    for entry in fields[4 + nargs:]:
        key, _, value = entry.partition(b'=')
        env[key] = value
    try:
        proc = subprocess.Popen([file, *args], env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        # As node's spawn words it: `spawn <file> ENOENT`.
        reason = 'spawn %s %s' % (os.fsdecode(file), errno.errorcode.get(e.errno, e.errno))
        answer(reply, rid, 0, -1, b'', reason.encode('utf-8', 'replace'))
        return
    except Exception as e:
        answer(reply, rid, 0, -1, b'', ('spawn %s %s' % (os.fsdecode(file), e)).encode('utf-8', 'replace'))
        return
    STARTED[0] += 1
    child = Child(rid, proc, reply)
    children[proc.pid] = child
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, (child, child.out, proc.stdout))
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, (child, child.err, proc.stderr))
    if data is not None:
        Feed(sel, child, data)


def finish_if_done(children, child):
    if child.open or child.code is None:
        return
    del children[child.proc.pid]
    answer(child.reply, child.rid, child.proc.pid, child.code, b''.join(child.out), b''.join(child.err))


class Requests:
    """Length-prefixed requests read from one fd, each answered through `reply`."""

    def __init__(self, fd, reply):
        self.fd = fd
        self.reply = reply
        self.pending = bytearray()

    def read(self, sel, children):
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return False
        self.pending += chunk
        while len(self.pending) >= 4:
            size = int.from_bytes(self.pending[:4], 'big')
            if len(self.pending) < 4 + size:
                break
            payload = bytes(self.pending[4:4 + size])
            del self.pending[:4 + size]
            start(sel, children, payload, self.reply)
        return True


def main():
    sel = selectors.DefaultSelector()
    replies = Replies(sel)
    sel.register(0, selectors.EVENT_READ, Requests(0, replies))
    if len(sys.argv) > 1:
        # Read and write ends both held here: opening never waits, and `req` never reads as ended.
        ans = os.open(os.path.join(sys.argv[1], 'ans'), os.O_RDWR)
        req = os.open(os.path.join(sys.argv[1], 'req'), os.O_RDWR)
        sel.register(req, selectors.EVENT_READ, Requests(req, blocking_writer(ans)))
    # SIGCHLD wakes the loop through a pipe: an exit is noticed without polling.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # its FIFOs removed on the way out
    sel.register(wake_r, selectors.EVENT_READ, 'wake')
    children = {}
    while True:
        for key, _ in sel.select():
            what = key.data
            if isinstance(what, Requests):
                if not what.read(sel, children):
                    return  # stdin ended: the worker is gone
            elif what == 'replies':
                replies.flush()
            elif isinstance(what, Feed):
                what.write()
            elif what == 'wake':
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                for child in list(children.values()):
                    if child.code is None and child.proc.poll() is not None:
                        rc = child.proc.returncode
                        child.code = rc if rc >= 0 else -1
                        if child.feed:
                            child.feed.close()
                        child.proc.stdin.close()
                        finish_if_done(children, child)
            else:
                child, chunks, stream = what
                chunk = os.read(key.fd, 1 << 20)
                if chunk:
                    chunks.append(chunk)
                    continue
                sel.unregister(key.fd)
                stream.close()
                child.open -= 1
                finish_if_done(children, child)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
    finally:
        stats = os.environ.get('PYCTL_TEST_SPAWNER_STATS')
        if stats:
            # Its own CPU (not its children's) and how many it started, for measuring it.
            t = os.times()
            with open(stats, 'a') as f:
                f.write('spawner %.3f user %.3f sys %d runs\n' % (t.user, t.system, STARTED[0]))
        if len(sys.argv) > 1:
            for name in ('req', 'ans', ''):
                try:
                    (os.rmdir if not name else os.unlink)(os.path.join(sys.argv[1], name))
                except OSError:
                    pass
    sys.exit(0)
