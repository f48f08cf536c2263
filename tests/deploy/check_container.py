"""Checks deploy/docker/Dockerfile and deploy/docker-compose.yml without a
Docker engine, and runs the image's HEALTHCHECK command against a local
HTTP server. Usage: check_container.py REPO_ROOT WORKDIR"""

import http.server
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "container"))
import contract  # noqa: E402
import strict_yaml  # noqa: E402
import run_settings  # noqa: E402  (how tests/container ran the image)

BUILD_PACKAGES = {"cmake", "g++", "make", "pkg-config", "prometheus-cpp-dev", "libcpp-httplib-dev",
                  "rapidjson-dev", "libyaml-cpp-dev", "libssl-dev", "zlib1g-dev", "libcrypt-dev"}
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


# ------------------------------------------------------------------ Dockerfile
def instructions(text):
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    out = []
    current = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if not current and (stripped.startswith("#") or not stripped):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def stages(instrs):
    args = {}
    result = []
    for word, rest in instrs:
        if word == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif word == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), rest.split()[0])
            m = re.search(r"\bAS\s+(\S+)", rest, re.I)
            result.append({"image": image, "name": m.group(1) if m else None, "instrs": []})
        elif result:
            result[-1]["instrs"].append((word, rest))
    return result


def apt_packages(stage):
    pkgs = set()
    for word, rest in stage["instrs"]:
        if word != "RUN":
            continue
        for m in re.finditer(r"apt-get install([^&;]*)", rest):
            pkgs.update(t for t in m.group(1).split() if not t.startswith("-"))
    return pkgs


def exec_form(rest, where):
    try:
        value = json.loads(rest)
    except ValueError:
        check(False, "%s must use the JSON exec form (a shell form would be silently different): %r"
              % (where, rest))
        return []
    check(isinstance(value, list) and all(isinstance(v, str) for v in value), "%s exec form" % where)
    return value


