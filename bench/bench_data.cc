#include "bench_data.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "dashscope/page_parser.h"
#include "mock/fleet.h"
#include "mock/responses.h"

namespace dse::bench {

std::vector<std::string> MockPages(size_t count, size_t page_size) {
  mock::FleetOptions options;
  options.count = count;
  options.workspace_id = "llm-bench";
  const mock::Fleet fleet(options);
  std::vector<std::string> pages;
  for (size_t offset = 0, page_no = 1; offset < count; offset += page_size, ++page_no) {
    mock::PageBody page;
    page.request_id = "bench-" + std::to_string(page_no);
    page.page_no = static_cast<int64_t>(page_no);
    page.page_size = static_cast<int64_t>(page_size);
    page.total = static_cast<int64_t>(count);
    page.deployments = fleet.Page(offset, page_size);
    pages.push_back(mock::RenderPage(page));
  }
  return pages;
}

std::vector<dashscope::Deployment> MockDeployments(size_t count) {
  std::vector<dashscope::Deployment> out;
  out.reserve(count);
  for (const std::string& body : MockPages(count)) {
    auto page = dashscope::ParseDeploymentPage(body);
    if (!page.ok()) {
      std::fprintf(stderr, "bench: mock page does not parse: %s\n", page.error().c_str());
      std::abort();
    }
    for (auto& d : page->deployments) out.push_back(std::move(d));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench: cannot read %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace dse::bench
