#include "server/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "common/log.h"
#include "server/accept_encoding.h"
#include "server/basic_auth.h"
#include "server/landing_page.h"
#include "server/listen_address.h"
#include "server/tls_context.h"

namespace dse::server {
namespace {

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextType[] = "text/plain; charset=utf-8";
constexpr char kRealm[] = "Basic realm=\"dashscope_exporter\"";
// The landing page has inline CSS and nothing else; say so to the browser.
constexpr char kLandingCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

namespace detail {
namespace {

enum class Route { kMetrics, kHealthz, kReadyz, kLanding, kOther };

const char* RouteName(Route r) {
  switch (r) {
    case Route::kMetrics: return "metrics";
    case Route::kHealthz: return "healthz";
    case Route::kReadyz: return "readyz";
    case Route::kLanding: return "landing";
    case Route::kOther: return "other";
  }
  return "other";
}

// httplib's ThreadPool queues accepted connections without limit. This one
// holds at most `capacity` waiting connections; beyond that the accept loop
// waits, and new clients queue in the kernel's backlog instead of in memory.
class BoundedThreadPool final : public httplib::TaskQueue {
 public:
  BoundedThreadPool(size_t threads, size_t capacity) : capacity_(capacity) {
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~BoundedThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return jobs_.size() < capacity_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    not_empty_.notify_one();
  }

  // Runs what is queued, then ends the workers.
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (shutdown_) return;
      shutdown_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        not_full_.notify_one();
      }
      fn();
    }
  }

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool shutdown_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;
};

// What a web config means to a running server; replaced whole on Reload.
struct WebSettings {
  std::unique_ptr<BasicAuthenticator> auth;  // null: no authentication
  std::set<std::string, std::less<>> unauthenticated_paths;
  std::vector<std::pair<std::string, std::string>> headers;
};

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

std::string JoinedHeader(const httplib::Request& req, const char* name) {
  std::string out;
  const auto [begin, end] = req.headers.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    if (!out.empty()) out += ',';
    out += it->second;
  }
  return out;
}

// Gathers small writes into one: httplib polls the socket twice and calls
// send() once per sink.write, and with TCP_NODELAY every send leaves as its
// own packet, so a gzip body of 20 small pieces cost 20 packets and 40 polls.
// Writes at least as large as the buffer go straight through.
class CoalescingWriter {
 public:
  explicit CoalescingWriter(httplib::DataSink& sink) : sink_(sink) {}

  bool Write(const char* data, size_t n) {
    if (used_ + n > sizeof buffer_ && !Flush()) return false;
    if (n >= sizeof buffer_) return sink_.write(data, n);
    std::memcpy(buffer_ + used_, data, n);
    used_ += n;
    return true;
  }
  bool Flush() {
    if (used_ == 0) return true;
    const size_t n = std::exchange(used_, 0);
    return sink_.write(buffer_, n);
  }

 private:
  httplib::DataSink& sink_;
  char buffer_[64 * 1024];  // on the worker's stack: no allocation per scrape
  size_t used_ = 0;
};

// Writes bytes [offset, offset + length) of the pieces; httplib asks for a
// sub-range when the client sent a Range header.
bool WritePieces(const metrics::ScrapeBody& body, size_t offset, size_t length, httplib::DataSink& sink) {
  CoalescingWriter out(sink);
  size_t start = 0;  // offset of the current piece within the body
  for (std::string_view piece : body.pieces) {
    if (length == 0) break;
    const size_t end = start + piece.size();
    if (offset < end) {
      const size_t from = offset - start;
      const size_t n = std::min(piece.size() - from, length);
      if (!out.Write(piece.data() + from, n)) return false;
      offset += n;
      length -= n;
    }
    start = end;
  }
  return out.Flush() && length == 0;
}

Status CheckTelemetryPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return Error{"invalid telemetry path \"" + path + "\": must start with /"};
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#' || c == '%' || c == 0x7f) {
      return Error{"invalid telemetry path \"" + path + "\": spaces, control characters, ?, # and % are not allowed"};
    }
  }
  if (path == "/" || path == "/healthz" || path == "/readyz") {
    return Error{"invalid telemetry path \"" + path + "\": it is one of the built-in endpoints /, /healthz, /readyz"};
  }
  return Status::Ok();
}

}  // namespace
}  // namespace detail

using detail::Route;

struct HttpServer::Impl {
  Impl(ServerOptions options, MetricsProvider& provider) : options_(std::move(options)), provider_(provider) {}

