// JSON -> model: one list page of 200 deployments.
#include <benchmark/benchmark.h>

#include <string>

#include "bench_data.h"
#include "dashscope/page_parser.h"

namespace dse::bench {
namespace {

void ParsePage(benchmark::State& state, const std::string& body) {
  size_t deployments = 0;
  for (auto _ : state) {
    auto page = dashscope::ParseDeploymentPage(body);
    if (!page.ok()) {
      state.SkipWithError(page.error().c_str());
      return;
    }
    deployments = page->deployments.size();
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * deployments));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

// The recorded page in tests/fixtures (the real API's shape).
void BM_ParseFixturePageOf200(benchmark::State& state) {
  static const std::string body = ReadFile(DSE_FIXTURES_DIR "/list_page_of_200.json");
  ParsePage(state, body);
}
BENCHMARK(BM_ParseFixturePageOf200);

// A page as dashscope_mock serves it (what bench/scrape_bench.sh polls).
void BM_ParseMockPageOf200(benchmark::State& state) {
  static const std::string body = MockPages(200).front();
  ParsePage(state, body);
}
BENCHMARK(BM_ParseMockPageOf200);

}  // namespace
}  // namespace dse::bench

BENCHMARK_MAIN();
