// The exporter's HTTP server on Boost.Beast: a few I/O threads (one per
// core, at most 4) each run their connections as chains of asynchronous
// operations, each under a deadline, so a slow or silent client holds a few
// KiB and never a thread. This file is only the public facade; the work is
// done by detail::ServerCore (server_core.h: threads, accept, the connection
// cap, start/stop/reload, counters) and its sessions (session.h: one
// connection's requests and responses).
#include "server/http_server.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "server/server_core.h"

namespace dse::server {

struct HttpServer::Impl : detail::ServerCore {
  using ServerCore::ServerCore;
};

int DefaultIoThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1u, 4u));
}

HttpServer::HttpServer(ServerOptions options, MetricsProvider& provider)
    : impl_(std::make_unique<Impl>(std::move(options), provider)) {}
HttpServer::~HttpServer() { Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
int HttpServer::port() const { return impl_->port_; }
void HttpServer::Stop() { impl_->Stop(); }
Status HttpServer::Reload(std::optional<config::WebConfig> web) { return impl_->Reload(std::move(web)); }
const metrics::HttpMetrics& HttpServer::counters() const { return impl_->counters_; }

}  // namespace dse::server
