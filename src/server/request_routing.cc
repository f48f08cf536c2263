#include "server/request_routing.h"

namespace dse::server {

const char* RouteName(Route route) {
  switch (route) {
    case Route::kMetrics: return "metrics";
    case Route::kHealthz: return "healthz";
    case Route::kReadyz: return "readyz";
    case Route::kLanding: return "landing";
    case Route::kOther: return "other";
  }
  return "other";
}

std::string_view TargetPath(std::string_view target) {
  if (target.empty() || target.front() != '/') return {};
  return target.substr(0, target.find('?'));
}

Route ClassifyPath(std::string_view path, std::string_view telemetry_path) {
  if (path.empty()) return Route::kOther;
  if (path == telemetry_path) return Route::kMetrics;
  if (path == "/healthz" || path == "/-/healthy") return Route::kHealthz;
  if (path == "/readyz" || path == "/-/ready") return Route::kReadyz;
  if (path == "/") return Route::kLanding;
  return Route::kOther;
}

int BodyRefusalStatus(bool chunked, std::optional<uint64_t> content_length, size_t limit) {
  if (chunked) return 411;
  if (content_length && *content_length > limit) return 413;
  return 0;
}

}  // namespace dse::server
