#include "dashscope/api_client.h"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "common/log.h"
#include "dashscope/page_parser.h"

namespace dse::dashscope {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;
  int port = 0;
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)
};

std::optional<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl u;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  u.scheme = std::string(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    u.path_prefix = std::string(rest.substr(slash));
    while (!u.path_prefix.empty() && u.path_prefix.back() == '/') u.path_prefix.pop_back();
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // credentials in a proxy URL are not supported here
  }
  u.port = u.scheme == "https" ? 443 : 80;
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      u.port = std::atoi(std::string(authority.substr(close + 2)).c_str());
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    u.port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
  }
  if (host.empty() || u.port <= 0 || u.port > 65535) return std::nullopt;
  u.host = std::string(host);
  return u;
}

bool IsUsableCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Truncated(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

class HttpPageFetcher final : public PageFetcher {
 public:
  HttpPageFetcher(const config::Account& account, ClientOptions options, ParsedUrl url)
      : api_key_(account.api_key), options_(std::move(options)), url_(std::move(url)) {
    std::string origin = url_.scheme + "://" + (url_.host.find(':') != std::string::npos
                                                     ? "[" + url_.host + "]"
                                                     : url_.host) +
                         ":" + std::to_string(url_.port);
    client_ = std::make_unique<httplib::Client>(origin);
    client_->set_bearer_token_auth(account.api_key);
    client_->set_keep_alive(true);
    client_->set_follow_location(false);
    client_->set_decompress(true);
    if (url_.scheme == "https") client_->enable_server_certificate_verification(true);
    const std::string& proxy = url_.scheme == "https" ? options_.https_proxy : options_.http_proxy;
    if (!proxy.empty() && !NoProxyMatches(options_.no_proxy, url_.host)) {
      if (auto p = ParseUrl(proxy.find("://") == std::string::npos ? "http://" + proxy : proxy)) {
        client_->set_proxy(p->host, p->port);
      } else {
        log::Warn("ignoring unparsable proxy setting", {{"proxy", Truncated(proxy, 200)}});
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
    for (size_t pos = out.error_message.find(api_key_); !api_key_.empty() && pos != std::string::npos;
         pos = out.error_message.find(api_key_, pos)) {
      out.error_message.replace(pos, api_key_.size(), "<redacted>");
    }
    return out;
  }

  void Cancel() override {
    cancelled_ = true;
    client_->stop();
  }

 private:
  RequestOutcome Fetch(int64_t page_no, int page_size, Duration timeout) {
    RequestOutcome out;
    const auto start = SteadyClock::now();
    const auto deadline = start + timeout;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
    client_->set_connection_timeout(secs.count(), usecs.count());
    client_->set_read_timeout(secs.count(), usecs.count());
    client_->set_write_timeout(secs.count(), usecs.count());

    std::string path = url_.path_prefix + "/api/v1/deployments?page_no=" +
                       std::to_string(page_no) + "&page_size=" + std::to_string(page_size);
    std::string body;
    bool too_large = false;
    bool past_deadline = false;
    const size_t cap = options_.max_response_bytes;
    auto result = client_->Get(
        path, headers_,
        [&](const httplib::Response& response) {
          // Refuse a declared oversize body before reading any of it.
          if (response.has_header("Content-Length")) {
            const auto declared = std::strtoull(
                response.get_header_value("Content-Length").c_str(), nullptr, 10);
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
        out.error_message = "response body larger than max_response_bytes (" +
                            std::to_string(cap) + " bytes)";
      } else if (past_deadline || err == httplib::Error::ConnectionTimeout ||
                 (err == httplib::Error::Read &&
                  SteadyClock::now() - start >= timeout - std::chrono::milliseconds(50))) {
        out.error_code = "timeout";
        out.error_message = "no complete response within request_timeout (" +
                            FormatDuration(timeout) + ")";
        out.retryable = true;
      } else if (err == httplib::Error::SSLConnection || err == httplib::Error::SSLLoadingCerts ||
                 err == httplib::Error::SSLServerVerification) {
        out.error_code = "tls";
        out.error_message = "TLS error: " + httplib::to_string(err);
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

    auto page = ParseDeploymentPage(body);
    if (!page.ok()) {
      out.error_code = "invalid_response";
      out.error_message = page.error();
      return out;
    }
    out.ok = true;
    out.page = std::move(page).value();
    return out;
  }

  const std::string api_key_;
  const ClientOptions options_;
  const ParsedUrl url_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers headers_;
  std::atomic<bool> cancelled_{false};
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

std::unique_ptr<PageFetcher> MakeHttpPageFetcher(const config::Account& account,
                                                 ClientOptions options) {
  auto url = ParseUrl(account.base_url);
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

std::optional<Duration> ParseRetryAfter(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::atoll(std::string(value).c_str()));
  }
  std::tm tm{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when <= now) return Duration(0);
  return std::chrono::duration_cast<Duration>(when - now);
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
