// What HttpServer runs on: the I/O threads (workers), the bookkeeping of
// every connection, and ServerCore, which accepts, holds connections under
// the cap (closing the oldest idle one for a new one), starts, stops and
// reloads, and counts into the metrics-owned HttpMetrics. Internal to dse_server: only its .cc
// files include this; the public interface is http_server.h.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/web_config.h"
#include "server/auth_pool.h"
#include "server/basic_auth.h"
#include "server/http_server.h"
#include "server/landing_cache.h"
#include "server/request_routing.h"
#include "server/tls_context.h"

namespace dse::server::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

using metrics::AuthRejection;
using metrics::CloseReason;

// What a web config means to a running server; replaced whole on Reload.
struct WebSettings {
  std::shared_ptr<BasicAuthenticator> auth;  // null: no authentication
  std::set<std::string, std::less<>> unauthenticated_paths;
  std::vector<std::pair<std::string, std::string>> headers;
};

class Connection;

// One I/O thread and what only it touches. Each connection lives on one
// worker for its whole life, so nothing a connection does needs a lock.
struct Worker {
  std::list<Connection*> idle;  // oldest idle first
  LandingCache landing;
  std::array<char, 4096> scratch{};  // bytes dropped while lingering
  std::thread thread;
  asio::io_context io{1};  // destroyed before the members above, with every session on it
  // Keeps run() going while the worker has no connection yet.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
};

// Everything below runs on a worker's I/O thread unless it says otherwise.
class ServerCore;

// What the server knows of each connection, whatever its stream type.
// The connection itself is a Session (session.h).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& server, Worker& worker);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual void Start() = 0;
  // Closes the connection now to make room for a new one.
  virtual void Evict() = 0;
  virtual void OnAuthChecked(bool ok) = 0;

 protected:
  friend class ServerCore;
  ServerCore& server_;
  Worker& worker_;
  CloseReason reason_ = CloseReason::kClientClosed;
  bool idle_ = false;
  std::list<Connection*>::iterator idle_pos_;  // valid while idle_
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, MetricsProvider& provider)
      : options_(std::move(options)), provider_(provider), counters_(provider.HttpCounters()) {
    counters_.Serving();
  }

  Status Start();
  void Stop();
  Status Reload(std::optional<config::WebConfig> web);

  std::shared_ptr<const WebSettings> Settings() const {
    std::lock_guard lock(settings_mu_);
    return settings_;
  }

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket, Worker& worker);
  void StartSession(Worker& worker, tcp::socket socket);
  static bool EvictOldestIdle(Worker& worker);

  // On the connection's worker only.
  static void MarkIdle(Connection& c) {
    if (c.idle_) return;
    c.idle_pos_ = c.worker_.idle.insert(c.worker_.idle.end(), &c);
    c.idle_ = true;
  }
  static void MarkBusy(Connection& c) {
    if (!c.idle_) return;
    c.worker_.idle.erase(c.idle_pos_);
    c.idle_ = false;
  }

  void Count(Route route, int status) { counters_.CountResponse(RouteName(route), status); }
  void CountClose(CloseReason r) { counters_.CountClose(r); }
  void CountAuthRejection(AuthRejection r) { counters_.CountAuthRejection(r); }

  // The landing page for this view and second, plain or gzip.
  std::shared_ptr<const std::string> Landing(Worker& worker, bool gzip);

  ServerOptions options_;  // .web is only read under lifecycle_mu_
  MetricsProvider& provider_;
  // What this server counts into; its open connections are also what the
  // connection cap is checked against.
  metrics::HttpMetrics& counters_;

  // Serializes Start, Stop and Reload.
  mutable std::mutex lifecycle_mu_;
  // Declared in the order they must outlive each other: the SSL_CTX's
  // callback points to tls_, and connections use the SSL_CTX and io context.
  std::unique_ptr<detail::TlsContext> tls_;  // guarded by lifecycle_mu_; set when serving TLS
  std::unique_ptr<asio::ssl::context> ssl_;  // guarded by lifecycle_mu_
  // Guarded by lifecycle_mu_; the acceptor and its retry timer run on the first.
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;  // first worker's thread only
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  std::unique_ptr<AuthPool> auth_pool_;
  std::atomic<int> port_{0};
  std::atomic<bool> stopping_{
      false};  // set once the I/O threads ended: connections going now are not counted

  mutable std::mutex settings_mu_;
  std::shared_ptr<const WebSettings> settings_;  // guarded by settings_mu_

  std::chrono::steady_clock::time_point last_accept_warning_{};  // first worker's thread only
};

}  // namespace dse::server::detail
