// The exporter's own health metrics (per account and process-wide), kept as
// live prometheus-cpp counters, gauges and a histogram and serialized with
// prometheus-cpp's TextSerializer on each scrape: they are small and change
// between polls.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dse::metrics {

// Past this many distinct error codes per account, further codes count as
// "other": codes come from the API, and a misbehaving API must not create
// unbounded series.
inline constexpr size_t kMaxErrorCodesPerAccount = 32;

class ExporterMetrics;

// Handles for one account's series. Thread-safe; owned by ExporterMetrics.
class AccountMetrics {
 public:
  ~AccountMetrics();  // removes the account's series
  void PollStarted();
  // `success_unix` is set when the poll succeeded.
  void PollFinished(bool ok, double duration_seconds, double end_unix);
  void ApiRequest(double duration_seconds);
  void ApiError(std::string_view code);
  // Bad records skipped or fields left out, by kind ("missing_deployed_model", ...).
  void RecordProblems(std::string_view kind, uint64_t count);
  void DuplicatesDropped(uint64_t count);
  void SetDeployments(size_t count);
  // Unix time before which no request is sent (Retry-After); 0 when none.
  void SetThrottledUntil(double unix_seconds);
  void SetStaleDataDropped(bool dropped);

 private:
  friend class ExporterMetrics;
  AccountMetrics(ExporterMetrics& owner, std::string account);

  ExporterMetrics& owner_;
  const std::string account_;
  prometheus::Gauge& up_;
  prometheus::Gauge& poll_duration_;
  prometheus::Counter& polls_;
  prometheus::Counter& poll_failures_;
  prometheus::Counter& api_requests_;
  prometheus::Histogram& request_duration_;
  prometheus::Gauge& deployments_;
  prometheus::Counter& duplicates_;
  prometheus::Gauge& throttled_until_;
  prometheus::Gauge& stale_dropped_;
  std::mutex mu_;
  prometheus::Gauge* last_success_ = nullptr;  // guarded by mu_; created at first success
  std::map<std::string, prometheus::Counter*, std::less<>> errors_;    // guarded by mu_
  std::map<std::string, prometheus::Counter*, std::less<>> problems_;  // guarded by mu_
};

class ExporterMetrics {
 public:
  ExporterMetrics(std::string version, std::string revision);
  ~ExporterMetrics();
  ExporterMetrics(const ExporterMetrics&) = delete;
  ExporterMetrics& operator=(const ExporterMetrics&) = delete;

  // Returns the account's handles, creating its series on first use.
  AccountMetrics& ForAccount(const std::string& account);
  // Removes the series of accounts not in `keep` (after a reload).
  void RetainAccounts(const std::set<std::string>& keep);

  void SetConfigReload(bool ok, double unix_seconds);

  struct HttpRequestCount {
    std::string handler;
    int code = 0;
    uint64_t count = 0;
  };
  // The HTTP server's connections: open now, closed by reason, and requests
  // refused for authentication by reason.
  struct HttpConnectionStats {
    uint64_t open = 0;
    std::vector<std::pair<std::string, uint64_t>> closed;
    std::vector<std::pair<std::string, uint64_t>> auth_rejections;
  };
  // Exposition text of everything here plus the process_* metrics and the
  // given HTTP request counts and, when given, connection stats.
  std::string RenderText(const std::vector<HttpRequestCount>& http_requests,
                         const HttpConnectionStats* connections = nullptr) const;

 private:
  friend class AccountMetrics;
  // Every change to the registry's series or values must call this: the
  // registry's text is serialized again only after a change (a poll or a
  // reload), not on every scrape.
  void Changed();
  std::string RegistryText() const;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& up_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& poll_duration_;
  prometheus::Family<prometheus::Counter>& polls_;
  prometheus::Family<prometheus::Counter>& poll_failures_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Family<prometheus::Counter>& api_errors_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Gauge>& deployments_;
  prometheus::Family<prometheus::Counter>& record_problems_;
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Family<prometheus::Gauge>& throttled_until_;
  prometheus::Family<prometheus::Gauge>& stale_dropped_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Gauge>& reload_ok_;
  prometheus::Family<prometheus::Gauge>& reload_time_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<AccountMetrics>> accounts_;  // guarded by mu_

  std::atomic<uint64_t> generation_{1};  // bumped by Changed()
  mutable std::mutex text_mu_;
  mutable uint64_t text_generation_ = 0;  // guarded by text_mu_; generation of registry_text_
  mutable std::string registry_text_;     // guarded by text_mu_
};

}  // namespace dse::metrics
