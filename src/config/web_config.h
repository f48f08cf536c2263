// The --web.config.file: TLS and basic auth for our HTTP server, in the
// Prometheus exporter-toolkit format so that existing files keep working.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dse::config {

struct TlsServerConfig {
  // Relative paths in the file are resolved against the web config file's
  // directory, as exporter-toolkit does; these hold the resolved paths.
  std::string cert_file;
  std::string key_file;
  std::string min_version = "TLS12";  // "TLS12" or "TLS13"
  // Empty: no client certificates. Set: every client must present one signed
  // by this CA (exporter-toolkit's RequireAndVerifyClientCert).
  std::string client_ca_file;
  std::string max_version = "TLS13";  // "TLS12" or "TLS13", not below min_version
  // TLS 1.2 suites by their IANA names (as Go's crypto/tls and exporter-toolkit
  // write them), in order of preference. Empty: OpenSSL's secure defaults.
  // TLS 1.3 suites are not configurable, as in Go.
  std::vector<std::string> cipher_suites{};
  // Key exchange groups in exporter-toolkit's names (X25519, CurveP256,
  // CurveP384, CurveP521), in order of preference. Empty: OpenSSL's defaults.
  std::vector<std::string> curve_preferences{};
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;  // unset: plain HTTP
  // user -> bcrypt hash ($2a$/$2b$/$2y$). Empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // From http_server_config.headers: extra response headers, limited to the
  // set exporter-toolkit allows (security headers only).
  std::map<std::string, std::string> headers;
  // Our extension to the toolkit format: exact request paths (e.g. /healthz)
  // served without basic auth, so probes need no credentials.
  std::vector<std::string> unauthenticated_paths;
};

// Loads and validates the file, including that the certificate, key and CA
// files are readable now. Messages have the same form as LoadConfigFile's:
//   <path>:<line>:<col>: <key path>: <problem>
// and never contain a password hash.
Result<WebConfig> LoadWebConfigFile(const std::string& path);

// Same, from text; `source_name` stands for the file name in messages, and
// relative certificate paths are resolved against its directory.
Result<WebConfig> LoadWebConfigString(std::string_view yaml, const std::string& source_name);

}  // namespace dse::config