  Status Start();
  void Stop();
  Status Reload(std::optional<config::WebConfig> web);
  std::vector<RequestCount> RequestCounts() const;

  Route Classify(std::string_view path) const {
    if (path == options_.telemetry_path) return Route::kMetrics;
    if (path == "/healthz") return Route::kHealthz;
    if (path == "/readyz") return Route::kReadyz;
    if (path == "/") return Route::kLanding;
    return Route::kOther;
  }

  std::shared_ptr<const detail::WebSettings> Settings() const {
    std::lock_guard lock(settings_mu_);
    return settings_;
  }

  void Handle(const httplib::Request& req, httplib::Response& res);
  bool Authorized(const detail::WebSettings& settings, const httplib::Request& req) const;
  void ServeMetrics(const httplib::Request& req, httplib::Response& res);
  void ServeReadyz(httplib::Response& res);
  void ServeLanding(httplib::Response& res);
  void AddConfiguredHeaders(httplib::Response& res) const;
  void Count(const httplib::Request& req, const httplib::Response& res);

  ServerOptions options_;  // .web is only read under lifecycle_mu_
  MetricsProvider& provider_;

  // Serializes Start, Stop and Reload.
  mutable std::mutex lifecycle_mu_;
  // Declared before server_ so that it outlives the SSL_CTX whose callback points to it.
  std::unique_ptr<detail::TlsContext> tls_;    // guarded by lifecycle_mu_; set when serving TLS
  std::unique_ptr<httplib::Server> server_;    // guarded by lifecycle_mu_
  std::thread thread_;                         // guarded by lifecycle_mu_
  std::atomic<bool> listen_returned_{false};
  std::atomic<int> port_{0};

  mutable std::mutex settings_mu_;
  std::shared_ptr<const detail::WebSettings> settings_;  // guarded by settings_mu_

  mutable std::mutex counts_mu_;
  std::map<std::pair<std::string, int>, uint64_t> counts_;  // guarded by counts_mu_
};

Status HttpServer::Impl::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (server_) return Error{"HTTP server already started"};

  auto address = ParseListenAddress(options_.listen_address);
  if (!address) return Error{address.error()};
  if (Status s = detail::CheckTelemetryPath(options_.telemetry_path); !s) return s;
  if (options_.worker_threads < 1) {
    return Error{"HTTP server needs at least 1 worker thread, got " + std::to_string(options_.worker_threads)};
  }

  auto settings = detail::BuildSettings(options_.web);
  if (!settings) return Error{settings.error()};

  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<detail::TlsContext> tls;
  if (options_.web && options_.web->tls) {
    auto material = detail::TlsMaterial::Load(*options_.web->tls);
    if (!material) return Error{material.error()};
    tls = std::make_unique<detail::TlsContext>(std::move(*material));
    detail::TlsContext* ctx = tls.get();
    server = std::make_unique<httplib::SSLServer>([ctx](SSL_CTX& ssl_ctx) { return ctx->Configure(ssl_ctx); });
  } else {
    server = std::make_unique<httplib::Server>();
  }
  if (!server->is_valid()) return Error{"TLS: cannot set up the server's TLS context"};

  const auto threads = static_cast<size_t>(options_.worker_threads);
  server->new_task_queue = [threads] { return new detail::BoundedThreadPool(threads, std::max<size_t>(16, 4 * threads)); };
  server->set_read_timeout(static_cast<time_t>(options_.read_timeout.count()), 0);
  server->set_write_timeout(static_cast<time_t>(options_.write_timeout.count()), 0);
  server->set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_timeout.count()));
  server->set_keep_alive_max_count(static_cast<size_t>(std::max(1, options_.keep_alive_max_requests)));
  server->set_payload_max_length(options_.max_request_body_bytes);
  // httplib writes headers and body with separate send()s; with Nagle on, a
  // keep-alive client's delayed ACK stalls every later response by ~40ms.
  server->set_tcp_nodelay(true);
  // httplib's default adds SO_REUSEPORT, which would let a second exporter
  // bind the same port and silently share the scrapes; SO_REUSEADDR alone
  // still allows a quick restart.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Inherited by accepted sockets. Without it a worker blocked in send()
    // refills its socket as soon as the client reads anything, and a client
    // reading several connections in turn (wrk) drains one body while the
    // others wait: at 10,000 deployments wrk -c16 saw requests take over 2 s.
    // Capping what sits unsent at 128 KiB keeps bodies progressing evenly;
    // data in flight is not capped, so long links keep their throughput.
    int not_sent_low_water = 128 * 1024;
    setsockopt(sock, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &not_sent_low_water, sizeof not_sent_low_water);
  });

  // One handler for every method and path: routing, auth and 404/405 are ours,
  // so every answer is decided in one place. Registered per method because
  // httplib dispatches by method; [\s\S] also matches a decoded %0A.
  const auto handle = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  const std::string any = R"([\s\S]*)";
  server->Get(any, handle);
  server->Post(any, handle);
  server->Put(any, handle);
  server->Patch(any, handle);
  server->Delete(any, handle);
  server->Options(any, handle);
  // Runs for every response, httplib's own 400/413/414 included.
  server->set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    AddConfiguredHeaders(res);
  });
  // Called once a response has been written, whatever produced it.
  server->set_logger([this](const httplib::Request& req, const httplib::Response& res) { Count(req, res); });
  // Without a handler httplib would put the exception text in a header.
  server->set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("HTTP handler failed", {{"path", req.path}, {"err", what}});
    res.status = 500;
    res.set_content("500 internal server error\n", kTextType);
  });

  errno = 0;
  int port = address->port;
  if (port == 0) {
    port = server->bind_to_any_port(address->host);
  } else if (!server->bind_to_port(address->host, port)) {
    port = -1;
  }
  if (port < 0) {
    // httplib reports only failure; errno still holds the failed bind/listen's reason.
    const std::string why = errno != 0 ? std::strerror(errno) : "cannot resolve or bind the address";
    return Error{"cannot listen on \"" + options_.listen_address + "\": " + why};
  }

  {
    std::lock_guard lock(settings_mu_);
    settings_ = std::move(*settings);
  }
  port_ = port;
  server_ = std::move(server);
  tls_ = std::move(tls);
  listen_returned_ = false;
  httplib::Server* s = server_.get();
  thread_ = std::thread([this, s] {
    if (!s->listen_after_bind()) log::Error("HTTP server stopped accepting connections");
    listen_returned_ = true;
  });
  address->port = port;
  log::Info("serving HTTP", {{"address", FormatListenAddress(*address)},
                             {"tls", tls_ ? "true" : "false"},
                             {"basic_auth", Settings()->auth ? "true" : "false"},
                             {"telemetry_path", options_.telemetry_path}});
  return Status::Ok();
}

