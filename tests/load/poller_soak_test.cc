// Poller soak: thousands of polls, 100 ms apart on each of several accounts
// (all pointing at one mock, so that thousands of polls take seconds, not
// minutes), while the mock's fault queue rotates through every way the API
// can fail. The exporter must neither leak
// descriptors nor memory, never restart, and come back up once the API heals.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "load_support.h"

namespace dse::testing::load {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUp[] = "dashscope_up{account=\"mock\"}";
// Counters are summed over every account.
constexpr char kPolls[] = "dashscope_polls_total{";
constexpr char kPollFailures[] = "dashscope_poll_failures_total{";
constexpr char kApiRequests[] = "dashscope_api_requests_total{";
// Pollers running side by side: each polls every 100 ms.
constexpr int kAccounts = 8;
constexpr size_t kDeploymentsPerAccount = 300;
constexpr char kApiErrors[] = "dashscope_api_errors_total{";

// What the test must achieve, and how long it may take for it.
constexpr double kMinPolls = 2000;
constexpr auto kSoakBudget = std::chrono::seconds(270);
// Descriptors may differ by a connection in flight at either reading.
constexpr double kFdSlack = 2;
constexpr double kMaxRssGrowth = 0.10;
// Below this, growth is allocator noise whatever the percentage.
constexpr int64_t kRssNoiseKiB = 2048;

// poll_interval is the loader's minimum; request_timeout below it; the
// oversize fault is made cheap by a small response limit.
constexpr char kSoakConfig[] =
    "poll_interval: 100ms\n"
    "request_timeout: 80ms\n"
    "max_retries: 1\n"
    "retry_base_delay: 1ms\n"
    "max_response_bytes: 1MiB\n";

double Sum(const std::string& text, const std::string& prefix) {
  double total = 0;
  for (const auto& [series, value] : ParseSamples(text)) {
    if (series.rfind(prefix, 0) == 0) total += value;
  }
  return total;
}

std::string ExtraAccounts(const Mock& mock) {
  std::string yaml;
  for (int i = 2; i <= kAccounts; ++i) yaml += MockAccountYaml(mock, "mock" + std::to_string(i));
  return yaml;
}

struct FaultStep {
  const char* name;
  const char* query;  // for POST /mock/faults; empty: no fault
};

// Each fault is queued for a few requests: with two pages per poll and one
// retry, that fails a poll or two and lets the retry path succeed sometimes.
constexpr FaultStep kRotation[] = {
    {"http 500", "kind=http&status=500&times=3"},
    {"none", ""},
    {"http 429 Retry-After 0", "kind=http&status=429&retry_after=0&times=3"},
    {"html 502", "kind=html&status=502&times=3"},
    {"truncate", "kind=truncate&times=3"},
    {"none", ""},
    {"invalid_json", "kind=invalid_json&times=3"},
    {"close", "kind=close&times=3"},
    {"delay 150ms (> request_timeout)", "kind=delay&ms=150&times=2"},
    {"none", ""},
    {"wrong_types", "kind=wrong_types&times=3"},
    {"duplicates", "kind=duplicates&times=3"},
    {"empty_body", "kind=empty_body&times=3"},
    {"none", ""},
    {"lying_total", "kind=lying_total&total=5000&times=3"},
    {"oversize 2MiB (> max_response_bytes)", "kind=oversize&bytes=2097152&times=2"},
    {"deep 100000", "kind=deep&depth=100000&times=2"},
    {"http 401", "kind=http&status=401&times=2"},
};
// How long each step stays in force: about two polls.
constexpr auto kStepLength = std::chrono::milliseconds(200);

void Note(const std::string& line) {
  std::printf("[soak] %s\n", line.c_str());
  std::fflush(stdout);
}

struct Reading {
  double polls = 0;
  double failures = 0;
  double api_requests = 0;
  double open_fds = -1;  // median of process_open_fds over a few scrapes
  int proc_fds = -1;     // /proc/<pid>/fd at the same moment
  double start_time = -1;
  int64_t rss_kib = -1;
};

// A reading taken while no fault is queued and the last poll succeeded, so
// that readings are comparable: a few scrapes, medians of the noisy values.
Reading Quiet(Exporter& exporter) {
  Reading r;
  std::vector<double> fds;
  std::vector<double> proc;
  std::string text;
  for (int i = 0; i < 5; ++i) {
    text = exporter.Metrics();
    if (auto v = Sample(text, "process_open_fds")) fds.push_back(*v);
    if (auto n = OpenFdCount(exporter.process().pid())) proc.push_back(*n);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  if (!fds.empty()) r.open_fds = Median(fds);
  if (!proc.empty()) r.proc_fds = static_cast<int>(Median(proc));
  r.polls = Sum(text, kPolls);
  r.failures = Sum(text, kPollFailures);
  r.api_requests = Sum(text, kApiRequests);
  r.start_time = Sample(text, "process_start_time_seconds").value_or(-1);
  r.rss_kib = ResidentKiB(exporter.process().pid()).value_or(-1);
  return r;
}

// Clears the fault queue and waits for a successful poll.
bool Heal(Mock& mock, Exporter& exporter, std::chrono::seconds timeout) {
  if (mock.Admin("DELETE", "/mock/faults").status != 200) return false;
  return exporter.WaitForMetric(std::string(kUp) + " 1", timeout);
}

// Queues the step's fault; its `times=N` is for one poller, so it is
// multiplied by the number of accounts that share the mock's queue.
bool ApplyStep(Mock& mock, const FaultStep& step) {
  if (mock.Admin("DELETE", "/mock/faults").status != 200) return false;
  std::string query = step.query;
  if (query.empty()) return true;
  const size_t at = query.find("times=");
  if (at != std::string::npos) {
    const size_t end = query.find('&', at);
    const int times = std::stoi(query.substr(at + 6, end - at - 6));
    query.replace(at, end == std::string::npos ? std::string::npos : end - at,
                  "times=" + std::to_string(times * kAccounts));
  }
  return mock.Admin("POST", "/mock/faults?" + query).status == 200;
}

TEST(PollerSoak, ThousandsOfPollsWithRotatingFaults) {
  const auto test_start = Clock::now();
  auto mock = Mock::Start({"--deployments", std::to_string(kDeploymentsPerAccount), "--tick", "1s"});
  ASSERT_NE(mock, nullptr);
  auto exporter =
      Exporter::Start(MockConfig(*mock, kSoakConfig, ExtraAccounts(*mock)), {}, MockEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  const int pid = exporter->process().pid();
  ASSERT_TRUE(exporter->WaitForMetric(std::string(kUp) + " 1", std::chrono::seconds(10)))
      << exporter->process().Stderr();

  // Warm-up: every step twice, so that each error code, log path and
  // allocation pattern has been seen before the baseline.
  for (int round = 0; round < 2; ++round) {
    for (const FaultStep& step : kRotation) {
      ASSERT_TRUE(ApplyStep(*mock, step)) << step.name;
      std::this_thread::sleep_for(kStepLength);
    }
  }
  ASSERT_TRUE(Heal(*mock, *exporter, std::chrono::seconds(10))) << exporter->process().Stderr();
  const Reading base = Quiet(*exporter);
  char line[512];
  std::snprintf(line, sizeof line,
                "baseline after warm-up: %.0f polls, process_open_fds %.0f (/proc: %d), RSS %s",
                base.polls, base.open_fds, base.proc_fds, FormatKiB(base.rss_kib).c_str());
  Note(line);
  ASSERT_GT(base.rss_kib, 0);
  ASSERT_GE(base.open_fds, 0) << "no process_open_fds in /metrics";

  // The soak: rotate until enough polls have happened, within the budget.
  int64_t rss_peak = base.rss_kib;
  double fds_peak = base.open_fds;
  double polls = base.polls;
  int scrapes_failed = 0;
  auto next_sample = Clock::now() + std::chrono::seconds(20);
  size_t i = 0;
  while (polls < kMinPolls && Clock::now() - test_start < kSoakBudget) {
    const FaultStep& step = kRotation[i++ % std::size(kRotation)];
    if (!ApplyStep(*mock, step)) {
      ADD_FAILURE() << "the mock refused fault step " << step.name;
      break;
    }
    std::this_thread::sleep_for(kStepLength);
    if (i % std::size(kRotation) == 0) {
      // Once per rotation: the exporter serves while the API misbehaves.
      const std::string text = exporter->Metrics();
      if (text.empty()) {
        ++scrapes_failed;
      } else {
        polls = Sum(text, kPolls);
        fds_peak = std::max(fds_peak, Sample(text, "process_open_fds").value_or(0));
      }
      if (!exporter->process().Running()) break;
      rss_peak = std::max(rss_peak, ResidentKiB(pid).value_or(0));
      if (Clock::now() >= next_sample) {
        next_sample += std::chrono::seconds(20);
        std::snprintf(
            line, sizeof line, "t+%llds: %.0f polls, RSS %s, /proc fds %d",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - test_start)
                    .count()),
            polls, FormatKiB(ResidentKiB(pid).value_or(-1)).c_str(), OpenFdCount(pid).value_or(-1));
        Note(line);
      }
    }
  }
  ASSERT_TRUE(exporter->process().Running())
      << "the exporter died during the soak: "
      << exporter->process().WaitExit(std::chrono::milliseconds(0)).value_or(-1) << "\n"
      << exporter->process().Stderr();

  // The API heals: the exporter must report it at once.
  ASSERT_TRUE(Heal(*mock, *exporter, std::chrono::seconds(5)))
      << "dashscope_up did not return to 1 within 5 s of the faults stopping\n"
      << exporter->process().Stderr();
  const Reading end = Quiet(*exporter);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - test_start).count();