class _Health(http.server.BaseHTTPRequestHandler):
    code = 200

    def do_GET(self):  # noqa: N802
        code = self.code if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def run_healthcheck(argv, work):
    """The HEALTHCHECK command against 200, 503 and a closed port."""
    def attempt(port):
        env = dict(os.environ, HEALTHCHECK_PORT=str(port))
        return subprocess.run(argv, env=env, cwd=work, timeout=20,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    for code, want_ok in ((200, True), (503, False)):
        handler = type("H%d" % code, (_Health,), {"code": code})
        server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            rc = attempt(server.server_address[1])
        finally:
            server.shutdown()
            server.server_close()
        check((rc == 0) == want_ok, "HEALTHCHECK with /healthz answering %d exited %d" % (code, rc))
        print("HEALTHCHECK against /healthz %d: exit %d" % (code, rc))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed_port = s.getsockname()[1]
    s.close()
    rc = attempt(closed_port)
    check(rc != 0, "HEALTHCHECK against a closed port exited 0")
    print("HEALTHCHECK against a closed port: exit %d" % rc)


def check_dockerfile(root, work):
    path = os.path.join(root, "deploy/docker/Dockerfile")
    with open(path, encoding="utf-8") as f:
        st = stages(instructions(f.read()))
    if not check(len(st) >= 2, "Dockerfile needs a build and a runtime stage"):
        return
    build, runtime = st[0], st[-1]
    check(build["image"] == "debian:12", "build stage must be FROM debian:12, got %s" % build["image"])
    check(runtime["image"] == "debian:12-slim", "runtime stage must be FROM debian:12-slim, got %s"
          % runtime["image"])
    # The build stage installs scripts/install-deps.sh's `build` list, which
    # must hold what the build needs.
    build_runs = " ".join(r for w, r in build["instrs"] if w == "RUN")
    check(any(w == "COPY" and r.split()[0] == "scripts/install-deps.sh" for w, r in build["instrs"]),
          "build stage must COPY scripts/install-deps.sh")
    check(re.search(r"\binstall-deps\.sh build\b", build_runs) is not None,
          "build stage must RUN install-deps.sh build")
    with open(os.path.join(root, "scripts/install-deps.sh"), encoding="utf-8") as f:
        m = re.search(r"^build_pkgs=\(([^)]*)\)", f.read(), re.M)
    listed = set(m.group(1).split()) if m else set()
    missing = BUILD_PACKAGES - listed
    check(not missing, "scripts/install-deps.sh build_pkgs lacks %s" % sorted(missing))
    check("-DDSE_BUILD_TESTS=OFF" in build_runs, "build stage must configure with -DDSE_BUILD_TESTS=OFF")
    rt_pkgs = apt_packages(runtime)
    dev = sorted(p for p in rt_pkgs if p.endswith("-dev") or p in ("g++", "cmake", "make", "curl", "wget"))
    check(not dev, "runtime stage installs build tools or dev packages: %s" % dev)
    check("ca-certificates" in rt_pkgs, "runtime stage needs ca-certificates for https")

    rt = {}
    for word, rest in runtime["instrs"]:
        rt.setdefault(word, []).append(rest)
    copied = [r.split()[-2] for stage in st for w, r in stage["instrs"]
              if w == "COPY" and not r.startswith("--from")]
    for src in copied:
        check(os.path.exists(os.path.join(root, src)), "COPY source %s does not exist" % src)
    user = (rt.get("USER") or [""])[-1]
    uid = user.split(":")[0]
    check(uid.isdigit() and int(uid) != 0, "runtime USER must be a numeric non-root uid, got %r" % user)
    check(str(contract.PORT) in " ".join(rt.get("EXPOSE", [])), "EXPOSE %d" % contract.PORT)
    entry = exec_form((rt.get("ENTRYPOINT") or ["[]"])[-1], "ENTRYPOINT")
    check(entry == ["/usr/local/bin/dashscope_exporter"], "ENTRYPOINT must be the exporter, got %r" % entry)
    for flag in exec_form((rt.get("CMD") or ["[]"])[-1], "CMD"):
        check(flag.split("=", 1)[0] in contract.FLAGS, "CMD flag %s is not in the contract" % flag)
    hc = (rt.get("HEALTHCHECK") or [""])[-1]
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc)
    if check(m is not None, "runtime stage needs HEALTHCHECK ... CMD [exec form]"):
        argv = exec_form(m.group(1), "HEALTHCHECK CMD")
        check("/healthz" in " ".join(argv), "HEALTHCHECK must probe /healthz")
        env_port = [r for r in rt.get("ENV", []) if r.startswith("HEALTHCHECK_PORT=")]
        check(env_port == ["HEALTHCHECK_PORT=%d" % contract.PORT], "ENV HEALTHCHECK_PORT=%d" % contract.PORT)
        if argv and not errors:
            run_healthcheck(argv, work)

    # The contract's default --config.file is relative: WORKDIR makes it the
    # baked-in file when `run IMAGE --check-config` replaces CMD.
    workdir = (rt.get("WORKDIR") or [""])[-1]
    baked = [r.split()[-1] for r in rt.get("COPY", []) if not r.startswith("--from")
             and r.split()[-1].endswith("/dashscope_exporter.yml")]
    check(baked == [workdir.rstrip("/") + "/dashscope_exporter.yml"],
          "runtime WORKDIR %r must hold the baked-in config dashscope_exporter.yml (copied to %s)"
          % (workdir, baked))

    # One ignore file, read by podman/buildah and by BuildKit alike (a
    # Dockerfile.dockerignore would win over it in BuildKit only).
    check(not os.path.exists(os.path.join(root, "deploy/docker/Dockerfile.dockerignore")),
          "deploy/docker/Dockerfile.dockerignore would make BuildKit and podman use different contexts")
    ignore = os.path.join(root, ".dockerignore")
    if check(os.path.exists(ignore), ".dockerignore missing at the repository root"):
        with open(ignore, encoding="utf-8") as f:
            patterns = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        check(patterns[:1] == ["*"], ".dockerignore must exclude everything (*) and let in what COPY needs")
        allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
        for src in copied:
            check(src.rstrip("/") in allowed, ".dockerignore does not let in COPY source %s" % src)
        check(not any(a == "." or a.startswith(("build", ".git")) for a in allowed),
              ".dockerignore lets in build trees or .git")


