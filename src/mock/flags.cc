#include "mock/flags.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/duration.h"
#include "common/flags.h"
#include "common/listen_address.h"

namespace dse::mock {

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

  const FlagDef defs[] = {
      {"--listen", false,
       [&](const std::string& v) -> Status {
         Result<ListenAddress> address = ParseListenAddress(v);
         if (!address.ok()) return Error{address.error()};
         config.server.host = std::move(address->host);
         config.server.port = address->port;
         return Status::Ok();
       }},
      TextFlag("--port-file", config.port_file, "needs a path"),
      IntFlag("--deployments", config.fleet.count, 0, static_cast<int64_t>(kMaxFleetSize)),
      TextFlag("--api-key", api_key),  // TextFlag never quotes its value: the key stays out of messages
      TextFlag("--workspace", config.fleet.workspace_id),
      {"--seed", false,
       [&](const std::string& v) -> Status {
         Result<uint64_t> n = ParseUintFlag(v);
         if (!n.ok()) return Error{n.error()};
         config.fleet.seed = *n;
         config.api.seed = *n;
         return Status::Ok();
       }},
      {"--tick", false,
       [&](const std::string& v) -> Status {
         Result<Duration> d = ParseDuration(v);
         if (!d.ok()) return Error{d.error()};
         tick = *d;
         return Status::Ok();
       }},
      ChoiceFlag("--envelope", config.api.envelope, ParseEnvelope,
                 "expected output, data or alternate, got "),
      IntFlag("--threads", config.server.threads, 1, 1024),
      IntFlag("--max-page-size", config.api.max_page_size, 1, 200),
      TextFlag("--tls-cert-file", config.server.tls_cert_file, "needs a path"),
      TextFlag("--tls-key-file", config.server.tls_key_file, "needs a path"),
      ChoiceFlag("--log.level", config.log_level, log::ParseLevel,
                 "expected debug, info, warn or error, got "),
      ChoiceFlag("--log.format", config.log_format, log::ParseFormat, "expected logfmt or json, got "),
      BoolFlag("--help", config.help),
  };
  if (Status s = ParseFlagArgs(args, defs); !s.ok()) return Error{s.error()};
  // Help is answered even when the other flags would not start a server.
  if (config.help) return config;

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
