// The landing page as a worker serves it: rendered once per change of what
// it shows, plain and gzip. Internal to dse_server: only its .cc files
// include this; the public interface is http_server.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "metrics/status_view.h"

namespace dse::server::detail {

// The landing page rendered once per change of what it shows (and at most
// once a second, for its "ago" texts), plain and gzip. One per worker.
struct LandingCache {
  std::string key;
  int64_t now = -1;
  std::shared_ptr<const std::string> plain;
  std::shared_ptr<const std::string> gzip;
};

// The landing page for `view` at `now` (Unix seconds), plain or gzip, from
// `landing` when it still shows the same, else rendered into it.
std::shared_ptr<const std::string> CachedLandingPage(LandingCache& landing, const metrics::StatusView& view,
                                                     int64_t now, bool gzip);

}  // namespace dse::server::detail
