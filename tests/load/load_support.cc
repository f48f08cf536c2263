#include "load_support.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "testing/harness.h"

namespace dse::testing::load {
namespace {

// wrk calls done() once at the end; defining no request()/response() hook
// keeps wrk on its fast path (no Lua per request, bodies not buffered).
constexpr char kDoneHook[] = R"lua(
done = function(summary, latency, requests)
  local e = summary.errors
  local function int(k, v) io.write(string.format("dse_wrk %s %.0f\n", k, v)) end
  local function real(k, v) io.write(string.format("dse_wrk %s %.3f\n", k, v)) end
  int("requests", summary.requests)
  int("duration_us", summary.duration)
  int("bytes", summary.bytes)
  int("errors_connect", e.connect)
  int("errors_read", e.read)
  int("errors_write", e.write)
  int("errors_status", e.status)
  int("errors_timeout", e.timeout)
  real("latency_mean_us", latency.mean)
  real("latency_stdev_us", latency.stdev)
  real("latency_max_us", latency.max)
  real("latency_p50_us", latency:percentile(50))
  real("latency_p99_us", latency:percentile(99))
end
)lua";

std::optional<double> HookValue(const std::string& output, const std::string& key) {
  const std::string prefix = "dse_wrk " + key + " ";
  for (const std::string& line : LinesStartingWith(output, prefix)) {
    const std::string value = line.substr(prefix.size());
    char* end = nullptr;
    const double d = std::strtod(value.c_str(), &end);
    if (!value.empty() && end == value.c_str() + value.size()) return d;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ResidentKiB(int pid) {
  const std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  for (const std::string& line : LinesStartingWith(status, "VmRSS:")) {
    // "VmRSS:	   12345 kB"
    const char* p = line.c_str() + 6;
    char* end = nullptr;
    const long long kib = std::strtoll(p, &end, 10);
    if (end != p) return kib;
  }
  return std::nullopt;
}

std::optional<int> OpenFdCount(int pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return std::nullopt;
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

ProcessSampler::ProcessSampler(int pid, std::chrono::milliseconds every) : pid_(pid) {
  thread_ = std::thread([this, every] {
    while (!stop_.load()) {
      if (const auto kib = ResidentKiB(pid_)) {
        const int fds = OpenFdCount(pid_).value_or(-1);
        std::lock_guard lock(mu_);
        readings_.push_back({Clock::now(), *kib, fds});
      }
      std::this_thread::sleep_for(every);
    }
  });
}

ProcessSampler::~ProcessSampler() {
  stop_ = true;
  thread_.join();
}

std::vector<ProcessSampler::Reading> ProcessSampler::Readings(Clock::time_point from,
                                                              Clock::time_point to) const {
  std::lock_guard lock(mu_);
  std::vector<Reading> out;
  for (const Reading& r : readings_) {
    if (r.at >= from && r.at <= to) out.push_back(r);
  }
  return out;
}

std::optional<int64_t> ProcessSampler::PeakKiB(Clock::time_point from, Clock::time_point to) const {
  std::optional<int64_t> peak;
  for (const Reading& r : Readings(from, to)) peak = std::max(peak.value_or(r.rss_kib), r.rss_kib);
  return peak;
}

std::optional<int64_t> ProcessSampler::FloorKiB(Clock::time_point from, Clock::time_point to) const {
  std::optional<int64_t> floor;
  for (const Reading& r : Readings(from, to)) floor = std::min(floor.value_or(r.rss_kib), r.rss_kib);
  return floor;
}

std::optional<int64_t> ProcessSampler::MedianKiB(Clock::time_point from, Clock::time_point to) const {
  std::vector<int64_t> kib;
  for (const Reading& r : Readings(from, to)) kib.push_back(r.rss_kib);
  if (kib.empty()) return std::nullopt;
  const auto middle = kib.begin() + static_cast<std::ptrdiff_t>(kib.size() / 2);
  std::nth_element(kib.begin(), middle, kib.end());
  return *middle;
}

size_t ProcessSampler::Count(Clock::time_point from, Clock::time_point to) const {
  return Readings(from, to).size();
}

std::optional<std::string> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string WrkReport::Summary() const {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "%llu requests in %.1fs (%.0f req/s, %.1f MiB read), latency mean %.2fms stdev %.2fms "
      "p50 %.2fms p99 %.2fms max %.2fms; errors: connect %llu read %llu write %llu timeout %llu, "
      "status>399 %llu",
      static_cast<unsigned long long>(requests), duration_seconds, RequestsPerSecond(),
      static_cast<double>(bytes) / (1024.0 * 1024.0), latency_mean_ms, latency_stdev_ms, latency_p50_ms,
      latency_p99_ms, latency_max_ms, static_cast<unsigned long long>(errors_connect),
      static_cast<unsigned long long>(errors_read), static_cast<unsigned long long>(errors_write),
      static_cast<unsigned long long>(errors_timeout), static_cast<unsigned long long>(errors_status));
  return buf;
}

WrkReport RunWrk(const std::string& wrk, std::vector<std::string> args, const std::string& url,
                 std::chrono::seconds timeout) {
  WrkReport report;
  const TempDir dir("dse_wrk");
  const std::string script = dir.File("done.lua");
  if (!WriteFile(script, kDoneHook)) {
    report.output = "cannot write " + script;
    return report;
  }
  args.push_back("-s");
  args.push_back(script);
  args.push_back(url);
  auto process = Process::Start(wrk, std::move(args));
  if (process == nullptr) {
    report.output = "cannot start " + wrk;
    return report;
  }
  report.exit_code = process->WaitExit(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  report.output = process->Stdout() + process->Stderr();
  process.reset();  // kills wrk if it overran

  const auto requests = HookValue(report.output, "requests");
  const auto duration = HookValue(report.output, "duration_us");
  const auto bytes = HookValue(report.output, "bytes");
  const auto connect = HookValue(report.output, "errors_connect");
  const auto read = HookValue(report.output, "errors_read");
  const auto write = HookValue(report.output, "errors_write");
  const auto status = HookValue(report.output, "errors_status");
  const auto tmo = HookValue(report.output, "errors_timeout");
  const auto mean = HookValue(report.output, "latency_mean_us");
  const auto stdev = HookValue(report.output, "latency_stdev_us");
  const auto max = HookValue(report.output, "latency_max_us");
  const auto p50 = HookValue(report.output, "latency_p50_us");
  const auto p99 = HookValue(report.output, "latency_p99_us");
  report.parsed = requests && duration && bytes && connect && read && write && status && tmo && mean &&
                  stdev && max && p50 && p99;
  if (report.parsed) {
    report.requests = static_cast<uint64_t>(*requests);
    report.duration_seconds = *duration / 1e6;
    report.bytes = static_cast<uint64_t>(*bytes);
    report.errors_connect = static_cast<uint64_t>(*connect);
    report.errors_read = static_cast<uint64_t>(*read);
    report.errors_write = static_cast<uint64_t>(*write);
    report.errors_status = static_cast<uint64_t>(*status);
    report.errors_timeout = static_cast<uint64_t>(*tmo);
    report.latency_mean_ms = *mean / 1e3;
    report.latency_stdev_ms = *stdev / 1e3;
    report.latency_max_ms = *max / 1e3;
    report.latency_p50_ms = *p50 / 1e3;
    report.latency_p99_ms = *p99 / 1e3;
  }

  static const std::regex non2xx(R"(Non-2xx or 3xx responses:\s*(\d+))");
  static const std::regex socket(R"(Socket errors:[^\n]*)");
  std::smatch m;
  if (std::regex_search(report.output, m, non2xx)) report.non_2xx_3xx_line = std::stoull(m[1].str());
  if (std::regex_search(report.output, m, socket)) report.socket_errors_line = m[0].str();
  return report;
}

double SumSamples(const std::map<std::string, double>& samples, const std::string& prefix,
                  const std::vector<std::string>& contains) {
  double sum = 0;
  for (auto it = samples.lower_bound(prefix); it != samples.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    bool all = true;
    for (const std::string& c : contains) all = all && it->first.find(c) != std::string::npos;
    if (all) sum += it->second;
  }
  return sum;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

std::string FormatKiB(int64_t kib) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld KiB (%.1f MiB)", static_cast<long long>(kib),
                static_cast<double>(kib) / 1024.0);
  return buf;
}

}  // namespace dse::testing::load
