// http:// and https:// URLs as the config and the API client read them:
// base_url, proxy_url and the proxy environment variables. One parser, so
// that what --check-config accepts is what the client then connects to.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dse {

struct HttpUrl {
  std::string scheme;  // "http" or "https"
  bool has_userinfo = false;
  std::string userinfo;  // before the '@', still percent-encoded
  std::string host;      // without the brackets of an IPv6 literal
  int port = 0;          // as written, else 80 or 443
  std::string path;      // from the first '/', as written; "" when none
};

// Parses an absolute http(s) URL without query or fragment. An error says
// what is wrong in words ("has an invalid port (want 1 to 65535)") and never
// echoes the URL, which may hold a key or a password.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// Which bytes above 0x7f a proxy URL may hold. The config refuses them; the
// API client has always taken them in HTTPS_PROXY and HTTP_PROXY (a raw
// UTF-8 password, say), and still does.
enum class ProxyUrlBytes { kAsciiOnly, kAllowNonAscii };

// Parses a proxy URL: http://[userinfo@]host[:port] with no path but "/",
// for proxy_url and the proxy environment variables alike. http:// only:
// httplib speaks to HTTP proxies only, and tunnels the API traffic through
// them with CONNECT. The result's scheme is "http" and its path "" or "/";
// what the user info must look like is left to the caller. Errors are worded
// for the config, which shows them, and never echo the URL: it may hold the
// proxy's password.
Result<HttpUrl> ParseProxyUrl(std::string_view url, ProxyUrlBytes bytes);

// Decodes %XX escapes (user info, say); nullopt when a '%' is not followed
// by two hex digits.
std::optional<std::string> PercentDecode(std::string_view s);

}  // namespace dse
