#include "metrics/exporter_metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "metrics/process_metrics.h"
#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// API latencies on loopback are milliseconds, against the real API tens to
// hundreds of milliseconds, and a hang runs to request_timeout (10s default).
const prometheus::Histogram::BucketBoundaries kRequestBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                 0.5,   1,    2.5,   5,    10,  30};

}  // namespace

AccountMetrics::AccountMetrics(ExporterMetrics& owner, std::string account)
    : owner_(owner),
      account_(std::move(account)),
      up_(owner.up_.Add({{"account", account_}})),
      poll_duration_(owner.poll_duration_.Add({{"account", account_}})),
      polls_(owner.polls_.Add({{"account", account_}})),
      poll_failures_(owner.poll_failures_.Add({{"account", account_}})),
      api_requests_(owner.api_requests_.Add({{"account", account_}})),
      request_duration_(owner.request_duration_.Add({{"account", account_}}, kRequestBuckets)),
      deployments_(owner.deployments_.Add({{"account", account_}})),
      duplicates_(owner.duplicates_.Add({{"account", account_}})),
      throttled_until_(owner.throttled_until_.Add({{"account", account_}})),
      stale_dropped_(owner.stale_dropped_.Add({{"account", account_}})) {}

AccountMetrics::~AccountMetrics() {
  owner_.up_.Remove(&up_);
  owner_.poll_duration_.Remove(&poll_duration_);
  owner_.polls_.Remove(&polls_);
  owner_.poll_failures_.Remove(&poll_failures_);
  owner_.api_requests_.Remove(&api_requests_);
  owner_.request_duration_.Remove(&request_duration_);
  owner_.deployments_.Remove(&deployments_);
  owner_.duplicates_.Remove(&duplicates_);
  owner_.throttled_until_.Remove(&throttled_until_);
  owner_.stale_dropped_.Remove(&stale_dropped_);
  std::lock_guard lock(mu_);
  if (last_success_) owner_.last_success_.Remove(last_success_);
  for (auto& [code, counter] : errors_) owner_.api_errors_.Remove(counter);
  for (auto& [kind, counter] : problems_) owner_.record_problems_.Remove(counter);
  owner_.Changed();
}

void AccountMetrics::PollStarted() {
  polls_.Increment();
  owner_.Changed();
}

void AccountMetrics::PollFinished(bool ok, double duration_seconds, double end_unix) {
  poll_duration_.Set(duration_seconds);
  up_.Set(ok ? 1 : 0);
  if (!ok) {
    poll_failures_.Increment();
    owner_.Changed();
    return;
  }
  std::lock_guard lock(mu_);
  if (!last_success_) last_success_ = &owner_.last_success_.Add({{"account", account_}});
  last_success_->Set(end_unix);
  owner_.Changed();
}

void AccountMetrics::ApiRequest(double duration_seconds) {
  api_requests_.Increment();
  request_duration_.Observe(duration_seconds);
  owner_.Changed();
}

void AccountMetrics::ApiError(std::string_view code) {
  std::lock_guard lock(mu_);
  auto it = errors_.find(code);
  if (it == errors_.end() && errors_.size() >= kMaxErrorCodesPerAccount) it = errors_.find("other");
  if (it == errors_.end()) {
    std::string label = errors_.size() >= kMaxErrorCodesPerAccount ? "other" : std::string(code);
    it = errors_.emplace(label, &owner_.api_errors_.Add({{"account", account_}, {"code", label}})).first;
  }
  it->second->Increment();
  owner_.Changed();
}

void AccountMetrics::RecordProblems(std::string_view kind, uint64_t count) {
  std::lock_guard lock(mu_);
  auto it = problems_.find(kind);
  if (it == problems_.end()) {
    auto& c = owner_.record_problems_.Add({{"account", account_}, {"problem", std::string(kind)}});
    it = problems_.emplace(std::string(kind), &c).first;
  }
  it->second->Increment(static_cast<double>(count));
  owner_.Changed();
}

