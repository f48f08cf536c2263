// What one scrape of the telemetry path sends: pieces of bytes written in
// order, all pointing into memory that `keep_alive` owns. The big pieces are
// shared with the published snapshot, so a scrape copies nothing.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace dse::metrics {

struct ScrapeBody {
  std::vector<std::string_view> pieces;
  size_t size = 0;    // sum of piece sizes (the Content-Length)
  bool gzip = false;  // pieces form one gzip member: send Content-Encoding: gzip
  std::shared_ptr<const void> keep_alive;
};

}  // namespace dse::metrics
