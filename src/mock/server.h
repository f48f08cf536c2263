// The mock as a running HTTP server: binds, serves on a thread pool, advances
// ticks on a timer, and stops promptly.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/duration.h"
#include "common/result.h"
#include "mock/api.h"
#include "mock/fleet.h"

namespace httplib {
class Server;
}

namespace dse::mock {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 9865;       // 0: any free port
  size_t threads = 16;   // concurrent requests; delay faults hold one each
  Duration tick{10000};  // 0: ticks only on POST /mock/tick
  // Both set: serve HTTPS with this certificate chain and key (PEM).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class MockServer {
 public:
  MockServer(ServerOptions server, ApiOptions api, FleetOptions fleet);
  ~MockServer();  // stops
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Binds and starts serving; returns the bound port. Connections are
  // accepted from the moment this returns.
  Result<int> Start();
  // Idempotent. Returns within about 100 ms even with delay faults in flight
  // or idle keep-alive connections open.
  void Stop();
  // False once the listener has ended, by Stop() or by a failure.
  bool serving() const;

  int port() const { return port_; }
  MockApi& api() { return api_; }

 private:
  void RunTicker();

  const ServerOptions options_;
  MockApi api_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  std::thread ticker_;
  std::atomic<bool> listener_done_{false};
  int port_ = -1;
  bool started_ = false;  // a stopped httplib::Server cannot serve again

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
};

}  // namespace dse::mock
