"""Hygiene of the alert rules: names, severity, annotations, runbook
sections in docs/alerts.md, contract metric and label names.
Usage: check_rules_meta.py REPO_ROOT"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402
import strict_yaml  # noqa: E402

REQUIRED_DEFAULT = {
    "DashscopeDeploymentFailed", "DashscopeDeploymentStuck",
    "DashscopeDeploymentCapacityNotReady", "DashscopeDeploymentVanished",
    "DashscopeExporterPollFailing", "DashscopeExporterDataStale",
    "DashscopeExporterDown", "DashscopeApiThrottled", "DashscopeApiAuthErrors",
    "DashscopeDeploymentFlapping", "DashscopeDeploymentPrepaidExpiring",
}
REQUIRED_OPTIONAL = {"DashscopeDeploymentStopped"}
SEVERITIES = {"critical", "warning", "info"}

errors = []


def err(msg):
    errors.append(msg)


def github_slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def rules_of(path):
    doc = strict_yaml.load_file(path)
    out = []
    for group in doc["groups"]:
        if not re.match(r"^[a-z][a-z0-9_]*$", group["name"]):
            err("%s: group name %r is not snake_case" % (path, group["name"]))
        for rule in group["rules"]:
            out.append(rule)
    return out


def main(root):
    default = rules_of(os.path.join(root, "deploy/prometheus/dashscope_exporter.rules.yml"))
    optional = rules_of(os.path.join(root, "deploy/prometheus/dashscope_exporter.optional.rules.yml"))
    with open(os.path.join(root, "docs/alerts.md"), encoding="utf-8") as f:
        alerts_md = f.read()
    anchors = {github_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", alerts_md, re.M)}

    names_default = {r.get("alert") for r in default}
    names_optional = {r.get("alert") for r in optional}
    for missing in sorted(REQUIRED_DEFAULT - names_default):
        err("default rules lack alert %s" % missing)
    for missing in sorted(REQUIRED_OPTIONAL - names_optional):
        err("optional rules lack alert %s" % missing)
    if names_default & names_optional:
        err("alerts in both files: %s" % sorted(names_default & names_optional))

    for where, rules in (("default", default), ("optional", optional)):
        seen = set()
        for rule in rules:
            name = rule.get("alert")
            if not name:
                err("%s: recording rule %r: only alerts are expected" % (where, rule.get("record")))
                continue
            # One alert name may come in severity tiers (warning, then
            # critical), never twice with the same severity.
            tier = (name, (rule.get("labels") or {}).get("severity"))
            if tier in seen:
                err("%s: duplicate alert %s" % (where, name))
            seen.add(tier)
            if not re.match(r"^Dashscope[A-Z][A-Za-z]+$", name):
                err("%s: alert name %s does not follow DashscopeXxx" % (where, name))
            expr = rule.get("expr", "")
            labels = rule.get("labels") or {}
            ann = rule.get("annotations") or {}
            if labels.get("severity") not in SEVERITIES:
                err("%s: severity %r not in %s" % (name, labels.get("severity"), sorted(SEVERITIES)))
            if "for" not in rule:
                err("%s: no `for:`, a single bad scrape would page" % name)
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    err("%s: annotation %s missing" % (name, key))
            want_url = "docs/alerts.md#" + name.lower()
            if ann.get("runbook_url") != want_url:
                err("%s: runbook_url %r, want %r" % (name, ann.get("runbook_url"), want_url))
            if name.lower() not in anchors:
                err("%s: docs/alerts.md has no section heading %r" % (name, name))
            text = ann.get("summary", "") + " " + ann.get("description", "")
            if "dashscope_deployment_" in expr:
                for needed in ("$labels.deployed_model", "$labels.account"):
                    for key in ("summary", "description"):
                        if needed not in ann.get(key, ""):
                            err("%s: %s does not name %s" % (name, key, needed))
                if "by (account, workspace_id, deployed_model" not in expr:
                    err("%s: deployment alerts aggregate by (account, workspace_id, deployed_model...)" % name)
            elif (contract.metric_names(expr) & contract.ACCOUNT_METRICS
                  and "$labels.account" not in text):
                err("%s: account-level alert does not name $labels.account" % name)
            for problem in contract.unknown_names(expr):
                err("%s: expr: %s" % (name, problem))
            for key, value in ann.items():
                for query in contract.template_queries(value):
                    for problem in contract.unknown_names(query):
                        err("%s: annotation %s: query: %s" % (name, key, problem))
            if where == "default" and "STOPPED" in expr:
                err("%s: default rules must not alert on STOPPED (deliberate, not billed)" % name)

    # Every alert is unit-tested both firing and not firing.
    here = os.path.dirname(os.path.abspath(__file__))
    for test_file, names in (("rules_test.yml", names_default), ("optional_rules_test.yml", names_optional)):
        fires, quiet = set(), set()
        for case in strict_yaml.load_file(os.path.join(here, test_file)).get("tests", []):
            for t in case.get("alert_rule_test") or []:
                (fires if t.get("exp_alerts") else quiet).add(t.get("alertname"))
        for name in sorted(names - fires):
            err("%s: no test in %s where it fires" % (name, test_file))
        for name in sorted(names - quiet):
            err("%s: no test in %s where it stays quiet" % (name, test_file))

    for rule in optional:
        if (rule.get("labels") or {}).get("severity") == "critical":
            err("%s: opt-in rules should not page (severity critical)" % rule.get("alert"))
    if "dashscope_exporter.optional.rules.yml" not in alerts_md:
        err("docs/alerts.md does not say how to opt in to dashscope_exporter.optional.rules.yml")

    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        return 1
    print("%d default and %d optional alerts checked" % (len(default), len(optional)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
