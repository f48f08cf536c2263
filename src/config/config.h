// The typed configuration. Loaded from YAML by config_loader; everything else
// in the program sees only these structs.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"

namespace dse::config {

// How base_url's certificate is checked (Prometheus' tls_config, the client side).
struct ApiTlsConfig {
  std::string ca_file;      // resolved path; empty: the system CA bundle
  std::string server_name;  // expected in the certificate; empty: base_url's host
  bool insecure_skip_verify = false;

  bool operator==(const ApiTlsConfig&) const = default;
};

struct Account {
  std::string name;       // the `account` label; unique
  std::string base_url;   // scheme://host[:port][/prefix], no trailing slash
  std::string workspace;  // optional; sent as X-DashScope-WorkSpace when set
  // Where the key came from, for messages only ("env DASHSCOPE_API_KEY",
  // "file /run/secrets/x"); never the key itself.
  std::string api_key_source;
  std::string api_key;  // the secret; never logged, printed or exported
  // Resolved path when the key comes from api_key_file (re-read when it
  // changes); empty for api_key_env.
  std::string api_key_file;
  // Overrides HTTPS_PROXY/NO_PROXY for this account when set: http://[user:pass@]host:port.
  std::optional<std::string> proxy_url;
  ApiTlsConfig tls;
  // api_time_zone: the zone of the API's zoneless times, seconds east of UTC.
  int api_time_zone_seconds = 0;
};

struct Config {
  Duration poll_interval{std::chrono::seconds(60)};
  Duration request_timeout{std::chrono::seconds(10)};
  int page_size = 200;  // 1..200
  Duration max_staleness{std::chrono::minutes(15)};
  // Retries per request (issue "never fall over").
  int max_retries = 2;  // 0..10
  Duration retry_base_delay{std::chrono::milliseconds(500)};
  size_t max_response_bytes = 32u * 1024 * 1024;  // per response body
  std::vector<Account> accounts;
};

}  // namespace dse::config
