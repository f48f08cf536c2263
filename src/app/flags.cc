#include "app/flags.h"

#include <functional>
#include <map>

#include "server/request_routing.h"

namespace dse::app {
namespace {

struct FlagSpec {
  bool boolean;
  std::function<Status(Flags&, const std::string&)> apply;
};

Status ParseBool(const std::string& name, const std::string& value, bool& out) {
  if (value == "true" || value == "1") {
    out = true;
  } else if (value == "false" || value == "0") {
    out = false;
  } else {
    return Error{name + ": want true or false, got \"" + value + "\""};
  }
  return Status::Ok();
}

const std::map<std::string, FlagSpec>& Specs() {
  static const auto* specs = new std::map<std::string, FlagSpec>{
      {"--config.file",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          if (v.empty()) return Error{"--config.file: must not be empty"};
          f.config_file = v;
          return Status::Ok();
        }}},
      {"--web.listen-address",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          if (v.find(':') == std::string::npos) {
            return Error{"--web.listen-address: want [host]:port, got \"" + v + "\""};
          }
          f.listen_address = v;
          return Status::Ok();
        }}},
      {"--web.telemetry-path",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          if (const auto problem = server::FindTelemetryPathProblem(v)) {
            switch (*problem) {
              case server::TelemetryPathProblem::kNoLeadingSlash:
                return Error{"--web.telemetry-path: must start with '/', got \"" + v + "\""};
              case server::TelemetryPathProblem::kBadCharacter:
                return Error{
                    "--web.telemetry-path: spaces, control characters, ?, # and % are "
                    "not allowed, got \"" +
                    v + "\""};
              case server::TelemetryPathProblem::kBuiltIn:
                return Error{"--web.telemetry-path: \"" + v + "\" is taken by another endpoint"};
            }
          }
          f.telemetry_path = v;
          return Status::Ok();
        }}},
      {"--web.config.file",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          if (v.empty()) return Error{"--web.config.file: must not be empty"};
          f.web_config_file = v;
          return Status::Ok();
        }}},
      {"--log.level",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          auto l = log::ParseLevel(v);
          if (!l) return Error{"--log.level: must be one of debug, info, warn, error; got \"" + v + "\""};
          f.log_level = *l;
          return Status::Ok();
        }}},
      {"--log.format",
       {false,
        [](Flags& f, const std::string& v) -> Status {
          auto l = log::ParseFormat(v);
          if (!l) return Error{"--log.format: must be logfmt or json; got \"" + v + "\""};
          f.log_format = *l;
          return Status::Ok();
        }}},
      {"--once", {true, [](Flags& f, const std::string& v) { return ParseBool("--once", v, f.once); }}},
      {"--check-config",
       {true, [](Flags& f, const std::string& v) { return ParseBool("--check-config", v, f.check_config); }}},
      {"--version",
       {true, [](Flags& f, const std::string& v) { return ParseBool("--version", v, f.version); }}},
      {"--help", {true, [](Flags& f, const std::string& v) { return ParseBool("--help", v, f.help); }}},
  };
  return *specs;
}

}  // namespace

Result<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0) {
      return Error{"unexpected argument \"" + arg + "\" (flags start with --; see --help)"};
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    // Kingpin-style negation for booleans: --no-once.
    bool negated = false;
    auto it = Specs().find(name);
    if (it == Specs().end() && name.rfind("--no-", 0) == 0) {
      it = Specs().find("--" + name.substr(5));
      negated = it != Specs().end() && it->second.boolean && !value;
      if (!negated) it = Specs().end();
    }
    if (it == Specs().end()) return Error{"unknown flag " + name + " (see --help)"};
    if (it->second.boolean) {
      if (!value) value = negated ? "false" : "true";
    } else if (!value) {
      if (i + 1 >= args.size()) return Error{name + ": missing value"};
      value = args[++i];
    }
    if (Status s = it->second.apply(flags, *value); !s.ok()) return Error{s.error()};
  }
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
