// The HTTP side of the simulated account: the DashScope list endpoint and
// the /mock/ admin endpoints. Handlers take httplib request/response objects
// but need no socket, so most behaviour is testable by calling them directly.
//
// One class, one file per job: api.cc constructs the shared state and routes,
// and holds request ids, request counting, shutdown and the helpers of
// api_internal.h; list_endpoint.cc emulates the DashScope list API and its
// faults; admin_endpoints.cc serves the /mock/ endpoints.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mock/faults.h"
#include "mock/fleet.h"

namespace dse::mock {

enum class Envelope { kOutput, kData, kAlternate };
std::optional<Envelope> ParseEnvelope(std::string_view text);
std::string_view EnvelopeName(Envelope envelope);

struct ApiOptions {
  std::string api_key = "sk-mock-0000";
  Envelope envelope = Envelope::kOutput;
  uint64_t seed = 1;            // request ids
  int64_t max_page_size = 200;  // larger page_size values get 400 InvalidParameter
};

class MockApi {
 public:
  // The workspace the API accepts is the fleet's workspace_id.
  MockApi(ApiOptions api, FleetOptions fleet);
  MockApi(const MockApi&) = delete;
  MockApi& operator=(const MockApi&) = delete;

  // Routes every endpoint below, plus a 404 for anything else.
  void Register(httplib::Server& server);

  // GET /api/v1/deployments
  void ListDeployments(const httplib::Request& req, httplib::Response& res);
  // POST /mock/tick?n=1, POST /mock/reset, GET /mock/state
  void PostTick(const httplib::Request& req, httplib::Response& res);
  void PostReset(const httplib::Request& req, httplib::Response& res);
  void GetState(const httplib::Request& req, httplib::Response& res);
  // POST /mock/deployments: count= | set= | add= | remove= (fields: see Usage())
  void PostDeployments(const httplib::Request& req, httplib::Response& res);
  // POST, GET, DELETE /mock/faults
  void PostFault(const httplib::Request& req, httplib::Response& res);
  void GetFaults(const httplib::Request& req, httplib::Response& res);
  void DeleteFaults(const httplib::Request& req, httplib::Response& res);
  void NotFound(const httplib::Request& req, httplib::Response& res);

  // The ticker's entry point.
  void Advance(int64_t ticks);
  int64_t tick() const;
  // Ends pending delays at once and makes later ones return immediately, so
  // that a server stop is not held up by a delay fault.
  void Shutdown();

  // How the `close` fault drops the connection of `req`. The server installs
  // one before serving; without one the fault only fails the response.
  void SetConnectionCloser(std::function<void(const httplib::Request&)> closer);
  // How the `trickle` fault finds the socket of `req` to write to it
  // directly (-1: none). Not installed for HTTPS, where raw bytes would
  // break the TLS stream.
  void SetConnectionFinder(std::function<int(const httplib::Request&)> finder);

 private:
  struct Counters {
    int64_t requests = 0;
    std::map<std::string, int64_t> by_path;
    int64_t list_requests = 0;
    int64_t auth_failures = 0;
    int64_t workspace_denials = 0;
    int64_t invalid_parameters = 0;
    int64_t faults_applied = 0;
    // The last request under /api/.
    std::optional<std::string> last_page_no;
    std::optional<std::string> last_page_size;
    bool last_had_workspace = false;
    std::string last_workspace;
    std::optional<std::string> last_user_agent;
    // What a proxy's credentials would leak to the API (tests check none do).
    std::optional<std::string> last_proxy_authorization;
  };

  // What a list request was admitted with, decided under the lock.
  struct ListTicket {
    int64_t page_no = 1;
    int64_t page_size = 50;
    std::optional<Fault> fault;
  };

  std::string NextRequestId();
  void CountRequest(const httplib::Request& req);  // needs mu_
  std::optional<ListTicket> Admit(const httplib::Request& req, httplib::Response& res,
                                  const std::string& request_id);
  // False when cut short by Shutdown().
  bool WaitUnlessShutdown(int64_t ms);
  void Respond(const ListTicket& ticket, const std::string& request_id, const httplib::Request& req,
               httplib::Response& res);
  std::string StateJson() const;  // needs mu_

  const ApiOptions options_;
  const std::string workspace_id_;
  std::function<void(const httplib::Request&)> closer_;  // set before serving
  std::function<int(const httplib::Request&)> finder_;   // set before serving
  // Writes `response` one byte every `ms` to the connection of `req`, then
  // shuts it down; returns early when the client goes or the server stops.
  void Trickle(const httplib::Request& req, const std::string& response, int64_t ms);

  mutable std::mutex mu_;
  Fleet fleet_;            // guarded by mu_
  FaultQueue faults_;      // guarded by mu_
  Counters counters_;      // guarded by mu_
  int64_t responses_ = 0;  // guarded by mu_; list pages answered, drives Envelope::kAlternate

  std::atomic<uint64_t> request_seq_{0};
  std::atomic<int64_t> delays_in_flight_{0};

  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  bool shutting_down_ = false;  // guarded by shutdown_mu_
};

}  // namespace dse::mock
