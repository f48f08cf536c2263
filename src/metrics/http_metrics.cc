#include "metrics/http_metrics.h"

#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(CloseReason::kCount)> kCloseReasonNames = {
    "bad_request",  "body_refused",   "cap",  "client_closed",  "done",
    "head_timeout", "head_too_large", "idle", "method_refused", "tls_handshake",
    "write_failed"};

constexpr std::array<std::string_view, static_cast<size_t>(AuthRejection::kCount)> kAuthRejectionNames = {
    "bad_credentials", "busy", "missing"};

void AppendByReason(std::string& out, std::string_view name, std::string_view help,
                    const std::vector<std::pair<std::string, uint64_t>>& rows) {
  AppendHeader(out, name, help, "counter");
  for (const auto& [reason, count] : rows) {
    out += name;
    out += "{reason=\"";
    AppendLabelValue(out, reason);
    out += "\"} ";
    AppendValue(out, static_cast<int64_t>(count));
    out.push_back('\n');
  }
}

}  // namespace

void HttpMetrics::CountResponse(std::string_view handler, int code) {
  std::lock_guard lock(mu_);
  ++responses_[{std::string(handler), code}];
}

std::vector<HttpRequestCount> HttpMetrics::Requests() const {
  std::lock_guard lock(mu_);
  std::vector<HttpRequestCount> out;
  out.reserve(responses_.size());
  for (const auto& [key, n] : responses_) out.push_back({key.first, key.second, n});
  return out;
}

HttpConnectionStats HttpMetrics::Connections() const {
  HttpConnectionStats s;
  s.open = open_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kCloseReasonNames.size(); ++i) {
    s.closed.emplace_back(kCloseReasonNames[i], closed_[i].load(std::memory_order_relaxed));
  }
  for (size_t i = 0; i < kAuthRejectionNames.size(); ++i) {
    s.auth_rejections.emplace_back(kAuthRejectionNames[i], rejections_[i].load(std::memory_order_relaxed));
  }
  return s;
}

void HttpMetrics::AppendText(std::string& out) const {
  const std::vector<HttpRequestCount> requests = Requests();
  if (!requests.empty()) {
    constexpr std::string_view kName = "dashscope_exporter_http_requests_total";
    AppendHeader(out, kName, "HTTP requests served by the exporter, by handler and status code.", "counter");
    for (const auto& r : requests) {
      out += kName;
      out += "{code=\"";
      AppendValue(out, int64_t{r.code});
      out += "\",handler=\"";
      AppendLabelValue(out, r.handler);
      out += "\"} ";
      AppendValue(out, static_cast<int64_t>(r.count));
      out.push_back('\n');
    }
  }
  if (!serving_.load(std::memory_order_relaxed)) return;
  const HttpConnectionStats c = Connections();
  constexpr std::string_view kOpen = "dashscope_exporter_http_open_connections";
  AppendHeader(out, kOpen, "HTTP connections open now.", "gauge");
  out += kOpen;
  out.push_back(' ');
  AppendValue(out, static_cast<int64_t>(c.open));
  out.push_back('\n');
  AppendByReason(out, "dashscope_exporter_http_connections_closed_total",
                 "HTTP connections closed, by reason: client_closed, done (by the server after a response), "
                 "idle, head_timeout, head_too_large, body_refused, method_refused, bad_request, "
                 "tls_handshake, write_failed, cap (closed for a new connection at the connection limit).",
                 c.closed);
  AppendByReason(out, "dashscope_exporter_http_auth_rejections_total",
                 "HTTP requests refused by basic auth, by reason: missing, bad_credentials, busy (too many "
                 "password checks in progress).",
                 c.auth_rejections);
}

}  // namespace dse::metrics
