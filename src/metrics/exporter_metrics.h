// The exporter's own health metrics, per account and process-wide, and the
// HTTP server's counts. The health metrics' values live in prometheus-cpp
// counters, gauges and a histogram, kept private to this library; the text
// is written with text_format like every other family, and kept until one
// of the values changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "metrics/http_metrics.h"

namespace dse::metrics {

// Past this many distinct error codes per account, further codes count as
// "other": codes come from the API, and a misbehaving API must not create
// unbounded series.
inline constexpr size_t kMaxErrorCodesPerAccount = 32;

class ExporterMetrics;
struct SelfRegistry;

// Handles for one account's series. Thread-safe; owned by ExporterMetrics.
class AccountMetrics {
 public:
  ~AccountMetrics();  // removes the account's series
  AccountMetrics(const AccountMetrics&) = delete;
  AccountMetrics& operator=(const AccountMetrics&) = delete;

  void PollStarted();
  // `end_unix` becomes the last-success time when the poll succeeded.
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
  struct Series;  // the account's prometheus-cpp series
  explicit AccountMetrics(std::unique_ptr<Series> series);
  std::unique_ptr<Series> series_;
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

  // What the HTTP server counts into (see MetricsProvider::HttpCounters).
  HttpMetrics& Http() { return http_; }

  // Exposition text of everything here, the HTTP server's counts and the
  // process_* metrics.
  std::string RenderText() const;

 private:
  // Declared first: the accounts' series are removed from it on destruction.
  std::unique_ptr<SelfRegistry> registry_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<AccountMetrics>> accounts_;  // guarded by mu_
  HttpMetrics http_;
};

}  // namespace dse::metrics
