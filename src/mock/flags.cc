#include "mock/flags.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "common/duration.h"
#include "common/listen_address.h"

namespace dse::mock {
namespace {

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string Usage() {
  return R"(Usage: dashscope_mock [flags]

A simulated Alibaba Cloud DashScope account serving GET /api/v1/deployments,
with test controls under /mock/ (no auth; keep it on loopback).

Flags (--flag=value or --flag value):
  --listen HOST:PORT     where to serve (default 127.0.0.1:9865; port 0 picks a free port)
  --port-file PATH       write the bound port to PATH once listening
  --deployments N        fleet size, 0..100000 (default 12)
  --api-key KEY          the accepted key (default: $DASHSCOPE_MOCK_API_KEY, else sk-mock-0000)
  --workspace ID         workspace_id of the fleet; another X-DashScope-WorkSpace gets 403 (default llm-mock)
  --seed N               makes ids, models, capacities and dates (default 1)
  --tick DURATION        simulated time step, e.g. 10s, 500ms; 0 = only on POST /mock/tick (default 10s)
  --envelope KIND        output, data or alternate (default output)
  --threads N            concurrent requests served (default 16)
  --max-page-size N      largest page_size accepted, 1..200; larger gets 400 InvalidParameter (default 200;
                         the PTU reference allows 100)
  --tls-cert-file PATH   serve HTTPS with this PEM certificate (chain); needs --tls-key-file
  --tls-key-file PATH    the PEM private key of --tls-cert-file
  --log.level LEVEL      debug, info, warn, error (default info)
  --log.format FORMAT    logfmt or json (default logfmt)
  --help                 this text

Admin endpoints:
  POST   /mock/tick?n=1
  POST   /mock/reset
  GET    /mock/state
  POST   /mock/deployments  count=N | set=ID [fields] | add=ID [fields] | remove=ID
                            fields: status= capacity= ready_capacity= base_capacity= name= model_name=
                                    fail_reason= (kept while FAILED; empty removes it)
                                    pre_paid_gmt_expired_unix= ptu_input_tpm= ptu_output_tpm=
  POST   /mock/faults       kind=K [times=N (0 = until cleared)] [page=N] [kind fields]
                            http (status= code= message= retry_after=), html (status=),
                            delay (ms=), truncate (bytes=), oversize (bytes=), deep (depth=),
                            wrong_types, duplicates, lying_total (total=), empty_body,
                            invalid_json, close, trickle (ms=: the whole response, headers
                            first, one byte every ms; plain HTTP only)
  GET    /mock/faults
  DELETE /mock/faults
)";
}

Result<MockConfig> ParseFlags(const std::vector<std::string>& args, const char* env_api_key) {
  MockConfig config;
  config.server.port = 9865;
  std::optional<std::string> api_key;
  Duration tick{10000};

  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      config.help = true;
      return config;
    }
    if (arg.rfind("--", 0) != 0) return Error{"unexpected argument \"" + std::string(arg) + "\""};
    std::string name;
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string_view::npos) {
      name = std::string(arg.substr(2, eq - 2));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg.substr(2));
      if (i + 1 >= args.size()) return Error{"flag --" + name + " needs a value"};
      value = args[++i];
    }
    auto bad = [&](const std::string& why) { return Error{"flag --" + name + ": " + why}; };

    if (name == "listen") {
      Result<ListenAddress> address = ParseListenAddress(value);
      if (!address.ok()) return bad(address.error());
      config.server.host = std::move(address->host);
      config.server.port = address->port;
    } else if (name == "port-file") {
      if (value.empty()) return bad("needs a path");
      config.port_file = value;
    } else if (name == "deployments") {
      auto n = ParseInt(value);
      if (!n || *n < 0 || *n > static_cast<int64_t>(kMaxFleetSize)) {
        return bad("expected an integer in [0, 100000], got \"" + value + "\"");
      }
      config.fleet.count = static_cast<size_t>(*n);
    } else if (name == "api-key") {
      // The value is deliberately left out of every message.
      if (value.empty()) return bad("must not be empty");
      api_key = value;
    } else if (name == "workspace") {
      if (value.empty()) return bad("must not be empty");
      config.fleet.workspace_id = value;
    } else if (name == "seed") {
      auto n = ParseUint(value);
      if (!n) return bad("expected a non-negative integer, got \"" + value + "\"");
      config.fleet.seed = *n;
      config.api.seed = *n;
    } else if (name == "tick") {
      Result<Duration> d = ParseDuration(value);
      if (!d.ok()) return bad(d.error());
      tick = *d;
    } else if (name == "envelope") {
      auto e = ParseEnvelope(value);
      if (!e) return bad("expected output, data or alternate, got \"" + value + "\"");
      config.api.envelope = *e;
    } else if (name == "threads") {
      auto n = ParseInt(value);
      if (!n || *n < 1 || *n > 1024) return bad("expected an integer in [1, 1024], got \"" + value + "\"");
      config.server.threads = static_cast<size_t>(*n);
    } else if (name == "max-page-size") {
      auto n = ParseInt(value);
      if (!n || *n < 1 || *n > 200) return bad("expected an integer in [1, 200], got \"" + value + "\"");
      config.api.max_page_size = *n;
    } else if (name == "tls-cert-file") {
      if (value.empty()) return bad("needs a path");
      config.server.tls_cert_file = value;
    } else if (name == "tls-key-file") {
      if (value.empty()) return bad("needs a path");
      config.server.tls_key_file = value;
    } else if (name == "log.level") {
      auto l = log::ParseLevel(value);
      if (!l) return bad("expected debug, info, warn or error, got \"" + value + "\"");
      config.log_level = *l;
    } else if (name == "log.format") {
      auto f = log::ParseFormat(value);
      if (!f) return bad("expected logfmt or json, got \"" + value + "\"");
      config.log_format = *f;
    } else {
      return Error{"unknown flag --" + name + " (see --help)"};
    }
  }

  if (config.server.tls_cert_file.empty() != config.server.tls_key_file.empty()) {
    return Error{"flags --tls-cert-file and --tls-key-file go together"};
  }
  if (api_key) {
    config.api.api_key = *api_key;
    config.api_key_source = "flag";
  } else if (env_api_key != nullptr && *env_api_key != '\0') {
    config.api.api_key = env_api_key;
    config.api_key_source = "env";
  } else {
    config.api.api_key = "sk-mock-0000";
    config.api_key_source = "default";
  }
  config.server.tick = tick;
  // Simulated time moves one tick interval per tick (at least 1 s, as the API
  // shows whole seconds); with manual ticks, 10 s.
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(tick).count();
  config.fleet.seconds_per_tick = tick.count() == 0 ? 10 : std::max<int64_t>(1, seconds);
  return config;
}

}  // namespace dse::mock
