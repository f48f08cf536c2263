#include "common/url.h"

#include <charconv>

namespace dse {

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  size_t scheme_end = 0;
  if (url.starts_with("https://")) {
    out.scheme = "https";
    scheme_end = 8;
  } else if (url.starts_with("http://")) {
    out.scheme = "http";
    scheme_end = 7;
  } else {
    return Error{"must start with http:// or https://"};
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Error{"must not contain spaces or control characters"};
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return Error{"must not have a query (?) or fragment (#)"};
  }
  const std::string_view rest = url.substr(scheme_end);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  // The last '@' ends the userinfo: a password may contain '@' only
  // percent-encoded, but browsers and curl split at the last one too.
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    out.has_userinfo = true;
    out.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error{"has an unterminated IPv6 address"};
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Error{"has an invalid port"};
      has_port = true;
      port = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return Error{"has no host"};
  out.host = std::string(host);
  out.port = out.scheme == "https" ? 443 : 80;
  if (has_port) {
    int n = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
      return Error{"has an invalid port (want 1 to 65535)"};
    }
    out.port = n;
  }
  return out;
}

}  // namespace dse
