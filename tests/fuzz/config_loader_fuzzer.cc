// Any text as --config.file and as --web.config.file. A bad file must give a
// message in the documented form, never a crash, and never echo the API key.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "config/web_config.h"
#include "fuzz_check.h"

namespace {

// A key that no input will spell by chance, so finding it in a message means
// the loader leaked what the environment gave it.
constexpr std::string_view kFakeKey = "sk-fuzzQ7x2Lr9VbN4mKp0Zt8Yw";

// Relative api_key_file and certificate paths resolve under a directory that
// does not exist, so the fuzzers do not read the files around them.
const std::string kConfigName = "/nonexistent-dse-fuzz/dashscope_exporter.yml";
const std::string kWebConfigName = "/nonexistent-dse-fuzz/web.yml";

// Some names take the loader's other paths: unset, empty, unusable key.
std::optional<std::string> FakeEnv(const std::string& name) {
  if (name == "UNSET") return std::nullopt;
  if (name == "EMPTY") return std::string();
  if (name == "SPACED") return std::string("sk fuzz");
  return std::string(kFakeKey);
}

void CheckMessage(std::string_view message, const std::string& source) {
  DSE_FUZZ_CHECK(message.starts_with(source + ":"), message);
  DSE_FUZZ_CHECK(message.size() > source.size() + 2, message);
}

void CheckConfig(const dse::config::Config& c) {
  DSE_FUZZ_CHECK(!c.accounts.empty(), "a loaded config without accounts");
  DSE_FUZZ_CHECK(c.page_size >= 1 && c.page_size <= 200, std::to_string(c.page_size));
  DSE_FUZZ_CHECK(c.max_retries >= 0 && c.max_retries <= 10, std::to_string(c.max_retries));
  DSE_FUZZ_CHECK(c.request_timeout.count() > 0, "request_timeout <= 0");
  DSE_FUZZ_CHECK(c.request_timeout < c.poll_interval, "request_timeout >= poll_interval");
  DSE_FUZZ_CHECK(c.retry_base_delay < c.poll_interval, "retry_base_delay >= poll_interval");
  DSE_FUZZ_CHECK(c.max_staleness.count() >= 0, "negative max_staleness");
  std::set<std::string> names;
  for (const auto& a : c.accounts) {
    DSE_FUZZ_CHECK(!a.name.empty(), "an account without a name");
    DSE_FUZZ_CHECK(dse::fuzz::IsValidUtf8(a.name), a.name);
    DSE_FUZZ_CHECK(names.insert(a.name).second, "duplicate account name " + a.name);
    DSE_FUZZ_CHECK(!a.base_url.empty() && !a.base_url.ends_with('/'), a.base_url);
    DSE_FUZZ_CHECK(!a.api_key.empty(), "an account without a key");
    DSE_FUZZ_CHECK(!a.api_key_source.empty(), a.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = dse::fuzz::AsText(data, size);
  const bool input_has_key = text.find(kFakeKey) != std::string_view::npos;

  auto config = dse::config::LoadConfigString(text, kConfigName, FakeEnv);
  if (config.ok()) {
    CheckConfig(*config);
  } else {
    CheckMessage(config.error(), kConfigName);
    if (!input_has_key) {
      DSE_FUZZ_CHECK(config.error().find(kFakeKey) == std::string::npos, config.error());
    }
  }

  auto web = dse::config::LoadWebConfigString(text, kWebConfigName);
  if (web.ok()) {
    for (const auto& [user, hash] : web->basic_auth_users) {
      DSE_FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos, user);
      DSE_FUZZ_CHECK(hash.size() == 60 && hash.starts_with("$2"), user);
    }
    for (const auto& path : web->unauthenticated_paths) {
      DSE_FUZZ_CHECK(path.starts_with('/'), path);
    }
  } else {
    CheckMessage(web.error(), kWebConfigName);
  }
  return 0;
}
