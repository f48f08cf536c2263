#include "metrics/exporter_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>

#include "metrics/process_metrics.h"
#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

// API latencies on loopback are milliseconds, against the real API tens to
// hundreds of milliseconds, and a hang runs to request_timeout (10s default).
const Histogram::BucketBoundaries kRequestBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};

// Names and codes are bounded where they come from (config names, API codes
// of at most 64 bytes), so self-metric label values are never cut.
constexpr size_t kUncut = std::numeric_limits<size_t>::max();

// Counts every change to the registry's series or values. The registry's
// text is serialized again only when this moved: after a poll or a reload,
// not on every scrape.
class Generation {
 public:
  void Bump() { value_.fetch_add(1, std::memory_order_acq_rel); }
  uint64_t Load() const { return value_.load(std::memory_order_acquire); }

 private:
  std::atomic<uint64_t> value_{1};
};

// A series whose every change bumps the generation, so that no caller can
// forget to.
template <typename T>
class Tracked {
 public:
  Tracked(T& metric, Generation& generation) : metric_(&metric), generation_(&generation) {}
  void Increment(double by = 1) const requires std::same_as<T, Counter> {
    metric_->Increment(by);
    generation_->Bump();
  }
  void Set(double value) const requires std::same_as<T, Gauge> {
    metric_->Set(value);
    generation_->Bump();
  }
  void Observe(double value) const requires std::same_as<T, Histogram> {
    metric_->Observe(value);
    generation_->Bump();
  }
  T* metric() const { return metric_; }

 private:
  T* metric_;
  Generation* generation_;
};

// A family whose series are added and removed only with a generation bump.
template <typename T>
class TrackedFamily {
 public:
  TrackedFamily(prometheus::Family<T>& family, Generation& generation)
      : family_(family), generation_(generation) {}
  template <typename... Args>
  Tracked<T> Add(const prometheus::Labels& labels, Args&&... args) {
    T& metric = family_.Add(labels, std::forward<Args>(args)...);
    generation_.Bump();
    return Tracked<T>(metric, generation_);
  }
  void Remove(const Tracked<T>& series) {
    family_.Remove(series.metric());
    generation_.Bump();
  }

 private:
  prometheus::Family<T>& family_;
  Generation& generation_;
};

std::string_view TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Untyped: break;
  }
  return "untyped";
}

