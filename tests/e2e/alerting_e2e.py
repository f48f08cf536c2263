"""Alerting end to end: the shipped rules fire through a real Alertmanager.

Starts on 127.0.0.1 only: dashscope_mock (12 deployments, manual ticks),
dashscope_exporter polling it every second, a webhook receiver inside this
process, Alertmanager (no cluster gossip) routing everything to that webhook,
and Prometheus scraping the exporter every second, evaluating a test copy of
the shipped rules every second (loaded by SIGHUP once the exporter is
scraped) and sending alerts to that Alertmanager.

The test copy is deploy/prometheus/dashscope_exporter.rules.yml with only
durations changed (shorten_rules below), so the test follows the shipped rules:
  - every `for:` (and `keep_firing_for:`) becomes FOR_SHORT (5s);
  - range windows and offsets in minutes or hours are divided by 60:
    [15m] -> [15s], [5m] -> [5s], [1h] -> [1m], offset 1h -> offset 1m.
Everything else (the expressions' logic, labels, annotations) is as shipped. The opt-in
dashscope_exporter.optional.rules.yml (STOPPED) is not loaded, as by default.

Scenario (fleet roles: src/mock/fleet.h):
  1. tick 2: every deployment RUNNING except index 3 (STOPPED); Prometheus
     must be quiet: no alert pending or firing.
  2. tick 6: index 5 turns FAILED; index 4 is pinned RUNNING with capacity 4
     and ready_capacity 2 (a scale-up whose capacity is not ready).
  3. Expect at the webhook: DashscopeDeploymentFailed for index 5 and
     DashscopeDeploymentCapacityNotReady for index 4, with the account,
     workspace and deployed_model labels; nothing else, at the webhook or in
     Prometheus' /api/v1/alerts (STOPPED index 3 and the healthy ones quiet).
  4. Every query of every panel of grafana/dashboards/dashscope_deployments.json,
     template variables substituted, returns data from this Prometheus.

Usage: alerting_e2e.py REPO_ROOT BUILD_DIR EXPORTER MOCK ALERTMANAGER WORKDIR
"""

import http.server
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_stack as e2e  # noqa: E402
from e2e_stack import Failure  # noqa: E402

BUDGET_SECONDS = 120
FOR_SHORT = "5s"
RULES = "deploy/prometheus/dashscope_exporter.rules.yml"
OPTIONAL_RULES = "deploy/prometheus/dashscope_exporter.optional.rules.yml"
DASHBOARD = "grafana/dashboards/dashscope_deployments.json"

# Grafana's built-in variables, at values that suit a Prometheus scraping every second.
BUILTIN_VARIABLES = {"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
                     "__range": "5m", "__range_s": "300", "__range_ms": "300000"}

_FOR = re.compile(r"^(\s*(?:for|keep_firing_for):\s*)(\S+)[ \t]*$", re.M)
_RANGE = re.compile(r"\[(\d+)([mh])(?=[\]:])")
_OFFSET = re.compile(r"\boffset(\s+)(\d+)([mh])\b")
# Every duration in a range or an offset, to refuse the forms shorten_rules does not handle.
_ANY_DURATION = re.compile(r"\[([^\]]*)\]|\boffset\s+([^\s)]+)")
_HANDLED = re.compile(r"\d+(?:[mh]|m?s)")
_SHORTER_UNIT = {"m": "s", "h": "m"}


def shorten_rules(text):
    """The shipped rules with the durations shortened as the module doc says."""
    for m in _ANY_DURATION.finditer(text):
        for d in (m.group(1) or m.group(2)).split(":"):
            if d and not _HANDLED.fullmatch(d):
                raise Failure("shorten_rules does not know how to shorten %r in %r; extend it" % (d, m.group(0)))
    text, n_for = _FOR.subn(lambda m: m.group(1) + FOR_SHORT, text)
    text, n_range = _RANGE.subn(lambda m: "[%s%s" % (m.group(1), _SHORTER_UNIT[m.group(2)]), text)
    text, n_offset = _OFFSET.subn(lambda m: "offset%s%s%s" % (m.group(1), m.group(2), _SHORTER_UNIT[m.group(3)]),
                                  text)
    return text, n_for, n_range, n_offset


def alert_names(text):
    return re.findall(r"^\s*-\s*alert:\s*(\w+)\s*$", text, re.M)