void HttpServer::Impl::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!server_) return;
  // httplib's stop() does nothing until the accept loop has started.
  while (!server_->is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  thread_.join();
  server_.reset();
  tls_.reset();
  port_ = 0;
}

Status HttpServer::Impl::Reload(std::optional<config::WebConfig> web) {
  std::lock_guard lifecycle(lifecycle_mu_);
  const bool want_tls = web && web->tls;
  if (!server_) {
    // Not serving yet: check everything now so that Start() cannot fail on it later.
    auto settings = detail::BuildSettings(web);
    if (!settings) return Error{settings.error()};
    if (want_tls) {
      auto material = detail::TlsMaterial::Load(*web->tls);
      if (!material) return Error{material.error()};
    }
    options_.web = std::move(web);
    return Status::Ok();
  }

  // The listening socket speaks TLS or it does not; httplib cannot switch.
  if (want_tls && !tls_) return Error{"web config: turning TLS on needs a restart; the old settings stay in force"};
  if (!want_tls && tls_) return Error{"web config: turning TLS off needs a restart; the old settings stay in force"};

  auto settings = detail::BuildSettings(web);
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

void HttpServer::Impl::Handle(const httplib::Request& req, httplib::Response& res) {
  const auto settings = Settings();
  if (settings->auth && !settings->unauthenticated_paths.contains(req.path) && !Authorized(*settings, req)) {
    res.status = 401;
    res.set_header("WWW-Authenticate", kRealm);
    res.set_content("401 unauthorized\n", kTextType);
    return;
  }

  const Route route = Classify(req.path);
  if (route == Route::kOther) {
    res.status = 404;
    res.set_content("404 page not found\n", kTextType);
    return;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("405 method not allowed\n", kTextType);
    return;
  }
  switch (route) {
    case Route::kMetrics: ServeMetrics(req, res); return;
    case Route::kHealthz: res.set_content("ok\n", kTextType); return;
    case Route::kReadyz: ServeReadyz(res); return;
    case Route::kLanding: ServeLanding(res); return;
    case Route::kOther: return;
  }
}

bool HttpServer::Impl::Authorized(const detail::WebSettings& settings, const httplib::Request& req) const {
  const auto header = req.headers.find("Authorization");
  if (header == req.headers.end()) return false;
  auto credentials = ParseBasicAuthorization(header->second);
  const bool ok = credentials && settings.auth->Check(credentials->user, credentials->password);
  if (credentials) OPENSSL_cleanse(credentials->password.data(), credentials->password.size());
  if (!ok) {
    // Never the header or password; the user name helps find a misconfigured scraper.
    log::Debug("HTTP basic auth rejected",
               {{"path", req.path},
                {"remote_addr", req.remote_addr},
                {"user", credentials ? credentials->user : std::string()},
                {"reason", credentials ? "wrong user or password" : "malformed Authorization header"}});
  }
  return ok;
}

void HttpServer::Impl::ServeMetrics(const httplib::Request& req, httplib::Response& res) {
  const bool gzip = AcceptsGzip(detail::JoinedHeader(req, "Accept-Encoding"));
  auto body = std::make_shared<metrics::ScrapeBody>(provider_.Scrape(gzip));
  size_t total = 0;
  for (std::string_view piece : body->pieces) total += piece.size();
  if (total != body->size) {
    // A bug in the producer; a wrong Content-Length would corrupt the connection.
    log::Error("scrape body size mismatch", {{"declared", std::to_string(body->size)}, {"actual", std::to_string(total)}});
    res.status = 500;
    res.set_content("500 internal server error\n", kTextType);
    return;
  }
  res.set_header("Vary", "Accept-Encoding");
  if (body->gzip) res.set_header("Content-Encoding", "gzip");
  if (total == 0) {
    res.set_content("", kExpositionType);
    return;
  }
  // A provider with a known length is sent as is: httplib compresses only
  // string bodies and chunked providers, never this, so an already gzipped
  // body is not compressed twice. The lambda owns `body` (and through
  // keep_alive the memory the pieces point into) until httplib drops it.
  res.set_content_provider(total, kExpositionType,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             return detail::WritePieces(*body, offset, length, sink);
                           });
}

