// MockApi's shared part: construction, routing (Register, and the 404 for
// everything else), request ids and counting, the ticker's entry points,
// shutdown, and the helpers both kinds of endpoint use (api_internal.h).
#include "mock/api.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "common/splitmix.h"
#include "mock/api_internal.h"
#include "mock/json_writer.h"
#include "mock/responses.h"

namespace dse::mock {
namespace {

constexpr size_t kMaxTrackedPaths = 64;  // stray clients must not grow the state without bound

}  // namespace

namespace detail {

void AdminError(httplib::Response& res, int status, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).EndObject();
  res.status = status;
  res.set_content(w.Take(), kJson);
}

void ApiError(httplib::Response& res, int status, std::string_view request_id, std::string code,
              std::string message) {
  res.status = status;
  res.set_content(RenderError(request_id, std::move(code), std::move(message)), kJson);
}

}  // namespace detail

using detail::AdminError;
using detail::ApiError;

std::optional<Envelope> ParseEnvelope(std::string_view text) {
  if (text == "output") return Envelope::kOutput;
  if (text == "data") return Envelope::kData;
  if (text == "alternate") return Envelope::kAlternate;
  return std::nullopt;
}

std::string_view EnvelopeName(Envelope envelope) {
  switch (envelope) {
    case Envelope::kOutput: return "output";
    case Envelope::kData: return "data";
    case Envelope::kAlternate: return "alternate";
  }
  return "output";
}

MockApi::MockApi(ApiOptions api, FleetOptions fleet)
    : options_(std::move(api)), workspace_id_(fleet.workspace_id), fleet_(std::move(fleet)) {}

void MockApi::Register(httplib::Server& server) {
  auto bind = [this](void (MockApi::*handler)(const httplib::Request&, httplib::Response&)) {
    return
        [this, handler](const httplib::Request& req, httplib::Response& res) { (this->*handler)(req, res); };
  };
  const std::map<std::string, httplib::Server::Handler> posts = {
      {"/mock/tick", bind(&MockApi::PostTick)},
      {"/mock/reset", bind(&MockApi::PostReset)},
      {"/mock/deployments", bind(&MockApi::PostDeployments)},
      {"/mock/faults", bind(&MockApi::PostFault)},
  };
  server.Get("/api/v1/deployments", bind(&MockApi::ListDeployments));
  server.Get("/mock/state", bind(&MockApi::GetState));
  server.Get("/mock/faults", bind(&MockApi::GetFaults));
  server.Delete("/mock/faults", bind(&MockApi::DeleteFaults));
  for (const auto& [path, handler] : posts) server.Post(path, handler);
  // httplib 0.11 answers 400 to a POST that announces no body length, which
  // is what `curl -X POST URL?n=1` sends. Admin fields may all be in the
  // query, so such POSTs are served here, before httplib looks for a body.
  server.set_pre_routing_handler([posts](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST" || req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    auto it = posts.find(req.path);
    if (it == posts.end()) return httplib::Server::HandlerResponse::Unhandled;
    it->second(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Routes match in registration order, so these only catch the rest.
  server.Get(".*", bind(&MockApi::NotFound));
  server.Post(".*", bind(&MockApi::NotFound));
  server.Put(".*", bind(&MockApi::NotFound));
  server.Patch(".*", bind(&MockApi::NotFound));
  server.Delete(".*", bind(&MockApi::NotFound));
}

void MockApi::SetConnectionCloser(std::function<void(const httplib::Request&)> closer) {
  closer_ = std::move(closer);
}

void MockApi::SetConnectionFinder(std::function<int(const httplib::Request&)> finder) {
  finder_ = std::move(finder);
}

std::string MockApi::NextRequestId() {
  const uint64_t seq = request_seq_.fetch_add(1) + 1;
  const uint64_t a = SplitMix(options_.seed * kSplitMixGamma + seq);
  const uint64_t b = SplitMix(a + seq);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

void MockApi::CountRequest(const httplib::Request& req) {
  ++counters_.requests;
  if (counters_.by_path.count(req.path) != 0 || counters_.by_path.size() < kMaxTrackedPaths) {
    ++counters_.by_path[req.path];
  } else {
    ++counters_.by_path["(other)"];
  }
}

bool MockApi::WaitUnlessShutdown(int64_t ms) {
  std::unique_lock lock(shutdown_mu_);
  return !shutdown_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return shutting_down_; });
}

void MockApi::Shutdown() {
  {
    std::lock_guard lock(shutdown_mu_);
    shutting_down_ = true;
  }
  shutdown_cv_.notify_all();
}

void MockApi::Advance(int64_t ticks) {
  std::lock_guard lock(mu_);
  fleet_.Advance(ticks);
}

int64_t MockApi::tick() const {
  std::lock_guard lock(mu_);
  return fleet_.tick();
}

void MockApi::NotFound(const httplib::Request& req, httplib::Response& res) {
  {
    std::lock_guard lock(mu_);
    CountRequest(req);
  }
  if (req.path.rfind("/api/", 0) == 0) {
    const std::string request_id = NextRequestId();
    res.set_header("X-Request-Id", request_id);
    return ApiError(res, 404, request_id, "NotFound", "Not found: " + req.method + " " + req.path);
  }
  AdminError(res, 404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace dse::mock
