// The exporter's request rules that do not depend on a connection: which
// handler a path is, and which request bodies are refused before they are
// read. Kept apart from the I/O code so that a fuzzer can drive them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dse::server {

// A request head (request line and every header line) larger than this gets
// 431; Go's http.Server allows 1 MiB, but nothing a scraper sends comes near.
inline constexpr size_t kMaxRequestHeadBytes = 16 * 1024;
// Nothing we serve takes a body; larger ones are refused unread.
inline constexpr size_t kMaxRequestBodyBytes = 4 * 1024;

enum class Route { kMetrics, kHealthz, kReadyz, kLanding, kOther };

// The handler label of dashscope_exporter_http_requests_total.
const char* RouteName(Route route);

// The path of an origin-form request target ("/metrics?x=1" -> "/metrics").
// Empty for any other form ("*", "http://host/x", ""): those are not ours.
// Not percent-decoded: our paths are plain ASCII, and "/metric%73" is not
// one of them.
std::string_view TargetPath(std::string_view target);

// /-/healthy and /-/ready are the Prometheus-style names of /healthz and /readyz.
Route ClassifyPath(std::string_view path, std::string_view telemetry_path);

// Why a path cannot be the telemetry path, or nullopt when it can. One check
// for the flag parser and the server, each wording the reason its own way.
enum class TelemetryPathProblem {
  kNoLeadingSlash,
  kBadCharacter,  // a space, a control character, '?', '#' or '%'
  kBuiltIn,       // /, /healthz, /readyz, /-/healthy or /-/ready
};
std::optional<TelemetryPathProblem> FindTelemetryPathProblem(std::string_view path);

// The status that refuses a request's body before any of it is read, or 0
// when the body is absent or small enough to read and drop: a chunked body
// has no length to check (411), a declared length over `limit` is too big (413).
int BodyRefusalStatus(bool chunked, std::optional<uint64_t> content_length,
                      size_t limit = kMaxRequestBodyBytes);

// What the server decides from a request head alone, parsed as a session
// parses it (Beast's parser with the limits above). For the fuzzer and tests.
struct HeadOutcome {
  bool complete = false;  // a whole head was read
  // 0 when the head is acceptable so far; else the refusal sent (400, 411,
  // 413, 431) before any handler runs.
  int status = 0;
  Route route = Route::kOther;
  bool head_method = false;        // HEAD: no body in the answer
  bool get_or_head = false;        // else 405 once routed
  bool gzip = false;               // Accept-Encoding allows gzip
  bool basic_credentials = false;  // an Authorization header that parses as Basic
};
HeadOutcome EvaluateRequestHead(std::string_view bytes, std::string_view telemetry_path);

}  // namespace dse::server
