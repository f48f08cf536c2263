"""The landing page `/` in a real browser: Debian's Chromium, headless.

Starts dashscope_mock (12 deployments, manual ticks) and dashscope_exporter on
127.0.0.1, waits for a successful poll, pins index 5 FAILED and index 0
STOPPED (index 3 is STOPPED and index 1 PENDING by the fleet's schedule, see
src/mock/fleet.h), waits until the exporter shows them, then:
  1. chromium --dump-dom: the DOM after parsing and rendering must show one
     section.account for "mock", up, with one tr.deployment per deployment the
     mock lists, each with the mock's status in data-status; the deployments
     that are not RUNNING listed first; no resource or link outside the
     exporter itself, and every link on the page answering 200;
  2. chromium --screenshot: a 1280x900 PNG of the page, kept in
     BUILD_DIR/e2e-artifacts/landing_page.png.
Chromium gets a fresh profile, and its host resolver maps every name but
127.0.0.1 to nothing, so it cannot reach out even if something asked it to.

Usage: landing_page_e2e.py REPO_ROOT BUILD_DIR EXPORTER MOCK CHROMIUM WORKDIR
"""

import html.parser
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_stack as e2e  # noqa: E402
from e2e_stack import Failure  # noqa: E402

BUDGET_SECONDS = 120
CHROMIUM_SECONDS = 45
WINDOW = (1280, 900)
MIN_PNG_BYTES = 20000  # a blank 1280x900 page is a few kB; the rendered table is far more

# Attributes that make a browser load or link to a URL.
URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background",
                  "cite", "longdesc", "manifest", "ping", "xlink:href"}


