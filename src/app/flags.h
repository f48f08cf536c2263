// Command-line flags, Prometheus-exporter style (--flag=value or --flag value).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"

namespace dse::app {

struct Flags {
  std::string config_file = "dashscope_exporter.yml";
  std::string listen_address = ":9864";
  std::string telemetry_path = "/metrics";
  std::optional<std::string> web_config_file;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kLogfmt;
  bool once = false;
  bool check_config = false;
  bool version = false;
  bool help = false;
};

// Errors name the flag and what is wrong ("--log.level: must be one of debug,
// info, warn, error; got \"loud\"").
Result<Flags> ParseFlags(const std::vector<std::string>& args);

std::string UsageText();
std::string VersionText();

}  // namespace dse::app
