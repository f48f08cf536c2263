// dashscope_mock: flags -> simulated account -> HTTP server, until SIGTERM/SIGINT.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/log.h"
#include "mock/flags.h"
#include "mock/server.h"

namespace {

dse::Status WritePortFile(const std::string& path, int port) {
  // Written aside and renamed, so a test polling for the file never reads half of it.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return dse::Error{"cannot write " + tmp};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return dse::Error{"cannot rename " + tmp + " to " + path};
  return dse::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dse;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<mock::MockConfig> parsed = mock::ParseFlags(args, std::getenv("DASHSCOPE_MOCK_API_KEY"));
  if (!parsed.ok()) {
    std::fprintf(stderr, "dashscope_mock: %s\n", parsed.error().c_str());
    return 2;
  }
  const mock::MockConfig& config = *parsed;
  if (config.help) {
    std::fputs(mock::Usage().c_str(), stdout);
    return 0;
  }
  log::Configure(config.log_level, config.log_format);
  log::AddSecret(config.api.api_key);

  // Writes to a vanished client must fail with EPIPE, not kill the mock.
  signal(SIGPIPE, SIG_IGN);
  // Every thread started below inherits this mask; only sigtimedwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  mock::MockServer server(config.server, config.api, config.fleet);
  Result<int> port = server.Start();
  if (!port.ok()) {
    log::Error("cannot serve", {{"err", port.error()}});
    return 1;
  }
  if (!config.port_file.empty()) {
    if (Status s = WritePortFile(config.port_file, *port); !s.ok()) {
      log::Error("cannot write the port file", {{"err", s.error()}});
      server.Stop();
      return 1;
    }
  }
  log::Info("dashscope_mock listening",
            {{"address", config.server.host + ":" + std::to_string(*port)},
             {"deployments", std::to_string(config.fleet.count)},
             {"workspace", config.fleet.workspace_id},
             {"seed", std::to_string(config.fleet.seed)},
             {"tick", config.server.tick.count() == 0 ? "manual" : FormatDuration(config.server.tick)},
             {"envelope", std::string(mock::EnvelopeName(config.api.envelope))},
             {"scheme", config.server.tls_cert_file.empty() ? "http" : "https"},
             {"max_page_size", std::to_string(config.api.max_page_size)},
             {"api_key_from", config.api_key_source}});

  int exit_code = 0;
  const timespec poll_interval{0, 200 * 1000 * 1000};
  while (true) {
    const int sig = sigtimedwait(&stop_signals, nullptr, &poll_interval);
    if (sig == SIGTERM || sig == SIGINT) {
      log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (!server.serving()) {
      log::Error("the server stopped unexpectedly");
      exit_code = 1;
      break;
    }
  }
  server.Stop();
  log::Info("stopped");
  return exit_code;
}
