// A PageFetcher that answers from a function of (page_no, page_size) and
// records the pages asked for, so pagination and retries run without sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dashscope/api_client.h"

namespace dse::testing {

class FakeFetcher : public dashscope::PageFetcher {
 public:
  std::function<dashscope::RequestOutcome(int64_t page_no, int page_size)> serve;
  std::vector<int64_t> requested;  // page_no of each request, in order

  dashscope::RequestOutcome FetchPage(int64_t page_no, int page_size, Duration) override {
    requested.push_back(page_no);
    return serve(page_no, page_size);
  }
  void Cancel() override {}
};

}  // namespace dse::testing
