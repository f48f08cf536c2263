#include "server/session.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/log.h"
#include "server/accept_encoding.h"
#include "server/basic_auth.h"
#include "server/request_routing.h"

namespace dse::server::detail {

namespace http = beast::http;

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

}  // namespace

std::shared_ptr<Connection> NewSession(ServerCore& server, Worker& worker, beast::tcp_stream stream) {
  return std::make_shared<Session<beast::tcp_stream>>(server, worker, std::move(stream));
}

std::shared_ptr<Connection> NewSession(ServerCore& server, Worker& worker,
                                       beast::ssl_stream<beast::tcp_stream> stream) {
  return std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(server, worker, std::move(stream));
}

}  // namespace dse::server::detail
