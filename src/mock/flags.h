// Command-line flags of dashscope_mock.
#pragma once

#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "mock/api.h"
#include "mock/fleet.h"
#include "mock/server.h"

namespace dse::mock {

struct MockConfig {
  ServerOptions server;
  ApiOptions api;
  FleetOptions fleet;
  std::string port_file;  // empty: none
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kLogfmt;
  std::string api_key_source = "default";  // "flag", "env" or "default"; the key itself is never shown
  bool help = false;
};

// `args` excludes the program name. `env_api_key` is DASHSCOPE_MOCK_API_KEY
// (nullptr when unset). Errors name the flag and what is wrong.
Result<MockConfig> ParseFlags(const std::vector<std::string>& args, const char* env_api_key);

std::string Usage();

}  // namespace dse::mock
