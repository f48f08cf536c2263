#include "dashscope/api_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/text.h"
#include "common/url.h"
#include "dashscope/api_key_file.h"
#include "dashscope/error_body.h"
#include "dashscope/page_parser.h"

namespace dse::dashscope {
namespace {

using SteadyClock = std::chrono::steady_clock;

// base_url taken apart, its path kept as the prefix of every request path
// (without a trailing slash).
std::optional<HttpUrl> ParseBaseUrl(std::string_view url) {
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return std::nullopt;
  HttpUrl u = std::move(*parsed);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  return u;
}

bool IsUsableCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Truncated(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

// Enforces request_timeout on the whole request. httplib's timeouts apply to
// each connect, read and write, so a server sending one byte per read
// timeout would hold a request forever; when the deadline passes this shuts
// the request's socket down, which ends whatever httplib is waiting in
// (connect, CONNECT, TLS handshake, headers or body).
class RequestWatchdog {
 public:
  explicit RequestWatchdog(std::function<void()> on_expiry)
      : on_expiry_(std::move(on_expiry)), thread_([this] { Run(); }) {}
  ~RequestWatchdog() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  RequestWatchdog(const RequestWatchdog&) = delete;
  RequestWatchdog& operator=(const RequestWatchdog&) = delete;

  void Arm(SteadyClock::time_point deadline) {
    {
      std::lock_guard lock(mu_);
      deadline_ = deadline;
      fired_ = false;
    }
    cv_.notify_all();
  }
  // True when the deadline passed before this was called.
  bool Disarm() {
    std::lock_guard lock(mu_);
    deadline_.reset();
    return fired_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      if (!deadline_) {
        cv_.wait(lock);
        continue;
      }
      const auto deadline = *deadline_;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && deadline_ && *deadline_ == deadline &&
          SteadyClock::now() >= deadline) {
        fired_ = true;
        deadline_.reset();
        on_expiry_();  // under mu_, so Disarm() sees fired_ only after the socket is down
      }
    }
  }

