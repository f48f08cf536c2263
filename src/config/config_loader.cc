#include "config/config_loader.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/text.h"
#include "common/url.h"
#include "common/utf8.h"
#include "config/strict_yaml.h"

namespace dse::config {
namespace {

using detail::Describe;
using detail::JoinPath;
using detail::Located;
using detail::MapRules;
using detail::Source;

constexpr std::string_view kTopKeys[] = {"poll_interval",      "request_timeout", "page_size",
                                         "max_staleness",      "max_retries",     "retry_base_delay",
                                         "max_response_bytes", "accounts"};
constexpr std::string_view kAccountKeys[] = {"name",      "base_url",  "api_key_env", "api_key_file",
                                             "workspace", "proxy_url", "tls_config",  "api_time_zone"};
constexpr std::string_view kApiTlsKeys[] = {"ca_file", "server_name", "insecure_skip_verify"};
// Caught by name so the user learns where the key belongs instead of only
// that the key name is unknown.
constexpr std::pair<std::string_view, std::string_view> kRefusedKeys[] = {
    {"api_key", "the key itself must not be in the configuration; use api_key_env or api_key_file"}};

constexpr std::string_view kDefaultBaseUrl = "https://dashscope-intl.aliyuncs.com";
constexpr std::string_view kDefaultKeyEnv = "DASHSCOPE_API_KEY";
constexpr Duration kMinPollInterval{100};
constexpr size_t kMaxNameLength = 128;
constexpr int kMaxPageSize = 200;
constexpr int kMaxRetries = 10;
constexpr size_t kKiB = 1024;
constexpr size_t kMinResponseBytes = kKiB;
constexpr size_t kMaxResponseBytes = kKiB * kKiB * kKiB;
// A key file holds one short line; anything bigger is the wrong file, and
// capping the config keeps a mistaken path (say /dev/zero) from hanging us.
constexpr size_t kMaxKeyFileBytes = 64 * kKiB;
constexpr size_t kMaxConfigBytes = kKiB * kKiB;
constexpr size_t kMaxCaFileBytes = 4 * kKiB * kKiB;

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// nullopt when `url` is acceptable; else what is wrong, without echoing it
// (a key pasted into the wrong field must not reach a message).
std::optional<std::string> CheckBaseUrl(std::string_view url) {
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.error();
  if (parsed->has_userinfo) return "must not contain a user name or password";
  return std::nullopt;
}

// nullopt when `url` is a usable proxy URL; else what is wrong. The URL is
// never echoed: it may hold the proxy's password. Stricter than the client
// reads HTTPS_PROXY: printable ASCII only, and user info, if any, must name
// both a user and a password.
std::optional<std::string> CheckProxyUrl(std::string_view url) {
  Result<HttpUrl> parsed = ParseProxyUrl(url, ProxyUrlBytes::kAsciiOnly);
  if (!parsed.ok()) return parsed.error();
  if (parsed->has_userinfo) {
    const size_t colon = parsed->userinfo.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 == parsed->userinfo.size()) {
      return "user info must be user:password";
    }
    // The client could not decode it and would connect without the proxy.
    if (!PercentDecode(parsed->userinfo)) return "user info has a '%' not followed by two hex digits";
  }
  return std::nullopt;
}

std::string TrimTrailingSpace(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r' ||
                        s.back() == '\v' || s.back() == '\f')) {
    s.pop_back();
  }
  return s;
}

// Parses "33554432" or "32MiB" (KiB, MiB, GiB); nullopt on bad syntax.
// Values beyond the accepted range come back as SIZE_MAX.
std::optional<size_t> ParseByteSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  size_t scale = 1;
  if (unit == "KiB") {
    scale = kKiB;
  } else if (unit == "MiB") {
    scale = kKiB * kKiB;
  } else if (unit == "GiB") {
    scale = kKiB * kKiB * kKiB;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  size_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec == std::errc::result_out_of_range || n > kMaxResponseBytes) return SIZE_MAX;
  if (ec != std::errc() || ptr != text.data() + digits) return std::nullopt;
  return n * scale > kMaxResponseBytes ? SIZE_MAX : n * scale;
}

