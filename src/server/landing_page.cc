#include "server/landing_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "common/duration.h"

namespace dse::server {
namespace {

using dashscope::Deployment;

// Kept small and self-contained: the page must render without network access.
constexpr std::string_view kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1f2328;background:#fff}
h1{margin-bottom:.2em}
.meta{color:#59636e;margin-top:0}
a{color:#0969da}
section.account{border:1px solid #d1d9e0;border-radius:6px;padding:1em 1.2em;margin:1.5em 0}
section.account h2{margin:0 0 .5em 0;font-size:1.3em}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0 0 1em 0}
dl.facts dt{color:#59636e}
dl.facts dd{margin:0}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-size:.8em;font-weight:600;vertical-align:middle;color:#fff}
.badge.up{background:#1a7f37}
.badge.down{background:#cf222e}
.badge.waiting{background:#6e7781}
.error{color:#cf222e;font-family:ui-monospace,monospace;white-space:pre-wrap}
.warning{color:#9a6700}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #d1d9e0}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.missing{color:#8c959f}
td.short{background:#fff8c5;font-weight:600}
.status{display:inline-block;padding:.05em .5em;border-radius:4px;font-weight:600;font-size:.85em;color:#fff}
.status-running{background:#1a7f37}
.status-pending,.status-updating{background:#bf8700}
.status-failed{background:#cf222e}
.status-stopped{background:#6e7781}
.status-deleting{background:#8250df}
.status-other{background:#57606a;border:1px dashed #fff}
footer{color:#59636e;font-size:.85em;margin-top:2em}
)css";

void Append(std::string& out, std::string_view text) { out.append(text); }
void AppendHtmlEscaped(std::string& out, std::string_view text) { out += HtmlEscape(text); }

std::string FormatUtc(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatAge(int64_t then_unix, int64_t now_unix) {
  const int64_t seconds = std::max<int64_t>(0, now_unix - then_unix);  // clock skew: not "in the future"
  return FormatDuration(std::chrono::seconds(seconds)) + " ago";
}

std::string FormatNumber(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// "https://host:port/prefix" -> "host:port"; anything unparsable is shown as is.
std::string_view HostOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  std::string_view rest = url.substr(scheme + 3);
  const size_t end = rest.find_first_of("/?#");
  rest = rest.substr(0, end);
  const size_t at = rest.rfind('@');  // never show userinfo
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  return rest;
}

std::string_view StatusClass(const std::optional<std::string>& status) {
  if (!status) return "status-other";
  const std::string& s = *status;
  if (s == "RUNNING") return "status-running";
  if (s == "PENDING") return "status-pending";
  if (s == "UPDATING") return "status-updating";
  if (s == "FAILED") return "status-failed";
  if (s == "STOPPED") return "status-stopped";
  if (s == "DELETING") return "status-deleting";
  return "status-other";
}

bool IsRunning(const Deployment& d) { return d.status && *d.status == "RUNNING"; }

void AppendTextCell(std::string& out, const std::optional<std::string>& value) {
  if (value && !value->empty()) {
    Append(out, "<td>");
    AppendHtmlEscaped(out, *value);
    Append(out, "</td>");
  } else {
    Append(out, "<td class=\"missing\">-</td>");
  }
}

void AppendNumberCell(std::string& out, const std::optional<double>& value, bool short_of_capacity) {
  if (!value) {
    Append(out, "<td class=\"num missing\">-</td>");
    return;
  }
  Append(out, short_of_capacity ? "<td class=\"num short\" title=\"fewer ready than requested\">"
                                : "<td class=\"num\">");
  Append(out, FormatNumber(*value));
  Append(out, "</td>");
}

void AppendDeploymentRow(std::string& out, const std::string& account, const Deployment& d) {
  Append(out, "<tr class=\"deployment\" data-account=\"");
  AppendHtmlEscaped(out, account);
  Append(out, "\" data-deployed-model=\"");
  AppendHtmlEscaped(out, d.deployed_model);
  Append(out, "\" data-status=\"");
  AppendHtmlEscaped(out, d.status.value_or(""));
  Append(out, "\">");

  Append(out, "<td><code>");
  AppendHtmlEscaped(out, d.deployed_model);
  Append(out, "</code></td>");
  AppendTextCell(out, d.name);
  AppendTextCell(out, d.model_name);

  Append(out, "<td><span class=\"status ");
  Append(out, StatusClass(d.status));
  Append(out, "\">");
  AppendHtmlEscaped(out, d.status && !d.status->empty() ? *d.status : "UNKNOWN");
  Append(out, "</span></td>");

  AppendNumberCell(out, d.capacity, false);
  const bool short_of_capacity = d.capacity && d.ready_capacity && *d.ready_capacity < *d.capacity;
  AppendNumberCell(out, d.ready_capacity, short_of_capacity);
  AppendTextCell(out, d.plan);
  AppendTextCell(out, d.gmt_create ? std::optional<std::string>(FormatUtc(*d.gmt_create)) : std::nullopt);
  Append(out, "</tr>\n");
}

void AppendAccount(std::string& out, const metrics::AccountView& a, int64_t now_unix) {
  const bool polled = a.last_poll_unix.has_value() || a.ever_succeeded();
  Append(out, "<section class=\"account\" data-account=\"");
  AppendHtmlEscaped(out, a.name);
  Append(out, a.up ? "\" data-up=\"1\">\n" : "\" data-up=\"0\">\n");

  Append(out, "<h2>");
  AppendHtmlEscaped(out, a.name);
  if (a.up) {
    Append(out, " <span class=\"badge up\">up</span>");
  } else if (polled) {
    Append(out, " <span class=\"badge down\">down</span>");
  } else {
    Append(out, " <span class=\"badge waiting\">waiting for first poll</span>");
  }
  Append(out, "</h2>\n<dl class=\"facts\">\n<dt>API</dt><dd>");
  AppendHtmlEscaped(out, HostOf(a.base_url));
  Append(out, "</dd>\n");
  if (!a.workspace.empty()) {
    Append(out, "<dt>Workspace</dt><dd>");
    AppendHtmlEscaped(out, a.workspace);
    Append(out, "</dd>\n");
  }
  Append(out, "<dt>Last successful poll</dt><dd>");
  if (a.last_success_unix) {
    Append(out, "<time datetime=\"");
    Append(out, FormatUtc(*a.last_success_unix));
    Append(out, "\">");
    Append(out, FormatUtc(*a.last_success_unix));
    Append(out, "</time> (");
    Append(out, FormatAge(*a.last_success_unix, now_unix));
    Append(out, ")");
  } else {
    Append(out, "never");
  }
  Append(out, "</dd>\n");
  if (polled) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3fs", a.last_poll_duration_seconds);
    Append(out, "<dt>Last poll took</dt><dd>");
    Append(out, buf);
    Append(out, "</dd>\n");
  }
  if (!a.last_error.empty()) {
    Append(out, "<dt>Last error</dt><dd class=\"error\">");
    AppendHtmlEscaped(out, a.last_error);
    Append(out, "</dd>\n");
  }
  Append(out, "</dl>\n");
  if (a.data_dropped_as_stale) {
    Append(out,
           "<p class=\"warning\">The last good data is older than max_staleness and is no longer "
           "exported.</p>\n");
  }

  std::vector<const Deployment*> rows;
  if (a.deployments) {
    rows.reserve(a.deployments->size());
    for (const Deployment& d : *a.deployments) rows.push_back(&d);
  }
  // Problems first: a deployment that is not RUNNING is what a visitor looks for.
  std::stable_sort(rows.begin(), rows.end(), [](const Deployment* x, const Deployment* y) {
    const bool xr = IsRunning(*x);
    const bool yr = IsRunning(*y);
    if (xr != yr) return !xr;
    return x->deployed_model < y->deployed_model;
  });
  size_t running = 0;
  for (const Deployment* d : rows) running += IsRunning(*d) ? 1 : 0;

  if (rows.empty()) {
    Append(out, "<p class=\"empty\">No deployments.</p>\n");
  } else {
    Append(out, "<p class=\"summary\">");
    Append(out, std::to_string(rows.size()));
    Append(out, rows.size() == 1 ? " deployment, " : " deployments, ");
    Append(out, std::to_string(running));
    Append(out, " running</p>\n");
    Append(out,
           "<table class=\"deployments\">\n<thead><tr><th>Deployed model</th><th>Name</th><th>Model</th>"
           "<th>Status</th><th>Capacity</th><th>Ready</th><th>Plan</th><th>Created (UTC)</th></tr></thead>\n"
           "<tbody>\n");
    for (const Deployment* d : rows) AppendDeploymentRow(out, a.name, *d);
    Append(out, "</tbody>\n</table>\n");
  }
  Append(out, "</section>\n");
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string RenderLandingPage(const metrics::StatusView& view, int64_t now_unix) {
  std::string out;
  out.reserve(4096);
  Append(out,
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>DashScope Exporter</title>\n<style>");
  Append(out, kStyle);
  Append(out,
         "</style>\n</head>\n<body>\n<h1>DashScope Exporter</h1>\n<p class=\"meta\">version <span "
         "class=\"version\">");
  AppendHtmlEscaped(out, view.version);
  Append(out, "</span>, revision <span class=\"revision\">");
  AppendHtmlEscaped(out, view.revision);
  Append(out, "</span></p>\n<ul class=\"links\">\n<li><a href=\"");
  std::string_view telemetry = view.telemetry_path;
  if (telemetry.empty()) telemetry = "/metrics";
  AppendHtmlEscaped(out, telemetry);
  Append(out, "\">Metrics</a> <code>");
  AppendHtmlEscaped(out, telemetry);
  Append(out,
         "</code></li>\n<li><a href=\"/healthz\">Health</a> <code>/healthz</code></li>\n"
         "<li><a href=\"/readyz\">Readiness</a> <code>/readyz</code></li>\n</ul>\n");
  if (view.accounts.empty()) Append(out, "<p class=\"empty\">No accounts configured.</p>\n");
  for (const metrics::AccountView& a : view.accounts) AppendAccount(out, a, now_unix);
  Append(out, "<footer>Generated at ");
  Append(out, FormatUtc(now_unix));
  Append(out, " from the last background poll of each account.</footer>\n</body>\n</html>\n");
  return out;
}

}  // namespace dse::server
