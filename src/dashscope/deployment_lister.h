// One poll of one account: every page of the list, with retries, de-duplicated
// and always terminating.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/duration.h"
#include "common/stop_signal.h"
#include "dashscope/api_client.h"
#include "dashscope/deployment.h"

namespace dse::dashscope {

// Never more pages than this in one poll, whatever `total` says (200,000
// deployments at the largest page size).
inline constexpr int64_t kMaxPagesPerPoll = 1000;
// A request is not worth starting with less time than this left in the poll.
inline constexpr Duration kMinRequestTime{50};
// What a refused page_size falls back to: the PTU reference allows 1..100,
// the list reference 1..200, and the API may enforce either.
inline constexpr int kFallbackPageSize = 100;

struct ListOptions {
  int page_size = 200;
  int max_retries = 2;
  Duration retry_base_delay{500};
  Duration request_timeout{10000};
  std::string account;  // for log lines
};

struct PollResult {
  bool ok = false;
  bool cancelled = false;  // stopped by shutdown; nothing to publish
  std::vector<Deployment> deployments;
  std::string error_code;  // of the request that failed the poll, when one did
  std::string error;       // why the poll failed; never contains the key
  int pages = 0;
  int requests = 0;
  size_t duplicates = 0;
  std::vector<Problem> problems;   // from every page, in order
  size_t problems_not_listed = 0;  // counted by the parser beyond its list
  // Set when the API asked us to wait (Retry-After): no request before then.
  std::optional<std::chrono::steady_clock::time_point> not_before;
};

// Told about every request sent (for metrics).
using RequestObserver = std::function<void(const RequestOutcome&)>;

class DeploymentLister {
 public:
  DeploymentLister(PageFetcher& fetcher, ListOptions options, const Clock& clock, const StopSignal& stop,
                   RequestObserver observer, uint64_t seed = std::random_device{}());

  // Lists every page; gives up at `deadline` (steady clock). When the API
  // refuses page_size with InvalidParameter, lists again at
  // kFallbackPageSize and keeps that size for every later poll.
  PollResult ListAll(std::chrono::steady_clock::time_point deadline);

  int page_size() const { return page_size_; }

 private:
  PollResult ListPages(std::chrono::steady_clock::time_point deadline);
  // One page with retries; returns the last outcome.
  RequestOutcome FetchWithRetries(int64_t page_no, std::chrono::steady_clock::time_point deadline,
                                  PollResult& result);

  PageFetcher& fetcher_;
  const ListOptions options_;
  const Clock& clock_;
  const StopSignal& stop_;
  RequestObserver observer_;
  std::mt19937_64 rng_;
  int page_size_;
};

}  // namespace dse::dashscope
