// Scrape load: a fleet of 1000 deployments that changes every second, polled
// every second, while wrk scrapes /metrics over 16 keep-alive connections.
// The exporter must answer every scrape, drop no connection, and hold its
// resident memory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "load_support.h"
#include "testing/harness.h"

namespace dse::testing::load {
namespace {

constexpr char kUp[] = "dashscope_up{account=\"mock\"}";
constexpr char kPolls[] = "dashscope_polls_total{account=\"mock\"}";
constexpr char kPollFailures[] = "dashscope_poll_failures_total{account=\"mock\"}";
constexpr char kHttpRequests[] = "dashscope_exporter_http_requests_total{";
constexpr char kMetricsHandler[] = "handler=\"metrics\"";
// Growth allowed between the end of the warm-up and the end of the load,
// under load (median of the window) and at rest (floor of 2 s).
constexpr double kMaxRssGrowth = 0.10;
// How long the warm-up runs the main pass's load, and the window at the end
// of each identity load whose median resident memory is compared. Both
// windows have the same length and the same load, so that the comparison
// measures growth, not the luck of a longer window.
constexpr std::chrono::seconds kWarmLoad{12};
constexpr std::chrono::seconds kWindow{8};

// Answers of the metrics handler, split into 200 and everything else.
struct MetricsAnswers {
  double ok = 0;
  double other = 0;
};

MetricsAnswers CountMetricsAnswers(const std::string& exposition) {
  const auto samples = ParseSamples(exposition);
  MetricsAnswers a;
  a.ok = SumSamples(samples, kHttpRequests, {kMetricsHandler, "code=\"200\""});
  a.other = SumSamples(samples, kHttpRequests, {kMetricsHandler}) - a.ok;
  return a;
}

void Note(const std::string& line) {
  std::printf("[load] %s\n", line.c_str());
  std::fflush(stdout);
}

// Resident memory with no load, read as the floor of 2 s of samples (two
// polls), not as one reading that may land on a poll's transient buffers.
std::optional<int64_t> QuietFloorKiB(const ProcessSampler& sampler) {
  const auto from = ProcessSampler::Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  return sampler.FloorKiB(from, ProcessSampler::Clock::now());
}

// Beyond the mock's own ticks (which move a few deployments through their
// states), grows and shrinks the fleet so that series appear and vanish.
class FleetChurn {
 public:
  FleetChurn(Mock& mock, int low, int high) : mock_(mock), low_(low) {
    thread_ = std::thread([this, high] {
      bool grown = false;
      while (!stop_.load()) {
        grown = !grown;
        mock_.Admin("POST", "/mock/deployments?count=" + std::to_string(grown ? high : low_));
        ++changes_;
        for (int i = 0; i < 7 && !stop_.load(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  // Stops and leaves the fleet at its low size.
  ~FleetChurn() {
    stop_ = true;
    thread_.join();
    mock_.Admin("POST", "/mock/deployments?count=" + std::to_string(low_));
  }
  int changes() const { return changes_.load(); }

 private:
  Mock& mock_;
  const int low_;
  std::atomic<bool> stop_{false};
  std::atomic<int> changes_{0};
  std::thread thread_;
};

// Waits until the exposition lists exactly `n` deployments.
bool WaitForDeployments(Exporter& exporter, size_t n, std::chrono::milliseconds timeout) {
  return exporter.WaitForMetrics(
      [n](const std::string& text) {
        return LinesStartingWith(text, "dashscope_deployment_capacity{").size() == n;
      },
      timeout);
}

TEST(ScrapeLoad, ThousandChangingDeploymentsUnderWrk) {
  const std::optional<std::string> wrk = FindOnPath("wrk");
  ASSERT_TRUE(wrk.has_value()) << "wrk is not on PATH: this load test needs Debian's wrk package "
                                  "(scripts/install-deps.sh test installs it); refusing to pass without it";

  auto mock = Mock::Start({"--deployments", "1000", "--tick", "1s"});
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(
      MockConfig(*mock, "poll_interval: 1s\nrequest_timeout: 800ms\nretry_base_delay: 50ms\n"), {},
      MockEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  const int pid = exporter->process().pid();
  ASSERT_TRUE(exporter->WaitForMetric(std::string(kUp) + " 1", std::chrono::seconds(20)))
      << "no successful first poll of 1000 deployments\n"
      << exporter->process().Stderr();
  const std::string first = exporter->Metrics();
  const auto deployments = LinesStartingWith(first, "dashscope_deployment_capacity{").size();
  EXPECT_EQ(deployments, 1000u);
  Note("first poll done: " + std::to_string(deployments) + " deployments, exposition " +
       std::to_string(first.size()) + " bytes");

  const std::string url = "http://127.0.0.1:" + std::to_string(exporter->port()) + "/metrics";
  const std::vector<std::string> base = {"-t2", "-c16"};
  ProcessSampler rss(pid, std::chrono::milliseconds(250));

  // Warm-up: a few polls of the changing fleet, then the same loads as the
  // main passes (identity, then gzip) long enough to reach their working
  // set. The start figure is the median over the last kWindow of the
  // identity load; the end figure is the same for the main identity pass.
  WrkReport warm;
  std::optional<int64_t> rss_start;
  std::optional<int64_t> rss_start_peak;
  {
    FleetChurn churn(*mock, 1000, 1100);
    std::this_thread::sleep_for(std::chrono::seconds(5));
    auto args = base;
    args.push_back("-d" + std::to_string(kWarmLoad.count()) + "s");
    warm = RunWrk(*wrk, args, url, std::chrono::seconds(60));
    const auto warm_to = ProcessSampler::Clock::now();
    rss_start = rss.MedianKiB(warm_to - kWindow, warm_to);
    rss_start_peak = rss.PeakKiB(warm_to - kWindow, warm_to);
    Note("warm-up, identity " + std::to_string(kWarmLoad.count()) + "s: " + warm.Summary());
    args = base;
    args.insert(args.end(), {"-d5s", "-H", "Accept-Encoding: gzip"});
    const WrkReport warm_gz = RunWrk(*wrk, args, url, std::chrono::seconds(30));
    Note("warm-up, gzip 5s: " + warm_gz.Summary());
  }
  ASSERT_TRUE(rss_start.has_value()) << "no reading of /proc/" << pid << "/status during the warm-up";
  // Quiet readings are compared at the same fleet size: 1000, published.
  ASSERT_TRUE(WaitForDeployments(*exporter, 1000, std::chrono::seconds(10)));
  const std::optional<int64_t> rss_quiet_start = QuietFloorKiB(rss);

  const std::string before = exporter->Metrics();
  ASSERT_FALSE(before.empty());
  const MetricsAnswers answers_before = CountMetricsAnswers(before);
  const double polls_before = Sample(before, kPolls).value_or(-1);
  const double failures_before = Sample(before, kPollFailures).value_or(-1);
  const double start_time = Sample(before, "process_start_time_seconds").value_or(-1);

  WrkReport plain;
  WrkReport gz;
  std::optional<int64_t> rss_load_end;  // median over the identity pass's last kWindow
  std::optional<int64_t> rss_load_end_peak;
  size_t end_readings = 0;
  int fleet_changes = 0;
  {
    FleetChurn churn(*mock, 1000, 1100);
    // Main pass: 30 s, identity encoding.
    auto args = base;
    args.push_back("-d30s");
    plain = RunWrk(*wrk, args, url, std::chrono::seconds(90));
    const auto end_to = ProcessSampler::Clock::now();
    rss_load_end = rss.MedianKiB(end_to - kWindow, end_to);
    rss_load_end_peak = rss.PeakKiB(end_to - kWindow, end_to);
    end_readings = rss.Count(end_to - kWindow, end_to);
    Note("wrk 30s identity: " + plain.Summary());

    // Second pass: 10 s, gzip.
    args = base;
    args.insert(args.end(), {"-d10s", "-H", "Accept-Encoding: gzip"});
    gz = RunWrk(*wrk, args, url, std::chrono::seconds(60));
    Note("wrk 10s gzip: " + gz.Summary());
    fleet_changes = churn.changes();
  }
  Note("fleet resized " + std::to_string(fleet_changes) + " times (1000 <-> 1100) during the passes");

  // Back at 1000 deployments, published, like the quiet start reading.
  EXPECT_TRUE(WaitForDeployments(*exporter, 1000, std::chrono::seconds(10)))
      << "the exporter did not publish the fleet of 1000 after the load";
  const std::optional<int64_t> rss_end = QuietFloorKiB(rss);
  ASSERT_TRUE(rss_end.has_value()) << "the exporter (pid " << pid << ") is gone\n"
                                   << exporter->process().Stderr();

  const std::string after = exporter->Metrics();
  ASSERT_FALSE(after.empty()) << "the exporter no longer serves /metrics after the load";
  const MetricsAnswers answers_after = CountMetricsAnswers(after);
  const double polls_after = Sample(after, kPolls).value_or(-1);
  const double failures_after = Sample(after, kPollFailures).value_or(-1);

  // Growth of `to` over `from`; 0 when either reading is missing (asserted
  // separately).
  auto growth = [](std::optional<int64_t> from, std::optional<int64_t> to) {
    return from && to && *from > 0 ? static_cast<double>(*to - *from) / static_cast<double>(*from) : 0.0;
  };
  auto kib_text = [](std::optional<int64_t> kib) { return kib ? FormatKiB(*kib) : std::string("?"); };
  char line[512];
  std::snprintf(line, sizeof line,
                "RSS median under identity load (last %llds): start (warm-up) %s, end (main pass) "
                "%s, %+.1f%%; peaks there (reported only): %s, %s",
                static_cast<long long>(kWindow.count()), kib_text(rss_start).c_str(),
                kib_text(rss_load_end).c_str(), growth(rss_start, rss_load_end) * 100,
                kib_text(rss_start_peak).c_str(), kib_text(rss_load_end_peak).c_str());
  Note(line);
  std::snprintf(line, sizeof line, "RSS floor at rest (2 s) at 1000 deployments: start %s, end %s, %+.1f%%",
                kib_text(rss_quiet_start).c_str(), kib_text(rss_end).c_str(),
                growth(rss_quiet_start, rss_end) * 100);
  Note(line);
  std::snprintf(line, sizeof line, "polls during the load: %.0f started, %.0f failed",
                polls_after - polls_before, failures_after - failures_before);
  Note(line);
  std::snprintf(line, sizeof line, "exporter-side /metrics answers during the load: %.0f x 200, %.0f other",
                answers_after.ok - answers_before.ok, answers_after.other - answers_before.other);
  Note(line);
  RecordProperty("rss_start_kib", std::to_string(*rss_start));
  RecordProperty("rss_end_kib", std::to_string(rss_load_end.value_or(-1)));
  RecordProperty("rss_quiet_start_kib", std::to_string(rss_quiet_start.value_or(-1)));
  RecordProperty("rss_quiet_end_kib", std::to_string(*rss_end));
  RecordProperty("identity_requests_per_second", std::to_string(plain.RequestsPerSecond()));
  RecordProperty("gzip_requests_per_second", std::to_string(gz.RequestsPerSecond()));

  for (const WrkReport* r : {&plain, &gz}) {
    const char* pass = r == &plain ? "identity pass" : "gzip pass";
    ASSERT_TRUE(r->exit_code.has_value()) << pass << ": wrk did not finish in time\n" << r->output;
    EXPECT_EQ(*r->exit_code, 0) << pass << ": wrk failed\n" << r->output;
    ASSERT_TRUE(r->parsed) << pass << ": wrk's done() report is missing\n" << r->output;
    EXPECT_GT(r->requests, 0u) << pass << "\n" << r->output;
    EXPECT_EQ(r->errors_status, 0u) << pass << ": answers with status > 399\n" << r->output;
    EXPECT_FALSE(r->non_2xx_3xx_line.has_value()) << pass << ": " << r->output;
    // wrk counts a timeout for an answer that took longer than its default
    // --timeout of 2 s, or is still missing after it.
    EXPECT_EQ(r->SocketErrors(), 0u) << pass << ": " << r->Summary() << "\n" << r->output;
    EXPECT_FALSE(r->socket_errors_line.has_value()) << pass << ": " << r->socket_errors_line.value_or("");
  }
  // wrk only flags status > 399; the exporter's own counter sees every code.
  EXPECT_EQ(answers_after.other - answers_before.other, 0)
      << "the exporter answered /metrics with a status other than 200 during the load";
  EXPECT_GE(answers_after.ok - answers_before.ok, static_cast<double>(plain.requests + gz.requests))
      << "the exporter counted fewer 200 answers than wrk received";

  if (kSanitizerBuild) {
    Note(
        "sanitizer build: RSS bound reported, not asserted (shadow memory and quarantine "
        "dominate)");
  } else {
    EXPECT_GE(end_readings, 20u) << "too few RSS readings at the end of the load";
    ASSERT_TRUE(rss_load_end.has_value());
    ASSERT_TRUE(rss_quiet_start.has_value());
    EXPECT_LE(growth(rss_start, rss_load_end), kMaxRssGrowth)
        << "resident memory under the same identity load grew from " << FormatKiB(*rss_start)
        << " (median, warm-up) to " << FormatKiB(*rss_load_end) << " (median, main pass)";
    EXPECT_LE(growth(rss_quiet_start, rss_end), kMaxRssGrowth)
        << "resident memory at rest grew from " << FormatKiB(*rss_quiet_start) << " before the load to "
        << FormatKiB(*rss_end) << " after it";
  }

  // The poller kept its schedule under load (polls start every second,
  // whether or not they succeed) and the exporter still serves and polls.
  EXPECT_GE(polls_after - polls_before, 20) << "the poller starved during ~45 s of load";
  EXPECT_TRUE(exporter->process().Running());
  EXPECT_EQ(Sample(after, "process_start_time_seconds").value_or(-2), start_time) << "the exporter restarted";
  EXPECT_EQ(exporter->Get("/healthz").status, 200);
  EXPECT_TRUE(exporter->WaitForMetric(std::string(kUp) + " 1", std::chrono::seconds(10)))
      << "dashscope_up did not return to 1 after the load\n"
      << exporter->process().Stderr();
  const HttpResult zipped = exporter->Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(zipped.status, 200);
  const std::optional<std::string> unzipped = GunzipMembers(zipped.body);
  ASSERT_TRUE(unzipped.has_value()) << "the gzip answer does not decompress";
  EXPECT_EQ(LinesStartingWith(*unzipped, "dashscope_deployment_capacity{").size(), 1000u);

  // And it still stops cleanly.
  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  EXPECT_EQ(exporter->process().WaitExit(std::chrono::seconds(10)), std::optional<int>(0))
      << exporter->process().Stderr();
}

}  // namespace
}  // namespace dse::testing::load
