"""Shared pieces of the end-to-end tests: processes, loopback HTTP, bounded waits,
and the dashscope_mock + dashscope_exporter pair every test starts.

Python 3 standard library only. Everything binds 127.0.0.1. Every wait is
bounded by one deadline per test (Deadline), and every process started here is
ended by stop_all(), which the drivers call in a `finally`; the children also
get SIGTERM from the kernel if the driver itself is killed (PR_SET_PDEATHSIG).
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

API_KEY = "sk-e2e-test"
ACCOUNT = "mock"
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

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


class MockAndExporter:
    """dashscope_mock with manual ticks, and dashscope_exporter polling it every second."""

    def __init__(self, exporter_bin, mock_bin, work, deadline):
        self.work, self.deadline = work, deadline
        port_file = os.path.join(work, "mock.port")
        start("mock", [mock_bin, "--listen", "127.0.0.1:0", "--port-file", port_file, "--tick", "0"], work,
              {"DASHSCOPE_MOCK_API_KEY": API_KEY})
        port = wait_for(deadline, "the mock's port file", lambda: os.path.exists(port_file) and
                        open(port_file).read().strip(), limit=20)
        self.mock = "http://127.0.0.1:%s" % port
        self._exporter_bin = exporter_bin
        self.exporter = None

    def start_exporter(self):
        port = free_port()
        config = os.path.join(self.work, "exporter.yml")
        with open(config, "w") as f:
            f.write("poll_interval: 1s\nrequest_timeout: 500ms\naccounts:\n"
                    "  - name: %s\n    base_url: %s\n    api_key_env: DASHSCOPE_API_KEY\n" % (ACCOUNT, self.mock))
        start("exporter", [self._exporter_bin, "--config.file=" + config,
                           "--web.listen-address=127.0.0.1:%d" % port], self.work,
              {"DASHSCOPE_API_KEY": API_KEY})
        self.exporter = "http://127.0.0.1:%d" % port
        self.exporter_port = port
        wait_for(self.deadline, "the exporter's first successful poll (/readyz 200)",
                 lambda: http("GET", self.exporter + "/readyz")[0] == 200, limit=30)

    def mock_post(self, path, **params):
        code, body = http("POST", "%s/mock/%s?%s" % (self.mock, path, urllib.parse.urlencode(params)), b"")
        if code != 200:
            raise Failure("mock POST /mock/%s %s: %s %s" % (path, params, code, body))
        return json.loads(body)

    def deployments(self):
        """What the mock lists now, in its order: [{deployed_model, status, ...}]."""
        code, body = http("GET", self.mock + "/api/v1/deployments?page_no=1&page_size=200",
                          headers={"Authorization": "Bearer " + API_KEY})
        if code != 200:
            raise Failure("mock list: %s %s" % (code, body))
        out = json.loads(body)["output"]
        if out["total"] > len(out["deployments"]):
            raise Failure("the mock lists %d deployments, more than one page" % out["total"])
        return out["deployments"]

    def exporter_statuses(self):
        """{deployed_model: status} from the exporter's /metrics (status series at 1)."""
        code, text = http("GET", self.exporter + "/metrics")
        if code != 200:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("dashscope_deployment_status{") and line.endswith(" 1"):
                labels = dict(LABEL.findall(line))
                out[labels["deployed_model"]] = labels["status"]
        return out

    def wait_exporter_matches_mock(self, what):
        want = {d["deployed_model"]: d["status"] for d in self.deployments()}
        wait_for(self.deadline, "the exporter to show %s" % what,
                 lambda: self.exporter_statuses() == want, limit=30)
        return want
