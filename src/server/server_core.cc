#include "server/server_core.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <exception>

#include "common/listen_address.h"
#include "common/log.h"
#include "server/session.h"

namespace dse::server::detail {

namespace {

Result<std::shared_ptr<const WebSettings>> BuildSettings(const std::optional<config::WebConfig>& web) {
  auto s = std::make_shared<WebSettings>();
  if (web) {
    if (!web->basic_auth_users.empty()) {
      auto auth = BasicAuthenticator::Create(web->basic_auth_users);
      if (!auth) return Error{"web config: " + auth.error()};
      s->auth = std::move(*auth);
    }
    s->unauthenticated_paths.insert(web->unauthenticated_paths.begin(), web->unauthenticated_paths.end());
    s->headers.assign(web->headers.begin(), web->headers.end());
  }
  return std::shared_ptr<const WebSettings>(std::move(s));
}

Status CheckTelemetryPath(const std::string& path) {
  const std::optional<TelemetryPathProblem> problem = FindTelemetryPathProblem(path);
  if (!problem) return Status::Ok();
  const std::string quoted = "invalid telemetry path \"" + path + "\": ";
  switch (*problem) {
    case TelemetryPathProblem::kNoLeadingSlash: return Error{quoted + "must start with /"};
    case TelemetryPathProblem::kBadCharacter:
      return Error{quoted + "spaces, control characters, ?, # and % are not allowed"};
    case TelemetryPathProblem::kBuiltIn: break;
  }
  return Error{quoted + "it is one of the built-in endpoints /, /healthz, /readyz, /-/healthy, /-/ready"};
}

}  // namespace

Connection::Connection(ServerCore& server, Worker& worker) : server_(server), worker_(worker) {
  server_.counters_.ConnectionOpened();
}

Connection::~Connection() {
  ServerCore::MarkBusy(*this);
  server_.counters_.ConnectionGone();
  if (!server_.stopping_) server_.CountClose(reason_);
}

std::shared_ptr<const std::string> ServerCore::Landing(Worker& worker, bool gzip) {
  metrics::StatusView view = provider_.CurrentView();
  view.telemetry_path = options_.telemetry_path;  // the path actually served
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return CachedLandingPage(worker.landing, view, now, gzip);
}

void ServerCore::Accept() {
  // Connections are spread over the workers in turn; each socket is made
  // on its worker's io_context so that it never moves between threads.
  Worker& worker = *workers_[next_worker_++ % workers_.size()];
  acceptor_->async_accept(worker.io, [this, &worker](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket), worker);
  });
}

bool ServerCore::EvictOldestIdle(Worker& worker) {
  if (worker.idle.empty()) return false;
  worker.idle.front()->Evict();
  return true;
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket, Worker& worker) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors, typically: make room and try again shortly
    // instead of spinning on an accept that keeps failing.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_warning_ > std::chrono::seconds(10)) {
      last_accept_warning_ = now;
      log::Warn("HTTP server cannot accept a connection", {{"err", ec.message()}});
    }
    EvictOldestIdle(*workers_.front());
    accept_retry_->expires_after(std::chrono::milliseconds(50));
    accept_retry_->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  if (&worker == workers_.front().get()) {
    StartSession(worker, std::move(socket));
  } else {
    asio::post(worker.io,
               [this, &worker, s = std::move(socket)]() mutable { StartSession(worker, std::move(s)); });
  }
  Accept();
}

void ServerCore::StartSession(Worker& worker, tcp::socket socket) {
  // At the cap, the oldest idle connection of this worker makes room.
  if (counters_.open() >= options_.max_connections && !EvictOldestIdle(worker)) {
    CountClose(CloseReason::kCap);
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  beast::error_code ignored;
  // Responses leave in one write, but a client's delayed ACK must not stall
  // the next one on a kept-alive connection.
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Connection> session;
  if (ssl_) {
    session = NewSession(*this, worker,
                         beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl_));
  } else {
    session = NewSession(*this, worker, beast::tcp_stream(std::move(socket)));
  }
  session->Start();
}

