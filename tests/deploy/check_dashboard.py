"""Checks grafana/dashboards/dashscope_deployments.json and the provisioning
files. Usage:
  check_dashboard.py REPO_ROOT                     structure and names
  check_dashboard.py REPO_ROOT --emit-promql DIR   also write DIR/dashboard.rules.yml
      (every expression as a recording rule, for `promtool check rules`) and
      DIR/dashboard_test.yml (the status encodings evaluated on sample data)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402
import strict_yaml  # noqa: E402

DASHBOARD = "grafana/dashboards/dashscope_deployments.json"
DS_VAR = "${datasource}"
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


def walk(obj, path="$"):
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, "%s.%s" % (path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, "%s[%d]" % (path, i))


def uses_ds_var(ds):
    return isinstance(ds, dict) and ds.get("uid") == DS_VAR and ds.get("type") in (None, "prometheus")


def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        for inner in p.get("panels", []) or []:
            yield inner


def check_variables(dash):
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if check(ds is not None, "no `datasource` template variable"):
        check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
              "the datasource variable must be type datasource, query prometheus")
    for name, label in (("account", "account"), ("workspace", "workspace_id"), ("deployment", "deployed_model")):
        v = variables.get(name)
        if not check(v is not None, "no `%s` template variable" % name):
            continue
        check(v.get("type") == "query", "$%s must be a query variable" % name)
        check(v.get("multi") is True and v.get("includeAll") is True, "$%s must allow multi and All" % name)
        check(v.get("allValue") == ".*", "$%s allValue should be .* (regex matchers)" % name)
        check(uses_ds_var(v.get("datasource")), "$%s does not use the datasource variable" % name)
        query = v.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = re.match(r"^label_values\((.*),\s*([a-z_]+)\)$", query or "")
        if check(m is not None, "$%s query should be label_values(...), got %r" % (name, query)):
            check(m.group(2) == label, "$%s takes values of %s, not %s" % (name, label, m.group(2)))
            for problem in contract.unknown_names(m.group(1)):
                check(False, "$%s query: %s" % (name, problem))
    return variables


def check_layout(panels):
    cells = {}
    for p in panels:
        g = p.get("gridPos") or {}
        if not check(all(k in g for k in "xywh"), "panel %r has no full gridPos" % p.get("title")):
            continue
        check(g["x"] + g["w"] <= 24, "panel %r is wider than the grid" % p.get("title"))
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                other = cells.get((x, y))
                if other is not None:
                    check(False, "panels %r and %r overlap" % (other, p.get("title")))
                    return
                cells[(x, y)] = p.get("title")


def mapping_texts(mappings):
    out = {}
    for m in mappings or []:
        if m.get("type") == "value":
            for value, res in (m.get("options") or {}).items():
                out[value] = res.get("text")
    return out


def check_panels(dash):
    panels = list(all_panels(dash))
    ids = [p.get("id") for p in panels]
    check(len(ids) == len(set(ids)) and None not in ids, "panel ids must be unique: %s" % ids)
    check_layout([p for p in dash.get("panels", [])])
    exprs = []
    by_type = {}
    for p in panels:
        title = p.get("title")
        if p.get("type") == "row":
            continue
        by_type.setdefault(p.get("type"), []).append(p)
        check(bool(p.get("description")), "panel %r has no description" % title)
        check(uses_ds_var(p.get("datasource")), "panel %r does not use the datasource variable" % title)
        targets = p.get("targets") or []
        check(targets, "panel %r has no targets" % title)
        refs = [t.get("refId") for t in targets]
        check(len(refs) == len(set(refs)), "panel %r has duplicate refIds" % title)
        for t in targets:
            where = "panel %r target %s" % (title, t.get("refId"))
            check(uses_ds_var(t.get("datasource")), "%s does not use the datasource variable" % where)
            expr = t.get("expr", "")
            if not check(expr.strip(), "%s has no expr" % where):
                continue
            exprs.append((p, t, expr))
            for problem in contract.unknown_names(expr):
                check(False, "%s: %s" % (where, problem))
            names = contract.metric_names(expr)
            if names & contract.DEPLOYMENT_METRICS:
                for var, label in (("$account", "account"), ("$workspace", "workspace_id"),
                                   ("$deployment", "deployed_model")):
                    check('%s=~"%s"' % (label, var) in expr, "%s does not filter %s=~\"%s\"" % (where, label, var))
            elif names & contract.ACCOUNT_METRICS:
                check('account=~"$account"' in expr, "%s does not filter account=~\"$account\"" % where)
            if "rate(" in expr:
                check("[$__rate_interval]" in expr, "%s: use [$__rate_interval] in rate()" % where)
    return panels, by_type, exprs


def find(exprs, panel_types, pattern):
    rx = re.compile(pattern, re.S)
    return [(p, t, e) for p, t, e in exprs if p.get("type") in panel_types and rx.search(e)]


def check_required(by_type, exprs):
    check(find(exprs, ("stat", "bargauge"), r"by \(status\) \(dashscope_deployment_status"),
          "no stat/bar gauge of deployments by status")
    timelines = find(exprs, ("state-timeline",), r"dashscope_deployment_status")
    if check(timelines, "no state-timeline of deployment status"):
        p, _, expr = timelines[0]
        codes = dict(re.findall(r'status="([A-Z]+)"[^)]*== 1\) \* (\d+)', expr))
        check(set(codes) == set(contract.STATUSES), "timeline encodes statuses %s" % sorted(codes))
        texts = mapping_texts(p.get("fieldConfig", {}).get("defaults", {}).get("mappings"))
        for status, code in codes.items():
            check(texts.get(code) == status, "timeline maps %s to %r, the query encodes %s as %s"
                  % (code, texts.get(code), status, code))
    check(find(exprs, ("timeseries",), r"dashscope_deployment_capacity\{")
          and find(exprs, ("timeseries",), r"dashscope_deployment_ready_capacity\{"),
          "no timeseries of capacity and ready capacity")
    tables = by_type.get("table", [])
    if check(tables, "no table of deployments"):
        table = tables[0]
        texprs = " ".join(t.get("expr", "") for t in table.get("targets", []))
        for needed in ("dashscope_deployment_status", "dashscope_deployment_capacity",
                       "dashscope_deployment_ready_capacity", "dashscope_deployment_info",
                       "time() - max by (account, workspace_id, deployed_model) (dashscope_deployment_created_timestamp_seconds"):
            check(needed in texprs, "the table lacks %s" % needed)
        for t in table.get("targets", []):
            check(t.get("instant") is True and t.get("format") == "table",
                  "table target %s should be an instant query in table format" % t.get("refId"))
        status_maps = [o for o in table.get("fieldConfig", {}).get("overrides", [])
                       if o.get("matcher", {}).get("options") == "status"]
        texts = {}
        for o in status_maps:
            for prop in o.get("properties", []):
                if prop.get("id") == "mappings":
                    texts = mapping_texts(prop.get("value"))
        check(set(texts) == set(contract.STATUSES), "table status colours cover %s" % sorted(texts))
    check(find(exprs, ("timeseries",), r"rate\(dashscope_api_errors_total\{.*\by \(account, code\)|"
                                       r"by \(account, code\) \(rate\(dashscope_api_errors_total"),
          "no timeseries of API errors by code")
    check(find(exprs, ("timeseries",), r"histogram_quantile\(.*dashscope_api_request_duration_seconds_bucket"),
          "no latency timeseries from the histogram")
    check(find(exprs, ("timeseries",), r"dashscope_poll_duration_seconds"), "no poll duration timeseries")
    # Second release: time in status, prepaid expiries, PTU capacity beside ready capacity.
    check(find(exprs, ("bargauge", "table", "stat"),
               r"time\(\) - max by \([^)]*\) \(dashscope_deployment_status_changed_timestamp_seconds"),
          "no time-in-status panel")
    check(find(exprs, ("bargauge", "table", "stat"), r"dashscope_deployment_prepaid_expiry_timestamp_seconds\{.*- time\(\)"),
          "no upcoming prepaid expiries panel")
    ptu = find(exprs, ("timeseries",), r"dashscope_deployment_ptu_input_tpm\{")
    check(ptu and any("dashscope_deployment_ready_capacity{" in t.get("expr", "")
                      for t in ptu[0][0].get("targets", [])),
          "no timeseries of PTU capacity next to ready capacity")
    check(find(exprs, ("timeseries", "stat"), r"time\(\) - .*dashscope_last_successful_poll_timestamp_seconds"),
          "no data age panel")


def check_provisioning(root):
    ds = strict_yaml.load_file(os.path.join(root, "grafana/provisioning/datasources/prometheus.yml"))
    check(ds.get("apiVersion") == 1, "datasource provisioning apiVersion must be 1")
    sources = ds.get("datasources") or []
    check(len(sources) == 1 and sources[0].get("type") == "prometheus", "one prometheus datasource")
    prov = strict_yaml.load_file(os.path.join(root, "grafana/provisioning/dashboards/dashscope.yml"))
    check(prov.get("apiVersion") == 1, "dashboard provisioning apiVersion must be 1")
    providers = prov.get("providers") or []
    check(len(providers) == 1 and providers[0].get("type") == "file"
          and (providers[0].get("options") or {}).get("path"), "one file provider with a path")


def substitute(expr):
    return (expr.replace("$__rate_interval", "2m").replace("$account", ".*")
            .replace("$workspace", ".*").replace("$deployment", ".*"))


def emit_promql(exprs, timeline_expr, bars_expr, work):
    rules = []
    for p, t, expr in exprs:
        rules.append({"record": "dashboard:panel%d_%s" % (p["id"], t["refId"].lower()),
                      "expr": substitute(expr)})
    with open(os.path.join(work, "dashboard.rules.yml"), "w", encoding="utf-8") as f:
        json.dump({"groups": [{"name": "dashboard_expressions", "rules": rules}]}, f, indent=1)

    # One deployment per status, each with all seven status series.
    series = []
    for i, current in enumerate(contract.STATUSES):
        for status in contract.STATUSES:
            series.append({
                "series": 'dashscope_deployment_status{account="intl",workspace_id="llm-ws1",'
                          'deployed_model="d-%s",status="%s"}' % (current.lower(), status),
                "values": "%dx10" % (1 if status == current else 0)})
    codes = dict((s, int(c)) for s, c in re.findall(r'status="([A-Z]+)"[^)]*== 1\) \* (\d+)', timeline_expr))
    test = {
        "rule_files": ["dashboard.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                {"expr": substitute(timeline_expr), "eval_time": "5m",
                 "exp_samples": [{"labels": '{account="intl",deployed_model="d-%s"}' % s.lower(),
                                  "value": codes[s]} for s in contract.STATUSES]},
                {"expr": substitute(bars_expr), "eval_time": "5m",
                 "exp_samples": [{"labels": '{status="%s"}' % s, "value": 1} for s in contract.STATUSES]},
            ],
        }],
    }
    with open(os.path.join(work, "dashboard_test.yml"), "w", encoding="utf-8") as f:
        json.dump(test, f, indent=1)


def main(argv):
    root = argv[1]
    with open(os.path.join(root, DASHBOARD), encoding="utf-8") as f:
        dash = json.load(f)
    check(isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 36,
          "schemaVersion must be >= 36, got %r" % dash.get("schemaVersion"))
    check(dash.get("uid") and dash.get("title"), "dashboard needs a uid and a title")
    check(dash.get("id") is None, "a provisioned dashboard must not carry a database id")
    for path, node in walk(dash):
        if isinstance(node, dict) and "datasource" in node:
            ds = node["datasource"]
            builtin = isinstance(ds, dict) and ds.get("uid") == "-- Grafana --"
            check(uses_ds_var(ds) or builtin or (path.endswith("templating.list[0]") and ds is None),
                  "%s.datasource is %r: use the datasource variable" % (path, ds))
    check_variables(dash)
    panels, by_type, exprs = check_panels(dash)
    check_required(by_type, exprs)
    check_provisioning(root)
    if len(argv) > 3 and argv[2] == "--emit-promql":
        timelines = find(exprs, ("state-timeline",), r"dashscope_deployment_status")
        bars = find(exprs, ("stat", "bargauge"), r"by \(status\) \(dashscope_deployment_status")
        if timelines and bars and not errors:
            emit_promql(exprs, timelines[0][2], bars[0][2], argv[3])
    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        return 1
    print("dashboard checked: %d panels, %d expressions, schemaVersion %s"
          % (len(panels), len(exprs), dash.get("schemaVersion")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
