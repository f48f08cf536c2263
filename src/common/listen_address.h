// A listen address, "[host]:port" → what to bind: the exporter's
// --web.listen-address and the mock's --listen read the same forms.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace dse {

struct ListenAddress {
  // What to bind: an IPv4/IPv6 literal or a name resolved at bind time.
  // ":9864" (no host) binds 0.0.0.0, every IPv4 interface, which works on
  // hosts and containers without IPv6; write "[::]:9864" for IPv6 (dual-stack
  // where the kernel allows it).
  std::string host;
  int port = 0;  // 0: any free port
};

// Accepts ":9864", "127.0.0.1:0", "localhost:9864", "[::1]:9864". Errors read
//   invalid listen address "<text>": <why>
Result<ListenAddress> ParseListenAddress(std::string_view text);

// "host:port", with brackets around an IPv6 host, for log lines.
std::string FormatListenAddress(const ListenAddress& address);

}  // namespace dse
