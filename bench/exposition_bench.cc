// model -> exposition: the per-poll work (render, compress, snapshot) and the
// per-scrape work (assembling the body from the precompressed pieces).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_data.h"
#include "metrics/deployment_families.h"
#include "metrics/exporter_metrics.h"
#include "metrics/exposition.h"
#include "metrics/gzip_member.h"

namespace dse::bench {
namespace {

const std::vector<dashscope::Deployment>& Fleet(size_t count) {
  static std::map<size_t, std::vector<dashscope::Deployment>> fleets;
  auto it = fleets.find(count);
  if (it == fleets.end()) it = fleets.emplace(count, MockDeployments(count)).first;
  return it->second;
}

// The status history a poller keeps for a fleet it has seen once: each
// deployment in its status since its gmt_modified, no change seen.
const std::vector<metrics::StatusSince>& Since(size_t count) {
  static std::map<size_t, std::vector<metrics::StatusSince>> all;
  auto it = all.find(count);
  if (it == all.end()) {
    std::vector<metrics::StatusSince> since;
    for (const auto& d : Fleet(count)) since.push_back({d.gmt_modified.value_or(0), 0});
    it = all.emplace(count, std::move(since)).first;
  }
  return it->second;
}

size_t TextSize(const metrics::DeploymentFamilyText& text) {
  size_t n = 0;
  for (const auto& t : text) n += t.size();
  return n;
}

// What the rendered strings reserve, slack included (kept for the whole
// poll interval; only the written part of it is resident).
size_t TextCapacity(const metrics::DeploymentFamilyText& text) {
  size_t n = 0;
  for (const auto& t : text) n += t.capacity();
  return n;
}

void BM_RenderDeploymentFamilies(benchmark::State& state) {
  const auto& fleet = Fleet(static_cast<size_t>(state.range(0)));
  const auto& since = Since(fleet.size());
  size_t bytes = 0, capacity = 0;
  metrics::DeploymentFamilyText last;
  for (auto _ : state) {
    auto text = metrics::RenderDeploymentFamilies(kAccount, fleet, since);
    bytes = TextSize(text);
    capacity = TextCapacity(text);
    benchmark::DoNotOptimize(text);
  }
  // Bytes per family, by its place in DeploymentFamilies(), to price each one.
  last = metrics::RenderDeploymentFamilies(kAccount, fleet, since);
  for (size_t f = 0; f < last.size(); ++f) {
    state.counters["f" + std::to_string(f) + "_bytes"] = static_cast<double>(last[f].size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * fleet.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["text_bytes"] = static_cast<double>(bytes);
  state.counters["text_capacity"] = static_cast<double>(capacity);
}
BENCHMARK(BM_RenderDeploymentFamilies)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Compress() of every family text of 10,000 deployments at a given zlib level:
// what kGzipLevel costs per poll and what it buys in size.
void BM_CompressFamilies10000(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const auto text = metrics::RenderDeploymentFamilies(kAccount, Fleet(10000), Since(10000));
  size_t in = 0, out = 0;
  for (auto _ : state) {
    in = out = 0;
    for (const auto& t : text) {
      auto c = metrics::Compress(t, level);  // copies t, as BuildDeploymentData moves it
      in += c.text.size();
      out += c.deflated.size();
      benchmark::DoNotOptimize(c);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in));
  state.counters["text_bytes"] = static_cast<double>(in);
  state.counters["deflated_bytes"] = static_cast<double>(out);
  state.counters["ratio"] = out == 0 ? 0 : static_cast<double>(in) / static_cast<double>(out);
}
BENCHMARK(BM_CompressFamilies10000)->Arg(1)->Arg(2)->Arg(3)->Arg(6)->Arg(9)->Unit(benchmark::kMillisecond);

// Render + compress + snapshot: the per-poll work after parsing.
void BM_BuildDeploymentData(benchmark::State& state) {
  const auto& fleet = Fleet(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<dashscope::Deployment> copy = fleet;
    std::vector<metrics::StatusSince> since = Since(fleet.size());
    state.ResumeTiming();
    auto data = metrics::BuildDeploymentData(kAccount, std::move(copy), std::move(since));
    benchmark::DoNotOptimize(data);
    state.PauseTiming();
    data.reset();  // not part of the poll's cost
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * fleet.size()));
}
BENCHMARK(BM_BuildDeploymentData)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// A published exposition of one account with `count` deployments.
std::shared_ptr<const metrics::Exposition> Published(size_t count) {
  static std::map<size_t, std::unique_ptr<metrics::ExpositionStore>> stores;
  auto& store = stores[count];
  if (!store) {
    store = std::make_unique<metrics::ExpositionStore>();
    metrics::AccountView view;
    view.name = kAccount;
    store->SetAccounts({view});
    auto snap = std::make_shared<metrics::AccountSnapshot>();
    snap->view = view;
    snap->data = metrics::BuildDeploymentData(kAccount, Fleet(count), Since(count));
    store->Publish(std::move(snap));
  }
  return store->Current();
}

// The exporter's own metrics after a few polls of one account.
metrics::ExporterMetrics& SelfMetrics() {
  static auto* m = [] {
    auto* em = new metrics::ExporterMetrics("bench", "bench");
    auto& a = em->ForAccount(kAccount);
    for (int i = 0; i < 3; ++i) {
      a.PollStarted();
      for (int page = 0; page < 5; ++page) a.ApiRequest(0.002 * (page + 1));
      a.SetDeployments(1000);
      a.PollFinished(true, 0.2, 1750158000 + 60 * i);
    }
    for (int i = 0; i < 1000; ++i) em->Http().CountResponse("metrics", 200);
    return em;
  }();
  return *m;
}

// The per-scrape tail as the exporter serializes it (process_* read from
// /proc/self, HTTP request counts).
std::string Tail() { return SelfMetrics().RenderText(); }

// Between polls: only process_* and the HTTP counts are new.
void BM_ScrapeTail(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string t = Tail();
    bytes = t.size();
    benchmark::DoNotOptimize(t);
  }
  state.counters["tail_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ScrapeTail)->Unit(benchmark::kMicrosecond);

// The first scrape after a poll: the exporter's own metrics changed too.
void BM_ScrapeTailAfterChange(benchmark::State& state) {
  auto& account = SelfMetrics().ForAccount(kAccount);
  for (auto _ : state) {
    account.SetDeployments(1000);
    std::string t = Tail();
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_ScrapeTailAfterChange)->Unit(benchmark::kMicrosecond);

// AssembleScrapeBody alone (the tail is made once, outside the loop).
void BM_AssembleScrapeBody(benchmark::State& state) {
  const auto exposition = Published(static_cast<size_t>(state.range(0)));
  const bool gzip = state.range(1) != 0;
  const std::string tail = Tail();
  size_t size = 0;
  for (auto _ : state) {
    metrics::ScrapeBody body = metrics::AssembleScrapeBody(exposition, tail, gzip);
    size = body.size;
    benchmark::DoNotOptimize(body);
  }
  state.counters["body_bytes"] = static_cast<double>(size);
}
BENCHMARK(BM_AssembleScrapeBody)
    ->ArgNames({"deployments", "gzip"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dse::bench

BENCHMARK_MAIN();