// `name_suffix{labels[,le="bound"]} value\n`, braces left out when empty.
template <typename V>
void AppendLine(std::string& out, std::string_view name, std::string_view suffix,
                const std::vector<prometheus::ClientMetric::Label>& labels, std::optional<double> le,
                V value) {
  out += name;
  out += suffix;
  if (!labels.empty() || le) {
    char sep = '{';
    for (const auto& label : labels) {
      out.push_back(sep);
      out += label.name;
      out += "=\"";
      AppendLabelValue(out, label.value, kUncut);
      out.push_back('"');
      sep = ',';
    }
    if (le) {
      out.push_back(sep);
      out += "le=\"";
      AppendValue(out, *le);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
  AppendValue(out, value);
  out.push_back('\n');
}

// One collected family; series in label order, so the text is the same for
// the same values.
void AppendFamily(std::string& out, const prometheus::MetricFamily& family) {
  if (family.metric.empty()) return;
  AppendHeader(out, family.name, family.help, TypeName(family.type));
  std::vector<const prometheus::ClientMetric*> series;
  series.reserve(family.metric.size());
  for (const auto& m : family.metric) series.push_back(&m);
  std::sort(series.begin(), series.end(), [](auto* a, auto* b) { return a->label < b->label; });
  for (const prometheus::ClientMetric* m : series) {
    switch (family.type) {
      case prometheus::MetricType::Counter:
        AppendLine(out, family.name, "", m->label, std::nullopt, m->counter.value);
        break;
      case prometheus::MetricType::Gauge:
        AppendLine(out, family.name, "", m->label, std::nullopt, m->gauge.value);
        break;
      case prometheus::MetricType::Histogram: {
        const auto& h = m->histogram;
        const auto count = static_cast<int64_t>(h.sample_count);
        AppendLine(out, family.name, "_count", m->label, std::nullopt, count);
        AppendLine(out, family.name, "_sum", m->label, std::nullopt, h.sample_sum);
        for (const auto& b : h.bucket) {
          AppendLine(out, family.name, "_bucket", m->label, b.upper_bound,
                     static_cast<int64_t>(b.cumulative_count));
        }
        break;
      }
      default: AppendLine(out, family.name, "", m->label, std::nullopt, m->untyped.value); break;
    }
  }
}

}  // namespace

// prometheus-cpp's registry of the self-metric families, in exposition order
// (counters, then gauges, then the histogram, each as registered), and the
// text last made from it.
struct SelfRegistry {
  SelfRegistry();
  std::string Text();

  Generation generation;
  prometheus::Registry registry;
  TrackedFamily<Counter> polls;
  TrackedFamily<Counter> poll_failures;
  TrackedFamily<Counter> api_requests;
  TrackedFamily<Counter> api_errors;
  TrackedFamily<Counter> record_problems;
  TrackedFamily<Counter> duplicates;
  TrackedFamily<Gauge> up;
  TrackedFamily<Gauge> last_success;
  TrackedFamily<Gauge> poll_duration;
  TrackedFamily<Gauge> deployments;
  TrackedFamily<Gauge> throttled_until;
  TrackedFamily<Gauge> stale_dropped;
  TrackedFamily<Gauge> build_info;
  TrackedFamily<Gauge> reload_ok;
  TrackedFamily<Gauge> reload_time;
  TrackedFamily<Histogram> request_duration;
  Tracked<Gauge> reload_ok_series;                   // 0 until the first load succeeds
  std::optional<Tracked<Gauge>> reload_time_series;  // created at the first successful load
  std::mutex reload_mu;                              // guards reload_time_series

  std::mutex text_mu;
  uint64_t text_generation = 0;  // guarded by text_mu; generation of text
  std::string text;              // guarded by text_mu
};

namespace {

template <typename T>
TrackedFamily<T> Register(prometheus::detail::Builder<T> builder, SelfRegistry& r, std::string_view name,
                          std::string_view help) {
  return {builder.Name(std::string(name)).Help(std::string(help)).Register(r.registry), r.generation};
}

}  // namespace

SelfRegistry::SelfRegistry()
    : polls(Register(BuildCounter(), *this, "dashscope_polls_total",
                     "Background polls of the account started.")),
      poll_failures(Register(BuildCounter(), *this, "dashscope_poll_failures_total",
                             "Background polls of the account that failed.")),
      api_requests(Register(BuildCounter(), *this, "dashscope_api_requests_total",
                            "HTTP requests sent to the DashScope API, retries included.")),
      api_errors(Register(BuildCounter(), *this, "dashscope_api_errors_total",
                          "Failed DashScope API requests by error code (the API's code, or timeout, "
                          "connection, tls, invalid_response, http_<status>; other past 32 codes).")),
      record_problems(Register(BuildCounter(), *this, "dashscope_record_problems_total",
                               "Deployment records skipped or fields left out because the API sent them "
                               "malformed, by problem.")),
      duplicates(Register(BuildCounter(), *this, "dashscope_duplicate_deployments_total",
                          "Deployments listed more than once in one poll (the list changed between pages); "
                          "exported once.")),
      up(Register(BuildGauge(), *this, "dashscope_up",
                  "1 if the last background poll of the account succeeded, else 0.")),
      last_success(Register(BuildGauge(), *this, "dashscope_last_successful_poll_timestamp_seconds",
                            "Unix time at which the last successful background poll ended.")),
      poll_duration(Register(BuildGauge(), *this, "dashscope_poll_duration_seconds",
                             "Duration of the last background poll of the account, all pages.")),
      deployments(Register(BuildGauge(), *this, "dashscope_deployments",
                           "Deployments exported for the account, from the last background poll.")),
      throttled_until(Register(BuildGauge(), *this, "dashscope_api_throttled_until_timestamp_seconds",
                               "Unix time before which no request is sent to the account because the API "
                               "asked to wait (Retry-After); 0 when none.")),
      stale_dropped(Register(BuildGauge(), *this, "dashscope_stale_data_dropped",
                             "1 when the account's last good data was older than max_staleness and is no "
                             "longer exported.")),
      build_info(Register(BuildGauge(), *this, "dashscope_exporter_build_info",
                          "Version and revision of dashscope_exporter (always 1).")),
      reload_ok(Register(BuildGauge(), *this, "dashscope_exporter_config_last_reload_successful",
                         "1 if the last configuration load succeeded, else 0.")),
      reload_time(Register(BuildGauge(), *this,
                           "dashscope_exporter_config_last_reload_success_timestamp_seconds",
                           "Unix time of the last successful configuration load.")),
      request_duration(Register(BuildHistogram(), *this, "dashscope_api_request_duration_seconds",
                                "Latency of each DashScope API request.")),
      reload_ok_series(reload_ok.Add({})) {}

std::string SelfRegistry::Text() {
  const uint64_t current = generation.Load();
  {
    std::lock_guard lock(text_mu);
    if (text_generation == current) return text;
  }
  // Not under text_mu: scrapes that find the text current do not wait.
  std::string fresh;
  for (const prometheus::MetricFamily& family : registry.Collect()) AppendFamily(fresh, family);
  std::lock_guard lock(text_mu);
  if (current > text_generation) {
    text_generation = current;
    text = fresh;
  }
  return fresh;
}

struct AccountMetrics::Series {
  Series(SelfRegistry& registry, std::string name);
  ~Series();

  SelfRegistry& r;
  const std::string account;
  const prometheus::Labels labels;
  Tracked<Gauge> up;
  Tracked<Gauge> poll_duration;
  Tracked<Counter> polls;
  Tracked<Counter> poll_failures;
  Tracked<Counter> api_requests;
  Tracked<Histogram> request_duration;
  Tracked<Gauge> deployments;
  Tracked<Counter> duplicates;
  Tracked<Gauge> throttled_until;
  Tracked<Gauge> stale_dropped;
  std::mutex mu;
  std::optional<Tracked<Gauge>> last_success;                     // guarded by mu; made at first success
  std::map<std::string, Tracked<Counter>, std::less<>> errors;    // guarded by mu
  std::map<std::string, Tracked<Counter>, std::less<>> problems;  // guarded by mu
};

AccountMetrics::Series::Series(SelfRegistry& registry, std::string name)
    : r(registry),
      account(std::move(name)),
      labels{{"account", account}},
      up(r.up.Add(labels)),
      poll_duration(r.poll_duration.Add(labels)),
      polls(r.polls.Add(labels)),
      poll_failures(r.poll_failures.Add(labels)),
      api_requests(r.api_requests.Add(labels)),
      request_duration(r.request_duration.Add(labels, kRequestBuckets)),
      deployments(r.deployments.Add(labels)),
      duplicates(r.duplicates.Add(labels)),
      throttled_until(r.throttled_until.Add(labels)),
      stale_dropped(r.stale_dropped.Add(labels)) {}

AccountMetrics::Series::~Series() {
  r.up.Remove(up);
  r.poll_duration.Remove(poll_duration);
  r.polls.Remove(polls);
  r.poll_failures.Remove(poll_failures);
  r.api_requests.Remove(api_requests);
  r.request_duration.Remove(request_duration);
  r.deployments.Remove(deployments);
  r.duplicates.Remove(duplicates);
  r.throttled_until.Remove(throttled_until);
  r.stale_dropped.Remove(stale_dropped);
  std::lock_guard lock(mu);
  if (last_success) r.last_success.Remove(*last_success);
  for (auto& [code, counter] : errors) r.api_errors.Remove(counter);
  for (auto& [kind, counter] : problems) r.record_problems.Remove(counter);
}

AccountMetrics::AccountMetrics(std::unique_ptr<Series> series) : series_(std::move(series)) {}
AccountMetrics::~AccountMetrics() = default;

void AccountMetrics::PollStarted() { series_->polls.Increment(); }

void AccountMetrics::PollFinished(bool ok, double duration_seconds, double end_unix) {
  Series& s = *series_;
  s.poll_duration.Set(duration_seconds);
  s.up.Set(ok ? 1 : 0);
  if (!ok) {
    s.poll_failures.Increment();
    return;
  }
  std::lock_guard lock(s.mu);
  if (!s.last_success) s.last_success = s.r.last_success.Add(s.labels);
  s.last_success->Set(end_unix);
}

void AccountMetrics::ApiRequest(double duration_seconds) {
  series_->api_requests.Increment();
  series_->request_duration.Observe(duration_seconds);
}

void AccountMetrics::ApiError(std::string_view code) {
  Series& s = *series_;
  std::lock_guard lock(s.mu);
  auto it = s.errors.find(code);
  if (it == s.errors.end() && s.errors.size() >= kMaxErrorCodesPerAccount) it = s.errors.find("other");
  if (it == s.errors.end()) {
    std::string label = s.errors.size() >= kMaxErrorCodesPerAccount ? "other" : std::string(code);
    auto counter = s.r.api_errors.Add({{"account", s.account}, {"code", label}});
    it = s.errors.emplace(std::move(label), counter).first;
  }
  it->second.Increment();
}

void AccountMetrics::RecordProblems(std::string_view kind, uint64_t count) {
  Series& s = *series_;
  std::lock_guard lock(s.mu);
  auto it = s.problems.find(kind);
  if (it == s.problems.end()) {
    auto counter = s.r.record_problems.Add({{"account", s.account}, {"problem", std::string(kind)}});
    it = s.problems.emplace(std::string(kind), counter).first;
  }
  it->second.Increment(static_cast<double>(count));
}

void AccountMetrics::DuplicatesDropped(uint64_t count) {
  series_->duplicates.Increment(static_cast<double>(count));
}

void AccountMetrics::SetDeployments(size_t count) { series_->deployments.Set(static_cast<double>(count)); }

void AccountMetrics::SetThrottledUntil(double unix_seconds) { series_->throttled_until.Set(unix_seconds); }

void AccountMetrics::SetStaleDataDropped(bool dropped) { series_->stale_dropped.Set(dropped ? 1 : 0); }

ExporterMetrics::ExporterMetrics(std::string version, std::string revision)
    : registry_(std::make_unique<SelfRegistry>()) {
  registry_->build_info.Add({{"version", std::move(version)}, {"revision", std::move(revision)}}).Set(1);
  registry_->reload_ok_series.Set(0);
}

ExporterMetrics::~ExporterMetrics() {
  std::lock_guard lock(mu_);
  accounts_.clear();
}

AccountMetrics& ExporterMetrics::ForAccount(const std::string& account) {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    auto series = std::make_unique<AccountMetrics::Series>(*registry_, account);
    it = accounts_.emplace(account, std::unique_ptr<AccountMetrics>(new AccountMetrics(std::move(series))))
             .first;
  }
  return *it->second;
}

void ExporterMetrics::RetainAccounts(const std::set<std::string>& keep) {
  std::lock_guard lock(mu_);
  for (auto it = accounts_.begin(); it != accounts_.end();) {
    it = keep.contains(it->first) ? std::next(it) : accounts_.erase(it);
  }
}

void ExporterMetrics::SetConfigReload(bool ok, double unix_seconds) {
  SelfRegistry& r = *registry_;
  r.reload_ok_series.Set(ok ? 1 : 0);
  if (!ok) return;
  std::lock_guard lock(r.reload_mu);
  if (!r.reload_time_series) r.reload_time_series = r.reload_time.Add({});
  r.reload_time_series->Set(unix_seconds);
}

std::string ExporterMetrics::RenderText() const {
  // The text format is one family after another, so the registry's part can
  // be reused apart from the families that change on every scrape.
  std::string text = registry_->Text();
  http_.AppendText(text);
  AppendProcessText(text, ReadProcessStats());
  return text;
}

}  // namespace dse::metrics