  const std::string text = exporter->Metrics();
  std::string codes;
  for (const auto& [series, value] : ParseSamples(text)) {
    if (series.rfind(kApiErrors, 0) == 0)
      codes += "\n    " + series + " " + std::to_string(static_cast<int64_t>(value));
  }
  const double polls_in_soak = end.polls - base.polls;
  const double failed_in_soak = end.failures - base.failures;
  const int64_t growth_kib = end.rss_kib - base.rss_kib;
  const double growth = static_cast<double>(growth_kib) / static_cast<double>(base.rss_kib);
  std::snprintf(
      line, sizeof line,
      "%.0f polls in total (%.0f after warm-up, %.0f of them failed; %.0f API requests) in %llds; "
      "process_open_fds %.0f -> %.0f (peak seen %.0f; /proc %d -> %d); RSS %s -> %s (%+lld KiB, "
      "%+.1f%%; peak seen %s); scrapes failed during the soak: %d",
      end.polls, polls_in_soak, failed_in_soak, end.api_requests, static_cast<long long>(elapsed),
      base.open_fds, end.open_fds, fds_peak, base.proc_fds, end.proc_fds,
      FormatKiB(base.rss_kib).c_str(), FormatKiB(end.rss_kib).c_str(),
      static_cast<long long>(growth_kib), growth * 100, FormatKiB(rss_peak).c_str(),
      scrapes_failed);
  Note(line);
  Note("api errors by code:" + codes);
  RecordProperty("polls_total", std::to_string(static_cast<int64_t>(end.polls)));
  RecordProperty("rss_start_kib", std::to_string(base.rss_kib));
  RecordProperty("rss_end_kib", std::to_string(end.rss_kib));
  RecordProperty("open_fds_start", std::to_string(static_cast<int64_t>(base.open_fds)));
  RecordProperty("open_fds_end", std::to_string(static_cast<int64_t>(end.open_fds)));

