#include "dashscope/deployment_lister.h"

#include <algorithm>
#include <unordered_set>

#include "common/log.h"

namespace dse::dashscope {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

}  // namespace

DeploymentLister::DeploymentLister(PageFetcher& fetcher, ListOptions options, const Clock& clock,
                                   const StopSignal& stop, RequestObserver observer, uint64_t seed)
    : fetcher_(fetcher),
      options_(options),
      clock_(clock),
      stop_(stop),
      observer_(std::move(observer)),
      rng_(seed),
      page_size_(options_.page_size) {}

RequestOutcome DeploymentLister::FetchWithRetries(int64_t page_no, SteadyTime deadline, PollResult& result) {
  for (int attempt = 0;; ++attempt) {
    const auto now = clock_.SteadyNow();
    const auto left = std::chrono::duration_cast<Duration>(deadline - now);
    if (left < kMinRequestTime) {
      RequestOutcome out;
      out.error_message = "poll deadline reached before page " + std::to_string(page_no);
      return out;
    }
    RequestOutcome out = fetcher_.FetchPage(page_no, page_size_, std::min(options_.request_timeout, left));
    ++result.requests;
    if (stop_.stopped()) return out;
    if (observer_) observer_(out);
    // The API's request to wait binds every later request to this account,
    // retried or not, in this poll or the next.
    if (out.retry_after) result.not_before = clock_.SteadyNow() + *out.retry_after;
    if (out.ok || !out.retryable || attempt >= options_.max_retries) return out;

    // Full jitter: a uniformly random wait up to base * 2^attempt, so that many
    // exporters retrying at once spread out; Retry-After is a floor.
    const int64_t cap_ms = options_.retry_base_delay.count() << std::min(attempt, 20);
    std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(cap_ms, 0));
    Duration wait{jitter(rng_)};
    if (out.retry_after) wait = std::max(wait, *out.retry_after);
    if (clock_.SteadyNow() + wait + kMinRequestTime > deadline) return out;
    if (clock_.WaitFor(stop_, wait)) return out;
  }
}

PollResult DeploymentLister::ListAll(SteadyTime deadline) {
  fetcher_.BeforePoll();
  PollResult result = ListPages(deadline);
  if (result.ok || result.cancelled || result.error_code != "InvalidParameter" ||
      page_size_ <= kFallbackPageSize) {
    return result;
  }
  log::Warn(
      "the API refused page_size (InvalidParameter); listing with page_size 100 from now on",
      {{"account", options_.account}, {"page_size", std::to_string(page_size_)}, {"err", result.error}});
  page_size_ = kFallbackPageSize;
  const int requests = result.requests;
  result = ListPages(deadline);
  result.requests += requests;
  return result;
}

PollResult DeploymentLister::ListPages(SteadyTime deadline) {
  PollResult result;
  std::unordered_set<std::string> seen;
  int64_t page_cap = kMaxPagesPerPoll;

  for (int64_t page_no = 1; page_no <= page_cap; ++page_no) {
    RequestOutcome out = FetchWithRetries(page_no, deadline, result);
    if (stop_.stopped()) {
      result.cancelled = true;
      result.error = "stopped";
      return result;
    }
    if (!out.ok) {
      result.error_code = out.error_code;
      result.error = "page " + std::to_string(page_no) + ": " + out.error_message;
      return result;
    }
    ++result.pages;
    DeploymentPage& page = out.page;
    for (auto& p : page.problems) result.problems.push_back(std::move(p));
    result.problems_not_listed += page.problems_not_listed;

    if (page_no == 1 && page.total && *page.total >= 0) {
      // One page of slack lets a list that grows during the poll finish;
      // a lying `total` cannot make us walk further than that.
      const int64_t pages_for_total = (*page.total + page_size_ - 1) / page_size_;
      page_cap = std::clamp<int64_t>(pages_for_total + 1, 1, kMaxPagesPerPoll);
    }

    size_t added = 0;
    for (auto& d : page.deployments) {
      if (seen.insert(d.deployed_model).second) {
        result.deployments.push_back(std::move(d));
        ++added;
      } else {
        ++result.duplicates;
      }
    }

    const bool empty = page.deployments.empty();
    const bool nothing_new = added == 0;
    const bool have_all = page.total && static_cast<int64_t>(result.deployments.size()) >= *page.total;
    const bool short_page = !page.total && page.deployments.size() < static_cast<size_t>(page_size_);
    if (empty || nothing_new || have_all || short_page) break;
  }
  result.ok = true;
  return result;
}

}  // namespace dse::dashscope
