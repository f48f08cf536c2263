// Inputs for the micro-benchmarks: list pages and parsed fleets as the mock
// serves them (same generator, seed and tick as bench/scrape_bench.sh).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dashscope/deployment.h"

namespace dse::bench {

// The account label every benchmark renders under.
inline constexpr char kAccount[] = "bench";

// The list pages of a fleet of `count`, `page_size` per page, as JSON bodies.
std::vector<std::string> MockPages(size_t count, size_t page_size = 200);

// The same fleet parsed into our model (aborts if a page does not parse).
std::vector<dashscope::Deployment> MockDeployments(size_t count);

// A file's bytes (aborts when it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace dse::bench