class Loader {
 public:
  Loader(const Source& src, const EnvLookup& env, std::string base_dir)
      : src_(src), env_(env), base_dir_(std::move(base_dir)) {}

  Result<Config> Load(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) return src_.NoPosition("accounts", "no accounts configured");
    const Located top{"", root, root.Mark()};
    Status s = detail::ForEachEntry(
        src_, top, {kTopKeys, kRefusedKeys, "a map of settings"},
        [this](const std::string& key, const Located& v) { return ReadSetting(key, v); });
    if (s.ok()) s = CheckTogether();
    if (!s.ok()) return Error{s.error()};
    return std::move(config_);
  }

  // Last line of defence: should any message ever quote a loaded key, it is
  // blanked before the message leaves.
  std::string Redact(std::string message) const {
    for (const Account& a : config_.accounts) dse::Redact(message, a.api_key);
    return message;
  }

 private:
  Status ReadSetting(const std::string& key, const Located& v) {
    if (key == "poll_interval") {
      Result<Duration> d = detail::ReadDuration(src_, v);
      if (!d.ok()) return Error{d.error()};
      if (*d < kMinPollInterval) {
        return src_.At(v.mark, v.path, "must be at least 100ms, got " + FormatDuration(*d));
      }
      config_.poll_interval = *d;
      poll_interval_ = v;
    } else if (key == "request_timeout") {
      Result<Duration> d = detail::ReadDuration(src_, v);
      if (!d.ok()) return Error{d.error()};
      if (d->count() <= 0) return src_.At(v.mark, v.path, "must be greater than 0");
      config_.request_timeout = *d;
      request_timeout_ = v;
    } else if (key == "max_staleness") {
      Result<Duration> d = detail::ReadDuration(src_, v);
      if (!d.ok()) return Error{d.error()};
      config_.max_staleness = *d;
    } else if (key == "retry_base_delay") {
      Result<Duration> d = detail::ReadDuration(src_, v);
      if (!d.ok()) return Error{d.error()};
      config_.retry_base_delay = *d;
      retry_base_delay_ = v;
    } else if (key == "page_size") {
      Result<int> n = ReadIntIn(v, 1, kMaxPageSize);
      if (!n.ok()) return Error{n.error()};
      config_.page_size = *n;
    } else if (key == "max_retries") {
      Result<int> n = ReadIntIn(v, 0, kMaxRetries);
      if (!n.ok()) return Error{n.error()};
      config_.max_retries = *n;
    } else if (key == "max_response_bytes") {
      return ReadResponseBytes(v);
    } else if (key == "accounts") {
      return ReadAccounts(v);
    }
    return Status::Ok();
  }

  Result<int> ReadIntIn(const Located& v, int lo, int hi) const {
    Result<int64_t> n = detail::ReadInteger(src_, v);
    if (!n.ok()) return Error{n.error()};
    if (*n < lo || *n > hi) {
      return src_.At(v.mark, v.path,
                     "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                         std::to_string(*n));
    }
    return static_cast<int>(*n);
  }

  Status ReadResponseBytes(const Located& v) {
    const std::optional<size_t> n = v.node.IsScalar() ? ParseByteSize(v.node.Scalar()) : std::nullopt;
    if (!n) {
      return src_.At(
          v.mark, v.path,
          "want a size in bytes such as 33554432 or 32MiB (units KiB, MiB, GiB), got " + Describe(v.node));
    }
    if (*n < kMinResponseBytes || *n > kMaxResponseBytes) {
      return src_.At(v.mark, v.path, "must be between 1KiB and 1GiB, got " + v.node.Scalar());
    }
    config_.max_response_bytes = *n;
    return Status::Ok();
  }

  Status ReadAccounts(const Located& v) {
    have_accounts_ = true;
    if (v.node.IsNull() || (v.node.IsSequence() && v.node.size() == 0)) {
      return src_.At(v.mark, v.path, "no accounts configured");
    }
    return detail::ForEachItem(src_, v, "a list of accounts",
                               [this](size_t, const Located& item) { return ReadAccount(item); });
  }

  Status ReadAccount(const Located& item) {
    Account account;
    std::optional<Located> name;
    std::optional<Located> key_env;
    std::optional<Located> key_file;
    std::optional<Located> proxy_url;
    std::optional<Located> tls_config;
    Status s = detail::ForEachEntry(
        src_, item, {kAccountKeys, kRefusedKeys, "a map of account settings"},
        [&](const std::string& key, const Located& v) -> Status {
          if (key == "name") {
            Status n = ReadName(v, account.name);
            name = v;
            return n;
          }
          if (key == "base_url") return ReadBaseUrl(v, account.base_url);
          if (key == "workspace") return ReadWorkspace(v, account.workspace);
          if (key == "proxy_url") {
            proxy_url = v;
            return ReadProxyUrl(v, account.proxy_url);
          }
          if (key == "tls_config") {
            tls_config = v;
            return ReadApiTlsConfig(v, account.tls);
          }
          if (key == "api_time_zone") return ReadApiTimeZone(v, account.api_time_zone_seconds);
          if (key_env || key_file) {
            return src_.At(v.mark, v.path, "set only one of api_key_env and api_key_file");
          }
          Result<std::string> text = detail::ReadString(src_, v);
          if (!text.ok()) return Error{text.error()};
          if (key == "api_key_env") {
            if (!IsEnvName(*text)) {
              return src_.At(v.mark, v.path,
                             "not a valid environment variable name (letters, digits and _, not starting "
                             "with a digit)");
            }
            key_env = v;
          } else {
            if (text->empty()) return src_.At(v.mark, v.path, "must not be empty");
            key_file = v;
          }
          return Status::Ok();
        });
    if (!s.ok()) return s;
    if (!name) return src_.At(item.mark, JoinPath(item.path, "name"), "missing; every account needs a name");
    if (account.base_url.empty()) account.base_url = kDefaultBaseUrl;
    s = CheckTransportForScheme(account, proxy_url, tls_config);
    if (!s.ok()) return s;
    s = key_file ? ReadKeyFile(*key_file, account) : ReadKeyEnv(item, key_env, account);
    if (!s.ok()) return s;
    config_.accounts.push_back(std::move(account));
    return Status::Ok();
  }

  Status ReadName(const Located& v, std::string& out) {
    if (v.node.IsNull()) return src_.At(v.mark, v.path, "must not be empty");
    Result<std::string> text = detail::ReadString(src_, v);
    if (!text.ok()) return Error{text.error()};
    if (text->empty()) return src_.At(v.mark, v.path, "must not be empty");
    // The name becomes a label value, and the exposition format requires UTF-8.
    const std::optional<size_t> length = Utf8Length(*text);
    if (!length) return src_.At(v.mark, v.path, "must be valid UTF-8");
    if (*length > kMaxNameLength) {
      return src_.At(v.mark, v.path, "must be at most 128 characters long, got " + std::to_string(*length));
    }
    if (detail::HasControlCharacter(*text))
      return src_.At(v.mark, v.path, "must not contain control characters");
    const auto [first, inserted] = name_lines_.emplace(*text, v.mark.line + 1);
    if (!inserted) {
      return src_.At(v.mark, v.path,
                     "duplicate account name " + Quote(*text) + " (first at line " +
                         std::to_string(first->second) + ")");
    }
    out = std::move(*text);
    return Status::Ok();
  }

  Status ReadBaseUrl(const Located& v, std::string& out) const {
    Result<std::string> text = detail::ReadString(src_, v);
    if (!text.ok()) return Error{text.error()};
    if (std::optional<std::string> problem = CheckBaseUrl(*text)) return src_.At(v.mark, v.path, *problem);
    std::string url = std::move(*text);
    while (url.ends_with('/')) url.pop_back();
    out = std::move(url);
    return Status::Ok();
  }

  Status ReadWorkspace(const Located& v, std::string& out) const {
    if (v.node.IsNull()) return Status::Ok();  // "workspace:" left empty means none
    Result<std::string> text = detail::ReadString(src_, v);
    if (!text.ok()) return Error{text.error()};
    // Sent as a header value: anything else would corrupt the request.
    if (!detail::IsPrintableToken(*text) && !text->empty()) {
      return src_.At(v.mark, v.path, "must not contain whitespace, control or non-ASCII characters");
    }
    out = std::move(*text);
    return Status::Ok();
  }

  // Empty or null: no proxy for this account, whatever HTTPS_PROXY says.
  Status ReadProxyUrl(const Located& v, std::optional<std::string>& out) const {
    if (v.node.IsNull()) {
      out = std::string();
      return Status::Ok();
    }
    Result<std::string> text = detail::ReadString(src_, v);
    if (!text.ok()) return Error{text.error()};
    if (!text->empty()) {
      if (std::optional<std::string> problem = CheckProxyUrl(*text)) return src_.At(v.mark, v.path, *problem);
    }
    out = std::move(*text);
    return Status::Ok();
  }

  Status ReadApiTlsConfig(const Located& v, ApiTlsConfig& out) const {
    return detail::ForEachEntry(
        src_, v, {kApiTlsKeys, {}, "a map of TLS settings (ca_file, server_name, insecure_skip_verify)"},
        [&](const std::string& key, const Located& f) -> Status {
          if (key == "insecure_skip_verify") {
            Result<bool> b = detail::ReadBool(src_, f);
            if (!b.ok()) return Error{b.error()};
            out.insecure_skip_verify = *b;
            return Status::Ok();
          }
          Result<std::string> text = detail::ReadString(src_, f);
          if (!text.ok()) return Error{text.error()};
          if (text->empty()) return src_.At(f.mark, f.path, "must not be empty");
          if (key == "server_name") {
            if (!detail::IsPrintableToken(*text)) {
              return src_.At(f.mark, f.path, "must not contain whitespace, control or non-ASCII characters");
            }
            out.server_name = std::move(*text);
            return Status::Ok();
          }
          const std::string path = detail::ResolveAgainst(base_dir_, *text);
          Result<std::string> content = detail::ReadSmallFile(path, kMaxCaFileBytes);
          if (!content.ok()) return src_.At(f.mark, f.path, "cannot read " + path + ": " + content.error());
          if (content->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
            return src_.At(f.mark, f.path, path + " holds no PEM certificate");
          }
          out.ca_file = path;
          return Status::Ok();
        });
  }

  // A proxy would see a plain-http request, the key included; TLS settings
  // mean nothing without TLS.
  Status CheckTransportForScheme(const Account& account, const std::optional<Located>& proxy_url,
                                 const std::optional<Located>& tls_config) const {
    if (account.base_url.starts_with("https://")) return Status::Ok();
    if (proxy_url && account.proxy_url && !account.proxy_url->empty()) {
      return src_.At(proxy_url->mark, proxy_url->path,
                     "needs an https:// base_url: through a proxy, an http:// request would show the API key "
                     "to the proxy");
    }
    if (tls_config) {
      return src_.At(tls_config->mark, tls_config->path, "applies only to an https:// base_url");
    }
    return Status::Ok();
  }

  // "+08:00" / "-05:30": the zones in use run from -12:00 to +14:00.
  Status ReadApiTimeZone(const Located& v, int& out) const {
    Result<std::string> text = detail::ReadString(src_, v);
    if (!text.ok()) return Error{text.error()};
    const std::string& t = *text;
    const auto digit = [&](size_t i) { return t[i] >= '0' && t[i] <= '9' ? t[i] - '0' : -1; };
    const bool shaped = t.size() == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':' && digit(1) >= 0 &&
                        digit(2) >= 0 && digit(4) >= 0 && digit(5) >= 0;
    const int minutes = shaped ? (digit(1) * 10 + digit(2)) * 60 + digit(4) * 10 + digit(5) : 0;
    const int signed_minutes = t.starts_with('-') ? -minutes : minutes;
    if (!shaped || digit(4) > 5 || signed_minutes < -12 * 60 || signed_minutes > 14 * 60) {
      return src_.At(v.mark, v.path,
                     "want a UTC offset from -12:00 to +14:00 such as \"+08:00\", got " + Quote(t));
    }
    out = signed_minutes * 60;
    return Status::Ok();
  }

  Status ReadKeyEnv(const Located& account, const std::optional<Located>& key_env, Account& out) const {
    const std::string var = key_env ? key_env->node.Scalar() : std::string(kDefaultKeyEnv);
    const Located where =
        key_env ? *key_env : Located{JoinPath(account.path, "api_key_env"), account.node, account.mark};
    const std::string why_this_var =
        key_env ? "" : " (the default when neither api_key_env nor api_key_file is set)";
    const std::optional<std::string> key = env_ ? env_(var) : std::nullopt;
    if (!key)
      return src_.At(where.mark, where.path, "environment variable " + var + " is not set" + why_this_var);
    if (key->empty())
      return src_.At(where.mark, where.path, "environment variable " + var + " is empty" + why_this_var);
    if (!detail::IsPrintableToken(*key)) {
      return src_.At(
          where.mark, where.path,
          "the key in environment variable " + var + " contains whitespace, control or non-ASCII characters");
    }
    out.api_key = *key;
    out.api_key_source = "env " + var;
    return Status::Ok();
  }

  // The path is not echoed in these messages: the position shows it, and a
  // key pasted here by mistake must not end up in a log.
  Status ReadKeyFile(const Located& v, Account& out) const {
    const std::string& given = v.node.Scalar();
    const std::string path = detail::ResolveAgainst(base_dir_, given);
    Result<std::string> content = detail::ReadSmallFile(path, kMaxKeyFileBytes);
    if (!content.ok()) {
      std::string problem = "cannot read: " + content.error();
      if (path != given) problem += " (relative to " + base_dir_ + ")";
      return src_.At(v.mark, v.path, problem);
    }
    std::string key = TrimTrailingSpace(std::move(*content));
    if (key.empty()) return src_.At(v.mark, v.path, "the file holds no key");
    if (!detail::IsPrintableToken(key)) {
      return src_.At(v.mark, v.path,
                     "the key in the file contains whitespace, control or non-ASCII characters");
    }
    out.api_key = std::move(key);
    out.api_key_source = "file " + path;
    out.api_key_file = path;
    return Status::Ok();
  }

  // Checks that involve more than one key; blamed on the key that was set.
  Status CheckTogether() const {
    if (!have_accounts_) return src_.NoPosition("accounts", "no accounts configured");
    const Status timeout = CheckShorterThanPoll(config_.request_timeout, request_timeout_, "request_timeout");
    if (!timeout.ok()) return timeout;
    return CheckShorterThanPoll(config_.retry_base_delay, retry_base_delay_, "retry_base_delay");
  }

  Status CheckShorterThanPoll(Duration value, const std::optional<Located>& where,
                              std::string_view key) const {
    if (value < config_.poll_interval) return Status::Ok();
    const std::string poll = FormatDuration(config_.poll_interval);
    if (where) {
      return src_.At(where->mark, where->path,
                     "must be shorter than poll_interval (" + poll + "), got " + FormatDuration(value));
    }
    const std::string problem = "must be longer than " + std::string(key) + " (" + FormatDuration(value) +
                                " by default), got " + poll;
    if (poll_interval_) return src_.At(poll_interval_->mark, poll_interval_->path, problem);
    return src_.NoPosition("poll_interval", problem);
  }

  const Source& src_;
  const EnvLookup& env_;
  const std::string base_dir_;  // for relative api_key_file paths
  Config config_;
  bool have_accounts_ = false;
  std::optional<Located> poll_interval_;
  std::optional<Located> request_timeout_;
  std::optional<Located> retry_base_delay_;
  std::map<std::string, int> name_lines_;  // account name -> line of its first use
};

}  // namespace

EnvLookup RealEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  Result<std::string> text = detail::ReadSmallFile(path, kMaxConfigBytes);
  if (!text.ok()) return Error{path + ": cannot read: " + text.error()};
  return LoadConfigString(*text, path, env);
}

Result<Config> LoadConfigString(std::string_view yaml, const std::string& source_name, const EnvLookup& env) {
  const Source src(source_name);
  try {
    Result<YAML::Node> root = detail::ParseDocument(src, yaml);
    if (!root.ok()) return Error{root.error()};
    Loader loader(src, env, detail::DirectoryOf(source_name));
    Result<Config> config = loader.Load(*root);
    if (!config.ok()) return Error{loader.Redact(config.error())};
    return config;
  } catch (const std::exception& e) {
    // yaml-cpp reports some misuse by exception; none may escape a loader.
    return src.NoPosition("", std::string("cannot load: ") + e.what());
  }
}

}  // namespace dse::config
