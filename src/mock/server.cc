#include "mock/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <utility>

#include "common/log.h"
#include "mock/connections.h"

namespace dse::mock {

MockServer::MockServer(ServerOptions server, ApiOptions api, FleetOptions fleet)
    : options_(std::move(server)), api_(std::move(api), std::move(fleet)) {
  if (options_.tls_cert_file.empty()) {
    http_ = std::make_unique<httplib::Server>();
  } else {
    http_ =
        std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(), options_.tls_key_file.c_str());
  }
  // The split Debian build fixes CPPHTTPLIB_THREAD_POOL_COUNT in the .so;
  // the pool size is chosen here instead.
  const size_t threads = options_.threads == 0 ? 1 : options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(1 << 20);
  // httplib's default adds SO_REUSEPORT, which lets a second mock bind the
  // same port and silently share its traffic; a busy port must be an error.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Never headers: the Authorization header carries the key.
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("request",
                 {{"method", req.method}, {"path", req.path}, {"status", std::to_string(res.status)}});
    }
  });
  api_.Register(*http_);
}

MockServer::~MockServer() { Stop(); }

Result<int> MockServer::Start() {
  if (started_) return Error{"already started"};
  started_ = true;
  if (!http_->is_valid()) {
    return Error{"cannot load the TLS certificate or key (--tls-cert-file, --tls-key-file)"};
  }
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Error{"cannot bind " + options_.host + " to a free port"};
  } else if (!http_->bind_to_port(options_.host, port)) {
    return Error{"cannot bind " + options_.host + ":" + std::to_string(port) +
                 " (in use, or not a local address)"};
  }
  port_ = port;
  api_.SetConnectionCloser([port](const httplib::Request& req) {
    ShutdownConnections(port, Peer{req.remote_addr, req.remote_port});
  });
  if (options_.tls_cert_file.empty()) {
    api_.SetConnectionFinder([port](const httplib::Request& req) {
      return FindConnection(port, Peer{req.remote_addr, req.remote_port});
    });
  }
  listener_ = std::thread([this] {
    if (!http_->listen_after_bind()) log::Error("the listener failed", {{"port", std::to_string(port_)}});
    listener_done_ = true;
  });
  if (options_.tick.count() > 0) ticker_ = std::thread([this] { RunTicker(); });
  return port;
}

void MockServer::RunTicker() {
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.tick, [this] { return stopping_; })) {
    api_.Advance(1);
    log::Debug("ticked", {{"tick", std::to_string(api_.tick())}});
  }
}

bool MockServer::serving() const { return listener_.joinable() && !listener_done_; }

void MockServer::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  api_.Shutdown();
  if (!listener_.joinable()) return;
  // Server::stop() is a no-op until the listener thread has marked the server
  // running, so wait for that first.
  while (!listener_done_ && !http_->is_running()) std::this_thread::yield();
  http_->stop();
  // Workers still hold connections (idle keep-alive, slow readers, bodies
  // being streamed); shutting the sockets down ends each at once. Repeat, as
  // one may have been accepted just before the listener closed.
  while (!listener_done_) {
    ShutdownConnections(port_, std::nullopt);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  listener_.join();
}

}  // namespace dse::mock