  const std::function<void()> on_expiry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<SteadyClock::time_point> deadline_;  // guarded by mu_
  bool fired_ = false;                               // guarded by mu_
  bool quit_ = false;                                // guarded by mu_
  std::thread thread_;
};

bool IsIpLiteral(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Which proxy a request takes, decided once per fetcher.
struct ProxyChoice {
  std::optional<ProxyUrl> proxy;
  std::string source;   // "proxy_url", "HTTPS_PROXY" or "HTTP_PROXY", for messages
  std::string refusal;  // non-empty: every request fails with this, nothing is sent
};

ProxyChoice ChooseProxy(const config::Account& account, const ClientOptions& options, const HttpUrl& url) {
  ProxyChoice choice;
  std::string setting;
  if (account.proxy_url) {
    setting = *account.proxy_url;  // overrides the environment, NO_PROXY included
    choice.source = "proxy_url";
  } else {
    setting = url.scheme == "https" ? options.https_proxy : options.http_proxy;
    choice.source = url.scheme == "https" ? "HTTPS_PROXY" : "HTTP_PROXY";
    if (!setting.empty() && NoProxyMatches(options.no_proxy, url.host)) setting.clear();
  }
  if (setting.empty()) return choice;
  choice.proxy = ParseProxyUrl(setting);
  if (!choice.proxy) {
    // Never the value: it may carry the proxy's password.
    log::Warn("ignoring an unparsable proxy setting; connecting directly",
              {{"account", account.name}, {"setting", choice.source}});
    return choice;
  }
  if (url.scheme != "https") {
    // Over http:// the proxy would read the request, key and all, whether
    // forwarded or tunnelled: refuse rather than hand it over, or silently
    // bypass a proxy the operator set.
    choice.refusal = "not sent: base_url is http:// and " + choice.source +
                     " applies to it; the proxy would see the API key. Use an https:// base_url, or "
                     "list the host in NO_PROXY";
    log::Error("API requests of this account will not be sent through the proxy",
               {{"account", account.name}, {"err", choice.refusal}});
  }
  return choice;
}

class HttpPageFetcher final : public PageFetcher {
 public:
  HttpPageFetcher(const config::Account& account, ClientOptions options, HttpUrl url)
      : account_name_(account.name),
        api_key_(account.api_key),
        options_(std::move(options)),
        url_(std::move(url)),
        watchdog_([this] { ShutdownSocket(); }) {
    if (!account.api_key_file.empty()) {
      key_file_.emplace(account.name, account.api_key_file, account.api_key);
    }
    std::string origin = url_.scheme + "://" +
                         (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) +
                         ":" + std::to_string(url_.port);
    client_ = std::make_unique<httplib::Client>(origin);
    // Not set_bearer_token_auth: httplib adds that to a proxy's CONNECT too.
    client_->set_keep_alive(true);
    client_->set_follow_location(false);
    client_->set_decompress(true);
    client_->set_socket_options([this](socket_t sock) { RememberSocket(sock); });
    if (url_.scheme == "https") ConfigureTls(account);
    const ProxyChoice proxy = ChooseProxy(account, options_, url_);
    refusal_ = proxy.refusal;
    if (proxy.proxy && refusal_.empty()) {
      client_->set_proxy(proxy.proxy->host, proxy.proxy->port);
      if (!proxy.proxy->username.empty() || !proxy.proxy->password.empty()) {
        log::AddSecret(proxy.proxy->password);
        // Sent as Proxy-Authorization on the CONNECT. httplib 0.11 would
        // also add it to every request inside the tunnel, handing the
        // proxy's password to base_url; an empty header of our own there
        // stops that (httplib adds its own only when the request has none).
        client_->set_proxy_basic_auth(proxy.proxy->username, proxy.proxy->password);
        hide_proxy_credentials_ = true;
      }
    }
    headers_ = {{"Accept", "application/json"},
                {"Content-Type", "application/json"},
                {"Accept-Encoding", "gzip"},
                {"User-Agent", options_.user_agent}};
    if (!account.workspace.empty()) headers_.emplace("X-DashScope-WorkSpace", account.workspace);
  }

  RequestOutcome FetchPage(int64_t page_no, int page_size, Duration timeout) override {
    RequestOutcome out = Fetch(page_no, page_size, timeout);
    // The API's own messages are quoted in ours; should one ever echo the
    // key back, it goes no further than here.
    Redact(out.error_message, api_key_);
    return out;
  }

  ~HttpPageFetcher() override {
    std::lock_guard lock(socket_mu_);
    if (watched_socket_ >= 0) ::close(watched_socket_);
    watched_socket_ = -1;
  }
  HttpPageFetcher(const HttpPageFetcher&) = delete;
  HttpPageFetcher& operator=(const HttpPageFetcher&) = delete;

  void Cancel() override {
    cancelled_ = true;
    client_->stop();
    ShutdownSocket();
  }

  void BeforePoll() override {
    if (!key_file_) return;
    if (std::optional<std::string> key = key_file_->Refresh()) api_key_ = std::move(*key);
  }

 private:
  void ConfigureTls(const config::Account& account) {
    // Verification is done by OpenSSL during the handshake, with our CA and
    // name, rather than by httplib (which checks only base_url's host).
    client_->enable_server_certificate_verification(false);
    SSL_CTX* ctx = client_->ssl_context();
    if (ctx == nullptr) return;
    const config::ApiTlsConfig& tls = account.tls;
    if (tls.insecure_skip_verify) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      log::Warn(
          "TLS certificate verification is off for this account (tls_config.insecure_skip_verify); "
          "anyone on the path can read the API key",
          {{"account", account.name}, {"base_url", account.base_url}});
      return;
    }
    const bool loaded = tls.ca_file.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      // Verification then fails for every request, counted as `tls`.
      log::Error("cannot load the CA certificates; TLS to base_url will fail",
                 {{"account", account.name},
                  {"ca_file", tls.ca_file.empty() ? std::string("(system bundle)") : tls.ca_file}});
    }
    const std::string& name = tls.server_name.empty() ? url_.host : tls.server_name;
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (IsIpLiteral(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }

  // httplib keeps its socket to itself; the options hook is the one place
  // that sees it. A duplicate of our own names the same socket, so the
  // watchdog can shut it down without touching httplib's descriptor, which
  // httplib may close (and the kernel reuse) at any moment.
  void RememberSocket(int sock) {
    const int dup = fcntl(sock, F_DUPFD_CLOEXEC, 0);
    std::lock_guard lock(socket_mu_);
    if (watched_socket_ >= 0) ::close(watched_socket_);
    watched_socket_ = dup;
  }

  // Once httplib has closed its socket, ours must go too, or the connection
  // would stay open.
  void ForgetSocketUnlessOpen() {
    if (client_->is_socket_open()) return;  // kept alive for the next request
    std::lock_guard lock(socket_mu_);
    if (watched_socket_ >= 0) ::close(watched_socket_);
    watched_socket_ = -1;
  }

  void ShutdownSocket() {
    std::lock_guard lock(socket_mu_);
    if (watched_socket_ >= 0) ::shutdown(watched_socket_, SHUT_RDWR);
  }

  RequestOutcome Fetch(int64_t page_no, int page_size, Duration timeout) {
    RequestOutcome out;
    if (!refusal_.empty()) {
      out.error_code = "connection";
      out.error_message = refusal_;
      return out;
    }
    const auto start = SteadyClock::now();
    const auto deadline = start + timeout;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
    client_->set_connection_timeout(secs.count(), usecs.count());
    client_->set_read_timeout(secs.count(), usecs.count());
    client_->set_write_timeout(secs.count(), usecs.count());

    std::string path = url_.path + "/api/v1/deployments?page_no=" + std::to_string(page_no) +
                       "&page_size=" + std::to_string(page_size);
    httplib::Headers headers = headers_;
    headers.emplace("Authorization", "Bearer " + api_key_);
    if (hide_proxy_credentials_) headers.emplace("Proxy-Authorization", "");
    std::string body;
    bool too_large = false;
    bool past_deadline = false;
    const size_t cap = options_.max_response_bytes;
    watchdog_.Arm(deadline);
    auto result = client_->Get(
        path, headers,
        [&](const httplib::Response& response) {
          // Refuse a declared oversize body before reading any of it.
          if (response.has_header("Content-Length")) {
            const auto declared =
                std::strtoull(response.get_header_value("Content-Length").c_str(), nullptr, 10);
            if (declared > cap) {
              too_large = true;
              return false;
            }
          }
          return true;
        },
        [&](const char* data, size_t length) {
          if (body.size() + length > cap) {
            too_large = true;
            return false;
          }
          body.append(data, length);
          if (SteadyClock::now() > deadline) {
            past_deadline = true;
            return false;
          }
          return true;
        });
    const bool watchdog_fired = watchdog_.Disarm();
    ForgetSocketUnlessOpen();
    out.duration_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();

    if (cancelled_.load()) {
      out.error_code.clear();
      out.error_message = "request cancelled by shutdown";
      return out;
    }
    if (!result) {
      const httplib::Error err = result.error();
      if (too_large) {
        out.error_code = "invalid_response";
        out.error_message =
            "response body larger than max_response_bytes (" + std::to_string(cap) + " bytes)";
      } else if (watchdog_fired || past_deadline || err == httplib::Error::ConnectionTimeout ||
                 (err == httplib::Error::Read &&
                  SteadyClock::now() - start >= timeout - std::chrono::milliseconds(50))) {
        out.error_code = "timeout";
        out.error_message = "no complete response within request_timeout (" + FormatDuration(timeout) + ")";
        out.retryable = true;
      } else if (err == httplib::Error::SSLConnection || err == httplib::Error::SSLLoadingCerts ||
                 err == httplib::Error::SSLServerVerification) {
        out.error_code = "tls";
        out.error_message = "TLS error: " + httplib::to_string(err) + TlsDetail();
      } else {
        out.error_code = "connection";
        out.error_message = "connection error: " + httplib::to_string(err);
        out.retryable = true;
      }
      return out;
    }

    out.http_status = result->status;
    if (result->status < 200 || result->status >= 300) {
      out.error_code = ErrorCodeFor(result->status, body);
      out.retryable = IsRetryableStatus(result->status);
      std::string detail;
      if (auto e = ParseApiError(body); e.ok() && !e->message.empty()) {
        detail = ": " + Truncated(e->message, 300);
        if (!e->request_id.empty()) detail += " (request_id " + Truncated(e->request_id, 80) + ")";
      }
      out.error_message = "HTTP " + std::to_string(result->status) + " " + out.error_code + detail;
      if (result->has_header("Retry-After")) {
        out.retry_after =
            ParseRetryAfter(result->get_header_value("Retry-After"), std::chrono::system_clock::now());
      }
      return out;
    }

    ReadPageBody(body, out);
    return out;
  }

  // OpenSSL's reason for the last failure on this thread, when it has one.
  static std::string TlsDetail() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return {};
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return std::string(" (") + buf + ")";
  }

  const std::string account_name_;
  std::string api_key_;  // touched only by the polling thread
  std::optional<ApiKeyFile> key_file_;
  const ClientOptions options_;
  const HttpUrl url_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers headers_;
  std::string refusal_;
  bool hide_proxy_credentials_ = false;
  std::atomic<bool> cancelled_{false};

  std::mutex socket_mu_;
  int watched_socket_ = -1;   // guarded by socket_mu_; our duplicate of httplib's socket
  RequestWatchdog watchdog_;  // last: its thread calls ShutdownSocket()
};

std::string GetEnvEither(const char* upper, const char* lower) {
  if (const char* v = std::getenv(upper); v && *v) return v;
  if (const char* v = std::getenv(lower); v && *v) return v;
  return {};
}

}  // namespace