void AccountMetrics::DuplicatesDropped(uint64_t count) {
  duplicates_.Increment(static_cast<double>(count));
  owner_.Changed();
}

void AccountMetrics::SetDeployments(size_t count) {
  deployments_.Set(static_cast<double>(count));
  owner_.Changed();
}

void AccountMetrics::SetThrottledUntil(double unix_seconds) {
  throttled_until_.Set(unix_seconds);
  owner_.Changed();
}

void AccountMetrics::SetStaleDataDropped(bool dropped) {
  stale_dropped_.Set(dropped ? 1 : 0);
  owner_.Changed();
}

ExporterMetrics::ExporterMetrics(std::string version, std::string revision)
    : registry_(std::make_shared<prometheus::Registry>()),
      up_(BuildGauge()
              .Name("dashscope_up")
              .Help("1 if the last background poll of the account succeeded, else 0.")
              .Register(*registry_)),
      last_success_(BuildGauge()
                        .Name("dashscope_last_successful_poll_timestamp_seconds")
                        .Help("Unix time at which the last successful background poll ended.")
                        .Register(*registry_)),
      poll_duration_(BuildGauge()
                         .Name("dashscope_poll_duration_seconds")
                         .Help("Duration of the last background poll of the account, all pages.")
                         .Register(*registry_)),
      polls_(BuildCounter()
                 .Name("dashscope_polls_total")
                 .Help("Background polls of the account started.")
                 .Register(*registry_)),
      poll_failures_(BuildCounter()
                         .Name("dashscope_poll_failures_total")
                         .Help("Background polls of the account that failed.")
                         .Register(*registry_)),
      api_requests_(BuildCounter()
                        .Name("dashscope_api_requests_total")
                        .Help("HTTP requests sent to the DashScope API, retries included.")
                        .Register(*registry_)),
      api_errors_(BuildCounter()
                      .Name("dashscope_api_errors_total")
                      .Help("Failed DashScope API requests by error code (the API's code, or "
                            "timeout, connection, tls, invalid_response, http_<status>; other "
                            "past 32 codes).")
                      .Register(*registry_)),
      request_duration_(BuildHistogram()
                            .Name("dashscope_api_request_duration_seconds")
                            .Help("Latency of each DashScope API request.")
                            .Register(*registry_)),
      deployments_(BuildGauge()
                       .Name("dashscope_deployments")
                       .Help("Deployments exported for the account, from the last background poll.")
                       .Register(*registry_)),
      record_problems_(BuildCounter()
                           .Name("dashscope_record_problems_total")
                           .Help("Deployment records skipped or fields left out because the API "
                                 "sent them malformed, by problem.")
                           .Register(*registry_)),
      duplicates_(BuildCounter()
                      .Name("dashscope_duplicate_deployments_total")
                      .Help("Deployments listed more than once in one poll (the list changed "
                            "between pages); exported once.")
                      .Register(*registry_)),
      throttled_until_(BuildGauge()
                           .Name("dashscope_api_throttled_until_timestamp_seconds")
                           .Help("Unix time before which no request is sent to the account "
                                 "because the API asked to wait (Retry-After); 0 when none.")
                           .Register(*registry_)),
      stale_dropped_(BuildGauge()
                         .Name("dashscope_stale_data_dropped")
                         .Help("1 when the account's last good data was older than "
                               "max_staleness and is no longer exported.")
                         .Register(*registry_)),
      build_info_(BuildGauge()
                      .Name("dashscope_exporter_build_info")
                      .Help("Version and revision of dashscope_exporter (always 1).")
                      .Register(*registry_)),
      reload_ok_(BuildGauge()
                     .Name("dashscope_exporter_config_last_reload_successful")
                     .Help("1 if the last configuration load succeeded, else 0.")
                     .Register(*registry_)),
      reload_time_(BuildGauge()
                       .Name("dashscope_exporter_config_last_reload_success_timestamp_seconds")
                       .Help("Unix time of the last successful configuration load.")
                       .Register(*registry_)) {
  build_info_.Add({{"version", std::move(version)}, {"revision", std::move(revision)}}).Set(1);
  reload_ok_.Add({}).Set(0);
  Changed();
}

