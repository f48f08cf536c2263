// The exporter's HTTP server: /metrics (telemetry path), /healthz, /readyz and
// the landing page. The only place in the exporter that serves HTTP.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/web_config.h"
#include "metrics/http_metrics.h"
#include "metrics/scrape_body.h"
#include "metrics/status_view.h"

namespace dse::server {

// What the server reads; implemented by the app. Called from the server's I/O
// thread, which serves every connection: implementations must be
// thread-safe and fast (no I/O, no waiting).
class MetricsProvider {
 public:
  virtual ~MetricsProvider() = default;
  virtual metrics::ScrapeBody Scrape(bool gzip) = 0;
  virtual metrics::StatusView CurrentView() = 0;
  // True once every account has had a successful poll.
  virtual bool Ready() = 0;
  // Where the server counts responses, connections and auth rejections,
  // from its I/O threads; one server per HttpMetrics.
  virtual metrics::HttpMetrics& HttpCounters() = 0;
};

// The machine's cores, at most 4.
int DefaultIoThreads();

struct ServerOptions {
  // "[host]:port"; ":9864" = all IPv4 interfaces (0.0.0.0); "[::]:9864" or
  // "[::1]:9864" for IPv6. See listen_address.h.
  std::string listen_address = ":9864";
  std::string telemetry_path = "/metrics";
  std::optional<config::WebConfig> web;  // TLS and basic auth, from --web.config.file
  // Connections are spread over this many event-driven I/O threads, each
  // holding thousands: an idle or slow connection costs a few KiB and no
  // thread. More than the cores buys nothing.
  int io_threads = DefaultIoThreads();
  // From accept (TLS handshake included), or from a request's first byte on
  // a kept-alive connection, until its head has fully arrived.
  std::chrono::seconds head_timeout{10};
  // Writing one response, for clients that stop reading.
  std::chrono::seconds write_timeout{10};
  // How long a connection may wait for the first byte of its next request.
  // Idle connections are cheap now, so long enough for a scraper's interval.
  std::chrono::seconds idle_timeout{60};
  int keep_alive_max_requests = 1000;
  // At this many open connections the oldest idle one is closed for a new
  // one; with none idle, the new one is closed at once.
  size_t max_connections = 10000;
  // bcrypt runs on this many threads, off the I/O threads. Checks waiting or
  // running beyond auth_queue get 503 at once instead of queueing.
  int auth_threads = 2;
  size_t auth_queue = 16;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, MetricsProvider& provider);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a background thread. Fails with a message
  // naming the address when it cannot bind or the TLS files cannot be used.
  Status Start();
  // The bound port (useful with port 0).
  int port() const;
  // Stops accepting and returns once the serving thread has ended.
  void Stop();
  // Replaces TLS/basic-auth settings on SIGHUP (new connections use them).
  // Switching TLS on or off needs a restart (the listening socket's type is
  // fixed); such a Reload fails and the old settings stay in force, as they do
  // when any new file cannot be used.
  Status Reload(std::optional<config::WebConfig> web);

  // What the server counts into: the provider's HttpCounters().
  const metrics::HttpMetrics& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dse::server
