#include "config/web_config.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include "common/bcrypt_hash.h"
#include "common/text.h"
#include "config/strict_yaml.h"

namespace dse::config {
namespace {

using detail::Describe;
using detail::JoinPath;
using detail::Located;
using detail::Source;

// unauthenticated_paths is our extension; the rest is exporter-toolkit's
// format, of which we support the part listed here.
constexpr std::string_view kTopKeys[] = {"tls_server_config", "http_server_config", "basic_auth_users",
                                         "unauthenticated_paths"};
constexpr std::string_view kTlsKeys[] = {"cert_file",   "key_file",    "client_ca_file", "client_auth_type",
                                         "min_version", "max_version", "cipher_suites",  "curve_preferences"};

// The TLS 1.2 suites Go's crypto/tls offers, by IANA name; Go's short names
// for the ChaCha20 suites are accepted too and stored by their IANA name.
constexpr std::string_view kCipherSuites[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
};
constexpr std::string_view kTls13Suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                             "TLS_CHACHA20_POLY1305_SHA256"};
constexpr std::string_view kCurves[] = {"X25519", "CurveP256", "CurveP384", "CurveP521"};

std::string Listed(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}
constexpr std::string_view kHttpKeys[] = {"http2", "headers"};

// exporter-toolkit lets only these headers be set, some only to fixed values,
// so that a web config cannot change how the exporter's answers are read.
constexpr std::string_view kNoSniff[] = {"nosniff"};
constexpr std::string_view kFrameOptions[] = {"deny", "sameorigin"};
struct AllowedHeader {
  std::string_view name;
  std::span<const std::string_view> values;  // empty: any value
};
constexpr AllowedHeader kAllowedHeaders[] = {
    {"Content-Security-Policy", {}},
    {"Strict-Transport-Security", {}},
    {"X-Content-Type-Options", kNoSniff},
    {"X-Frame-Options", kFrameOptions},
    {"X-XSS-Protection", {}},
};

constexpr std::string_view kRequireAndVerify = "RequireAndVerifyClientCert";
constexpr std::string_view kNoClientCert = "NoClientCert";
constexpr size_t kMaxWebConfigBytes = 1024 * 1024;
constexpr size_t kMaxPemBytes = 1024 * 1024;

class WebLoader {
 public:
  WebLoader(const Source& src, std::string base_dir) : src_(src), base_dir_(std::move(base_dir)) {}

  Result<WebConfig> Load(const YAML::Node& root) {
    // An empty file is valid, as in exporter-toolkit: plain HTTP, no auth.
    if (!root.IsDefined() || root.IsNull()) return WebConfig{};
    const Located top{"", root, root.Mark()};
    const Status s = detail::ForEachEntry(src_, top, {kTopKeys, {}, "a map of settings"},
                                          [this](const std::string& key, const Located& v) -> Status {
                                            if (key == "tls_server_config") return ReadTls(v);
                                            if (key == "http_server_config") return ReadHttp(v);
                                            if (key == "basic_auth_users") return ReadUsers(v);
                                            return ReadUnauthenticatedPaths(v);
                                          });
    if (!s.ok()) return Error{s.error()};
    return std::move(config_);
  }

