// Helpers for the load and soak tests: what the kernel says about a process
// (resident memory, open descriptors) and a driver for Debian's wrk.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dse::testing::load {

// True when this binary (and so the exporter built beside it) carries a
// sanitizer: resident memory is then dominated by shadow memory and
// quarantine, and timings are several times slower.
constexpr bool kSanitizerBuild =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

// VmRSS of `pid` from /proc/<pid>/status, in KiB; nullopt when unreadable.
std::optional<int64_t> ResidentKiB(int pid);
// Entries in /proc/<pid>/fd; nullopt when unreadable.
std::optional<int> OpenFdCount(int pid);

// Samples the resident memory and the open descriptors of `pid` every
// `every` on a thread of its own, from construction to destruction. Under
// load a heap's resident size swings by whole buffers as they are freed and
// reused, so a single reading says little. The median over a window of
// several seconds is stable, and so is the floor at rest (see trend.h); the
// peak is not, since it lands on whichever coincidence of snapshots, writes
// and a poll's buffers happened to occur, and a longer window finds a higher
// one.
class ProcessSampler {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reading {
    Clock::time_point at;
    int64_t rss_kib = -1;
    int fds = -1;  // -1 when /proc/<pid>/fd was unreadable
  };
  ProcessSampler(int pid, std::chrono::milliseconds every);
  ~ProcessSampler();
  ProcessSampler(const ProcessSampler&) = delete;
  ProcessSampler& operator=(const ProcessSampler&) = delete;

  // The highest resident size in [from, to] in KiB; nullopt without readings there.
  std::optional<int64_t> PeakKiB(Clock::time_point from, Clock::time_point to) const;
  // The lowest resident size in [from, to]: where the heap settles between
  // bursts, which a single reading may or may not catch.
  std::optional<int64_t> FloorKiB(Clock::time_point from, Clock::time_point to) const;
  // The median resident size in [from, to]: the working set under a steady
  // load, which neither a lucky nor an unlucky coincidence of buffers moves.
  std::optional<int64_t> MedianKiB(Clock::time_point from, Clock::time_point to) const;
  size_t Count(Clock::time_point from, Clock::time_point to) const;
  // Every reading in [from, to], oldest first.
  std::vector<Reading> Readings(Clock::time_point from, Clock::time_point to) const;

 private:
  const int pid_;
  mutable std::mutex mu_;
  std::vector<Reading> readings_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The first executable `name` on $PATH, or nullopt.
std::optional<std::string> FindOnPath(const std::string& name);

// What one wrk run reported. The numbers come from a Lua done() hook (exact
// counters, latency in microseconds); the text lines are parsed too, as wrk
// prints them only when they are non-zero.
struct WrkReport {
  std::optional<int> exit_code;  // nullopt: wrk did not finish in time (killed)
  std::string output;            // stdout, then stderr
  bool parsed = false;           // the done() hook's lines were all found

  uint64_t requests = 0;
  double duration_seconds = 0;
  uint64_t bytes = 0;
  uint64_t errors_connect = 0;
  uint64_t errors_read = 0;
  uint64_t errors_write = 0;
  uint64_t errors_timeout = 0;
  uint64_t errors_status = 0;  // wrk counts answers with status > 399
  double latency_mean_ms = 0;
  double latency_stdev_ms = 0;
  double latency_max_ms = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;

  // From wrk's own text, when present.
  std::optional<uint64_t> non_2xx_3xx_line;       // "Non-2xx or 3xx responses: N"
  std::optional<std::string> socket_errors_line;  // "Socket errors: connect A, read B, ..."

  double RequestsPerSecond() const {
    return duration_seconds > 0 ? static_cast<double>(requests) / duration_seconds : 0;
  }
  uint64_t SocketErrors() const { return errors_connect + errors_read + errors_write + errors_timeout; }
  // One line for logs and failure messages.
  std::string Summary() const;
};

// Runs `wrk <args> -s <done-hook script> <url>` and waits up to `timeout`.
// `wrk` is the path from FindOnPath("wrk").
WrkReport RunWrk(const std::string& wrk, std::vector<std::string> args, const std::string& url,
                 std::chrono::seconds timeout);

// Sum of the samples whose series starts with `prefix` and contains every
// one of `contains` (e.g. a family name and a label matcher).
double SumSamples(const std::map<std::string, double>& samples, const std::string& prefix,
                  const std::vector<std::string>& contains = {});

// The median of a non-empty set of readings.
double Median(std::vector<double> values);

std::string FormatKiB(int64_t kib);

}  // namespace dse::testing::load
