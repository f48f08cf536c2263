"""The image from deploy/docker/Dockerfile, built and run with podman the way
users run it, against dashscope_mock on the host's loopback, and compared with
the native build of the same sources.

Steps (each failure names its step and why; nothing is skipped):
  base images   tests/container/make_base_images.sh (cached between runs)
  build         podman build --format docker with the Dockerfile as shipped
  image         size, user, workdir, HEALTHCHECK; no compiler, no -dev
                packages, no apt lists, docs, man pages or locales
  check-config  the baked-in config by the default path; a bad mounted config
                fails with the native build's message
  run           --read-only, no capabilities, uid 65532; one account's key
                from a mounted api_key_file, one from -e DASHSCOPE_API_KEY;
                /metrics from the host == the native run's deployment lines
  healthcheck   podman healthcheck run
  stop          podman stop exits 0 within 2 s, the exporter exits 0

Usage: container_test.py REPO_ROOT EXPORTER MOCK WORKDIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_settings as rs  # noqa: E402
from stack import free_port, http  # noqa: E402  (tests/pylib)

KEY = "sk-container-test-0123456789"
FLEET = 12
ACCOUNTS = ("from_file", "from_env")
KEY_IN_CONTAINER = "/run/secrets/dashscope_api_key"
CONFIG_IN_CONTAINER = "/etc/dashscope_exporter/dashscope_exporter.yml"
NAME = "dse-container-test-%d" % os.getpid()


class StepFailed(Exception):
    pass


class Step:
    """`with Step("build"):` turns any failure inside into one line naming the step."""
    current = "setup"

    def __init__(self, name):
        self.name = name
        self.started = 0.0

    def __enter__(self):
        Step.current = self.name
        self.started = time.monotonic()
        print("--- step %s" % self.name, flush=True)
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            print("--- step %s: ok (%.1fs)" % (self.name, time.monotonic() - self.started), flush=True)
        return False


def fail(why):
    raise StepFailed("step '%s': %s" % (Step.current, why))


def check(cond, why):
    if not cond:
        fail(why)


def podman(*args, timeout=120, check_rc=True, **kw):
    argv = ["podman"] + rs.PODMAN_GLOBAL + list(args)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        fail("`%s` did not finish within %ds" % (" ".join(argv), timeout))
    # podman's own complaint about systemd, mixed into the container's stderr.
    p.stderr = "".join(line for line in p.stderr.splitlines(True)
                       if not re.match(rs.PODMAN_NO_SYSTEMD_NOISE, line.rstrip("\n")))
    if check_rc and p.returncode != 0:
        fail("`%s` exited %d: %s" % (" ".join(argv), p.returncode, (p.stderr or p.stdout).strip()[-2000:]))
    return p


def podman_quiet(*args):
    """For clean-up and diagnostics: never raises (podman may be the problem)."""
    try:
        return subprocess.run(["podman"] + rs.PODMAN_GLOBAL + list(args), capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None


def wait_for(what, fn, timeout, alive=()):
    """Polls fn until it returns something true; fails the step after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, is_alive in alive:
            if not is_alive():
                fail("%s exited while waiting for %s" % (name, what))
        got = fn()
        if got:
            return got
        time.sleep(0.25)
    fail("timed out after %ds waiting for %s" % (timeout, what))


def deployment_lines(text):
    return [line for line in text.splitlines()
            if line.startswith("dashscope_deployment_") or line.startswith("# HELP dashscope_deployment_")
            or line.startswith("# TYPE dashscope_deployment_")]