 private:
  Status ReadTls(const Located& v) {
    // Present but empty means no TLS, as in exporter-toolkit.
    if (v.node.IsNull() || (v.node.IsMap() && v.node.size() == 0)) return Status::Ok();
    TlsServerConfig tls;
    std::optional<Located> max_version_seen;
    std::optional<Located> ca;
    std::optional<Located> auth;
    std::string auth_type;
    Status s = detail::ForEachEntry(
        src_, v, {kTlsKeys, {}, "a map of TLS settings"},
        [&](const std::string& key, const Located& f) -> Status {
          if (key == "cipher_suites") return ReadCipherSuites(f, tls.cipher_suites);
          if (key == "curve_preferences") return ReadCurves(f, tls.curve_preferences);
          Result<std::string> text = detail::ReadString(src_, f);
          if (!text.ok()) return Error{text.error()};
          if (key == "min_version") {
            if (*text != "TLS12" && *text != "TLS13") {
              return src_.At(f.mark, f.path, "want TLS12 or TLS13, got " + Quote(*text));
            }
            tls.min_version = *text;
            return Status::Ok();
          }
          if (key == "max_version") {
            if (*text != "TLS12" && *text != "TLS13") {
              return src_.At(f.mark, f.path,
                             "want TLS12 or TLS13 (TLS 1.1 and older are refused), got " + Quote(*text));
            }
            tls.max_version = *text;
            max_version_seen = f;
            return Status::Ok();
          }
          if (key == "client_auth_type") {
            if (*text != kRequireAndVerify && *text != kNoClientCert) {
              return src_.At(f.mark, f.path,
                             "want RequireAndVerifyClientCert (with client_ca_file) or NoClientCert, got " +
                                 Quote(*text));
            }
            auth_type = *text;
            auth = f;
            return Status::Ok();
          }
          Result<std::string> path = ReadableFile(f, *text);
          if (!path.ok()) return Error{path.error()};
          if (key == "cert_file") {
            tls.cert_file = std::move(*path);
          } else if (key == "key_file") {
            tls.key_file = std::move(*path);
          } else {
            tls.client_ca_file = std::move(*path);
            ca = f;
          }
          return Status::Ok();
        });
    if (!s.ok()) return s;
    // "TLS12" < "TLS13" as text too.
    if (max_version_seen && tls.max_version < tls.min_version) {
      return src_.At(max_version_seen->mark, max_version_seen->path,
                     tls.max_version + " is below min_version " + tls.min_version);
    }
    if (tls.cert_file.empty()) {
      return src_.At(v.mark, JoinPath(v.path, "cert_file"), "missing; TLS needs both cert_file and key_file");
    }
    if (tls.key_file.empty()) {
      return src_.At(v.mark, JoinPath(v.path, "key_file"), "missing; TLS needs both cert_file and key_file");
    }
    if (auth_type == kRequireAndVerify && !ca) {
      return src_.At(auth->mark, auth->path, "RequireAndVerifyClientCert needs client_ca_file");
    }
    if (auth_type == kNoClientCert && ca) {
      return src_.At(auth->mark, auth->path,
                     "NoClientCert contradicts client_ca_file; use RequireAndVerifyClientCert or drop "
                     "client_ca_file");
    }
    config_.tls = std::move(tls);
    return Status::Ok();
  }

  // Checked now so that a typo fails at startup or reload, not at the first
  // TLS handshake. The contents are the server's to judge.
  Result<std::string> ReadableFile(const Located& f, const std::string& given) const {
    if (given.empty()) return src_.At(f.mark, f.path, "must not be empty");
    const std::string path = detail::ResolveAgainst(base_dir_, given);
    Result<std::string> content = detail::ReadSmallFile(path, kMaxPemBytes);
    if (!content.ok()) return src_.At(f.mark, f.path, "cannot read " + Quote(path) + ": " + content.error());
    if (content->empty())
      return src_.At(f.mark, f.path, "cannot read " + Quote(path) + ": the file is empty");
    return path;
  }

  Status ReadHttp(const Located& v) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachEntry(src_, v, {kHttpKeys, {}, "a map of HTTP server settings"},
                                [this](const std::string& key, const Located& f) -> Status {
                                  if (key == "http2") {
                                    // Accepted for compatibility; our server speaks HTTP/1.1.
                                    Result<bool> b = detail::ReadBool(src_, f);
                                    return b.ok() ? Status::Ok() : Status(Error{b.error()});
                                  }
                                  return ReadHeaders(f);
                                });
  }