Status ServerCore::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!workers_.empty()) return Error{"HTTP server already started"};

  auto address = ParseListenAddress(options_.listen_address);
  if (!address) return Error{address.error()};
  if (Status s = CheckTelemetryPath(options_.telemetry_path); !s) return s;
  if (options_.io_threads < 1) {
    return Error{"HTTP server needs at least 1 I/O thread, got " + std::to_string(options_.io_threads)};
  }
  if (options_.auth_threads < 1) {
    return Error{"HTTP server needs at least 1 auth thread, got " + std::to_string(options_.auth_threads)};
  }

  auto settings = BuildSettings(options_.web);
  if (!settings) return Error{settings.error()};

  std::unique_ptr<detail::TlsContext> tls;
  std::unique_ptr<asio::ssl::context> ssl;
  if (options_.web && options_.web->tls) {
    auto material = detail::TlsMaterial::Load(*options_.web->tls);
    if (!material) return Error{material.error()};
    tls = std::make_unique<detail::TlsContext>(std::move(*material));
    ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    if (!tls->Configure(*ssl->native_handle())) return Error{"TLS: cannot set up the server's TLS context"};
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < options_.io_threads; ++i) workers.push_back(std::make_unique<Worker>());
  auto acceptor = std::make_unique<tcp::acceptor>(workers.front()->io);
  const auto fail = [&](const beast::error_code& ec) {
    return Error{"cannot listen on \"" + options_.listen_address + "\": " + ec.message()};
  };
  beast::error_code ec;
  tcp::endpoint endpoint;
  const std::string host = address->host.empty() ? "0.0.0.0" : address->host;
  const auto ip = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, static_cast<unsigned short>(address->port));
  } else {
    tcp::resolver resolver(workers.front()->io);
    const auto results = resolver.resolve(host, std::to_string(address->port), ec);
    if (ec) return fail(ec);
    if (results.empty()) return Error{"cannot listen on \"" + options_.listen_address + "\": no address"};
    endpoint = results.begin()->endpoint();
  }
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  // SO_REUSEADDR alone allows a quick restart; SO_REUSEPORT is left off so
  // that a second exporter cannot bind the same port and share the scrapes.
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  // Inherited by accepted sockets: at most 128 KiB waits unsent in the
  // kernel per connection, so big bodies to many clients progress evenly.
  int not_sent_low_water = 128 * 1024;
  setsockopt(acceptor->native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &not_sent_low_water,
             sizeof not_sent_low_water);
  acceptor->bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);

  {
    std::lock_guard lock(settings_mu_);
    settings_ = std::move(*settings);
  }
  port_ = acceptor->local_endpoint().port();
  stopping_ = false;
  tls_ = std::move(tls);
  ssl_ = std::move(ssl);
  workers_ = std::move(workers);
  acceptor_ = std::move(acceptor);
  accept_retry_ = std::make_unique<asio::steady_timer>(workers_.front()->io);
  auth_pool_ = std::make_unique<AuthPool>(options_.auth_threads, options_.auth_queue);
  next_worker_ = 0;
  Accept();
  for (auto& w : workers_) {
    w->thread = std::thread([w = w.get()] {
      for (;;) {
        try {
          w->io.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw (e.g. bad_alloc): that connection is gone, the others carry on.
          log::Error("HTTP handler failed", {{"err", e.what()}});
        }
      }
    });
  }
  address->port = port_;
  log::Info("serving HTTP", {{"address", FormatListenAddress(*address)},
                             {"tls", tls_ ? "true" : "false"},
                             {"basic_auth", Settings()->auth ? "true" : "false"},
                             {"telemetry_path", options_.telemetry_path}});
  return Status::Ok();
}

void ServerCore::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (workers_.empty()) return;
  // Whatever clients are doing, nothing is waited for: each I/O thread ends
  // after its current handler, and every connection is dropped with it.
  for (auto& w : workers_) w->io.stop();
  for (auto& w : workers_) w->thread.join();
  stopping_ = true;
  auth_pool_.reset();  // joins a running bcrypt; queued checks go unanswered
  accept_retry_.reset();
  acceptor_.reset();
  // The acceptor's worker first: its pending accept may hold a socket for another.
  for (auto& w : workers_) w.reset();  // destroys every session with its pending operation
  workers_.clear();
  ssl_.reset();
  tls_.reset();
  port_ = 0;
}

Status ServerCore::Reload(std::optional<config::WebConfig> web) {
  std::lock_guard lifecycle(lifecycle_mu_);
  const bool want_tls = web && web->tls;
  if (workers_.empty()) {
    // Not serving yet: check everything now so that Start() cannot fail on it later.
    auto settings = BuildSettings(web);
    if (!settings) return Error{settings.error()};
    if (want_tls) {
      auto material = detail::TlsMaterial::Load(*web->tls);
      if (!material) return Error{material.error()};
    }
    options_.web = std::move(web);
    return Status::Ok();
  }

  // The listening socket speaks TLS or it does not.
  if (want_tls && !tls_)
    return Error{"web config: turning TLS on needs a restart; the old settings stay in force"};
  if (!want_tls && tls_)
    return Error{"web config: turning TLS off needs a restart; the old settings stay in force"};

  auto settings = BuildSettings(web);
  if (!settings) return Error{settings.error()};
  std::shared_ptr<const detail::TlsMaterial> material;
  if (want_tls) {
    auto loaded = detail::TlsMaterial::Load(*web->tls);
    if (!loaded) return Error{loaded.error()};
    material = std::move(*loaded);
  }
  // Everything is usable: switch both at once.
  if (material) tls_->Replace(std::move(material));
  {
    std::lock_guard lock(settings_mu_);
    settings_ = std::move(*settings);
  }
  options_.web = std::move(web);
  return Status::Ok();
}

}  // namespace dse::server::detail
