// The exporter's HTTP server on Boost.Beast: a few I/O threads (one per
// core, at most 4) each run their connections as chains of asynchronous operations, each under a deadline,
// so a slow or silent client holds a few KiB and never a thread. Requests
// are read with Beast's parser under fixed head and body limits; responses
// are written by hand from the pieces the provider returns, without copying.
#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstring>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/listen_address.h"
#include "common/log.h"
#include "metrics/gzip_member.h"
#include "server/accept_encoding.h"
#include "server/auth_pool.h"
#include "server/basic_auth.h"
#include "server/landing_page.h"
#include "server/request_routing.h"
#include "server/tls_context.h"

namespace dse::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextType[] = "text/plain; charset=utf-8";
constexpr char kHtmlType[] = "text/html; charset=utf-8";
constexpr char kRealm[] = "Basic realm=\"dashscope_exporter\"";
// The landing page has inline CSS and nothing else; say so to the browser.
constexpr char kLandingCsp[] =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors "
    "'none'";

// After refusing a request whose bytes may still be arriving, the rest is
// read and dropped for a moment before closing: closing with unread data
// sends a RST, which can destroy the answer before the client reads it.
constexpr std::chrono::seconds kLingerTime{1};
constexpr size_t kLingerBytes = 64 * 1024;
// Room for a full head and a small body; a client cannot make it grow past.
constexpr size_t kReadBufferLimit = kMaxRequestHeadBytes + kMaxRequestBodyBytes + 1024;
// An idle connection keeps at most this much read buffer.
constexpr size_t kIdleBufferKeep = 4096;

// asio::transfer_all() hands the socket at most 64 KiB per write, so a large
// /metrics body costs one writev and one timer round per 64 KiB. This lets
// each write take whatever the socket buffer accepts.
struct TransferAllAtOnce {
  size_t operator()(const beast::error_code& ec, size_t) const {
    return ec ? 0 : std::numeric_limits<size_t>::max();
  }
};

enum class CloseReason : size_t {
  kBadRequest,
  kBodyRefused,
  kCap,
  kClientClosed,
  kDone,
  kHeadTimeout,
  kHeadTooLarge,
  kIdle,
  kMethodRefused,
  kTlsHandshake,
  kWriteFailed,
  kCount,
};
constexpr std::array<const char*, static_cast<size_t>(CloseReason::kCount)> kCloseReasonNames = {
    "bad_request",  "body_refused",   "cap",  "client_closed",  "done",
    "head_timeout", "head_too_large", "idle", "method_refused", "tls_handshake",
    "write_failed"};

enum class AuthRejection : size_t { kBadCredentials, kBusy, kMissing, kCount };
constexpr std::array<const char*, static_cast<size_t>(AuthRejection::kCount)> kAuthRejectionNames = {
    "bad_credentials", "busy", "missing"};

// What a web config means to a running server; replaced whole on Reload.
struct WebSettings {
  std::shared_ptr<BasicAuthenticator> auth;  // null: no authentication
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

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

// Every value of a header, joined with "," as if sent on one line.
std::string JoinedField(const http::fields& fields, http::field name) {
  std::string out;
  const auto [begin, end] = fields.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    if (!out.empty()) out += ',';
    out += View(it->value());
  }
  return out;
}

// One complete gzip member of `text`, made with the exposition's own code.
std::string GzipMember(const std::string& text) {
  const metrics::CompressedText body = metrics::Compress(text);
  const uint32_t crc = body.crc;
  std::string out(metrics::GzipHeader());
  out += body.deflated;
  out += metrics::DeflateFinal("");
  const auto size = static_cast<uint32_t>(text.size());
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((crc >> shift) & 0xff));
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((size >> shift) & 0xff));
  return out;
}

// The landing page rendered once per change of what it shows (and at most
// once a second, for its "ago" texts), plain and gzip. One per worker.
struct LandingCache {
  std::string key;
  int64_t now = -1;
  std::shared_ptr<const std::string> plain;
  std::shared_ptr<const std::string> gzip;
};

