"""Checks the objects rendered by `kubectl kustomize deploy/kubernetes`.
Usage: check_kustomize.py REPO_ROOT BASE.yaml OPTIONAL.yaml WORKDIR

Writes WORKDIR/rendered.rules.json and WORKDIR/rendered.optional.rules.json
(the PrometheusRule specs as rendered; JSON is YAML, so promtool reads them)."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "container"))
import contract  # noqa: E402
import strict_yaml  # noqa: E402
import run_settings  # noqa: E402  (how tests/container ran the image)

errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


def dig(obj, *path, default=None):
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def by_kind(docs):
    out = {}
    for d in docs:
        if d is None:
            continue
        out.setdefault(d.get("kind"), []).append(d)
    return out


def one(objs, kind):
    found = objs.get(kind, [])
    check(len(found) == 1, "expected exactly one %s, found %d" % (kind, len(found)))
    return found[0] if found else {}


def check_deployment(dep, cm, objs):
    spec = dig(dep, "spec", default={})
    pod = dig(spec, "template", "spec", default={})
    pod_labels = dig(spec, "template", "metadata", "labels", default={})
    check(spec.get("replicas") == 1,
          "Deployment replicas must be 1: each replica polls the API on its own")
    check(dig(spec, "selector", "matchLabels", default={}).items() <= pod_labels.items(),
          "Deployment selector does not match its pod labels")
    psc = pod.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot must be true")
    check(isinstance(psc.get("runAsUser"), int) and psc.get("runAsUser") > 0,
          "pod securityContext.runAsUser must be a non-zero uid")
    check(pod.get("automountServiceAccountToken") is False,
          "pod must not mount a service account token (the exporter uses no Kubernetes API)")
    containers = pod.get("containers") or []
    if not check(len(containers) == 1, "expected one container, found %d" % len(containers)):
        return
    c = containers[0]
    csc = c.get("securityContext") or {}
    check(csc.get("allowPrivilegeEscalation") is False, "container allowPrivilegeEscalation must be false")
    check(csc.get("readOnlyRootFilesystem") is True, "container readOnlyRootFilesystem must be true")
    check(dig(csc, "capabilities", "drop") == ["ALL"], "container capabilities.drop must be [ALL]")
    check((csc.get("runAsNonRoot") is True) or (psc.get("runAsNonRoot") is True), "runAsNonRoot")
    seccomp = dig(csc, "seccompProfile", "type") or dig(psc, "seccompProfile", "type")
    check(seccomp == "RuntimeDefault", "seccompProfile must be RuntimeDefault, got %r" % seccomp)
    check(dig(csc, "privileged") in (None, False), "container must not be privileged")

    image = c.get("image", "")
    check(re.match(r"^[^:@]+(:[^:]+|@sha256:[0-9a-f]{64})$", image or "") is not None
          and not image.endswith(":latest"),
          "container image %r must carry a pinned tag or digest" % image)
    # What tests/container built and ran: the image, its uid and gid.
    check(image == run_settings.IMAGE,
          "container image %r is not the image tests/container runs (%s); overlays set a registry's"
          % (image, run_settings.IMAGE))
    check(psc.get("fsGroup") == run_settings.GID,
          "pod securityContext.fsGroup is %r: a Secret mounted for api_key_file must be readable by gid %d"
          % (psc.get("fsGroup"), run_settings.GID))
    for field, want in (("runAsUser", run_settings.UID), ("runAsGroup", run_settings.GID)):
        got = csc.get(field, psc.get(field))
        check(got == want, "securityContext.%s is %r, the image's user is %d" % (field, got, want))
    for probe, path in (("livenessProbe", run_settings.LIVENESS_PATH), ("readinessProbe", run_settings.READINESS_PATH)):
        check(dig(c, probe, "httpGet", "path") == path, "%s must ask %s as tested" % (probe, path))

    ports = {p.get("name"): p for p in c.get("ports") or []}
    check(dig(ports, "http-metrics", "containerPort") == contract.PORT,
          "container port http-metrics must be %d" % contract.PORT)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        got = dig(c, probe, "httpGet", "path")
        check(got == path, "%s path must be %s, got %r" % (probe, path, got))
        port = dig(c, probe, "httpGet", "port")
        check(port in ("http-metrics", contract.PORT), "%s port must be http-metrics, got %r" % (probe, port))
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            check(dig(c, "resources", kind, res) is not None, "resources.%s.%s missing" % (kind, res))

    args = c.get("args") or []
    for a in args + (c.get("command") or [])[1:]:
        if a.startswith("--"):
            check(a.split("=", 1)[0] in contract.FLAGS, "flag %s is not in the contract" % a)
    secret_envs = {}
    for e in c.get("env") or []:
        ref = dig(e, "valueFrom", "secretKeyRef")
        if ref:
            secret_envs[e["name"]] = ref
            check(ref.get("name") and ref.get("key"), "env %s: secretKeyRef needs name and key" % e["name"])
        elif "KEY" in e.get("name", "").upper():
            check(False, "env %s carries a literal value: keys come from a Secret" % e.get("name"))
    check("DASHSCOPE_API_KEY" in secret_envs, "env DASHSCOPE_API_KEY must come from a Secret (secretKeyRef)")
    check(not objs.get("Secret"), "the base must not ship a Secret: the key never lives in the repository")

    # Config: mounted from the generated ConfigMap, named by --config.file.
    cm_name = dig(cm, "metadata", "name", default="")
    check(re.match(r"^dashscope-exporter-config-[a-z0-9]{10}$", cm_name) is not None,
          "ConfigMap should be generated with a content hash, got %r" % cm_name)
    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts = {m.get("name"): m for m in c.get("volumeMounts") or []}
    cfg_vol = [n for n, v in vols.items() if dig(v, "configMap", "name") == cm_name]
    if check(len(cfg_vol) == 1, "no volume refers to ConfigMap %s" % cm_name):
        mount = mounts.get(cfg_vol[0])
        if check(mount is not None, "config volume is not mounted"):
            check(mount.get("readOnly") is True, "config volume must be mounted readOnly")
            cfg_flags = [a for a in args if a.startswith("--config.file=")]
            if check(len(cfg_flags) == 1, "container args need one --config.file="):
                path = cfg_flags[0].split("=", 1)[1]
                key = os.path.basename(path)
                check(os.path.dirname(path) == mount.get("mountPath").rstrip("/"),
                      "--config.file %s is not under the config mount %s" % (path, mount.get("mountPath")))
                data = dig(cm, "data", key)
                if check(data is not None, "ConfigMap has no key %s" % key):
                    config = strict_yaml.load(data)
                    for acc in config.get("accounts") or []:
                        check("api_key" not in acc, "account %s has an inline api_key" % acc.get("name"))
                        env = acc.get("api_key_env")
                        check(env in secret_envs, "account %s: api_key_env %r is not set from a Secret"
                              % (acc.get("name"), env))
                    check(not re.search(r"\bsk-[A-Za-z0-9]", data), "the ConfigMap contains something like a key")
    return pod_labels


def check_service(svc, pod_labels):
    spec = svc.get("spec") or {}
    check(spec.get("selector") and spec["selector"].items() <= pod_labels.items(),
          "Service selector %r does not select the pod labels" % spec.get("selector"))
    ports = {p.get("name"): p for p in spec.get("ports") or []}
    p = ports.get("http-metrics")
    if check(p is not None, "Service needs a port named http-metrics"):
        check(p.get("port") == contract.PORT, "Service port http-metrics must be %d" % contract.PORT)
        check(p.get("targetPort") in ("http-metrics", contract.PORT), "Service targetPort")


def check_servicemonitor(sm, svc):
    check(sm.get("apiVersion") == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
    sel = dig(sm, "spec", "selector", "matchLabels", default={})
    svc_labels = dig(svc, "metadata", "labels", default={})
    check(sel and sel.items() <= svc_labels.items(), "ServiceMonitor selector does not match the Service labels")
    eps = dig(sm, "spec", "endpoints", default=[])
    if check(len(eps) == 1, "ServiceMonitor needs one endpoint"):
        ep = eps[0]
        check(ep.get("port") == "http-metrics", "ServiceMonitor endpoint port must be http-metrics")
        check(ep.get("path", "/metrics") == "/metrics", "ServiceMonitor path must be /metrics")
        job = [r for r in ep.get("relabelings") or []
               if r.get("targetLabel") == "job" and r.get("replacement") == "dashscope_exporter"]
        check(len(job) == 1, "ServiceMonitor must set job=dashscope_exporter (the rules select on it)")


def check_rule(pr, rules_file, out_path):
    check(pr.get("apiVersion") == "monitoring.coreos.com/v1", "PrometheusRule apiVersion")
    with open(rules_file, encoding="utf-8") as f:
        want = strict_yaml.load(f.read())
    got = pr.get("spec")
    if not check(got == want, "PrometheusRule %s spec differs from %s: run deploy/kubernetes/sync-rules.sh"
                 % (dig(pr, "metadata", "name"), rules_file)):
        for gw, gg in zip(want.get("groups", []), (got or {}).get("groups", [])):
            for rw, rg in zip(gw.get("rules", []), gg.get("rules", [])):
                if rw != rg:
                    errors.append("  first difference in rule %s" % rw.get("alert"))
                    break
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(got, f, indent=1)


def main(root, base_path, optional_path, work):
    with open(base_path, encoding="utf-8") as f:
        objs = by_kind(strict_yaml.load_all(f.read()))
    with open(optional_path, encoding="utf-8") as f:
        opt = by_kind(strict_yaml.load_all(f.read()))
    print("rendered kinds:", ", ".join("%s x%d" % (k, len(v)) for k, v in sorted(objs.items())))
    want = {"ServiceAccount", "ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"}
    check(want <= set(objs), "missing kinds: %s" % sorted(want - set(objs)))
    dep, cm, svc = one(objs, "Deployment"), one(objs, "ConfigMap"), one(objs, "Service")
    sa = one(objs, "ServiceAccount")
    check(sa.get("automountServiceAccountToken") is False, "ServiceAccount should not automount tokens")
    check(dig(dep, "spec", "template", "spec", "serviceAccountName") == dig(sa, "metadata", "name"),
          "the pod does not use the ServiceAccount")
    pod_labels = check_deployment(dep, cm, objs) or {}
    check_service(svc, pod_labels)
    check_servicemonitor(one(objs, "ServiceMonitor"), svc)
    check_rule(one(objs, "PrometheusRule"),
               os.path.join(root, "deploy/prometheus/dashscope_exporter.rules.yml"),
               os.path.join(work, "rendered.rules.json"))
    check(set(opt) == {"PrometheusRule"}, "optional-rules renders only a PrometheusRule, got %s" % sorted(opt))
    check_rule(one(opt, "PrometheusRule"),
               os.path.join(root, "deploy/prometheus/dashscope_exporter.optional.rules.yml"),
               os.path.join(work, "rendered.optional.rules.json"))
    names = [dig(o, "metadata", "name") for o in objs.get("PrometheusRule", []) + opt.get("PrometheusRule", [])]
    check(len(set(names)) == len(names), "PrometheusRule names collide: %s" % names)

    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        return 1
    print("kustomize output checked: probes, security context, Secret env, config, Service, "
          "ServiceMonitor, PrometheusRule == rules files")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
