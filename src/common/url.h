// http:// and https:// URLs as the config and the API client read them:
// base_url, proxy_url and the proxy environment variables. One parser, so
// that what --check-config accepts is what the client then connects to.
#pragma once

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

}  // namespace dse
