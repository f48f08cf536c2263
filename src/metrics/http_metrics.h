// What the exporter's HTTP server counts: responses by handler and code,
// connections open and closed by reason, and basic-auth rejections. The
// metrics side owns the counters and writes their families; the server
// counts into them directly from its I/O threads.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dse::metrics {

// The reason label of dashscope_exporter_http_connections_closed_total.
enum class CloseReason : size_t {
  kBadRequest,
  kBodyRefused,
  kCap,
  kClientClosed,
  kDone,
  kHeadTimeout,
  kHeadTooLarge,
  kIdle,
  kMethodRefused,
  kTlsHandshake,
  kWriteFailed,
  kCount,
};

// The reason label of dashscope_exporter_http_auth_rejections_total.
enum class AuthRejection : size_t { kBadCredentials, kBusy, kMissing, kCount };

// One row of dashscope_exporter_http_requests_total{handler,code}.
struct HttpRequestCount {
  std::string handler;  // metrics, healthz, readyz, landing or other
  int code = 0;         // HTTP status sent (401 for rejected credentials)
  uint64_t count = 0;
};

struct HttpConnectionStats {
  uint64_t open = 0;
  // By reason, every reason listed, sorted by name.
  std::vector<std::pair<std::string, uint64_t>> closed;
  std::vector<std::pair<std::string, uint64_t>> auth_rejections;
};

// Thread-safe. Connections and rejections are counted with relaxed atomics;
// a response takes a short lock (a handful of distinct handler/code pairs).
class HttpMetrics {
 public:
  // Called by the server that counts into this. Until then the connection
  // families are left out: a process without a server has none to report.
  void Serving() { serving_.store(true, std::memory_order_relaxed); }

  // Counted once the response has been written.
  void CountResponse(std::string_view handler, int code);
  void ConnectionOpened() { open_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionGone() { open_.fetch_sub(1, std::memory_order_relaxed); }
  void CountClose(CloseReason r) { closed_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void CountAuthRejection(AuthRejection r) {
    rejections_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  uint64_t open() const { return open_.load(std::memory_order_relaxed); }
  // Every response so far, by handler and status code, sorted.
  std::vector<HttpRequestCount> Requests() const;
  HttpConnectionStats Connections() const;

  // The families: requests once any was served, connections once serving.
  void AppendText(std::string& out) const;

 private:
  std::atomic<bool> serving_{false};
  std::atomic<uint64_t> open_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(CloseReason::kCount)> closed_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(AuthRejection::kCount)> rejections_{};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> responses_;  // guarded by mu_
};

}  // namespace dse::metrics
