"""The dashscope_mock + dashscope_exporter pair every end-to-end test starts,
on tests/pylib/stack.py's processes, HTTP and waits (re-exported here, so a
driver needs one import). Everything binds 127.0.0.1.
"""

import json
import os
import re
import urllib.parse

from stack import (Deadline, Failure, check_alive, dump_logs, free_port, http,  # noqa: F401
                   require_binary, run_driver, start, stop_all, stop_on_sigterm, verdict, wait_for)

API_KEY = "sk-e2e-test"
ACCOUNT = "mock"
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class Run:
    """How every driver's main starts: the test's one Deadline, the failures it
    collects for verdict(), its progress lines, and its path arguments made
    absolute (the processes run in WORK) once the exporter and the mock are
    known to be built."""

    def __init__(self, budget_seconds, root, build_dir, exporter_bin, mock_bin, work):
        self.deadline = Deadline(budget_seconds)
        self.failures = []
        self.root, self.build_dir, self.exporter_bin, self.mock_bin, self.work = (
            os.path.abspath(p) for p in (root, build_dir, exporter_bin, mock_bin, work))
        require_binary(self.exporter_bin, "dashscope_exporter")
        require_binary(self.mock_bin, "dashscope_mock")

    def mark(self, what):
        """A progress line stamped with the seconds since the test started;
        flushed, so a test that hangs shows how far it got."""
        print("[%5.1fs] %s" % (self.deadline.elapsed(), what), flush=True)

    def start_mock(self):
        """The MockAndExporter pair with the mock started; the exporter
        starts with its start_exporter()."""
        return MockAndExporter(self.exporter_bin, self.mock_bin, self.work, self.deadline)


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
