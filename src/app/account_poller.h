// Polls one account on its interval and publishes each result as a new
// snapshot. The poller thread is the only writer of its account's data.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/stop_signal.h"
#include "config/config.h"
#include "dashscope/api_client.h"
#include "dashscope/deployment_lister.h"
#include "metrics/exporter_metrics.h"
#include "metrics/exposition.h"

namespace dse::app {

struct PollSettings {
  Duration poll_interval{60000};
  Duration max_staleness{900000};
  dashscope::ListOptions list;
  size_t max_response_bytes = 32u * 1024 * 1024;
  std::string user_agent;

  bool operator==(const PollSettings& o) const {
    return poll_interval == o.poll_interval && max_staleness == o.max_staleness &&
           list.page_size == o.list.page_size && list.max_retries == o.list.max_retries &&
           list.retry_base_delay == o.list.retry_base_delay &&
           list.request_timeout == o.list.request_timeout && max_response_bytes == o.max_response_bytes &&
           user_agent == o.user_agent;
  }
};
PollSettings PollSettingsFrom(const config::Config& config, std::string user_agent);

// The whole poll deadline: shorter than the interval so polls never overlap.
Duration PollDeadline(Duration poll_interval);

class AccountPoller {
 public:
  AccountPoller(config::Account account, PollSettings settings, metrics::ExporterMetrics& metrics,
                metrics::ExpositionStore& store, const Clock& clock,
                std::unique_ptr<dashscope::PageFetcher> fetcher = nullptr);
  ~AccountPoller();
  AccountPoller(const AccountPoller&) = delete;
  AccountPoller& operator=(const AccountPoller&) = delete;

  // Runs one poll now, on the calling thread, and publishes its result.
  dashscope::PollResult PollOnce();

  // Polls at once, then every poll_interval, on a thread of its own.
  void Start();
  // Asks the thread to stop and aborts a request in flight; does not wait.
  void RequestStop();
  // True once the thread has ended (or was never started).
  bool finished() const { return finished_.load(); }
  // Waits for the thread; call only after finished() or when waiting is safe.
  void Join();

  const config::Account& account() const { return account_; }
  const PollSettings& settings() const { return settings_; }

 private:
  void Run();
  void PublishResult(const dashscope::PollResult& result, double duration_seconds);

  const config::Account account_;
  const PollSettings settings_;
  metrics::AccountMetrics& metrics_;
  metrics::ExpositionStore& store_;
  const Clock& clock_;
  StopSignal stop_;
  std::unique_ptr<dashscope::PageFetcher> fetcher_;
  std::unique_ptr<dashscope::DeploymentLister> lister_;

  // Touched only by the polling thread (or by PollOnce before Start).
  std::shared_ptr<const metrics::DeploymentData> last_good_;
  std::chrono::steady_clock::time_point last_good_at_{};
  std::optional<double> last_success_unix_;
  std::optional<std::chrono::steady_clock::time_point> not_before_;

  std::thread thread_;
  std::atomic<bool> finished_{true};
};

// Maps a parser problem to the `problem` label of dashscope_record_problems_total.
std::string_view ProblemKind(std::string_view problem);

}  // namespace dse::app
