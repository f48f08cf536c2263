#include "common/url.h"

#include <charconv>

namespace dse {
namespace {

// Takes [userinfo@]host[:port] apart into `out`; `out.port` stays as given
// when no port is written. The caller has checked the characters.
Status ParseAuthority(std::string_view authority, HttpUrl& out) {
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
  if (has_port) {
    int n = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || n < 1 || n > 65535) {
      return Error{"has an invalid port (want 1 to 65535)"};
    }
    out.port = n;
  }
  return Status::Ok();
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  size_t scheme_end = 0;
  if (url.starts_with("https://")) {
    out.scheme = "https";
    out.port = 443;
    scheme_end = 8;
  } else if (url.starts_with("http://")) {
    out.scheme = "http";
    out.port = 80;
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
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  if (Status s = ParseAuthority(rest.substr(0, slash), out); !s.ok()) return Error{s.error()};
  return out;
}

Result<HttpUrl> ParseProxyUrl(std::string_view url, ProxyUrlBytes bytes) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return Error{
        "must start with http:// (an HTTP proxy; the API traffic is tunnelled through it with CONNECT)"};
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || (u > 0x7f && bytes == ProxyUrlBytes::kAsciiOnly)) {
      return Error{"must not contain spaces, control or non-ASCII characters"};
    }
  }
  const std::string_view rest = url.substr(kScheme.size());
  const size_t end = rest.find_first_of("/?#");
  if (end != std::string_view::npos && rest.substr(end) != "/") {
    return Error{"must not have a path, query or fragment"};
  }
  HttpUrl out;
  out.scheme = "http";
  out.port = 80;
  if (end != std::string_view::npos) out.path = "/";
  if (Status s = ParseAuthority(rest.substr(0, end), out); !s.ok()) return Error{s.error()};
  return out;
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexDigit(s[i + 1]);
    const int lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace dse
