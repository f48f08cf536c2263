#include "app/account_poller.h"

#include <malloc.h>

#include <map>

#include "app/status_history.h"
#include "common/log.h"
#include "dashscope/api_time.h"
#include "dashscope/page_parser.h"

namespace dse::app {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Problems logged per poll before the rest are summarised in one line.
constexpr size_t kMaxProblemLinesPerPoll = 10;

}  // namespace

PollSettings PollSettingsFrom(const config::Config& config, std::string user_agent) {
  PollSettings s;
  s.poll_interval = config.poll_interval;
  s.max_staleness = config.max_staleness;
  s.list.page_size = config.page_size;
  s.list.max_retries = config.max_retries;
  s.list.retry_base_delay = config.retry_base_delay;
  s.list.request_timeout = config.request_timeout;
  s.max_response_bytes = config.max_response_bytes;
  s.user_agent = std::move(user_agent);
  return s;
}

Duration PollDeadline(Duration poll_interval) {
  // 90% of the interval leaves room to publish before the next poll is due.
  return poll_interval * 9 / 10;
}

AccountPoller::AccountPoller(config::Account account, PollSettings settings,
                             metrics::ExporterMetrics& metrics, metrics::ExpositionStore& store,
                             const Clock& clock, std::unique_ptr<dashscope::PageFetcher> fetcher)
    : account_(std::move(account)),
      settings_(std::move(settings)),
      metrics_(metrics.ForAccount(account_.name)),
      store_(store),
      clock_(clock),
      fetcher_(fetcher ? std::move(fetcher)
                       : dashscope::MakeHttpPageFetcher(
                             account_, dashscope::ClientOptionsFromEnvironment(
                                           settings_.user_agent, settings_.max_response_bytes))) {
  dashscope::ListOptions list = settings_.list;
  list.account = account_.name;
  lister_ = std::make_unique<dashscope::DeploymentLister>(
      *fetcher_, std::move(list), clock_, stop_, [this](const dashscope::RequestOutcome& out) {
        metrics_.ApiRequest(out.duration_seconds);
        if (!out.ok && !out.error_code.empty()) metrics_.ApiError(out.error_code);
        if (!out.ok) {
          log::Debug("API request failed",
                     {{"account", account_.name}, {"code", out.error_code}, {"err", out.error_message}});
        }
      });
  // Carry over what an earlier poller of the same account published (reload).
  for (const auto& snap : store_.Accounts()) {
    if (snap->view.name == account_.name && snap->data) {
      last_good_ = snap->data;
      last_good_at_ = clock_.SteadyNow();
      last_success_unix_ = snap->view.last_success_unix;
    }
  }
}

AccountPoller::~AccountPoller() {
  RequestStop();
  Join();
}

dashscope::PollResult AccountPoller::PollOnce() {
  const SteadyTime start = clock_.SteadyNow();
  metrics_.PollStarted();

  dashscope::PollResult result;
  if (not_before_ && *not_before_ > start) {
    const auto wait = *not_before_ - start;
    // Skip when no request could start after the wait, not only when the
    // wait outlasts the whole poll.
    if (wait + dashscope::kMinRequestTime >= PollDeadline(settings_.poll_interval)) {
      // Sending now would ignore the API's Retry-After; skip this poll.
      result.error_code.clear();
      result.error = "API asked to wait (Retry-After) " +
                     FormatDuration(std::chrono::duration_cast<Duration>(wait)) + " more; no request sent";
    } else if (clock_.WaitFor(stop_, wait)) {
      result.cancelled = true;
    }
  }
  if (result.error.empty() && !result.cancelled) {
    result = lister_->ListAll(start + PollDeadline(settings_.poll_interval));
  }
  if (result.not_before) {
    not_before_ = result.not_before;
    const double wait_s = std::chrono::duration<double>(*result.not_before - clock_.SteadyNow()).count();
    metrics_.SetThrottledUntil(clock_.UnixNow() + std::max(0.0, wait_s));
  } else if (not_before_ && *not_before_ <= clock_.SteadyNow()) {
    not_before_.reset();
    metrics_.SetThrottledUntil(0);
  }
  if (result.cancelled) return result;

  const double duration = std::chrono::duration<double>(clock_.SteadyNow() - start).count();
  PublishResult(result, duration);
  return result;
}

