#include "server/request_routing.h"

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include "server/accept_encoding.h"
#include "server/basic_auth.h"

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

std::optional<TelemetryPathProblem> FindTelemetryPathProblem(std::string_view path) {
  if (path.empty() || path.front() != '/') return TelemetryPathProblem::kNoLeadingSlash;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#' || c == '%' || c == 0x7f) {
      return TelemetryPathProblem::kBadCharacter;
    }
  }
  if (ClassifyPath(path, "") != Route::kOther) return TelemetryPathProblem::kBuiltIn;
  return std::nullopt;
}

int BodyRefusalStatus(bool chunked, std::optional<uint64_t> content_length, size_t limit) {
  if (chunked) return 411;
  if (content_length && *content_length > limit) return 413;
  return 0;
}

HeadOutcome EvaluateRequestHead(std::string_view bytes, std::string_view telemetry_path) {
  namespace http = boost::beast::http;
  HeadOutcome out;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(kMaxRequestHeadBytes));
  parser.body_limit(kMaxRequestBodyBytes);
  parser.eager(false);  // stop after the head, as async_read_header does
  boost::beast::error_code ec;
  // Fed in pieces, as the network delivers it; the parser consumes whole
  // lines only, so an unfinished one is offered again with more after it.
  size_t window = 512;
  while (!bytes.empty() && !parser.is_header_done()) {
    const size_t take = std::min(bytes.size(), window);
    const size_t used = parser.put(boost::asio::buffer(bytes.data(), take), ec);
    if (ec == http::error::need_more) {
      if (take == bytes.size()) return out;  // the head has not fully arrived
      ec = {};
      window += 512;
    } else if (ec == http::error::header_limit) {
      out.status = 431;
      return out;
    } else if (ec == http::error::body_limit) {
      out.status = 413;
      return out;
    } else if (ec) {
      out.status = 400;
      return out;
    } else {
      window = 512;
    }
    bytes.remove_prefix(used);
  }
  if (!parser.is_header_done()) return out;
  out.complete = true;
  const auto declared = parser.content_length();
  out.status =
      BodyRefusalStatus(parser.chunked(), declared ? std::optional<uint64_t>(*declared) : std::nullopt);
  const auto& req = parser.get();
  const auto target = req.target();
  out.route = ClassifyPath(TargetPath(std::string_view(target.data(), target.size())), telemetry_path);
  out.head_method = req.method() == http::verb::head;
  out.get_or_head = out.head_method || req.method() == http::verb::get;
  std::string accept;
  const auto [first, last] = req.equal_range(http::field::accept_encoding);
  for (auto it = first; it != last; ++it) {
    if (!accept.empty()) accept += ',';
    accept.append(it->value().data(), it->value().size());
  }
  out.gzip = AcceptsGzip(accept);
  if (const auto auth = req.find(http::field::authorization); auth != req.end()) {
    out.basic_credentials =
        ParseBasicAuthorization(std::string_view(auth->value().data(), auth->value().size())).has_value();
  }
  return out;
}

}  // namespace dse::server
