// Poller soak: thousands of polls, 100 ms apart on each of several accounts
// (all pointing at one mock, so that thousands of polls take seconds, not
// minutes), while the mock's fault queue rotates through every way the API
// can fail. The exporter must neither leak descriptors nor memory, never
// restart, and come back up once the API heals.
//
// Leaks are judged on a trend, never on two readings: resident memory and
// open descriptors are sampled every 20 ms for the whole soak, each 1 s
// window is reduced to its floor (the heap's low point between polls), and a
// Theil-Sen slope is fitted to the floors. The same binary runs the long soak
// (scripts/long_soak.sh) with DSE_SOAK_SECONDS and DSE_SOAK_MIN_POLLS set.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "load_support.h"
#include "testing/harness.h"
#include "trend.h"

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

// What the test must achieve: at least this long and this many polls after
// the warm-up (the environment can ask for more), within the budget.
constexpr int kDefaultSoakSeconds = 60;
constexpr int kDefaultMinPolls = 2000;
constexpr auto kSoakBudget = std::chrono::seconds(270);
// Sampling: every 20 ms, floors over 1 s windows (10 poll cycles of each
// account, so every window contains the low point between two polls).
constexpr auto kSampleEvery = std::chrono::milliseconds(20);
constexpr double kWindowSeconds = 1.0;
constexpr int kWarmUpRotations = 8;
// The bound on the fitted growth of the resident floor, per poll. A leak of
// 1 KiB per poll fits at ~1.35 KiB/poll (allocator overhead included; shown
// by patching one in: see docs/reliability.md). Clean runs, once the heap
// has settled: the floor wanders by +-0.5 MiB with the heap's layout
// (glibc's sliding mmap threshold), 40 s windows (~3,000 polls) fitted at
// up to +0.23 KiB/poll, 60 s windows at less, and the 10-minute soak at
// ~0. Half the smallest leak we want to catch sits clear of all of them.
constexpr double kMaxRssSlopeKiBPerPoll = 0.5;
// Descriptors are whole numbers: the floors of the last third may not stand
// above those of the first third at all, and the fitted slope must stay
// below one descriptor per 10,000 polls. The floor is the process without
// its sockets to the API; the quiet readings (reported, not compared) also
// count each account's keep-alive connection, open or not at that moment.
constexpr double kMaxFdSlopePerPoll = 1e-4;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

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

// The floors of the samples in the soak, x in seconds from `from`; `fds`
// picks descriptors instead of resident memory.
std::vector<Point> Floors(const std::vector<ProcessSampler::Reading>& readings,
                          ProcessSampler::Clock::time_point from, bool fds) {
  std::vector<Point> samples;
  for (const auto& r : readings) {
    if (fds && r.fds < 0) continue;
    samples.push_back({std::chrono::duration<double>(r.at - from).count(),
                       fds ? static_cast<double>(r.fds) : static_cast<double>(r.rss_kib)});
  }
  return WindowFloors(samples, kWindowSeconds);
}