class Webhook:
    """Alertmanager's webhook receiver: records every alert of every POST."""

    def __init__(self):
        self.alerts = []  # (receive time, alert dict)
        self.posts = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"alerts": []}
                with outer.lock:
                    outer.posts += 1
                    for a in payload.get("alerts", []):
                        outer.alerts.append((time.monotonic(), a))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/alerts" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.alerts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    def __init__(self, url):
        self.url = url

    def api(self, path, **params):
        code, body = e2e.http("GET", "%s/api/v1/%s?%s" % (self.url, path, urllib.parse.urlencode(params)))
        if code != 200:
            raise Failure("Prometheus /api/v1/%s %s: %s %s" % (path, params, code, body[:300]))
        return json.loads(body)["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def alerts(self):
        return self.api("alerts")["alerts"]

    def rules(self):
        return [r for g in self.api("rules")["groups"] for r in g["rules"]]

    def rule_group_evaluations(self):
        """{rule group: evaluations so far}, from Prometheus' own /metrics."""
        code, text = e2e.http("GET", self.url + "/metrics")
        if code != 200:
            return {}
        return {line.split("{", 1)[1].split("}", 1)[0]: float(line.rsplit(" ", 1)[1])
                for line in text.splitlines() if line.startswith("prometheus_rule_group_iterations_total{")}

    def wait_evaluated(self, deadline, what, times=2):
        """Waits until every rule group has been evaluated TIMES more, so what
        Prometheus has now is in the rules' results."""
        before = self.rule_group_evaluations()
        if not before:
            raise Failure("Prometheus reports no rule group evaluations")
        e2e.wait_for(deadline, "%d rule evaluations after %s" % (times, what), lambda: all(
            self.rule_group_evaluations().get(g, 0) >= n + times for g, n in before.items()), 20)


def fmt_labels(labels, skip=("alertname",)):
    return "{%s}" % ", ".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()) if k not in skip)


def substitute(expr, variables):
    """Grafana's $var, ${var}, ${var:format} and [[var]] replaced by their values."""
    def value(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in variables:
            raise Failure("dashboard query uses the unknown variable $%s: %s" % (name, expr))
        return variables[name]
    return re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)", value, expr)


