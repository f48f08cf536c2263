#include "common/listen_address.h"

#include <charconv>

namespace dse {
namespace {

Error Invalid(std::string_view text, std::string_view why) {
  std::string msg = "invalid listen address \"";
  msg.append(text);
  msg += "\": ";
  msg.append(why);
  return Error{std::move(msg)};
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.' ||
         c == '%' || IsHostChar(c);  // IsHostChar: zone ids like %eth0
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Invalid(text, "missing port, want [host]:port such as :9864");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  ListenAddress out;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return Invalid(text, "IPv6 host must be written [addr]:port");
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      if (!IsIpv6Char(c)) return Invalid(text, "bad character in IPv6 host");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return Invalid(text, "an IPv6 host needs brackets, e.g. [::1]:9864");
  } else {
    for (char c : host) {
      if (!IsHostChar(c)) return Invalid(text, "bad character in host");
    }
  }
  out.host = host.empty() ? "0.0.0.0" : std::string(host);

  if (port_text.empty() || port_text.size() > 5)
    return Invalid(text, "port must be a number from 0 to 65535");
  int port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return Invalid(text, "port must be a number from 0 to 65535");
  }
  out.port = port;
  return out;
}

std::string FormatListenAddress(const ListenAddress& address) {
  std::string out;
  if (address.host.find(':') != std::string::npos) {
    out = "[" + address.host + "]";
  } else {
    out = address.host;
  }
  out += ':';
  out += std::to_string(address.port);
  return out;
}

}  // namespace dse