ClientOptions ClientOptionsFromEnvironment(std::string user_agent, size_t max_response_bytes) {
  ClientOptions o;
  o.user_agent = std::move(user_agent);
  o.max_response_bytes = max_response_bytes;
  o.https_proxy = GetEnvEither("HTTPS_PROXY", "https_proxy");
  o.http_proxy = GetEnvEither("HTTP_PROXY", "http_proxy");
  o.no_proxy = GetEnvEither("NO_PROXY", "no_proxy");
  return o;
}

std::unique_ptr<PageFetcher> MakeHttpPageFetcher(const config::Account& account, ClientOptions options) {
  auto url = ParseBaseUrl(account.base_url);
  if (!url) {
    // The config loader validated base_url; reaching here is a programming error.
    log::Error("unusable base_url", {{"account", account.name}, {"base_url", account.base_url}});
    std::abort();
  }
  return std::make_unique<HttpPageFetcher>(account, std::move(options), std::move(*url));
}

std::string ErrorCodeFor(int http_status, std::string_view body) {
  if (auto e = ParseApiError(body); e.ok() && IsUsableCode(e->code)) return e->code;
  return "http_" + std::to_string(http_status);
}

bool IsRetryableStatus(int http_status) { return http_status == 429 || http_status >= 500; }

void ReadPageBody(std::string_view body, RequestOutcome& out) {
  auto page = ParseDeploymentPage(body);
  if (!page.ok()) {
    out.error_code = "invalid_response";
    out.error_message = page.error();
    return;
  }
  out.ok = true;
  out.page = std::move(page).value();
}

