// One whole poll without the network: AccountPoller::PollOnce over a fetcher
// that hands out the mock's JSON pages from memory, so the time is parse,
// de-duplication, snapshot, render, compress and publish together.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "app/account_poller.h"
#include "app/status_history.h"
#include "bench_data.h"
#include "dashscope/api_client.h"

namespace dse::bench {
namespace {

class InMemoryFetcher final : public dashscope::PageFetcher {
 public:
  explicit InMemoryFetcher(std::vector<std::string> pages) : pages_(std::move(pages)) {}

  dashscope::RequestOutcome FetchPage(int64_t page_no, int, Duration) override {
    dashscope::RequestOutcome out;
    out.http_status = 200;
    const auto i = static_cast<size_t>(page_no - 1);
    // Past the last page the API answers with an empty list.
    static const std::string empty = R"({"output":{"page_no":0,"page_size":200,"total":0,"deployments":[]}})";
    dashscope::ReadPageBody(i < pages_.size() ? pages_[i] : empty, out);
    return out;
  }
  void Cancel() override {}

 private:
  const std::vector<std::string> pages_;
};

void BM_PollOnce(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  RealClock clock;
  metrics::ExporterMetrics metrics("bench", "bench");
  metrics::ExpositionStore store;
  config::Account account;
  account.name = kAccount;
  metrics::AccountView view;
  view.name = kAccount;
  store.SetAccounts({view});
  app::PollSettings settings;
  app::AccountPoller poller(account, settings, metrics, store, clock,
                            std::make_unique<InMemoryFetcher>(MockPages(count)));
  for (auto _ : state) {
    auto result = poller.PollOnce();
    if (!result.ok) {
      state.SkipWithError(result.error.c_str());
      return;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * count));
  state.counters["text_bytes"] = static_cast<double>(store.Current()->text_size);
}
BENCHMARK(BM_PollOnce)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// The status history's share of a poll: the same fleet listed again, in the
// same order (arg 1) or reversed (arg 0, every lookup through the map).
void BM_FollowStatuses(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  auto listed = MockDeployments(count);
  const auto previous =
      metrics::BuildDeploymentData(kAccount, listed, app::FollowStatuses(nullptr, listed, 0));
  if (state.range(1) == 0) std::reverse(listed.begin(), listed.end());
  for (auto _ : state) {
    auto since = app::FollowStatuses(previous.get(), listed, 1);
    benchmark::DoNotOptimize(since);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * count));
}
BENCHMARK(BM_FollowStatuses)
    ->ArgNames({"deployments", "same_order"})
    ->Args({10000, 1})
    ->Args({10000, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dse::bench

BENCHMARK_MAIN();