# -------------------------------------------------------------- compose
def check_compose(root):
    deploy = os.path.join(root, "deploy")
    compose = strict_yaml.load_file(os.path.join(deploy, "docker-compose.yml"))
    services = compose.get("services") or {}
    want = {"mock", "exporter", "prometheus", "alertmanager", "grafana"}
    check(want <= set(services), "compose lacks services %s" % sorted(want - set(services)))

    for name in ("exporter", "mock"):
        b = (services.get(name) or {}).get("build") or {}
        check(b.get("context") == ".." and b.get("dockerfile") == "deploy/docker/Dockerfile",
              "%s must be built from deploy/docker/Dockerfile with the repository as context" % name)
    for name in ("prometheus", "alertmanager", "grafana"):
        image = (services.get(name) or {}).get("image", "")
        check(re.match(r"^[a-z0-9./-]+:[A-Za-z0-9.]+$", image) and not image.endswith(":latest"),
              "%s image %r must be an official image with a pinned tag" % (name, image))

    mounts = {}
    for name, svc in services.items():
        for vol in svc.get("volumes") or []:
            parts = vol.split(":")
            if parts[0].startswith("."):
                src = os.path.normpath(os.path.join(deploy, parts[0]))
                check(os.path.exists(src), "%s mounts %s, which does not exist" % (name, parts[0]))
                mounts.setdefault(name, {})[parts[1]] = src
    prom = mounts.get("prometheus", {})
    rules = os.path.join(deploy, "prometheus/dashscope_exporter.rules.yml")
    check(rules in prom.values(), "prometheus does not mount the alert rules")
    prom_cfg_path = prom.get("/etc/prometheus/prometheus.yml")
    if check(prom_cfg_path is not None, "prometheus does not mount deploy/prometheus/prometheus.yml"):
        cfg = strict_yaml.load_file(prom_cfg_path)
        for rf in cfg.get("rule_files") or []:
            target = os.path.join("/etc/prometheus", rf)
            check(target in prom, "rule file %s is not mounted at %s" % (rf, target))
        jobs = {j.get("job_name"): j for j in cfg.get("scrape_configs") or []}
        job = jobs.get("dashscope_exporter")
        if check(job is not None, "prometheus.yml has no job dashscope_exporter"):
            targets = [t for sc in job.get("static_configs") or [] for t in sc.get("targets") or []]
            check(targets == ["exporter:%d" % contract.PORT], "scrape target should be exporter:%d" % contract.PORT)
        ams = [t for a in (cfg.get("alerting") or {}).get("alertmanagers") or []
               for sc in a.get("static_configs") or [] for t in sc.get("targets") or []]
        check(ams == ["alertmanager:9093"], "prometheus.yml should send alerts to alertmanager:9093")

    graf = mounts.get("grafana", {})
    prov = graf.get("/etc/grafana/provisioning")
    check(prov == os.path.join(root, "grafana/provisioning"), "grafana must mount grafana/provisioning")
    provider = strict_yaml.load_file(os.path.join(root, "grafana/provisioning/dashboards/dashscope.yml"))
    path = ((provider.get("providers") or [{}])[0].get("options") or {}).get("path")
    check(graf.get(path) == os.path.join(root, "grafana/dashboards"),
          "grafana must mount grafana/dashboards at the provider path %s" % path)
    home = ((services.get("grafana") or {}).get("environment") or {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        check(home.startswith(path + "/") and os.path.exists(
              os.path.join(root, "grafana/dashboards", os.path.relpath(home, path))),
              "home dashboard %s is not a mounted dashboard" % home)

    ex = services.get("exporter") or {}
    mock = services.get("mock") or {}
    # The image and the security settings tests/container ran it with.
    for name, svc in (("exporter", ex), ("mock", mock)):
        check(svc.get("image") == run_settings.IMAGE,
              "%s image %r is not the image tests/container builds and runs (%s)"
              % (name, svc.get("image"), run_settings.IMAGE))
        check(svc.get("read_only") is True, "%s must run read_only: true (tested with --read-only)" % name)
        check(svc.get("cap_drop") == ["ALL"], "%s must cap_drop: [ALL] (tested with --cap-drop=ALL)" % name)
        check("no-new-privileges:true" in (svc.get("security_opt") or []),
              "%s must set security_opt no-new-privileges:true (tested with it)" % name)
        check(svc.get("user") in (None, "%d:%d" % (run_settings.UID, run_settings.GID)),
              "%s overrides the image's user %d with %r" % (name, run_settings.UID, svc.get("user")))
    check(not (ex.get("healthcheck") or {}).get("disable"),
          "the exporter must keep the image's HEALTHCHECK (on %s)" % run_settings.LIVENESS_PATH)
    check(mock.get("network_mode") == "service:exporter",
          "the mock binds 127.0.0.1 only: it must share the exporter's network namespace")
    check(mock.get("entrypoint") == ["/usr/local/bin/dashscope_mock"], "mock entrypoint")
    key = (ex.get("environment") or {}).get("DASHSCOPE_API_KEY")
    check(key and key == (mock.get("environment") or {}).get("DASHSCOPE_MOCK_API_KEY"),
          "exporter DASHSCOPE_API_KEY must equal mock DASHSCOPE_MOCK_API_KEY")
    cfg_path = mounts.get("exporter", {}).get("/etc/dashscope_exporter/dashscope_exporter.yml")
    if check(cfg_path is not None, "exporter does not mount its configuration"):
        cfg = strict_yaml.load_file(cfg_path)
        accounts = cfg.get("accounts") or []
        check(len(accounts) == 1 and accounts[0].get("base_url") == "http://127.0.0.1:%d" % contract.MOCK_PORT
              and accounts[0].get("api_key_env") == "DASHSCOPE_API_KEY",
              "the compose config must poll the mock at http://127.0.0.1:%d with DASHSCOPE_API_KEY"
              % contract.MOCK_PORT)
    check(any(str(p).endswith(":%d" % contract.PORT) for p in ex.get("ports") or []),
          "exporter must publish port %d" % contract.PORT)

    # Flags used in the other deployment files are contract flags too.
    unit = open(os.path.join(deploy, "systemd/dashscope_exporter.service"), encoding="utf-8").read()
    exec_start = re.search(r"^ExecStart=(.*?)(?<!\\)$", unit.replace("\\\n", " "), re.M)
    if check(exec_start is not None, "systemd unit has no ExecStart"):
        for word in shlex.split(exec_start.group(1))[1:]:
            check(word.split("=", 1)[0] in contract.FLAGS, "systemd flag %s is not in the contract" % word)


def main(root, work):
    check_dockerfile(root, work)
    check_compose(root)
    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        return 1
    print("Dockerfile and docker-compose.yml checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
