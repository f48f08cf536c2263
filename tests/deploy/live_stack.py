"""The shipped alert rules and dashboard queries against the real exporter.

Starts, on loopback only: dashscope_mock (a fleet made for the test),
dashscope_exporter polling it every second, and a Prometheus scraping the
exporter every second with the shipped rules files. Then drives the mock into
each state the rules are about and waits for the matching alert to become
pending (the `for:` durations are too long to wait for firing; promtool's
unit tests cover the timing). Finally runs every dashboard query and checks
that it returns data. Every wait is bounded; every process is ended.

Usage: live_stack.py REPO_ROOT EXPORTER MOCK WORKDIR   (exit 77: prometheus missing)
"""

import json
import os
import shutil
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402

from stack import Deadline, Failure, dump_logs, free_port, http, run_driver, start, verdict  # noqa: E402
from stack import wait_for as wait_within  # noqa: E402

KEY = "sk-live-stack-test"
failures = []


def wait_for(what, fn, timeout=60):
    """stack.wait_for with a budget of its own for each wait, polling every 0.5 s."""
    return wait_within(Deadline(timeout), what, fn, interval=0.5)


class Stack:
    def __init__(self, root, exporter, mock, work):
        self.root, self.work = root, work
        mock_port_file = os.path.join(work, "mock.port")
        start("mock", [mock, "--listen", "127.0.0.1:0", "--port-file", mock_port_file,
                       "--deployments", "0", "--tick", "0"], work, {"DASHSCOPE_MOCK_API_KEY": KEY})
        wait_for("the mock's port file",
                 lambda: os.path.exists(mock_port_file) and open(mock_port_file).read().strip(), 20)
        self.mock = "http://127.0.0.1:%s" % open(mock_port_file).read().strip()

        self.exporter_port = free_port()
        self.config = os.path.join(work, "exporter.yml")
        self.write_config()
        self.exporter_proc = start("exporter", [exporter, "--config.file=" + self.config,
                                                "--web.listen-address=127.0.0.1:%d" % self.exporter_port],
                                   work, {"DASHSCOPE_API_KEY": KEY})
        self.exporter = "http://127.0.0.1:%d" % self.exporter_port

        prom_port = free_port()
        self.prom = "http://127.0.0.1:%d" % prom_port
        rules = [os.path.join(root, "deploy/prometheus/dashscope_exporter.rules.yml"),
                 os.path.join(root, "deploy/prometheus/dashscope_exporter.optional.rules.yml")]
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                       "rule_files": rules,
                       "scrape_configs": [{"job_name": "dashscope_exporter",
                                           "static_configs": [{"targets": ["127.0.0.1:%d" % self.exporter_port]}]}]},
                      f)
        start("prometheus", ["prometheus", "--config.file=prometheus.yml",
                             "--web.listen-address=127.0.0.1:%d" % prom_port,
                             "--storage.tsdb.path=" + os.path.join(work, "tsdb")], work)

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write("poll_interval: 1s\nrequest_timeout: 900ms\npage_size: 5\nmax_staleness: 1m\n"
                    "accounts:\n  - name: live\n    base_url: %s\n    api_key_env: DASHSCOPE_API_KEY\n%s"
                    % (self.mock, extra))

    def mock_post(self, path, **params):
        code, body = http("POST", "%s/mock/%s?%s" % (self.mock, path, urllib.parse.urlencode(params)), b"")
        if code != 200:
            raise Failure("mock %s %s: %s %s" % (path, params, code, body))

    def clear_faults(self):
        code, body = http("DELETE", self.mock + "/mock/faults")
        if code != 200:
            raise Failure("mock DELETE /mock/faults: %s %s" % (code, body))

    def alerts(self):
        code, body = http("GET", self.prom + "/api/v1/rules")
        if code != 200:
            return None
        out = {}
        for group in json.loads(body)["data"]["groups"]:
            for rule in group["rules"]:
                if rule.get("health") not in ("ok", "unknown"):
                    failures.append("rule %s: health %s: %s" % (rule["name"], rule.get("health"),
                                                                rule.get("lastError")))
                # One name may be several rules (severity tiers).
                out.setdefault(rule["name"], []).extend(a["labels"] for a in rule.get("alerts", []))
        return out

    def query(self, expr):
        code, body = http("GET", self.prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if code != 200:
            raise Failure("query %r: %s %s" % (expr, code, body))
        return json.loads(body)["data"]["result"]


def alert_for(stack, alertname, **labels):
    def found():
        alerts = stack.alerts() or {}
        return any(all(a.get(k) == v for k, v in labels.items()) for a in alerts.get(alertname, []))
    wait_for("%s%s" % (alertname, labels), found)
    print("ok: %s %s is pending" % (alertname, labels))


def main(root, exporter, mock, work):
    root, exporter, mock = (os.path.abspath(p) for p in (root, exporter, mock))
    if shutil.which("prometheus") is None:
        print("SKIPPED: prometheus not found (Debian package: prometheus)")
        return 77
    for b in (exporter, mock):
        if not os.access(b, os.X_OK):
            print("SKIPPED: %s is not built" % b)
            return 77
    stack = Stack(root, exporter, mock, work)
    ok, failed = "e2e-ok", "e2e-failed"
    stack.mock_post("deployments", add=ok, status="RUNNING", capacity=2, ready_capacity=2, base_capacity=1)
    stack.mock_post("deployments", add=failed, status="FAILED", capacity=1, ready_capacity=0, base_capacity=1,
                    fail_reason="Insufficient resource")
    stack.mock_post("deployments", add="e2e-pending", status="PENDING", capacity=1, ready_capacity=0, base_capacity=1)
    stack.mock_post("deployments", add="e2e-short", status="RUNNING", capacity=4, ready_capacity=1, base_capacity=1)
    stack.mock_post("deployments", add="e2e-stopped", status="STOPPED", capacity=1, ready_capacity=0, base_capacity=1)
    # Second release: a status outside the seven, a PTU deployment whose
    # prepaid period ends in an hour (wall clock: the alert compares with
    # time()), and one whose status is about to flap.
    stack.mock_post("deployments", add="e2e-odd", status="SCALING", capacity=2, ready_capacity=1, base_capacity=1)
    stack.mock_post("deployments", add="e2e-prepaid", status="RUNNING", capacity=2, ready_capacity=2,
                    base_capacity=1, ptu_input_tpm=100000, ptu_output_tpm=10000,
                    pre_paid_gmt_expired_unix=int(time.time()) + 3600)
    stack.mock_post("deployments", add="e2e-flappy", status="RUNNING", capacity=1, ready_capacity=1, base_capacity=1)
    wait_for("exporter /readyz", lambda: http("GET", stack.exporter + "/readyz")[0] == 200)
    ids = (ok, failed, "e2e-pending", "e2e-short", "e2e-stopped", "e2e-odd", "e2e-prepaid", "e2e-flappy")
    text = wait_for("the eight deployments in /metrics", lambda: (
        lambda t: t if all('deployed_model="%s"' % i in t for i in ids) else None)(
        http("GET", stack.exporter + "/metrics")[1]))

    # Every family the exporter serves now is in the contract (or an addition
    # beyond it, reported but allowed); everything the rules need is served.
    served = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    extra = sorted(n for n in served if n not in contract.METRICS and
                   n != "dashscope_api_request_duration_seconds")
    if extra:
        print("note: served beyond the contract's list: %s" % ", ".join(extra))
    for needed in ("dashscope_deployment_status", "dashscope_deployment_capacity",
                   "dashscope_deployment_ready_capacity", "dashscope_up",
                   "dashscope_last_successful_poll_timestamp_seconds", "dashscope_api_requests_total",
                   "dashscope_exporter_config_last_reload_successful"):
        if needed not in served:
            failures.append("the exporter does not serve %s" % needed)

    wait_for("Prometheus rules", stack.alerts)
    # Six status changes of e2e-flappy, each seen by a poll before the next,
    # once Prometheus has its counter at 0 (increase() needs a start).
    changes = 'dashscope_deployment_status_changes_total{account="live",workspace_id="llm-mock",deployed_model="e2e-flappy"}'
    wait_for("e2e-flappy's counter in Prometheus", lambda: stack.query(changes))
    for n in range(1, 7):
        stack.mock_post("deployments", set="e2e-flappy", status="UPDATING" if n % 2 else "RUNNING")
        wait_for("e2e-flappy's change %d in /metrics" % n,
                 lambda: ("\n%s %d\n" % (changes, n)) in http("GET", stack.exporter + "/metrics")[1])
    alert_for(stack, "DashscopeDeploymentFailed", deployed_model=failed, account="live",
              reason="Insufficient resource")
    alert_for(stack, "DashscopeDeploymentStuck", deployed_model="e2e-pending", status="PENDING")
    alert_for(stack, "DashscopeDeploymentStuck", deployed_model="e2e-odd", status="UNKNOWN", raw_status="SCALING")
    alert_for(stack, "DashscopeDeploymentFlapping", deployed_model="e2e-flappy")
    alert_for(stack, "DashscopeDeploymentPrepaidExpiring", deployed_model="e2e-prepaid", severity="warning")
    alert_for(stack, "DashscopeDeploymentPrepaidExpiring", deployed_model="e2e-prepaid", severity="critical")
    alert_for(stack, "DashscopeDeploymentCapacityNotReady", deployed_model="e2e-short")
    alert_for(stack, "DashscopeDeploymentStopped", deployed_model="e2e-stopped")
    # Right after start-up, absent(up{...}) can be pending for one evaluation
    # before the first scrape; wait until the exporter-health rules settle.
    def settled():
        a = stack.alerts() or {}
        return a if not any(v for k, v in a.items() if k.startswith(("DashscopeExporter", "DashscopeApi"))) else None
    try:
        alerts = wait_for("exporter-health rules to be quiet while healthy", settled, 20)
    except Failure:
        alerts = stack.alerts()
    for name, labels in alerts.items():
        for a in labels:
            if a.get("deployed_model") == ok:
                failures.append("%s is pending for the healthy deployment %s" % (name, ok))
            if name in ("DashscopeDeploymentStuck", "DashscopeDeploymentCapacityNotReady",
                        "DashscopeDeploymentFailed") and a.get("deployed_model") == "e2e-stopped":
                failures.append("%s is pending for a STOPPED deployment" % name)
            if name.startswith(("DashscopeExporter", "DashscopeApi")):
                failures.append("%s is pending while everything is healthy: %s" % (name, a))

    stack.mock_post("faults", kind="http", status=429, code="Throttling.RateQuota", message="slow down", times=0)
    alert_for(stack, "DashscopeApiThrottled", account="live")
    stack.clear_faults()
    stack.mock_post("faults", kind="http", status=401, code="InvalidApiKey", message="bad key", times=0)
    alert_for(stack, "DashscopeApiAuthErrors", account="live", code="InvalidApiKey")
    alert_for(stack, "DashscopeExporterPollFailing", account="live")
    stack.clear_faults()

    stack.write_config("    bogus_key: 1\n")
    stack.exporter_proc.send_signal(signal.SIGHUP)
    alert_for(stack, "DashscopeExporterConfigReloadFailed", job="dashscope_exporter")
    stack.write_config()
    stack.exporter_proc.send_signal(signal.SIGHUP)

    with open(os.path.join(root, "grafana/dashboards/dashscope_deployments.json")) as f:
        dash = json.load(f)
    n = 0
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            expr = (t["expr"].replace("$__rate_interval", "1m").replace("$account", ".*")
                    .replace("$workspace", ".*").replace("$deployment", ".*"))
            n += 1
            if not stack.query(expr):
                failures.append("dashboard panel %r query %s returns nothing" % (panel["title"], t["refId"]))
    print("ok: %d dashboard queries return data" % n)

    return verdict(failures)


if __name__ == "__main__":
    run_driver(main, __doc__, 4, lambda args: dump_logs(args[3], ("mock", "exporter", "prometheus")))