void HttpServer::Impl::ServeReadyz(httplib::Response& res) {
  if (provider_.Ready()) {
    res.set_content("ready\n", kTextType);
    return;
  }
  std::string waiting;
  for (const metrics::AccountView& a : provider_.Status().accounts) {
    if (a.ever_succeeded) continue;
    if (!waiting.empty()) waiting += ", ";
    waiting += a.name;
  }
  res.status = 503;
  if (waiting.empty()) {
    res.set_content("not ready\n", kTextType);
  } else {
    res.set_content("not ready: no successful poll yet for account(s): " + waiting + "\n", kTextType);
  }
}

void HttpServer::Impl::ServeLanding(httplib::Response& res) {
  metrics::StatusView view = provider_.Status();
  view.telemetry_path = options_.telemetry_path;  // the path actually served
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  res.set_header("Content-Security-Policy", kLandingCsp);
  res.set_content(RenderLandingPage(view, now), "text/html; charset=utf-8");
}

void HttpServer::Impl::AddConfiguredHeaders(httplib::Response& res) const {
  // httplib may gzip any text body on its own when asked, so every answer
  // depends on Accept-Encoding.
  if (!res.has_header("Vary")) res.set_header("Vary", "Accept-Encoding");
  const auto settings = Settings();  // must outlive the loop: Reload() may swap it
  for (const auto& [name, value] : settings->headers) {
    res.headers.erase(name);  // the operator's value wins over ours
    res.set_header(name, value);
  }
}

void HttpServer::Impl::Count(const httplib::Request& req, const httplib::Response& res) {
  std::lock_guard lock(counts_mu_);
  ++counts_[{detail::RouteName(Classify(req.path)), res.status}];
}

std::vector<RequestCount> HttpServer::Impl::RequestCounts() const {
  std::lock_guard lock(counts_mu_);
  std::vector<RequestCount> out;
  out.reserve(counts_.size());
  for (const auto& [key, n] : counts_) out.push_back({key.first, key.second, n});
  return out;
}

HttpServer::HttpServer(ServerOptions options, MetricsProvider& provider)
    : impl_(std::make_unique<Impl>(std::move(options), provider)) {}
HttpServer::~HttpServer() { Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
int HttpServer::port() const { return impl_->port_; }
void HttpServer::Stop() { impl_->Stop(); }
Status HttpServer::Reload(std::optional<config::WebConfig> web) { return impl_->Reload(std::move(web)); }
std::vector<RequestCount> HttpServer::RequestCounts() const { return impl_->RequestCounts(); }

}  // namespace dse::server