std::optional<Duration> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 9) return kMaxRetryAfter;  // more than 31 years: the cap
    return std::min<Duration>(std::chrono::seconds(std::atoll(std::string(value).c_str())), kMaxRetryAfter);
  }
  std::tm tm{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when <= now) return Duration(0);
  return std::min(std::chrono::duration_cast<Duration>(when - now), kMaxRetryAfter);
}

std::optional<ProxyUrl> ParseProxyUrl(std::string_view url) {
  std::string text(url);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  // Looser than the config's check of proxy_url, as the environment values
  // have always been read: bytes above 0x7f pass, and user info need not be
  // user:password (no ':' means an empty password).
  Result<HttpUrl> parsed = dse::ParseProxyUrl(text, ProxyUrlBytes::kAllowNonAscii);
  if (!parsed.ok()) return std::nullopt;
  ProxyUrl out;
  out.host = std::move(parsed->host);
  out.port = parsed->port;
  if (parsed->has_userinfo) {
    const std::string_view userinfo = parsed->userinfo;
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto pass = colon == std::string_view::npos ? std::optional<std::string>("")
                                                : PercentDecode(userinfo.substr(colon + 1));
    if (!user || !pass) return std::nullopt;
    out.username = std::move(*user);
    out.password = std::move(*pass);
  }
  return out;
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host) {
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t end = no_proxy.find(',', start);
    if (end == std::string_view::npos) end = no_proxy.size();
    std::string_view entry = no_proxy.substr(start, end - start);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (const size_t colon = entry.rfind(':'); colon != std::string_view::npos &&
                                               entry.find(']') == std::string_view::npos &&
                                               entry.find(':') == colon) {
      entry = entry.substr(0, colon);  // "host:port" entries match on host
    }
    if (entry == "*") return true;
    if (!entry.empty()) {
      if (entry.front() == '.') entry.remove_prefix(1);
      if (host == entry) return true;
      if (host.size() > entry.size() && host.ends_with(entry) &&
          host[host.size() - entry.size() - 1] == '.') {
        return true;
      }
    }
    start = end + 1;
  }
  return false;
}

}  // namespace dse::dashscope
