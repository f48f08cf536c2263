#include "app/exporter_app.h"

#include <sys/stat.h>

#include <set>
#include <thread>

#include "common/log.h"
#include "config/config_loader.h"

namespace dse::app {
namespace {

bool SameAccount(const config::Account& a, const config::Account& b) {
  // A key from the same file is the poller's own business: it re-reads the
  // file when it changes, so a rotated key does not restart the account.
  const bool same_key = a.api_key_file.empty() && b.api_key_file.empty() ? a.api_key == b.api_key
                                                                         : a.api_key_file == b.api_key_file;
  return a.name == b.name && a.base_url == b.base_url && a.workspace == b.workspace && same_key &&
         a.proxy_url == b.proxy_url && a.tls == b.tls && a.api_time_zone_seconds == b.api_time_zone_seconds;
}

// Secrets readable by group or others are one `ls` away from leaking; the
// exporter still starts (the file may be on a volume it cannot chmod) but says so.
void WarnIfReadableByOthers(const std::string& path, std::string_view what) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return;
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    log::Warn("secret file is accessible to group or others; chmod 600 it",
              {{"file", path}, {"holds", std::string(what)}, {"mode", mode}});
  }
}

}  // namespace

std::string UserAgent() { return std::string("dashscope_exporter/") + DSE_VERSION; }

Result<LoadedConfig> LoadConfigs(const Flags& flags) {
  LoadedConfig loaded;
  auto config = config::LoadConfigFile(flags.config_file);
  if (!config.ok()) return Error{config.error()};
  loaded.config = std::move(config).value();
  if (flags.web_config_file) {
    auto web = config::LoadWebConfigFile(*flags.web_config_file);
    if (!web.ok()) return Error{web.error()};
    loaded.web = std::move(web).value();
  }
  for (const auto& a : loaded.config.accounts) {
    log::AddSecret(a.api_key);
    constexpr std::string_view kFilePrefix = "file ";
    if (a.api_key_source.rfind(kFilePrefix, 0) == 0) {
      WarnIfReadableByOthers(a.api_key_source.substr(kFilePrefix.size()), "API key of account " + a.name);
    }
  }
  if (loaded.web && loaded.web->tls) WarnIfReadableByOthers(loaded.web->tls->key_file, "TLS private key");
  return loaded;
}

ExporterApp::ExporterApp(Flags flags, LoadedConfig loaded)
    : flags_(std::move(flags)), metrics_(DSE_VERSION, DSE_REVISION), config_(loaded.config) {
  server::ServerOptions options;
  options.listen_address = flags_.listen_address;
  options.telemetry_path = flags_.telemetry_path;
  options.web = std::move(loaded.web);
  server_ = std::make_unique<server::HttpServer>(std::move(options), *this);
  metrics_.SetConfigReload(true, clock_.UnixNow());
  std::lock_guard lock(mu_);
  ApplyAccounts(config_, /*start_pollers=*/false);
}

ExporterApp::~ExporterApp() { Stop(std::chrono::milliseconds(2000)); }

void ExporterApp::ApplyAccounts(const config::Config& config, bool start_pollers) {
  const PollSettings settings = PollSettingsFrom(config, UserAgent());
  std::vector<metrics::AccountView> views;
  std::set<std::string> names;
  for (const auto& a : config.accounts) {
    metrics::AccountView v;
    v.name = a.name;
    v.base_url = a.base_url;
    v.workspace = a.workspace;
    views.push_back(std::move(v));
    names.insert(a.name);
  }

  // Pollers whose account and settings are unchanged keep running (and keep
  // their schedule); the others are replaced.
  std::map<std::string, std::unique_ptr<AccountPoller>> keep;
  std::vector<std::unique_ptr<AccountPoller>> retired;
  for (auto& [name, poller] : pollers_) {
    bool unchanged = false;
    for (const auto& a : config.accounts) {
      if (SameAccount(a, poller->account()) && poller->settings() == settings) unchanged = true;
    }
    if (unchanged) {
      keep.emplace(name, std::move(poller));
    } else {
      poller->RequestStop();
      retired.push_back(std::move(poller));
    }
  }
  for (auto& p : retired) p->Join();  // they were asked to stop; requests are cancelled
  retired.clear();

  store_.SetAccounts(views);
  metrics_.RetainAccounts(names);
  pollers_ = std::move(keep);
  for (const auto& a : config.accounts) {
    if (pollers_.contains(a.name)) continue;
    auto poller = std::make_unique<AccountPoller>(a, settings, metrics_, store_, clock_);
    if (start_pollers) poller->Start();
    pollers_.emplace(a.name, std::move(poller));
  }
}

Status ExporterApp::Start() {
  std::lock_guard lock(mu_);
  if (dse::Status s = server_->Start(); !s.ok()) return s;
  for (auto& [name, poller] : pollers_) poller->Start();
  started_ = true;
  log::Info("dashscope_exporter started", {{"version", DSE_VERSION},
                                           {"listen_address", flags_.listen_address},
                                           {"port", std::to_string(server_->port())},
                                           {"accounts", std::to_string(pollers_.size())}});
  return Status::Ok();
}

Status ExporterApp::Reload() {
  auto loaded = LoadConfigs(flags_);
  if (!loaded.ok()) {
    metrics_.SetConfigReload(false, clock_.UnixNow());
    log::Error("configuration reload failed; keeping the running configuration", {{"err", loaded.error()}});
    return Error{loaded.error()};
  }
  std::lock_guard lock(mu_);
  if (dse::Status s = server_->Reload(loaded->web); !s.ok()) {
    metrics_.SetConfigReload(false, clock_.UnixNow());
    log::Error("web configuration reload failed; keeping the running configuration", {{"err", s.error()}});
    return s;
  }
  config_ = loaded->config;
  ApplyAccounts(config_, started_);
  metrics_.SetConfigReload(true, clock_.UnixNow());
  log::Info("configuration reloaded", {{"accounts", std::to_string(config_.accounts.size())}});
  return Status::Ok();
}

bool ExporterApp::Stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  server_->Stop();
  for (auto& [name, poller] : pollers_) poller->RequestStop();
  const auto until = std::chrono::steady_clock::now() + grace;
  bool all = true;
  for (auto& [name, poller] : pollers_) {
    while (!poller->finished() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!poller->finished()) {
      all = false;
      log::Warn("poller did not stop in time", {{"account", name}});
    }
  }
  if (all) pollers_.clear();
  started_ = false;
  return all;
}

std::vector<std::string> ExporterApp::PollAllOnce() {
  std::lock_guard lock(mu_);
  std::vector<std::string> failures;
  for (auto& [name, poller] : pollers_) {
    auto result = poller->PollOnce();
    if (!result.ok) failures.push_back("account " + name + ": " + result.error);
  }
  return failures;
}

int ExporterApp::port() const { return server_->port(); }

metrics::ScrapeBody ExporterApp::Scrape(bool gzip) {
  return metrics::AssembleScrapeBody(store_.Current(), metrics_.RenderText(), gzip);
}

metrics::StatusView ExporterApp::CurrentView() {
  metrics::StatusView view;
  for (const auto& snap : store_.Accounts()) view.accounts.push_back(snap->view);
  view.version = DSE_VERSION;
  view.revision = DSE_REVISION;
  view.telemetry_path = flags_.telemetry_path;
  return view;
}

bool ExporterApp::Ready() {
  for (const auto& snap : store_.Accounts()) {
    if (!snap->view.ever_succeeded()) return false;
  }
  return true;
}

}  // namespace dse::app