ExporterMetrics::~ExporterMetrics() {
  std::lock_guard lock(mu_);
  accounts_.clear();
}

AccountMetrics& ExporterMetrics::ForAccount(const std::string& account) {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    it =
        accounts_.emplace(account, std::unique_ptr<AccountMetrics>(new AccountMetrics(*this, account))).first;
    Changed();
  }
  return *it->second;
}

void ExporterMetrics::RetainAccounts(const std::set<std::string>& keep) {
  std::lock_guard lock(mu_);
  for (auto it = accounts_.begin(); it != accounts_.end();) {
    it = keep.contains(it->first) ? std::next(it) : accounts_.erase(it);
  }
}

void ExporterMetrics::SetConfigReload(bool ok, double unix_seconds) {
  reload_ok_.Add({}).Set(ok ? 1 : 0);
  if (ok) reload_time_.Add({}).Set(unix_seconds);
  Changed();
}

void ExporterMetrics::Changed() { generation_.fetch_add(1, std::memory_order_acq_rel); }

std::string ExporterMetrics::RegistryText() const {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(text_mu_);
    if (text_generation_ == generation) return registry_text_;
  }
  // Not under text_mu_: scrapes that find the text current do not wait.
  std::string text = prometheus::TextSerializer().Serialize(registry_->Collect());
  std::lock_guard lock(text_mu_);
  if (generation > text_generation_) {
    text_generation_ = generation;
    registry_text_ = text;
  }
  return text;
}

std::string ExporterMetrics::RenderText(const std::vector<HttpRequestCount>& http_requests,
                                        const HttpConnectionStats* connections) const {
  // The text format is one family after another, so the registry's part can
  // be serialized apart from the families that change on every scrape.
  // Those few are written directly, as TextSerializer would write them: its
  // ostream-based formatting was a large part of what a scrape's tail cost.
  std::string text = RegistryText();
  if (!http_requests.empty()) {
    constexpr std::string_view kName = "dashscope_exporter_http_requests_total";
    AppendHeader(text, kName, "HTTP requests served by the exporter, by handler and status code.", "counter");
    for (const auto& r : http_requests) {
      text += kName;
      text += "{code=\"";
      AppendValue(text, int64_t{r.code});
      text += "\",handler=\"";
      AppendLabelValue(text, r.handler);
      text += "\"} ";
      AppendSerializerValue(text, static_cast<double>(r.count));
      text.push_back('\n');
    }
  }
  if (connections != nullptr) {
    constexpr std::string_view kOpen = "dashscope_exporter_http_open_connections";
    AppendHeader(text, kOpen, "HTTP connections open now.", "gauge");
    text += kOpen;
    text.push_back(' ');
    AppendSerializerValue(text, static_cast<double>(connections->open));
    text.push_back('\n');
    const auto counter = [&](std::string_view name, std::string_view help,
                             const std::vector<std::pair<std::string, uint64_t>>& rows) {
      AppendHeader(text, name, help, "counter");
      for (const auto& [reason, count] : rows) {
        text += name;
        text += "{reason=\"";
        AppendLabelValue(text, reason);
        text += "\"} ";
        AppendSerializerValue(text, static_cast<double>(count));
        text.push_back('\n');
      }
    };
    counter("dashscope_exporter_http_connections_closed_total",
            "HTTP connections closed, by reason: client_closed, done (by the server after a response), idle, "
            "head_timeout, head_too_large, body_refused, method_refused, bad_request, tls_handshake, "
            "write_failed, cap (closed for a new connection at the connection limit).",
            connections->closed);
    counter("dashscope_exporter_http_auth_rejections_total",
            "HTTP requests refused by basic auth, by reason: missing, bad_credentials, busy (too many "
            "password checks in progress).",
            connections->auth_rejections);
  }
  AppendProcessText(text, ReadProcessStats());
  return text;
}

}  // namespace dse::metrics
