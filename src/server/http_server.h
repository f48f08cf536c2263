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
#include <vector>

#include "common/result.h"
#include "config/web_config.h"
#include "metrics/scrape_body.h"
#include "metrics/status_view.h"

namespace dse::server {

// What the server reads; implemented by the app. Called from worker threads
// concurrently: implementations must be thread-safe and fast (no I/O).
class MetricsProvider {
 public:
  virtual ~MetricsProvider() = default;
  virtual metrics::ScrapeBody Scrape(bool gzip) = 0;
  virtual metrics::StatusView Status() = 0;
  // True once every account has had a successful poll.
  virtual bool Ready() = 0;
};

struct ServerOptions {
  // "[host]:port"; ":9864" = all IPv4 interfaces (0.0.0.0); "[::]:9864" or
  // "[::1]:9864" for IPv6. See listen_address.h.
  std::string listen_address = ":9864";
  std::string telemetry_path = "/metrics";
  std::optional<config::WebConfig> web;  // TLS and basic auth, from --web.config.file
  // Fixed pool. httplib gives each keep-alive connection a worker until it
  // closes, so connections beyond the pool wait whole keep-alive sessions, not
  // one scrape: size it for the concurrent scrapers expected. An idle worker
  // never wakes up; its stack costs ~8 KiB resident (~72 KiB once it has
  // written a body through the 64 KiB coalescing buffer).
  int worker_threads = 16;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  // An idle keep-alive connection holds a worker thread until this passes, and
  // Stop() waits for it: keep it short.
  std::chrono::seconds keep_alive_timeout{3};
  int keep_alive_max_requests = 100;
  // Nothing we serve takes a body; larger requests get 413.
  size_t max_request_body_bytes = 4096;
};

// One row of dashscope_exporter_http_requests_total{handler,code}.
struct RequestCount {
  std::string handler;  // metrics, healthz, readyz, landing or other
  int code = 0;         // HTTP status sent (401 for rejected credentials)
  uint64_t count = 0;
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

  // Every response sent so far, by handler and status code, sorted. Counted
  // once the response has been written.
  std::vector<RequestCount> RequestCounts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dse::server