def dashboard_queries(dashboard):
    """(panel title, refId, expr) of every target of every panel, rows' panels included."""
    variables = dict(BUILTIN_VARIABLES)
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            continue
        # Every deployment, as "All" selects it: the variable's allValue, else a match-all regex.
        variables[v["name"]] = v.get("allValue") or ".*"

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    out = []
    for p in panels(dashboard.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((p.get("title", "?"), t.get("refId", "?"), substitute(t["expr"], variables)))
    return out


def main(root, build_dir, exporter_bin, mock_bin, alertmanager_bin, work):
    run = e2e.Run(BUDGET_SECONDS, root, build_dir, exporter_bin, mock_bin, work)
    deadline, failures, mark = run.deadline, run.failures, run.mark
    root, build_dir, work = run.root, run.build_dir, run.work

    # The test copy of the shipped rules.
    with open(os.path.join(root, RULES)) as f:
        shipped = f.read()
    shortened, n_for, n_range, n_offset = shorten_rules(shipped)
    rules_file = os.path.join(work, "rules.test.yml")
    with open(rules_file, "w") as f:
        f.write("# Generated by tests/e2e/alerting_e2e.py from %s: durations shortened.\n" % RULES)
        f.write(shortened)
    shipped_names = alert_names(shipped)
    with open(os.path.join(root, OPTIONAL_RULES)) as f:
        optional_names = alert_names(f.read())
    print("rules: %d alerts from %s; shortened %d for:, %d range windows, %d offsets"
          % (len(shipped_names), RULES, n_for, n_range, n_offset))
    if n_for != len(shipped_names):
        failures.append("%d alerts but %d `for:` shortened; an alert without for: or a new form?"
                        % (len(shipped_names), n_for))

    stack = run.start_mock()
    stack.mock_post("tick", n=2)  # past index 1's PENDING start: a healthy fleet but for index 3 (STOPPED)
    fleet = stack.deployments()
    ids = [d["deployed_model"] for d in fleet]
    if len(ids) != 12:
        raise Failure("expected the mock's default fleet of 12, got %d" % len(ids))
    stopped, lagging, failed = ids[3], ids[4], ids[5]
    stack.start_exporter()
    stack.wait_exporter_matches_mock("the fleet at tick 2")
    mark("mock and exporter up (exporter at %s)" % stack.exporter)

    webhook = Webhook()
    try:
        am_port = e2e.free_port()
        am = "http://127.0.0.1:%d" % am_port
        with open(os.path.join(work, "alertmanager.yml"), "w") as f:
            json.dump({"route": {"receiver": "webhook", "group_by": ["..."], "group_wait": "1s",
                                 "group_interval": "1s", "repeat_interval": "24h"},
                       "receivers": [{"name": "webhook",
                                      "webhook_configs": [{"url": webhook.url, "send_resolved": True}]}]}, f)
        e2e.start("alertmanager", [alertmanager_bin, "--config.file=alertmanager.yml",
                                   "--storage.path=" + os.path.join(work, "am-data"),
                                   "--web.listen-address=127.0.0.1:%d" % am_port,
                                   "--cluster.listen-address="], work)

        # Prometheus starts without rules and gets them (SIGHUP) once it
        # scrapes the exporter: its target discovery takes up to 5s after
        # start, during which absent(up{...}) is true, as long as the test's
        # `for:`. The shipped 15m covers that gap; 5s would not.
        prom_port = e2e.free_port()
        prom = Prometheus("http://127.0.0.1:%d" % prom_port)
        prom_config = {"global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
                       "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:%d" % am_port]}]}]},
                       "scrape_configs": [{"job_name": "dashscope_exporter",
                                           "static_configs": [{"targets": ["127.0.0.1:%d" % stack.exporter_port]}]}]}
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            json.dump(prom_config, f)
        prom_proc = e2e.start("prometheus", ["prometheus", "--config.file=prometheus.yml",
                                             "--web.listen-address=127.0.0.1:%d" % prom_port,
                                             "--storage.tsdb.path=" + os.path.join(work, "tsdb")], work)
        e2e.wait_for(deadline, "Alertmanager /-/ready", lambda: e2e.http("GET", am + "/-/ready")[0] == 200, 40)
        e2e.wait_for(deadline, "Prometheus /-/ready", lambda: e2e.http("GET", prom.url + "/-/ready")[0] == 200, 40)
        e2e.wait_for(deadline, "Prometheus to have all 12 deployments from the exporter",
                     lambda: prom.query("count(dashscope_deployment_status == 1) == 12"), 30)
        prom_config["rule_files"] = [rules_file]
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            json.dump(prom_config, f)
        prom_proc.send_signal(signal.SIGHUP)
        e2e.wait_for(deadline, "Prometheus to load the test rules (see prometheus.log)",
                     lambda: prom.api("rules")["groups"], 20)
        e2e.wait_for(deadline, "Prometheus to see Alertmanager",
                     lambda: prom.api("alertmanagers")["activeAlertmanagers"], 20)
        mark("Alertmanager at %s, Prometheus at %s scraping the exporter, rules loaded" % (am, prom.url))

        loaded = {r["name"] for r in prom.rules() if r["type"] == "alerting"}
        if loaded != set(shipped_names):
            failures.append("Prometheus loaded %s, the shipped file has %s" % (sorted(loaded), sorted(shipped_names)))
        for name in optional_names:
            if name in loaded:
                failures.append("the optional rule %s is loaded" % name)

        # 1. The healthy fleet (and the STOPPED index 3) is quiet.
        prom.wait_evaluated(deadline, "the fleet at tick 2 reached Prometheus")
        early = prom.alerts()
        if early:
            raise Failure("alerts while the fleet is healthy (STOPPED %s): %s" % (stopped, "; ".join(
                "%s %s %s" % (a["state"], a["labels"].get("alertname"), fmt_labels(a["labels"])) for a in early)))
        mark("quiet: no alert pending or firing")

        # 2. A deployment fails; another one scales up without ready capacity.
        stack.mock_post("tick", n=4)
        stack.mock_post("deployments", set=lagging, status="RUNNING", capacity=4, ready_capacity=2)
        want = stack.wait_exporter_matches_mock("index 5 FAILED and index 4 pinned")
        if want[failed] != "FAILED":
            raise Failure("the mock's index 5 (%s) is %s at tick 6, not FAILED" % (failed, want[failed]))
        triggered = time.monotonic()
        mark("mock at tick 6: %s FAILED, %s RUNNING at 2 of 4; exporter shows it" % (failed, lagging))

        def seen(alertname, deployed_model):
            return [a for _, a in webhook.received() if a["status"] == "firing" and
                    a["labels"].get("alertname") == alertname and a["labels"].get("deployed_model") == deployed_model]

        expected = {("DashscopeDeploymentFailed", failed), ("DashscopeDeploymentCapacityNotReady", lagging)}
        e2e.wait_for(deadline, "DashscopeDeploymentFailed and DashscopeDeploymentCapacityNotReady at the webhook",
                     lambda: all(seen(n, d) for n, d in expected), 60, interval=0.2)
        mark("both alerts received by the webhook, %.1fs after the change" % (time.monotonic() - triggered))

        for name, deployed_model in sorted(expected):
            a = seen(name, deployed_model)[0]
            labels = a["labels"]
            if labels.get("account") != e2e.ACCOUNT:
                failures.append("%s: account=%r, want %r" % (name, labels.get("account"), e2e.ACCOUNT))
            if labels.get("workspace_id") != fleet[ids.index(deployed_model)]["workspace_id"]:
                failures.append("%s: workspace_id=%r, want the mock's" % (name, labels.get("workspace_id")))
            for aggregated_away in ("job", "instance"):
                if aggregated_away in labels:
                    failures.append("%s carries %s=%r; the deployment rules aggregate it away"
                                    % (name, aggregated_away, labels[aggregated_away]))
            for key in ("summary", "description"):
                if "<no value>" in a["annotations"].get(key, "<no value>"):
                    failures.append("%s: annotation %s is missing or has <no value>: %r"
                                    % (name, key, a["annotations"].get(key)))
            if not a["annotations"].get("runbook_url", "").startswith("docs/alerts.md#"):
                failures.append("%s: runbook_url %r" % (name, a["annotations"].get("runbook_url")))
        lag_desc = seen("DashscopeDeploymentCapacityNotReady", lagging)[0]["annotations"].get("description", "")
        if not re.search(r"\b2\b.*\bout of\s+4\b", lag_desc, re.S):
            failures.append("CapacityNotReady's description does not say 2 ready out of 4: %r" % lag_desc)

        # 3. Nothing else: not for the healthy ones, not for the STOPPED one.
        # They have been as they are since Prometheus started, longer than `for:`
        # (as the alerts above prove), so any alert of theirs would be firing now.
        healthy = set(ids) - {failed, lagging}
        for a in prom.alerts():
            labels = a["labels"]
            key = (labels.get("alertname"), labels.get("deployed_model"))
            if key not in expected:
                what = "the STOPPED deployment" if key[1] == stopped else \
                    "a healthy deployment" if key[1] in healthy else "no deployment of this test"
                failures.append("Prometheus has %s %s for %s: %s" % (a["state"], key[0], what, fmt_labels(labels)))
            elif a["state"] != "firing":
                failures.append("%s is %s in Prometheus, not firing" % (key, a["state"]))
        for _, a in webhook.received():
            key = (a["labels"].get("alertname"), a["labels"].get("deployed_model"))
            if key not in expected:
                failures.append("the webhook received an unexpected alert: %s %s %s"
                                % (a["status"], key[0], fmt_labels(a["labels"])))
        for r in prom.rules():
            if r.get("health") != "ok":
                failures.append("rule %s: health %s: %s" % (r["name"], r.get("health"), r.get("lastError")))
        mark("Prometheus: only the two expected alerts; healthy and STOPPED deployments quiet")

        # 4. Every dashboard query returns data. One API error (retried, so
        # the poll still succeeds) gives "API errors by code" a series.
        stack.mock_post("faults", kind="http", status=500, code="InternalError", message="e2e", times=1)
        e2e.wait_for(deadline, "dashscope_api_errors_total in Prometheus",
                     lambda: prom.query("count_over_time(dashscope_api_errors_total[1m]) >= 2"), 20)
        with open(os.path.join(root, DASHBOARD)) as f:
            queries = dashboard_queries(json.load(f))
        empty = []
        for title, ref, expr in queries:
            result = prom.query(expr)
            print("  dashboard %-32s %s: %d series" % (repr(title), ref, len(result)))
            if not result:
                empty.append((title, ref, expr))
        for title, ref, expr in empty:
            failures.append("dashboard panel %r query %s returns no data: %s" % (title, ref, expr))
        mark("%d dashboard queries run, %d without data" % (len(queries), len(empty)))

    finally:
        webhook.close()
        print("alerts received by the webhook (%d notifications):" % webhook.posts)
        for t, a in webhook.received():
            print("  [%5.1fs] %-8s %s %s" % (t - deadline.start, a["status"], a["labels"].get("alertname"),
                                            fmt_labels(a["labels"])))

    return e2e.verdict(failures, deadline)


if __name__ == "__main__":
    e2e.run_driver(main, __doc__, 6, lambda args: e2e.dump_logs(
        args[5], ("mock", "exporter", "alertmanager", "prometheus"),
        os.path.join(args[1], "e2e-artifacts", "alerting")))
