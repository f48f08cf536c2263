// YAML -> Config. The only user of yaml-cpp for the exporter configuration.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace dse::config {

// Reads environment variables; injectable so tests need not touch the real
// environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup RealEnv();

// Loads and validates `path`. Error messages have the form
//   <path>:<line>:<col>: <key path>: <problem>
// e.g. "cfg.yml:4:18: accounts[0].page_size: must be between 1 and 200, got 500",
// and never contain the API key. Line and column are 1-based and point at the
// offending value (at the key for unknown, duplicate or empty keys). Without
// a position: "<path>: <key path>: <problem>"; an unreadable file gives
// "<path>: cannot read: <reason>". The first error in document order wins;
// checks between keys (request_timeout < poll_interval) come after.
// Relative api_key_file paths are resolved against the file's directory.
Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env = RealEnv());

// Same, from text; `source_name` stands for the file name in messages and
// its directory anchors relative api_key_file paths.
Result<Config> LoadConfigString(std::string_view yaml, const std::string& source_name,
                                const EnvLookup& env = RealEnv());

}  // namespace dse::config
