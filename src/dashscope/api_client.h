// One HTTP request to the DashScope list endpoint, classified into the error
// codes of the contract. The only user of cpp-httplib's client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "config/config.h"
#include "dashscope/deployment.h"

namespace dse::dashscope {

// What became of one request.
struct RequestOutcome {
  bool ok = false;
  DeploymentPage page;  // when ok
  // When not ok: the label for dashscope_api_errors_total (the API's `code`,
  // or timeout, connection, tls, invalid_response, http_<status>).
  std::string error_code;
  std::string error_message;  // for logs; never contains the key
  int http_status = 0;        // 0 when no response arrived
  bool retryable = false;
  std::optional<Duration> retry_after;
  double duration_seconds = 0;
};

// Sends GET requests for pages; an interface so that pagination and retries
// are tested without sockets.
class PageFetcher {
 public:
  virtual ~PageFetcher() = default;
  // `timeout` bounds the whole request (connect, headers and body).
  virtual RequestOutcome FetchPage(int64_t page_no, int page_size, Duration timeout) = 0;
  // Aborts a request in flight from another thread (shutdown).
  virtual void Cancel() = 0;
  // Called before each poll, on the polling thread (re-reads a changed key file).
  virtual void BeforePoll() {}
};

struct ClientOptions {
  std::string user_agent;
  size_t max_response_bytes = 32u * 1024 * 1024;
  // Proxy settings as read from the environment (HTTPS_PROXY, HTTP_PROXY,
  // NO_PROXY and their lower-case forms).
  std::string https_proxy;
  std::string http_proxy;
  std::string no_proxy;
};
ClientOptions ClientOptionsFromEnvironment(std::string user_agent, size_t max_response_bytes);

// The longest wait a Retry-After can impose: a huge or misread value must
// not stop the polls for years.
inline constexpr Duration kMaxRetryAfter{std::chrono::minutes(15)};

// The real thing, over cpp-httplib. HTTPS is verified against the system CA
// bundle or the account's tls_config. The key goes in a per-request
// Authorization header, to base_url only: never into a proxy's CONNECT, and
// never through a proxy in clear (an http:// base_url that would need a
// proxy fails every request without sending it).
std::unique_ptr<PageFetcher> MakeHttpPageFetcher(const config::Account& account, ClientOptions options);

// Classifies a non-2xx response: the DashScope `code` from a JSON error body
// when it has a usable one, else http_<status>. Exposed for tests.
std::string ErrorCodeFor(int http_status, std::string_view body);
// 5xx and 429 are retried; other statuses are not.
bool IsRetryableStatus(int http_status);
// Reads a 2xx response's body into `out`: ok and the page, or
// invalid_response with the parser's reason. The fields already set (the
// status, the duration) stay. Exposed so that bench/poll_bench.cc reads its
// in-memory pages exactly as the client reads the API's.
void ReadPageBody(std::string_view body, RequestOutcome& out);
// Retry-After as delta-seconds or an HTTP date, relative to `now`, capped at
// kMaxRetryAfter.
std::optional<Duration> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now);
// A proxy URL taken apart: http://[user:password@]host[:port][/]. The
// credentials are percent-decoded.
struct ProxyUrl {
  std::string host;
  int port = 80;
  std::string username;
  std::string password;
};
// nullopt when unusable; no "scheme://" means http://, as curl reads it.
std::optional<ProxyUrl> ParseProxyUrl(std::string_view url);
// Whether `host` is excluded from proxying by a NO_PROXY list.
bool NoProxyMatches(std::string_view no_proxy, std::string_view host);

}  // namespace dse::dashscope