  Status ReadHeaders(const Located& v) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachEntry(
        src_, v, {{}, {}, "a map of header names to values"},
        [this](const std::string& name, const Located& f) -> Status {
          const auto allowed = std::find_if(std::begin(kAllowedHeaders), std::end(kAllowedHeaders),
                                            [&](const AllowedHeader& h) { return h.name == name; });
          if (allowed == std::end(kAllowedHeaders)) {
            std::string problem = "this header cannot be set; allowed: ";
            for (size_t i = 0; i < std::size(kAllowedHeaders); ++i) {
              if (i > 0) problem += ", ";
              problem += kAllowedHeaders[i].name;
            }
            return src_.At(f.mark, f.path, problem);
          }
          Result<std::string> value = detail::ReadString(src_, f);
          if (!value.ok()) return Error{value.error()};
          if (value->empty()) return src_.At(f.mark, f.path, "must not be empty");
          if (detail::HasControlCharacter(*value)) {
            return src_.At(f.mark, f.path, "must not contain control characters");
          }
          if (!allowed->values.empty() &&
              std::find(allowed->values.begin(), allowed->values.end(), *value) == allowed->values.end()) {
            std::string want;
            for (size_t i = 0; i < allowed->values.size(); ++i) {
              if (i > 0) want += " or ";
              want += allowed->values[i];
            }
            return src_.At(f.mark, f.path, "want " + want + ", got " + Quote(*value));
          }
          config_.headers[name] = std::move(*value);
          return Status::Ok();
        });
  }

  // Messages here name the user but never quote the hash.
  Status ReadUsers(const Located& v) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachEntry(
        src_, v, {{}, {}, "a map of user names to bcrypt hashes"},
        [this](const std::string& user, const Located& f) -> Status {
          if (user.empty()) return src_.At(f.mark, f.path, "user names must not be empty");
          if (user.find(':') != std::string::npos) {
            return src_.At(f.mark, f.path, "user names must not contain ':' (basic auth splits on it)");
          }
          if (detail::HasControlCharacter(user)) {
            return src_.At(f.mark, f.path, "user names must not contain control characters");
          }
          if (!f.node.IsScalar()) {
            return src_.At(f.mark, f.path, "want a bcrypt hash, got " + Describe(f.node));
          }
          if (!IsBcryptHash(f.node.Scalar())) {
            return src_.At(
                f.mark, f.path,
                "not a bcrypt hash: want $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 characters "
                "(htpasswd -nBC 10 USER makes one)");
          }
          config_.basic_auth_users[user] = f.node.Scalar();
          return Status::Ok();
        });
  }

  Status ReadCipherSuites(const Located& v, std::vector<std::string>& out) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachItem(
        src_, v, "a list of TLS 1.2 cipher suite names", [&](size_t, const Located& f) -> Status {
          Result<std::string> name = detail::ReadString(src_, f);
          if (!name.ok()) return Error{name.error()};
          std::string suite = *name;
          if (suite == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" ||
              suite == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305") {
            suite += "_SHA256";
          }
          if (std::find(std::begin(kTls13Suites), std::end(kTls13Suites), suite) != std::end(kTls13Suites)) {
            return src_.At(f.mark, f.path,
                           Quote(suite) + " is a TLS 1.3 suite; TLS 1.3 suites are not configurable");
          }
          if (std::find(std::begin(kCipherSuites), std::end(kCipherSuites), suite) ==
              std::end(kCipherSuites)) {
            return src_.At(
                f.mark, f.path,
                "unknown or insecure cipher suite " + Quote(suite) + "; known: " + Listed(kCipherSuites));
          }
          if (std::find(out.begin(), out.end(), suite) != out.end()) {
            return src_.At(f.mark, f.path, Quote(suite) + " is listed twice");
          }
          out.push_back(std::move(suite));
          return Status::Ok();
        });
  }

  Status ReadCurves(const Located& v, std::vector<std::string>& out) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachItem(src_, v, "a list of curve names", [&](size_t, const Located& f) -> Status {
      Result<std::string> name = detail::ReadString(src_, f);
      if (!name.ok()) return Error{name.error()};
      if (std::find(std::begin(kCurves), std::end(kCurves), *name) == std::end(kCurves)) {
        return src_.At(f.mark, f.path, "want one of " + Listed(kCurves) + ", got " + Quote(*name));
      }
      if (std::find(out.begin(), out.end(), *name) != out.end()) {
        return src_.At(f.mark, f.path, Quote(*name) + " is listed twice");
      }
      out.push_back(std::move(*name));
      return Status::Ok();
    });
  }

  Status ReadUnauthenticatedPaths(const Located& v) {
    if (v.node.IsNull()) return Status::Ok();
    return detail::ForEachItem(
        src_, v, "a list of paths such as /healthz", [this](size_t, const Located& f) -> Status {
          Result<std::string> path = detail::ReadString(src_, f);
          if (!path.ok()) return Error{path.error()};
          if (!path->starts_with('/'))
            return src_.At(f.mark, f.path, "must start with /, got " + Quote(*path));
          if (!detail::IsPrintableToken(*path) || path->find_first_of("?#") != std::string::npos) {
            return src_.At(f.mark, f.path,
                           "must be a plain path: no spaces, control characters, query or fragment");
          }
          config_.unauthenticated_paths.push_back(std::move(*path));
          return Status::Ok();
        });
  }

  const Source& src_;
  const std::string base_dir_;  // relative file paths are resolved against it
  WebConfig config_;
};

}  // namespace

Result<WebConfig> LoadWebConfigFile(const std::string& path) {
  Result<std::string> text = detail::ReadSmallFile(path, kMaxWebConfigBytes);
  if (!text.ok()) return Error{path + ": cannot read: " + text.error()};
  return LoadWebConfigString(*text, path);
}

Result<WebConfig> LoadWebConfigString(std::string_view yaml, const std::string& source_name) {
  const Source src(source_name);
  try {
    Result<YAML::Node> root = detail::ParseDocument(src, yaml);
    if (!root.ok()) return Error{root.error()};
    WebLoader loader(src, detail::DirectoryOf(source_name));
    return loader.Load(*root);
  } catch (const std::exception& e) {
    // yaml-cpp reports some misuse by exception; none may escape a loader.
    return src.NoPosition("", std::string("cannot load: ") + e.what());
  }
}

}  // namespace dse::config