std::string LandingKey(const metrics::StatusView& view) {
  std::string key = view.version + '\n' + view.revision + '\n' + view.telemetry_path + '\n';
  for (const metrics::AccountView& a : view.accounts) {
    key += a.name;
    key += '\n';
    key += a.base_url + '\n' + a.workspace + '\n' + a.last_error + '\n';
    key +=
        std::to_string(a.up) + std::to_string(a.ever_succeeded()) + std::to_string(a.data_dropped_as_stale);
    key += ' ' + std::to_string(a.last_success_unix.value_or(-1)) + ' ' +
           std::to_string(a.last_poll_unix.value_or(-1));
    key += ' ' + std::to_string(a.last_poll_duration_seconds);
    // The deployments are an immutable snapshot: its address names it.
    key += ' ' + std::to_string(reinterpret_cast<uintptr_t>(a.deployments.get())) + '\n';
  }
  return key;
}

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

template <class Stream>
class Session;

class ServerCore {
 public:
  ServerCore(ServerOptions options, MetricsProvider& provider)
      : options_(std::move(options)), provider_(provider) {}

  Status Start();
  void Stop();
  Status Reload(std::optional<config::WebConfig> web);
  std::vector<RequestCount> RequestCounts() const;
  ConnectionStats Connections() const;

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