  EXPECT_GE(end.polls, kMinPolls) << "too few polls within " << kSoakBudget.count() << " s";
  EXPECT_GT(failed_in_soak, polls_in_soak / 10)
      << "the faults hardly failed any poll: the soak did not soak";
  EXPECT_LT(failed_in_soak, polls_in_soak) << "no poll succeeded between the faults";
  EXPECT_EQ(scrapes_failed, 0) << "/metrics did not answer 200 during the soak";
  EXPECT_NEAR(end.open_fds, base.open_fds, kFdSlack) << "process_open_fds moved during the soak";
  EXPECT_NEAR(end.proc_fds, base.proc_fds, kFdSlack)
      << "/proc/" << pid << "/fd moved during the soak";
  if (kSanitizerBuild) {
    Note(
        "sanitizer build: RSS bound reported, not asserted (shadow memory and quarantine "
        "dominate)");
  } else {
    EXPECT_TRUE(growth <= kMaxRssGrowth || growth_kib <= kRssNoiseKiB)
        << "resident memory grew from " << FormatKiB(base.rss_kib) << " to "
        << FormatKiB(end.rss_kib);
  }
  EXPECT_EQ(exporter->process().pid(), pid);
  EXPECT_EQ(end.start_time, base.start_time)
      << "process_start_time_seconds changed: the exporter restarted";
  EXPECT_TRUE(exporter->process().Running());
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(),
            kDeploymentsPerAccount * kAccounts);

  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  EXPECT_EQ(exporter->process().WaitExit(std::chrono::seconds(10)), std::optional<int>(0))
      << exporter->process().Stderr();
}

}  // namespace
}  // namespace dse::testing::load
