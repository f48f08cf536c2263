#include "app/flags.h"

#include "common/flags.h"
#include "server/request_routing.h"

namespace dse::app {

Result<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  const FlagDef defs[] = {
      TextFlag("--config.file", flags.config_file),
      {"--web.listen-address", false,
       [&](const std::string& v) -> Status {
         if (v.find(':') == std::string::npos) return Error{"want [host]:port, got \"" + v + "\""};
         flags.listen_address = v;
         return Status::Ok();
       }},
      {"--web.telemetry-path", false,
       [&](const std::string& v) -> Status {
         if (const auto problem = server::FindTelemetryPathProblem(v)) {
           switch (*problem) {
             case server::TelemetryPathProblem::kNoLeadingSlash:
               return Error{"must start with '/', got \"" + v + "\""};
             case server::TelemetryPathProblem::kBadCharacter:
               return Error{"spaces, control characters, ?, # and % are not allowed, got \"" + v + "\""};
             case server::TelemetryPathProblem::kBuiltIn:
               return Error{"\"" + v + "\" is taken by another endpoint"};
           }
         }
         flags.telemetry_path = v;
         return Status::Ok();
       }},
      TextFlag("--web.config.file", flags.web_config_file),
      ChoiceFlag("--log.level", flags.log_level, log::ParseLevel,
                 "must be one of debug, info, warn, error; got "),
      ChoiceFlag("--log.format", flags.log_format, log::ParseFormat, "must be logfmt or json; got "),
      BoolFlag("--once", flags.once),
      BoolFlag("--check-config", flags.check_config),
      BoolFlag("--version", flags.version),
      BoolFlag("--help", flags.help),
  };
  if (Status s = ParseFlagArgs(args, defs); !s.ok()) return Error{s.error()};
  return flags;
}

std::string UsageText() {
  return R"(usage: dashscope_exporter [<flags>]

Prometheus exporter for Alibaba Cloud Model Studio (DashScope) deployments:
lists each configured account's deployments on an interval and serves their
status and capacity on the telemetry path.

Flags:
  --config.file=dashscope_exporter.yml
                          YAML configuration file (accounts, intervals).
  --web.listen-address=:9864
                          Address to listen on: [host]:port.
  --web.telemetry-path=/metrics
                          Path under which to expose metrics.
  --web.config.file=FILE  TLS and basic-auth configuration (exporter-toolkit format).
  --log.level=info        One of debug, info, warn, error.
  --log.format=logfmt     One of logfmt, json.
  --once                  Poll every account once, print the metrics to stdout and
                          exit 0 if every poll succeeded, else 1.
  --check-config          Validate the configuration (and web config) and exit.
  --version               Print the version and exit.
  --help                  Print this help and exit.

The API key is never a flag: set api_key_env or api_key_file per account in the
configuration file. SIGHUP reloads the configuration files.
)";
}

std::string VersionText() {
  return std::string("dashscope_exporter, version ") + DSE_VERSION + " (revision: " + DSE_REVISION + ")\n";
}

}  // namespace dse::app