  void Count(Route route, int status) {
    std::lock_guard lock(counts_mu_);
    ++counts_[{RouteName(route), status}];
  }
  void CountClose(CloseReason r) { closed_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void CountAuthRejection(AuthRejection r) {
    auth_rejections_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  // The landing page for this view and second, plain or gzip.
  std::shared_ptr<const std::string> Landing(Worker& worker, bool gzip);

  ServerOptions options_;  // .web is only read under lifecycle_mu_
  MetricsProvider& provider_;

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

  std::atomic<uint64_t> open_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(CloseReason::kCount)> closed_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(AuthRejection::kCount)> auth_rejections_{};

  mutable std::mutex counts_mu_;
  std::map<std::pair<std::string, int>, uint64_t> counts_;  // guarded by counts_mu_
};

Connection::Connection(ServerCore& server, Worker& worker) : server_(server), worker_(worker) {
  server_.open_.fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection() {
  ServerCore::MarkBusy(*this);
  server_.open_.fetch_sub(1, std::memory_order_relaxed);
  if (!server_.stopping_) server_.CountClose(reason_);
}

// One connection: reads a request head, answers it, and waits for the next,
// every step under a deadline. Only the pending operation's handler (or an
// auth job) holds the session, so when nothing is pending it is gone.
template <class Stream>
class Session final : public Connection {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(ServerCore& server, Worker& worker, Stream stream)
      : Connection(server, worker), stream_(std::move(stream)), buffer_(kReadBufferLimit) {}

  void Start() override {
    // The head deadline runs from accept and covers the TLS handshake.
    Lowest().expires_after(server_.options_.head_timeout);
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) {
          self->End(ec == beast::error::timeout ? CloseReason::kHeadTimeout : CloseReason::kTlsHandshake);
          return;
        }
        self->WaitForRequest();
      });
    } else {
      WaitForRequest();
    }
  }

  void Evict() override {
    reason_ = CloseReason::kCap;
    ServerCore::MarkBusy(*this);
    Lowest().close();  // the pending operation ends with operation_aborted
  }

  void OnAuthChecked(bool ok) override {
    if (reason_ == CloseReason::kCap) return;
    if (!ok) {
      server_.CountAuthRejection(AuthRejection::kBadCredentials);
      LogRejected("wrong user or password");
      Unauthorized();
      return;
    }
    Serve();
  }

 private:
  struct Reply {
    int status = 200;
    std::string_view content_type = kTextType;
    std::vector<std::pair<std::string_view, std::string>> headers;
    std::string text;                      // the body, unless pieces are set
    std::vector<std::string_view> pieces;  // the body, pointing into keep_alive
    std::shared_ptr<const void> keep_alive;
    bool close = false;
    bool linger = false;  // request bytes may still be coming
    CloseReason close_reason = CloseReason::kDone;
  };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void End(CloseReason reason) {
    if (reason_ != CloseReason::kCap) reason_ = reason;
  }

  // Waits for the first byte of the next request: the connection is idle
  // until it comes, and may be evicted for a new one.
  void WaitForRequest() {
    if (buffer_.size() > 0) {  // pipelined
      Lowest().expires_after(server_.options_.head_timeout);
      ReadHead();
      return;
    }
    if (buffer_.capacity() > kIdleBufferKeep) buffer_.shrink_to_fit();
    ServerCore::MarkIdle(*this);
    // A new connection keeps the deadline it got at accept.
    if (requests_ > 0) Lowest().expires_after(server_.options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(512), [self = Self()](beast::error_code ec, size_t n) {
      ServerCore::MarkBusy(*self);
      if (ec) {
        self->End(ec == beast::error::timeout ? CloseReason::kIdle : CloseReason::kClientClosed);
        return;
      }
      self->buffer_.commit(n);
      if (self->requests_ > 0) self->Lowest().expires_after(self->server_.options_.head_timeout);
      self->ReadHead();
    });
  }

  void ReadHead() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(kMaxRequestHeadBytes));
    parser_->body_limit(kMaxRequestBodyBytes);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        Refuse(431, "431 request header fields too large\n", CloseReason::kHeadTooLarge);
      } else if (ec == http::error::body_limit) {
        // Beast checks a declared Content-Length against the limit with the head.
        Refuse(413, "413 request entity too large\n", CloseReason::kBodyRefused);
      } else if (ec == beast::error::timeout) {
        End(CloseReason::kHeadTimeout);
      } else if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        Refuse(400, "400 bad request\n", CloseReason::kBadRequest);
      } else {
        End(CloseReason::kClientClosed);
      }
      return;
    }
    const auto declared = parser_->content_length();
    const std::optional<uint64_t> length = declared ? std::optional<uint64_t>(*declared) : std::nullopt;
    if (const int refusal = BodyRefusalStatus(parser_->chunked(), length)) {
      Refuse(refusal, refusal == 411 ? "411 length required\n" : "413 request entity too large\n",
             CloseReason::kBodyRefused);
      return;
    }
    if (!parser_->is_done()) {
      // A small declared body: read it (bounded by body_limit) and drop it.
      http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code read_ec, size_t) {
        if (read_ec) {
          self->End(read_ec == beast::error::timeout ? CloseReason::kHeadTimeout
                                                     : CloseReason::kClientClosed);
          return;
        }
        self->Authenticate();
      });
      return;
    }
    Authenticate();
  }

  void Authenticate() {
    const auto& req = parser_->get();
    path_ = std::string(TargetPath(View(req.target())));
    route_ = ClassifyPath(path_, server_.options_.telemetry_path);
    settings_ = server_.Settings();
    if (!settings_->auth || settings_->unauthenticated_paths.contains(path_)) {
      Serve();
      return;
    }
    const auto header = req.find(http::field::authorization);
    if (header == req.end()) {
      server_.CountAuthRejection(AuthRejection::kMissing);
      Unauthorized();
      return;
    }
    auto credentials = ParseBasicAuthorization(View(header->value()));
    if (!credentials) {
      server_.CountAuthRejection(AuthRejection::kBadCredentials);
      LogRejected("malformed Authorization header");
      Unauthorized();
      return;
    }
    user_ = credentials->user;
    // A recent success never waits for the pool, however busy it is.
    if (settings_->auth->CheckCached(credentials->user, credentials->password)) {
      OPENSSL_cleanse(credentials->password.data(), credentials->password.size());
      Serve();
      return;
    }
    auto check = [auth = settings_->auth,
                  credentials = std::make_shared<BasicCredentials>(std::move(*credentials))]() {
      const bool ok = auth->Check(credentials->user, credentials->password);
      OPENSSL_cleanse(credentials->password.data(), credentials->password.size());
      return ok;
    };
    // The session moves on to its worker with the answer, so that it is
    // never released, or destroyed, on a pool thread.
    auto done = [self = Self(), io = &worker_.io](bool ok) mutable {
      asio::post(*io, [self = std::move(self), ok] { self->OnAuthChecked(ok); });
    };
    if (!server_.auth_pool_->TrySubmit(std::move(check), std::move(done))) {
      server_.CountAuthRejection(AuthRejection::kBusy);
      Reply r;
      r.status = 503;
      r.text = "503 too many authentication checks in progress, retry later\n";
      r.headers.emplace_back("Retry-After", "1");
      Send(std::move(r));
    }
  }

  void LogRejected(const char* why) {
    // Never the header or password; the user name helps find a misconfigured scraper.
    beast::error_code ec;
    const auto remote = Lowest().socket().remote_endpoint(ec);
    log::Debug("HTTP basic auth rejected",
               {{"path", path_},
                {"remote_addr", ec ? std::string() : remote.address().to_string()},
                {"user", user_},
                {"reason", why}});
  }

  void Unauthorized() {
    Reply r;
    r.status = 401;
    r.text = "401 unauthorized\n";
    r.headers.emplace_back("WWW-Authenticate", kRealm);
    Send(std::move(r));
  }

  void Serve() {
    const auto& req = parser_->get();
    Reply r;
    if (route_ == Route::kOther) {
      r.status = 404;
      r.text = "404 page not found\n";
      Send(std::move(r));
      return;
    }
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      r.status = 405;
      r.text = "405 method not allowed\n";
      r.headers.emplace_back("Allow", "GET, HEAD");
      r.close = true;
      r.close_reason = CloseReason::kMethodRefused;
      Send(std::move(r));
      return;
    }
    switch (route_) {
      case Route::kMetrics: ServeMetrics(r); break;
      case Route::kHealthz: r.text = "ok\n"; break;
      case Route::kReadyz: ServeReadyz(r); break;
      case Route::kLanding: ServeLanding(r); break;
      case Route::kOther: break;
    }
    Send(std::move(r));
  }

  void ServeMetrics(Reply& r) {
    const bool gzip = AcceptsGzip(JoinedField(parser_->get(), http::field::accept_encoding));
    auto body = std::make_shared<metrics::ScrapeBody>(server_.provider_.Scrape(gzip));
    size_t total = 0;
    for (std::string_view piece : body->pieces) total += piece.size();
    if (total != body->size) {
      // A bug in the producer; a wrong Content-Length would corrupt the connection.
      log::Error("scrape body size mismatch",
                 {{"declared", std::to_string(body->size)}, {"actual", std::to_string(total)}});
      r.status = 500;
      r.text = "500 internal server error\n";
      return;
    }
    r.content_type = kExpositionType;
    if (body->gzip) r.headers.emplace_back("Content-Encoding", "gzip");
    r.pieces = body->pieces;
    r.keep_alive = std::move(body);
  }

  void ServeReadyz(Reply& r) {
    if (server_.provider_.Ready()) {
      r.text = "ready\n";
      return;
    }
    std::string waiting;
    for (const metrics::AccountView& a : server_.provider_.CurrentView().accounts) {
      if (a.ever_succeeded()) continue;
      if (!waiting.empty()) waiting += ", ";
      waiting += a.name;
    }
    r.status = 503;
    r.text = waiting.empty() ? "not ready\n"
                             : "not ready: no successful poll yet for account(s): " + waiting + "\n";
  }

  void ServeLanding(Reply& r) {
    const bool gzip = AcceptsGzip(JoinedField(parser_->get(), http::field::accept_encoding));
    auto page = server_.Landing(worker_, gzip);
    r.content_type = kHtmlType;
    r.headers.emplace_back("Content-Security-Policy", kLandingCsp);
    if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
    r.pieces = {*page};
    r.keep_alive = std::move(page);
  }

  // Answers a request that is not read further, and closes.
  void Refuse(int status, std::string text, CloseReason reason) {
    Reply r;
    r.status = status;
    r.text = std::move(text);
    r.close = true;
    r.linger = true;
    r.close_reason = reason;
    if (route_ == Route::kOther && parser_ && parser_->is_header_done()) {
      route_ = ClassifyPath(TargetPath(View(parser_->get().target())), server_.options_.telemetry_path);
    }
    Send(std::move(r));
  }

  void Send(Reply r) {
    const bool head_only =
        parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head;
    if (!r.close) {
      const bool keep =
          parser_ && parser_->get().keep_alive() && requests_ + 1 < server_.options_.keep_alive_max_requests;
      if (!keep) {
        r.close = true;
        r.close_reason = CloseReason::kDone;
      }
    }
    size_t length = r.text.size();
    if (!r.pieces.empty()) {
      length = 0;
      for (std::string_view p : r.pieces) length += p.size();
    }

    std::vector<std::pair<std::string_view, std::string>> fields;
    fields.emplace_back("Content-Type", std::string(r.content_type));
    fields.emplace_back("Content-Length", std::to_string(length));
    fields.emplace_back("Vary", "Accept-Encoding");
    for (auto& h : r.headers) fields.push_back(std::move(h));
    if (r.close) fields.emplace_back("Connection", "close");
    // The operator's headers win over ours of the same name.
    for (const auto& configured : settings_or_current()->headers) {
      std::erase_if(fields, [&](const auto& f) { return EqualsIgnoreCase(f.first, configured.first); });
      fields.emplace_back(configured.first, configured.second);
    }

    head_ = "HTTP/1.1 " + std::to_string(r.status) + ' ';
    head_ += View(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(r.status))));
    head_ += "\r\n";
    for (const auto& [name, value] : fields) {
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
    }
    head_ += "\r\n";

    status_ = r.status;
    close_ = r.close;
    linger_ = r.linger;
    close_reason_ = r.close_reason;
    text_ = std::move(r.text);
    keep_alive_ = std::move(r.keep_alive);
    out_.clear();
    out_.emplace_back(head_.data(), head_.size());
    if (!head_only) {
      if (r.pieces.empty()) {
        if (!text_.empty()) out_.emplace_back(text_.data(), text_.size());
      } else {
        for (std::string_view p : r.pieces) {
          if (!p.empty()) out_.emplace_back(p.data(), p.size());
        }
      }
    }
    Lowest().expires_after(server_.options_.write_timeout);
    asio::async_write(stream_, out_, TransferAllAtOnce{},
                      [self = Self()](beast::error_code ec, size_t) { self->OnWritten(ec); });
  }

  std::shared_ptr<const WebSettings> settings_or_current() {
    if (!settings_) settings_ = server_.Settings();
    return settings_;
  }

  void OnWritten(beast::error_code ec) {
    out_.clear();
    keep_alive_.reset();
    text_.clear();
    if (ec) {
      End(CloseReason::kWriteFailed);
      return;
    }
    server_.Count(route_, status_);
    if (close_) {
      Close();
      return;
    }
    ++requests_;
    parser_.reset();
    settings_.reset();
    route_ = Route::kOther;
    user_.clear();
    WaitForRequest();
  }

  void Close() {
    End(close_reason_);
    if constexpr (kTls) {
      Lowest().expires_after(kLingerTime);
      stream_.async_shutdown([self = Self()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!linger_) return;
      Lowest().expires_after(kLingerTime);
      Linger();
    }
  }

  void Linger() {
    buffer_.clear();
    auto& scratch = worker_.scratch;
    Lowest().async_read_some(asio::buffer(scratch), [self = Self()](beast::error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ >= kLingerBytes) return;
      self->Linger();
    });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<const WebSettings> settings_;  // for the current request
  std::string path_;
  std::string user_;
  Route route_ = Route::kOther;
  int requests_ = 0;
  // The response being written.
  std::string head_;
  std::string text_;
  std::shared_ptr<const void> keep_alive_;
  std::vector<asio::const_buffer> out_;
  int status_ = 0;
  bool close_ = false;
  bool linger_ = false;
  CloseReason close_reason_ = CloseReason::kDone;
  size_t lingered_ = 0;
};