void AccountPoller::PublishResult(const dashscope::PollResult& result, double duration_seconds) {
  const double end_unix = clock_.UnixNow();
  auto snap = std::make_shared<metrics::AccountSnapshot>();
  snap->view.name = account_.name;
  snap->view.base_url = account_.base_url;
  snap->view.workspace = account_.workspace;
  snap->view.last_poll_unix = static_cast<int64_t>(end_unix);
  snap->view.last_poll_duration_seconds = duration_seconds;

  // Problems: counted by kind, each distinct one logged once per poll.
  std::map<std::string_view, uint64_t> problems_by_kind;
  if (!result.problems.empty() || result.problems_not_listed > 0) {
    for (const auto& p : result.problems) ++problems_by_kind[p.label()];
    // Problems past the parser's list are counted without their text.
    if (result.problems_not_listed > 0) problems_by_kind["other"] += result.problems_not_listed;
    size_t logged = 0;
    for (const auto& p : result.problems) {
      if (logged++ == kMaxProblemLinesPerPoll) break;
      log::Warn("bad deployment record", {{"account", account_.name}, {"problem", p.text}});
    }
    if (result.problems.size() > kMaxProblemLinesPerPoll) {
      log::Warn("more bad deployment records not logged",
                {{"account", account_.name},
                 {"count", std::to_string(result.problems.size() - kMaxProblemLinesPerPoll)}});
    }
  }

  bool stale_data_dropped = false;
  if (result.ok) {
    std::vector<dashscope::Deployment> deployments = result.deployments;
    dashscope::ApplyApiTimeZone(deployments, account_.api_time_zone_seconds);
    // The status history is the last good data: it holds what was listed then.
    std::vector<metrics::StatusSince> since =
        FollowStatuses(last_good_.get(), deployments, static_cast<int64_t>(end_unix));
    last_good_ =
        metrics::BuildDeploymentData(account_.name, std::move(deployments), std::move(since), last_good_);
    last_good_at_ = clock_.SteadyNow();
    last_success_unix_ = end_unix;
    log::Debug("poll succeeded", {{"account", account_.name},
                                  {"deployments", std::to_string(result.deployments.size())},
                                  {"pages", std::to_string(result.pages)},
                                  {"duration_seconds", std::to_string(duration_seconds)}});
  } else {
    log::Warn("poll failed, keeping the last good data",
              {{"account", account_.name}, {"code", result.error_code}, {"err", result.error}});
    if (last_good_ && clock_.SteadyNow() - last_good_at_ > settings_.max_staleness) {
      log::Warn("last good data older than max_staleness, no longer exported",
                {{"account", account_.name}, {"max_staleness", FormatDuration(settings_.max_staleness)}});
      last_good_.reset();
      stale_data_dropped = true;
      snap->view.data_dropped_as_stale = true;
    }
  }
  snap->view.up = result.ok;
  if (last_success_unix_) snap->view.last_success_unix = static_cast<int64_t>(*last_success_unix_);
  snap->view.last_error = result.ok ? std::string() : result.error;
  snap->data = last_good_;
  if (last_good_) {
    snap->view.deployments =
        std::shared_ptr<const std::vector<dashscope::Deployment>>(last_good_, &last_good_->deployments);
  }
  const size_t deployments = last_good_ ? last_good_->deployments.size() : 0;
  // The data first, then the counters: whoever sees a poll counted (a
  // scrape, a test waiting on dashscope_poll_failures_total) also sees
  // what that poll published.
  store_.Publish(std::move(snap));
  for (const auto& [kind, n] : problems_by_kind) metrics_.RecordProblems(kind, n);
  if (result.duplicates > 0) metrics_.DuplicatesDropped(result.duplicates);
  if (result.ok || stale_data_dropped) metrics_.SetStaleDataDropped(stale_data_dropped);
  metrics_.SetDeployments(deployments);
  metrics_.PollFinished(result.ok, duration_seconds, end_unix);
}

void AccountPoller::Start() {
  finished_ = false;
  thread_ = std::thread([this] {
    Run();
    finished_ = true;
  });
}

void AccountPoller::Run() {
  SteadyTime next = clock_.SteadyNow();
  while (!stop_.stopped()) {
    PollOnce();
    // The poll's transient memory (response bodies, parsed pages, its result,
    // the previous snapshot) is free now, but glibc keeps freed pages
    // resident until its arenas are trimmed: give them back, so that RSS
    // between polls is what the snapshot needs.
    malloc_trim(0);
    // Fixed rate from each poll's start; a poll that overran (it cannot by
    // more than its deadline) starts the next one at once.
    next += settings_.poll_interval;
    const SteadyTime now = clock_.SteadyNow();
    if (next < now) next = now;
    if (clock_.WaitFor(stop_, next - now)) break;
  }
}

void AccountPoller::RequestStop() {
  stop_.Stop();
  fetcher_->Cancel();
}

void AccountPoller::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace dse::app
