"""Processes, loopback HTTP and bounded waits for the Python test drivers
(tests/e2e and tests/deploy). Python 3 standard library only.

Every wait is bounded by a Deadline. Every process started here is ended by
stop_all(), which the drivers call in a `finally`; the children also get
SIGTERM from the kernel if the driver itself is killed (PR_SET_PDEATHSIG).
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

__all__ = ["Failure", "Deadline", "free_port", "start", "check_alive", "stop_all", "stop_on_sigterm",
           "dump_logs", "http", "wait_for", "require_binary", "verdict", "run_driver"]

_procs = []  # (name, Popen, log file)


class Failure(Exception):
    """A failed expectation; the driver prints it and exits 1."""


class Deadline:
    """One time budget for a whole test, so that the sum of waits is bounded."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self):
        return self.end - time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.start


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Linux only: SIGTERM to the child when the driver dies, even by SIGKILL.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start(name, argv, work, env=None):
    """Starts argv with stdout and stderr in WORK/NAME.log."""
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work,
                         env=dict(os.environ, **(env or {})), preexec_fn=_die_with_parent)
    _procs.append((name, p, log))
    return p


def check_alive():
    for name, p, _ in _procs:
        if p.poll() is not None:
            raise Failure("%s exited with status %s (see %s.log below)" % (name, p.returncode, name))


def stop_all():
    for _, p, _ in _procs:
        if p.poll() is None:
            p.terminate()
    for name, p, log in _procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print("note: %s ignored SIGTERM for 10s, killed" % name, file=sys.stderr)
            p.kill()
            p.wait()
        log.close()
    _procs.clear()


def stop_on_sigterm():
    """ctest's timeout sends SIGTERM: turn it into an exception so `finally` runs."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def dump_logs(work, names, artifacts=None, lines=25):
    """Prints the tail of each process log; copies the logs to ARTIFACTS if given."""
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
    for name in names:
        path = os.path.join(work, name + ".log")
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            tail = f.readlines()[-lines:]
        print("---- last %d lines of %s.log" % (len(tail), name), file=sys.stderr)
        print("".join(tail), file=sys.stderr, end="")
        if artifacts:
            shutil.copy(path, os.path.join(artifacts, name + ".log"))
    if artifacts:
        print("logs kept in %s" % artifacts, file=sys.stderr)


def http(method, url, data=None, headers=None, timeout=5):
    """(status, body) of one request; status None when nothing answered."""
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None, ""


def wait_for(deadline, what, fn, limit=None, interval=0.25):
    """Calls fn until it returns something truthy; Failure past LIMIT seconds
    or the test's deadline, whichever comes first. Fails at once if a process died."""
    budget = deadline.left() if limit is None else min(limit, deadline.left())
    end = time.monotonic() + budget
    started = time.monotonic()
    while True:
        check_alive()
        value = fn()
        if value:
            return value
        if time.monotonic() >= end:
            raise Failure("gave up after %.0fs waiting for %s" % (time.monotonic() - started, what))
        time.sleep(interval)


def require_binary(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise Failure("%s %s is not built or not executable" % (what, path))


def verdict(failures, deadline=None):
    """Prints each failure and the outcome; the driver's exit status."""
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    took = " in %.1fs" % deadline.elapsed() if deadline else ""
    print("%s%s" % ("FAILED" if failures else "passed", took))
    return 1 if failures else 0


def run_driver(main, doc, nargs, on_failure=None):
    """Runs main(*argv) as a test driver and exits with its status.

    A wrong argument count prints the Usage: part of DOC and exits 2. ctest's
    SIGTERM still ends every process. A Failure or OSError fails the test
    with its message; on a failure (any status but 0 and 77, ctest's skip)
    on_failure(args) runs after the processes have stopped, to print and
    keep their logs.
    """
    stop_on_sigterm()
    args = sys.argv[1:]
    if len(args) != nargs:
        print(doc.split("Usage:")[1].strip(), file=sys.stderr)
        sys.exit(2)
    rc = 1
    try:
        rc = main(*args)
    except (Failure, OSError) as e:
        print("FAIL:", e, file=sys.stderr)
    finally:
        stop_all()
    if rc not in (0, 77) and on_failure is not None:
        on_failure(args)
    sys.exit(rc)
