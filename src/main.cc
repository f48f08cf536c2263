// dashscope_exporter: flags -> configuration -> app; signal handling.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "app/exporter_app.h"
#include "app/flags.h"
#include "common/log.h"

namespace {

// Pollers stuck in a request are abandoned after this; the whole stop stays
// well inside the 2 s an orchestrator expects.
constexpr std::chrono::milliseconds kStopGrace{1500};

void WriteBody(const dse::metrics::ScrapeBody& body) {
  for (std::string_view piece : body.pieces) std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena for every thread. With a second one the poller's
  // buffers landed there and freed pages stayed resident (measured in
  // docs/benchmarks.md, "Serving on Boost.Beast"); the few threads left (a
  // poller per account, the HTTP I/O threads, the bcrypt pool) allocate
  // little at once, and each has its own tcache.
  mallopt(M_ARENA_MAX, 1);

  // The process holds API keys: a core dump must not carry them.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  // Each HTTP connection is a descriptor and the server holds up to 10,000:
  // take what the hard limit allows, as Go programs do. The API client polls
  // (never select()), so descriptors past 1024 are fine.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  auto flags = dse::app::ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::fprintf(stderr, "dashscope_exporter: %s\n", flags.error().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(dse::app::UsageText().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::fputs(dse::app::VersionText().c_str(), stdout);
    return 0;
  }
  dse::log::Configure(flags->log_level, flags->log_format);

  auto loaded = dse::app::LoadConfigs(*flags);
  if (!loaded.ok()) {
    std::fprintf(stderr, "dashscope_exporter: %s\n", loaded.error().c_str());
    return 1;
  }
  if (flags->check_config) {
    std::printf("%s: OK (%zu account%s)\n", flags->config_file.c_str(), loaded->config.accounts.size(),
                loaded->config.accounts.size() == 1 ? "" : "s");
    if (flags->web_config_file) std::printf("%s: OK\n", flags->web_config_file->c_str());
    return 0;
  }

  // Signals are taken synchronously by this thread only: block them before
  // any other thread exists so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto app = std::make_unique<dse::app::ExporterApp>(*flags, std::move(loaded).value());

  if (flags->once) {
    auto failures = app->PollAllOnce();
    WriteBody(app->Scrape(false));
    for (const auto& f : failures) std::fprintf(stderr, "dashscope_exporter: poll failed: %s\n", f.c_str());
    return failures.empty() ? 0 : 1;
  }

  if (dse::Status s = app->Start(); !s.ok()) {
    std::fprintf(stderr, "dashscope_exporter: %s\n", s.error().c_str());
    return 1;
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      dse::log::Info("SIGHUP received, reloading configuration");
      (void)app->Reload();
      continue;
    }
    dse::log::Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    if (!app->Stop(kStopGrace)) {
      // A poller is still inside a request that ignores cancellation; its
      // thread uses the app, so leave without running destructors.
      std::fflush(stderr);
      std::_Exit(0);
    }
    app.reset();
    return 0;
  }
}