def write(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def config_text(mock_url, key_file):
    accounts = ("  - name: %s\n    base_url: %s\n    api_key_file: %s\n"
                "  - name: %s\n    base_url: %s\n    api_key_env: DASHSCOPE_API_KEY\n"
                % (ACCOUNTS[0], mock_url, key_file, ACCOUNTS[1], mock_url))
    return ("poll_interval: 5s\nrequest_timeout: 3s\npage_size: 5\nmax_staleness: 5m\naccounts:\n"
            + accounts)


class Processes:
    """Native processes this test started; all are ended on the way out."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv, env, cwd=None):
        log = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd or self.work,
                             env=dict(os.environ, **env))
        self.procs.append((name, p, log))
        return p

    def log(self, name):
        with open(os.path.join(self.work, name + ".log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop_all(self):
        for _, p, _ in self.procs:
            if p.poll() is None:
                p.terminate()
        for _, p, log in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


def step_preflight():
    with Step("podman"):
        check(os.geteuid() == 0,
              "runs as root only (rootful podman as in issue 11, mmdebstrap into a directory, "
              "chgrp of the mounted key file); this is uid %d" % os.geteuid())
        check(shutil.which("podman") is not None,
              "podman not found (Debian package podman; scripts/install-deps.sh test installs it)")
        info = podman("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}", timeout=60)
        print("podman %s, runtime and storage: %s" % (
            podman("--version").stdout.split()[-1], info.stdout.strip()))


def step_base_images(root):
    with Step("base images"):
        p = subprocess.run(["bash", os.path.join(HERE, "make_base_images.sh")] + rs.PODMAN_GLOBAL,
                           capture_output=True, text=True, timeout=900)
        print(p.stdout.strip())
        if p.returncode != 0:
            fail("make_base_images.sh exited %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[-3000:]))


def step_build(root, work):
    with Step("build"):
        iidfile = os.path.join(work, "image.id")
        log_path = os.path.join(work, "build.log")
        # Lowest priority: the compile shares the machine with the rest of the
        # suite (ctest -j), whose load and timing tests must not feel it.
        argv = (["nice", "-n", "19", "podman"] + rs.PODMAN_GLOBAL +
                ["build", "--format", "docker", "--pull=never", "--iidfile", iidfile]
                + rs.PODMAN_NETWORK + rs.PODMAN_LIMITS + ["-f", "deploy/docker/Dockerfile", "."])
        started = time.monotonic()
        with open(log_path, "w") as log:
            try:
                rc = subprocess.run(argv, cwd=root, stdout=log, stderr=subprocess.STDOUT, timeout=1500).returncode
            except subprocess.TimeoutExpired:
                fail("podman build did not finish within 1500s (log: %s)" % log_path)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            out = f.read()
        if rc != 0:
            fail("`%s` exited %d:\n%s" % (" ".join(argv), rc, "\n".join(out.splitlines()[-40:])))
        cached = out.count("Using cache")
        print("podman build: %.0fs, %d steps from the layer cache" % (time.monotonic() - started, cached))
        with open(iidfile) as f:
            image = f.read().strip()
        # Tag it under the name compose and kustomize use, and drop the image
        # the tag named before unless something still uses it.
        old = podman("image", "inspect", "-f", "{{.Id}}", rs.PODMAN_IMAGE, check_rc=False).stdout.strip()
        podman("tag", image, rs.PODMAN_IMAGE)
        if old and old not in image:
            podman("rmi", old, check_rc=False)
        return image


def step_image(image):
    with Step("image"):
        cfg = json.loads(podman("image", "inspect", image).stdout)[0]
        size = int(cfg["Size"])
        conf = cfg.get("Config") or {}
        print("image %s: %d bytes (%.1f MB)" % (image.split(":")[-1][:12], size, size / 1e6))
        user = "%d:%d" % (rs.UID, rs.GID)
        check(conf.get("User") == user, "USER is %r, want %s" % (conf.get("User"), user))
        check(conf.get("WorkingDir") == os.path.dirname(CONFIG_IN_CONTAINER),
              "WORKDIR is %r: the default relative --config.file would not find %s"
              % (conf.get("WorkingDir"), CONFIG_IN_CONTAINER))
        hc = cfg.get("Healthcheck") or {}
        check(hc.get("Test"), "the image has no HEALTHCHECK (built without --format docker?)")

        listing = podman("run", "--rm", "--network=none", *rs.PODMAN_LIMITS, "--entrypoint", "bash", image, "-c", r"""
            dpkg-query -W -f '${Installed-Size} ${Package}\n' | sort -rn > /tmp/pkgs 2>/dev/null || true
            echo "packages $(wc -l </tmp/pkgs)"; head -n 8 /tmp/pkgs | sed 's/^/pkg /'
            for p in $(cut -d' ' -f2 /tmp/pkgs); do echo "name $p"; done
            for t in cc gcc g++ c++ cpp clang ld as make cmake; do command -v $t | sed 's/^/tool /'; done
            find /var/lib/apt/lists -type f ! -name lock | sed 's/^/apt-list /'
            find /usr/share/doc -type f ! -name copyright | sed 's/^/doc /'
            find /usr/share/man /usr/share/info -type f | sed 's/^/man /'
            find /usr/share/locale -mindepth 1 ! -name locale.alias | sed 's/^/locale /'
            du -sk /usr/local/bin | sed 's/^/binaries /'
            """, timeout=120).stdout.splitlines()
        names = [line.split()[1] for line in listing if line.startswith("name ")]
        # gcc-12-base (libgcc's docs) is in every Debian image; compilers are not.
        compiler = re.compile(r"^((gcc|g\+\+|cpp|clang|llvm)(-[0-9]+)?|binutils.*|cmake|make)$")
        bad = [n for n in names if n.endswith("-dev") or compiler.match(n)]
        check(not bad, "build packages in the runtime image: %s" % bad)
        tools = [line[5:] for line in listing if line.startswith("tool ")]
        check(not tools, "build tools in the runtime image: %s" % tools)
        for kind, what in (("apt-list", "apt lists"), ("doc", "docs other than copyright files"),
                           ("man", "man or info pages"), ("locale", "locales")):
            found = [line.split(" ", 1)[1] for line in listing if line.startswith(kind + " ")]
            check(not found, "%s in the image: %s" % (what, found[:5]))
        for line in listing:
            if line.startswith(("packages ", "pkg ", "binaries ")):
                print(line)
        check(size <= rs.MAX_IMAGE_BYTES, "the image is %.1f MB, over %.0f MB" % (size / 1e6, rs.MAX_IMAGE_BYTES / 1e6))


def step_check_config(image, exporter, work):
    with Step("check-config"):
        # The baked-in config, by the contract's default relative path (no flags).
        p = podman("run", "--rm", "--network=none", *rs.PODMAN_LIMITS, *rs.RUN_FLAGS,
                   "-e", "DASHSCOPE_API_KEY=" + KEY, image, "--check-config", check_rc=False)
        check(p.returncode == 0, "`podman run IMAGE --check-config` exited %d: %s"
              % (p.returncode, (p.stderr + p.stdout).strip()))
        print("baked-in config: %s" % (p.stdout + p.stderr).strip())

        bad_dir = os.path.join(work, "bad")
        os.makedirs(bad_dir)
        bad = os.path.join(bad_dir, os.path.basename(CONFIG_IN_CONTAINER))
        write(bad, "poll_interval: 60s\nrequest_timeout: 10s\npage_size: 500\nmax_staleness: 15m\n"
                   "accounts:\n  - name: a\n    base_url: http://127.0.0.1:1\n    api_key_env: DASHSCOPE_API_KEY\n")
        native = subprocess.run([exporter, "--check-config"], cwd=bad_dir, capture_output=True, text=True,
                                timeout=30, env=dict(os.environ, DASHSCOPE_API_KEY=KEY))
        p = podman("run", "--rm", "--network=none", *rs.PODMAN_LIMITS, *rs.RUN_FLAGS, "-e", "DASHSCOPE_API_KEY=" + KEY,
                   "-v", "%s:%s:ro" % (bad, CONFIG_IN_CONTAINER), image, "--check-config", check_rc=False)
        msg = p.stderr.strip()
        print("bad mounted config: exit %d: %s" % (p.returncode, msg))
        check(native.returncode != 0 and "page_size" in native.stderr,
              "the native exporter accepted the bad config: %r" % native.stderr)
        check(p.returncode == native.returncode,
              "--check-config on a bad config exited %d in the container, %d natively"
              % (p.returncode, native.returncode))
        check(msg == native.stderr.strip(),
              "--check-config message differs: container %r, native %r" % (msg, native.stderr.strip()))


def container_state(name):
    return json.loads(podman("inspect", name).stdout)[0]["State"]


def step_run(image, exporter, mock, work, procs):
    with Step("run"):
        port_file = os.path.join(work, "mock.port")
        mock_p = procs.start("mock", [mock, "--listen", "127.0.0.1:0", "--port-file", port_file,
                                      "--deployments", str(FLEET), "--tick", "0"],
                             {"DASHSCOPE_MOCK_API_KEY": KEY})
        alive = [("dashscope_mock", lambda: mock_p.poll() is None)]
        wait_for("the mock's port file", lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                 30, alive)
        mock_url = "http://127.0.0.1:%s" % open(port_file).read().strip()

        # The key file as a user mounts it: not world-readable, group of the
        # image's user (Kubernetes does the same with fsGroup/defaultMode).
        key_file = os.path.join(work, "api_key")
        write(key_file, KEY + "\n", 0o640)
        os.chown(key_file, 0, rs.GID)
        write(os.path.join(work, "container.yml"), config_text(mock_url, KEY_IN_CONTAINER))
        write(os.path.join(work, "native.yml"), config_text(mock_url, key_file))

        native_port, ctr_port = free_port(), free_port()
        native_p = procs.start("native", [exporter, "--config.file=" + os.path.join(work, "native.yml"),
                                          "--web.listen-address=127.0.0.1:%d" % native_port],
                               {"DASHSCOPE_API_KEY": KEY})
        alive.append(("the native exporter", lambda: native_p.poll() is None))

        # Only the listen address is given: the config comes by the default
        # path from the WORKDIR, over which it is mounted (as compose does).
        podman("run", "-d", "--name", NAME, *rs.PODMAN_NETWORK, *rs.PODMAN_LIMITS, *rs.RUN_FLAGS,
               "-e", "DASHSCOPE_API_KEY=" + KEY, "-e", "HEALTHCHECK_PORT=%d" % ctr_port,
               "-v", "%s:%s:ro" % (os.path.join(work, "container.yml"), CONFIG_IN_CONTAINER),
               "-v", "%s:%s:ro" % (key_file, KEY_IN_CONTAINER),
               image, "--web.listen-address=127.0.0.1:%d" % ctr_port)
        alive.append(("the container", lambda: container_state(NAME).get("Running") is True))

        native_url, ctr_url = "http://127.0.0.1:%d" % native_port, "http://127.0.0.1:%d" % ctr_port
        for what, url in (("native", native_url), ("container", ctr_url)):
            wait_for("%s %s 200" % (what, rs.READINESS_PATH),
                     lambda u=url: http("GET", u + rs.READINESS_PATH)[0] == 200, 120, alive)

        # The fleet does not change (--tick 0), so after both have polled once
        # the lines are equal; a poll in flight can only make them equal later.
        last = {}

        def same():
            n, c = http("GET", native_url + "/metrics"), http("GET", ctr_url + "/metrics")
            if n[0] != 200 or c[0] != 200:
                return None
            last["native"], last["container"] = n[1], c[1]
            nl, cl = deployment_lines(n[1]), deployment_lines(c[1])
            return cl if nl == cl and len(nl) > 0 else None
        try:
            lines = wait_for("equal dashscope_deployment_* lines", same, 60, alive)
        except StepFailed as e:
            import difflib
            diff = difflib.unified_diff(deployment_lines(last.get("native", "")),
                                        deployment_lines(last.get("container", "")),
                                        "native", "container", lineterm="", n=0)
            fail("%s; /metrics deployment lines, native vs container:\n%s" % (e, "\n".join(list(diff)[:60])))
        metrics = last["container"]
        info = [line for line in lines if line.startswith("dashscope_deployment_info{")]
        print("/metrics: %d dashscope_deployment_* lines, equal to the native run's" % len(lines))
        for acc in ACCOUNTS:
            n = sum('account="%s"' % acc in line for line in info)
            check(n == FLEET, "account %s (key %s) shows %d deployments, want %d"
                  % (acc, "from a mounted file" if acc == ACCOUNTS[0] else "from -e", n, FLEET))
            check('dashscope_up{account="%s"} 1' % acc in metrics, "dashscope_up{account=%s} is not 1" % acc)
        check(KEY not in metrics, "the API key appears in /metrics")

        # Who and what the exporter is, seen from the host.
        state = container_state(NAME)
        with open("/proc/%d/status" % state["Pid"]) as f:
            status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        print("exporter process: Uid %s, Gid %s, CapEff %s, CapBnd %s, NoNewPrivs %s" % (
            status["Uid"], status["Gid"], status["CapEff"], status["CapBnd"], status.get("NoNewPrivs")))
        check(status["Uid"].split() == [str(rs.UID)] * 4, "exporter Uid %s, want %d" % (status["Uid"], rs.UID))
        check(status["Gid"].split() == [str(rs.GID)] * 4, "exporter Gid %s, want %d" % (status["Gid"], rs.GID))
        for cap in ("CapEff", "CapPrm", "CapBnd"):
            check(int(status[cap], 16) == 0, "exporter %s %s: capabilities were not all dropped" % (cap, status[cap]))
        check(status.get("NoNewPrivs") == "1", "exporter NoNewPrivs %s" % status.get("NoNewPrivs"))
        ro = json.loads(podman("inspect", NAME).stdout)[0]["HostConfig"].get("ReadonlyRootfs")
        check(ro is True, "container ReadonlyRootfs is %r" % ro)
        # Even root inside cannot write the root file system.
        p = podman("exec", "--user", "0", NAME, "touch", "/etc/dashscope_exporter/probe", check_rc=False)
        check(p.returncode != 0 and "Read-only file system" in p.stderr,
              "writing to / as root in the container: exit %d %r" % (p.returncode, p.stderr.strip()))
        print("root file system: read-only (%s)" % p.stderr.strip())
        logs = podman("logs", NAME)
        check(KEY not in logs.stdout + logs.stderr, "the API key appears in the container's log")


def step_healthcheck(image, work):
    with Step("healthcheck"):
        p = podman("healthcheck", "run", NAME, check_rc=False, timeout=60)
        out = (p.stdout + p.stderr).strip()
        print("podman healthcheck run: exit %d %s" % (p.returncode, out))
        check(p.returncode == 0, "podman healthcheck run exited %d: %s" % (p.returncode, out))
        # And it is not a check that always passes: pointed at a port where
        # nothing listens, it reports unhealthy.
        other = NAME + "-unhealthy"
        try:
            podman("run", "-d", "--name", other, *rs.PODMAN_NETWORK, *rs.PODMAN_LIMITS, *rs.RUN_FLAGS,
                   "-e", "DASHSCOPE_API_KEY=" + KEY, "-e", "HEALTHCHECK_PORT=%d" % free_port(),
                   "-v", "%s:%s:ro" % (os.path.join(work, "container.yml"), CONFIG_IN_CONTAINER),
                   "-v", "%s:%s:ro" % (os.path.join(work, "api_key"), KEY_IN_CONTAINER),
                   image, "--web.listen-address=127.0.0.1:%d" % free_port())
            p = podman("healthcheck", "run", other, check_rc=False, timeout=60)
            out = (p.stdout + p.stderr).strip()
            print("podman healthcheck run, HEALTHCHECK_PORT where nothing listens: exit %d %s" % (p.returncode, out))
            check(p.returncode != 0, "podman healthcheck run passed with nothing listening on HEALTHCHECK_PORT")
        finally:
            podman("rm", "-f", "--time", "0", other, check_rc=False)


def step_stop():
    with Step("stop"):
        started = time.monotonic()
        p = podman("stop", "--time", "10", NAME, check_rc=False, timeout=60)
        took = time.monotonic() - started
        code = container_state(NAME).get("ExitCode")
        print("podman stop: exit %d in %.2fs; the exporter exited %s" % (p.returncode, took, code))
        check(p.returncode == 0, "podman stop exited %d: %s" % (p.returncode, p.stderr.strip()))
        check(code == 0, "the exporter exited %s on SIGTERM, want 0" % code)
        check(took < 2.0, "podman stop took %.2fs, want < 2s (SIGTERM not handled promptly?)" % took)


def main(root, exporter, mock, work):
    root, exporter, mock = (os.path.abspath(p) for p in (root, exporter, mock))
    started = time.monotonic()
    procs = Processes(work)
    try:
        step_preflight()
        step_base_images(root)
        image = step_build(root, work)
        step_image(image)
        step_check_config(image, exporter, work)
        step_run(image, exporter, mock, work, procs)
        step_healthcheck(image, work)
        step_stop()
    except (StepFailed, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        # Whatever went wrong, the message names the step it happened in.
        print("FAIL: %s" % (e if isinstance(e, StepFailed) else "step '%s': %r" % (Step.current, e)),
              file=sys.stderr)
        for name in ("mock", "native"):
            if os.path.exists(os.path.join(work, name + ".log")):
                print("--- %s log (tail)\n%s" % (name, "\n".join(procs.log(name).splitlines()[-20:])), file=sys.stderr)
        logs = podman_quiet("logs", NAME)
        if logs is not None and logs.returncode == 0:
            print("--- container log (tail)\n%s" % "\n".join((logs.stdout + logs.stderr).splitlines()[-20:]),
                  file=sys.stderr)
        return 1
    finally:
        podman_quiet("rm", "-f", "--time", "0", NAME)
        procs.stop_all()
    print("container test passed in %.0fs" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