class Dom(html.parser.HTMLParser):
    """The parts of the landing page's DOM this test looks at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = []  # attrs of section.account
        self.rows = []      # attrs of tr.deployment, in page order
        self.urls = []      # (tag, attribute, value)
        self.links = []     # href of <a>
        self.styles = []    # text of <style> and style="" attributes
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "section" and "account" in classes:
            self.sections.append(a)
        if tag == "tr" and "deployment" in classes:
            self.rows.append(a)
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("style"):
            self.styles.append(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def chromium(binary, work, extra_args, url, deadline):
    """Runs headless Chromium once with a fresh profile; returns its stdout."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work)
    argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-breakpad", "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--user-data-dir=" + profile] + extra_args + [url]
    env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
    err_path = os.path.join(work, "chromium.log")
    with open(err_path, "a") as err:
        err.write("$ %s\n" % " ".join(argv))
        err.flush()
        # Its own session, so that a hung browser goes with all its helper processes.
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=max(1.0, min(CHROMIUM_SECONDS, deadline.left())))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise Failure("chromium did not finish within %ds: %s" % (CHROMIUM_SECONDS, " ".join(argv)))
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # helpers left behind by a browser that exited
            except ProcessLookupError:
                pass
    if p.returncode != 0:
        raise Failure("chromium exited with %d (see chromium.log): %s" % (p.returncode, " ".join(argv)))
    return out.decode(errors="replace")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise Failure("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def main(root, build_dir, exporter_bin, mock_bin, chromium_bin, work):
    run = e2e.Run(BUDGET_SECONDS, root, build_dir, exporter_bin, mock_bin, work)
    deadline, failures, mark = run.deadline, run.failures, run.mark
    root, build_dir, work = run.root, run.build_dir, run.work
    stack = run.start_mock()
    stack.start_exporter()
    mark("mock and exporter up, first poll done (exporter at %s)" % stack.exporter)

    ids = [d["deployed_model"] for d in stack.deployments()]
    stack.mock_post("deployments", set=ids[5], status="FAILED")
    stack.mock_post("deployments", set=ids[0], status="STOPPED")
    want = stack.wait_exporter_matches_mock("the pinned FAILED and STOPPED deployments")
    statuses = sorted(set(want.values()))
    for needed in ("FAILED", "STOPPED", "RUNNING"):
        if needed not in statuses:
            raise Failure("the mock has no %s deployment: %s" % (needed, want))
    mark("mock lists %d deployments: %s" % (len(want), ", ".join(
        "%d %s" % (list(want.values()).count(s), s) for s in statuses)))

    page = stack.exporter + "/"
    dom_text = chromium(chromium_bin, work, ["--dump-dom"], page, deadline)
    with open(os.path.join(work, "dom.html"), "w") as f:
        f.write(dom_text)
    dom = Dom()
    dom.feed(dom_text)
    dom.close()
    mark("chromium rendered %s: %d bytes of DOM, %d deployment rows" % (page, len(dom_text), len(dom.rows)))

    # One account, up.
    if [(s.get("data-account"), s.get("data-up")) for s in dom.sections] != [(e2e.ACCOUNT, "1")]:
        failures.append("want one section.account data-account=%r data-up=\"1\", got %s"
                        % (e2e.ACCOUNT, dom.sections))

    # One row per deployment the mock lists, with its status.
    shown = [r.get("data-deployed-model") for r in dom.rows]
    if sorted(shown) != sorted(want):
        failures.append("rows %s, the mock lists %s; missing %s, extra %s"
                        % (len(shown), len(want), sorted(set(want) - set(shown)), sorted(set(shown) - set(want))))
    if len(set(shown)) != len(shown):
        failures.append("a deployment is shown twice: %s" % sorted(d for d in set(shown) if shown.count(d) > 1))
    for r in dom.rows:
        d = r.get("data-deployed-model")
        if r.get("data-account") != e2e.ACCOUNT:
            failures.append("row %s: data-account=%r" % (d, r.get("data-account")))
        if d in want and r.get("data-status") != want[d]:
            failures.append("row %s: data-status=%r, the mock says %r" % (d, r.get("data-status"), want[d]))
    # What a visitor looks for comes first: every row that is not RUNNING before the RUNNING ones.
    running = [r.get("data-status") == "RUNNING" for r in dom.rows]
    if running != sorted(running):
        failures.append("a RUNNING row comes before one that is not: %s" % [r.get("data-status") for r in dom.rows])

    # Nothing from outside the exporter; every link on the page answers.
    own = urllib.parse.urlsplit(stack.exporter).netloc
    for tag, attr, value in dom.urls:
        for candidate in value.split(",") if attr == "srcset" else [value]:
            u = urllib.parse.urlsplit(urllib.parse.urljoin(page, candidate.strip().split(" ")[0]))
            if u.scheme not in ("http", "https") or u.netloc != own:
                failures.append("<%s %s=%r> points outside the exporter" % (tag, attr, value))
    for css in dom.styles:
        for ref in ("url(", "@import", "http:", "https:", "//"):
            if ref in css:
                failures.append("the page's CSS refers to something outside it (%r)" % ref)
    for href in dom.links:
        code, _ = e2e.http("GET", urllib.parse.urljoin(page, href))
        if code != 200:
            failures.append("the link %s answers %s" % (href, code))
    mark("%d URLs on the page, all the exporter's own; %d links answer 200" % (len(dom.urls), len(dom.links)))

    # The screenshot, kept for people to look at.
    artifacts = os.path.join(build_dir, "e2e-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "landing_page.png")
    if os.path.exists(shot):
        os.remove(shot)
    chromium(chromium_bin, work, ["--screenshot=" + shot, "--window-size=%d,%d" % WINDOW,
                                  "--hide-scrollbars"], page, deadline)
    if not os.path.exists(shot):
        failures.append("chromium wrote no screenshot at %s" % shot)
    else:
        size = os.path.getsize(shot)
        dims = png_size(shot)
        if dims != WINDOW:
            failures.append("screenshot is %dx%d, want %dx%d" % (dims + WINDOW))
        if size < MIN_PNG_BYTES:
            failures.append("screenshot is only %d bytes: a blank page?" % size)
        mark("screenshot: %s (%dx%d, %d bytes)" % (shot, dims[0], dims[1], size))

    return e2e.verdict(failures, deadline)


def keep_artifacts(args):
    artifacts = os.path.join(args[1], "e2e-artifacts", "landing_page")
    e2e.dump_logs(args[5], ("mock", "exporter", "chromium"), artifacts)
    if os.path.exists(os.path.join(args[5], "dom.html")):
        shutil.copy(os.path.join(args[5], "dom.html"), artifacts)


if __name__ == "__main__":
    e2e.run_driver(main, __doc__, 6, keep_artifacts)