TEST(PollerSoak, ThousandsOfPollsWithRotatingFaults) {
  const auto test_start = Clock::now();
  const auto soak_length = std::chrono::seconds(EnvInt("DSE_SOAK_SECONDS", kDefaultSoakSeconds));
  const double min_polls = EnvInt("DSE_SOAK_MIN_POLLS", kDefaultMinPolls);
  const auto budget = std::max<std::chrono::seconds>(kSoakBudget, soak_length * 2);
  auto mock = Mock::Start({"--deployments", std::to_string(kDeploymentsPerAccount), "--tick", "1s"});
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock, kSoakConfig, ExtraAccounts(*mock)), {}, MockEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  const int pid = exporter->process().pid();
  ASSERT_TRUE(exporter->WaitForMetric(std::string(kUp) + " 1", std::chrono::seconds(10)))
      << exporter->process().Stderr();

  // Warm-up: every step eight times (~30 s, ~2,000 polls), so that each
  // error code, log path and allocation pattern has been seen and the heap
  // has settled before the soak: its floor rises by ~1 MiB over the first
  // 20-30 s after start and is flat from then on.
  for (int round = 0; round < EnvInt("DSE_SOAK_WARMUP_ROTATIONS", kWarmUpRotations); ++round) {
    for (const FaultStep& step : kRotation) {
      ASSERT_TRUE(ApplyStep(*mock, step)) << step.name;
      std::this_thread::sleep_for(kStepLength);
    }
  }
  ASSERT_TRUE(Heal(*mock, *exporter, std::chrono::seconds(10))) << exporter->process().Stderr();
  const Reading base = Quiet(*exporter);
  char line[1024];
  std::snprintf(line, sizeof line,
                "baseline after warm-up: %.0f polls, process_open_fds %.0f (/proc: %d), RSS %s", base.polls,
                base.open_fds, base.proc_fds, FormatKiB(base.rss_kib).c_str());
  Note(line);
  ASSERT_GT(base.rss_kib, 0);
  ASSERT_GE(base.open_fds, 0) << "no process_open_fds in /metrics";

  // The soak: rotate until it has lasted long enough and enough polls have
  // happened, within the budget. The sampler sees all of it.
  ProcessSampler sampler(pid, kSampleEvery);
  const auto soak_start = Clock::now();
  double polls = base.polls;
  int scrapes_failed = 0;
  auto next_note = soak_start + std::chrono::seconds(20);
  size_t i = 0;
  while ((polls - base.polls < min_polls || Clock::now() - soak_start < soak_length) &&
         Clock::now() - test_start < budget) {
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
      }
      if (!exporter->process().Running()) break;
      if (Clock::now() >= next_note) {
        next_note += std::chrono::seconds(20);
        const auto floors = Floors(sampler.Readings(soak_start, Clock::now()), soak_start, false);
        std::snprintf(
            line, sizeof line, "t+%llds: %.0f polls, RSS floor of the last second %s",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - soak_start).count()),
            polls - base.polls,
            FormatKiB(floors.empty() ? -1 : static_cast<int64_t>(floors.back().y)).c_str());
        Note(line);
      }
    }
  }
  const auto soak_end = Clock::now();
  ASSERT_TRUE(exporter->process().Running())
      << "the exporter died during the soak: "
      << exporter->process().WaitExit(std::chrono::milliseconds(0)).value_or(-1) << "\n"
      << exporter->process().Stderr();

  // The API heals: the exporter must report it at once.
  ASSERT_TRUE(Heal(*mock, *exporter, std::chrono::seconds(5)))
      << "dashscope_up did not return to 1 within 5 s of the faults stopping\n"
      << exporter->process().Stderr();
  const Reading end = Quiet(*exporter);
  const double soak_seconds = std::chrono::duration<double>(soak_end - soak_start).count();

  const std::string text = exporter->Metrics();
  std::string codes;
  for (const auto& [series, value] : ParseSamples(text)) {
    if (series.rfind(kApiErrors, 0) == 0)
      codes += "\n    " + series + " " + std::to_string(static_cast<int64_t>(value));
  }
  const double polls_in_soak = end.polls - base.polls;
  const double failed_in_soak = end.failures - base.failures;
  const double polls_per_second = polls_in_soak / soak_seconds;

  // The trend. Slopes come per second of the soak; the poll rate turns them
  // into growth per poll, which is what a leak in the poll path scales with.
  const auto readings = sampler.Readings(soak_start, soak_end);
  const auto rss_floors = Floors(readings, soak_start, false);
  const auto fd_floors = Floors(readings, soak_start, true);
  const double rss_slope_per_poll = TheilSenSlope(rss_floors) / polls_per_second;
  const double fd_slope_per_poll = TheilSenSlope(fd_floors) / polls_per_second;
  const Thirds rss_thirds = MedianThirds(rss_floors);
  const Thirds fd_thirds = MedianThirds(fd_floors);
  if (const char* path = std::getenv("DSE_SOAK_FLOORS_FILE"); path != nullptr && *path != '\0') {
    // Every floor, for plotting or refitting: seconds, RSS KiB, descriptors.
    if (std::FILE* f = std::fopen(path, "w")) {
      for (size_t k = 0; k < rss_floors.size(); ++k) {
        std::fprintf(f, "%.1f %.0f %.0f\n", rss_floors[k].x, rss_floors[k].y,
                     k < fd_floors.size() ? fd_floors[k].y : -1.0);
      }
      std::fclose(f);
    }
  }
  std::string trend;
  for (size_t k = 0; k < rss_floors.size(); k += std::max<size_t>(1, rss_floors.size() / 12)) {
    trend += " " + std::to_string(static_cast<int64_t>(rss_floors[k].y));
  }

  std::snprintf(line, sizeof line,
                "%.0f polls in %.0f s after warm-up (%.1f polls/s, %.0f failed; %.0f API requests in "
                "total); %zu samples, %zu one-second floors",
                polls_in_soak, soak_seconds, polls_per_second, failed_in_soak, end.api_requests,
                readings.size(), rss_floors.size());
  Note(line);
  std::snprintf(line, sizeof line,
                "RSS floor: median of first third %s, of last third %s; Theil-Sen slope %+.4f "
                "KiB/poll (%+.1f KiB per 1000 polls; bound %.2f KiB/poll)",
                FormatKiB(static_cast<int64_t>(rss_thirds.first)).c_str(),
                FormatKiB(static_cast<int64_t>(rss_thirds.last)).c_str(), rss_slope_per_poll,
                rss_slope_per_poll * 1000, kMaxRssSlopeKiBPerPoll);
  Note(line);
  Note("RSS floors across the soak (KiB):" + trend);
  std::snprintf(line, sizeof line,
                "descriptor floor: first third %.0f, last third %.0f; slope %+.6f per poll; "
                "quiet process_open_fds %.0f -> %.0f, /proc %d -> %d; scrapes failed: %d",
                fd_thirds.first, fd_thirds.last, fd_slope_per_poll, base.open_fds, end.open_fds,
                base.proc_fds, end.proc_fds, scrapes_failed);
  Note(line);
  Note("api errors by code:" + codes);
  RecordProperty("polls_total", std::to_string(static_cast<int64_t>(end.polls)));
  RecordProperty("rss_slope_bytes_per_poll", std::to_string(rss_slope_per_poll * 1024));
  RecordProperty("rss_floor_first_third_kib", std::to_string(rss_thirds.first));
  RecordProperty("rss_floor_last_third_kib", std::to_string(rss_thirds.last));

  EXPECT_GE(polls_in_soak, min_polls) << "too few polls within " << budget.count() << " s";
  ASSERT_GE(rss_floors.size(), 20u) << "too few sampling windows to fit a trend";
  EXPECT_GT(failed_in_soak, polls_in_soak / 10) << "the faults hardly failed any poll: the soak did not soak";
  EXPECT_LT(failed_in_soak, polls_in_soak) << "no poll succeeded between the faults";
  EXPECT_EQ(scrapes_failed, 0) << "/metrics did not answer 200 during the soak";
  EXPECT_LE(fd_thirds.last, fd_thirds.first) << "the descriptor floor rose during the soak";
  EXPECT_LT(fd_slope_per_poll, kMaxFdSlopePerPoll) << "open descriptors trend upwards";
  if (kSanitizerBuild) {
    Note(
        "sanitizer build: RSS trend reported, not asserted (shadow memory and quarantine "
        "dominate)");
  } else {
    EXPECT_LT(rss_slope_per_poll, kMaxRssSlopeKiBPerPoll)
        << "the resident floor grows by " << rss_slope_per_poll * 1024
        << " bytes per poll: a leak in the poll path";
  }
  EXPECT_EQ(exporter->process().pid(), pid);
  EXPECT_EQ(end.start_time, base.start_time) << "process_start_time_seconds changed: the exporter restarted";
  EXPECT_TRUE(exporter->process().Running());
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(),
            kDeploymentsPerAccount * kAccounts);

  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  EXPECT_EQ(exporter->process().WaitExit(std::chrono::seconds(10)), std::optional<int>(0))
      << exporter->process().Stderr();
}

}  // namespace
}  // namespace dse::testing::load
