// A request head from a hostile client must get a definite answer from the
// server's own rules: a refusal it knows (400, 411, 413, 431) or a route,
// never a crash, a hang or a read past the 16 KiB head limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/request_routing.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  using dse::server::Route;
  const auto out = dse::server::EvaluateRequestHead(bytes, "/metrics");
  Check(out.status == 0 || out.status == 400 || out.status == 411 || out.status == 413 || out.status == 431);
  // A head that fits is never refused as too large.
  if (size <= 1024) Check(out.status != 431);
  if (out.complete && out.status == 0 && out.route != Route::kOther) {
    // Only the exact built-in paths route; anything else is 404.
    Check(out.route == Route::kMetrics || out.route == Route::kHealthz || out.route == Route::kReadyz ||
          out.route == Route::kLanding);
  }
  if (out.head_method) Check(out.get_or_head);

  // The path rules alone, on the raw bytes as a target.
  const std::string_view path = dse::server::TargetPath(bytes);
  Check(path.size() <= bytes.size() && bytes.substr(0, path.size()) == path);
  Check(path.find('?') == std::string_view::npos);
  const Route r = dse::server::ClassifyPath(path, "/metrics");
  if (r == Route::kMetrics) Check(path == "/metrics");
  if (r == Route::kLanding) Check(path == "/");
  return 0;
}