std::shared_ptr<const std::string> ServerCore::Landing(Worker& worker, bool gzip) {
  LandingCache& landing = worker.landing;
  metrics::StatusView view = provider_.CurrentView();
  view.telemetry_path = options_.telemetry_path;  // the path actually served
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::string key = LandingKey(view);
  if (now != landing.now || key != landing.key) {
    landing.plain = std::make_shared<const std::string>(RenderLandingPage(view, now));
    landing.gzip.reset();
    landing.key = std::move(key);
    landing.now = now;
  }
  if (!gzip) return landing.plain;
  if (!landing.gzip) landing.gzip = std::make_shared<const std::string>(GzipMember(*landing.plain));
  return landing.gzip;
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
  if (open_.load(std::memory_order_relaxed) >= options_.max_connections && !EvictOldestIdle(worker)) {
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
    session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        *this, worker, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ssl_));
  } else {
    session =
        std::make_shared<Session<beast::tcp_stream>>(*this, worker, beast::tcp_stream(std::move(socket)));
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

std::vector<RequestCount> ServerCore::RequestCounts() const {
  std::lock_guard lock(counts_mu_);
  std::vector<RequestCount> out;
  out.reserve(counts_.size());
  for (const auto& [key, n] : counts_) out.push_back({key.first, key.second, n});
  return out;
}

ConnectionStats ServerCore::Connections() const {
  ConnectionStats s;
  s.open = open_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kCloseReasonNames.size(); ++i) {
    s.closed.emplace_back(kCloseReasonNames[i], closed_[i].load(std::memory_order_relaxed));
  }
  for (size_t i = 0; i < kAuthRejectionNames.size(); ++i) {
    s.auth_rejections.emplace_back(kAuthRejectionNames[i],
                                   auth_rejections_[i].load(std::memory_order_relaxed));
  }
  return s;
}

}  // namespace

struct HttpServer::Impl : ServerCore {
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
std::vector<RequestCount> HttpServer::RequestCounts() const { return impl_->RequestCounts(); }
ConnectionStats HttpServer::Connections() const { return impl_->Connections(); }

}  // namespace dse::server
