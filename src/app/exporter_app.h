// Wires configuration, pollers, published metrics and the HTTP server, and
// reloads them on SIGHUP. main() only parses flags and handles signals.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/account_poller.h"
#include "app/flags.h"
#include "common/clock.h"
#include "config/config.h"
#include "config/web_config.h"
#include "metrics/exporter_metrics.h"
#include "metrics/exposition.h"
#include "server/http_server.h"

namespace dse::app {

// Loads --config.file and --web.config.file; the first error names the file.
struct LoadedConfig {
  config::Config config;
  std::optional<config::WebConfig> web;
};
Result<LoadedConfig> LoadConfigs(const Flags& flags);

std::string UserAgent();

class ExporterApp final : public server::MetricsProvider {
 public:
  ExporterApp(Flags flags, LoadedConfig loaded);
  ~ExporterApp() override;

  // Binds the server and starts every poller.
  dse::Status Start();
  // Re-reads the configuration files; a bad file leaves everything as it was.
  dse::Status Reload();
  // Stops the server and the pollers, waiting at most `grace` for pollers
  // stuck in a request. Returns false when some did not end in time.
  bool Stop(std::chrono::milliseconds grace);

  // --once: polls every account once, synchronously. Returns the failures'
  // descriptions (empty when every poll succeeded).
  std::vector<std::string> PollAllOnce();

  int port() const;

  // server::MetricsProvider
  metrics::ScrapeBody Scrape(bool gzip) override;
  metrics::HttpMetrics& HttpCounters() override { return metrics_.Http(); }
  metrics::StatusView CurrentView() override;
  bool Ready() override;

 private:
  void ApplyAccounts(const config::Config& config, bool start_pollers);

  const Flags flags_;
  RealClock clock_;
  metrics::ExporterMetrics metrics_;
  metrics::ExpositionStore store_;
  std::unique_ptr<server::HttpServer> server_;

  std::mutex mu_;          // serialises Start/Reload/Stop (the signal thread) with each other
  config::Config config_;  // guarded by mu_
  std::map<std::string, std::unique_ptr<AccountPoller>> pollers_;  // guarded by mu_
  bool started_ = false;                                           // guarded by mu_
};

}  // namespace dse::app
