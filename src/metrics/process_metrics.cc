#include "metrics/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace dse::metrics {
namespace {

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

// /proc/self/stat and /proc/self/fd, opened once: on every scrape, resolving
// the two paths cost more than reading them. Each is -1 when it could not be
// opened; the paths are used then.
struct ProcFiles {
  int stat = -1;    // read with pread: each read from offset 0 is fresh
  int fd_dir = -1;  // O_PATH; fstat gives the descriptor count (below)
  int kept() const { return (stat >= 0 ? 1 : 0) + (fd_dir >= 0 ? 1 : 0); }
};

const ProcFiles& Files() {
  static const ProcFiles files = [] {
    ProcFiles f;
    f.stat = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    f.fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return f;
  }();
  return files;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  const ProcFiles& proc = Files();
  // Read with one read() into a buffer: this runs on every scrape, and a
  // stream costs more than reading the file (a few hundred bytes).
  char buffer[1024];
  ssize_t got = -1;
  if (proc.stat >= 0) {
    got = pread(proc.stat, buffer, sizeof buffer - 1, 0);
  } else if (const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC); fd >= 0) {
    got = read(fd, buffer, sizeof buffer - 1);
    close(fd);
  }
  const std::string_view line(buffer, got > 0 ? static_cast<size_t>(got) : 0);
  // The command name (field 2) may contain spaces and parentheses: the fields
  // we need are counted from the last ')'.
  const size_t close_paren = line.rfind(')');
  if (close_paren != std::string_view::npos && ticks > 0) {
    // Fields after the name start at 3 (state); utime=14, stime=15,
    // starttime=22, vsize=23, rss=24. All are unsigned decimals.
    double utime = 0, stime = 0, starttime = 0, vsize = 0, rss = 0;
    std::string_view rest = line.substr(close_paren + 1);
    for (int i = 3; i <= 24; ++i) {
      const size_t start = rest.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      const std::string_view field = rest.substr(0, rest.find(' '));
      rest.remove_prefix(field.size());
      uint64_t v = 0;
      std::from_chars(field.data(), field.data() + field.size(), v);
      if (i == 14) utime = static_cast<double>(v);
      if (i == 15) stime = static_cast<double>(v);
      if (i == 22) starttime = static_cast<double>(v);
      if (i == 23) vsize = static_cast<double>(v);
      if (i == 24) rss = static_cast<double>(v);
    }
    // The boot time does not change: /proc/stat (long on many-CPU machines)
    // is read once.
    static const double boot_time = BootTimeSeconds();
    s.cpu_seconds = (utime + stime) / ticks;
    s.start_time_seconds = boot_time + starttime / ticks;
    s.virtual_memory_bytes = vsize;
    s.resident_memory_bytes = rss * page;
  }

  // Since Linux 6.2 the size of /proc/self/fd is the number of open
  // descriptors: one stat() instead of listing the directory, for which the
  // kernel builds an entry per descriptor. Older kernels report 0. The
  // descriptors kept by Files() are not counted, as the directory stream's
  // own never was.
  struct stat fd_dir {};
  const int stat_result =
      proc.fd_dir >= 0 ? fstat(proc.fd_dir, &fd_dir) : ::stat("/proc/self/fd", &fd_dir);
  if (stat_result == 0 && fd_dir.st_size > 0) {
    s.open_fds = static_cast<double>(fd_dir.st_size - proc.kept());
  } else if (DIR* dir = opendir("/proc/self/fd")) {
    int n = 0;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(dir);
    s.open_fds = n - 1 - proc.kept();  // nor the directory stream's own
  }

  // The soft limit, as /proc/self/limits shows it under "Max open files".
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    s.max_fds = static_cast<double>(files.rlim_cur);
  }
  return s;
}

std::vector<prometheus::MetricFamily> ProcessFamilies(const ProcessStats& stats) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                       MetricType::Counter, stats.cpu_seconds));
  out.push_back(Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                       stats.open_fds));
  if (stats.max_fds) {
    out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, *stats.max_fds));
  }
  out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       MetricType::Gauge, stats.virtual_memory_bytes));
  out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::Gauge, stats.resident_memory_bytes));
  out.push_back(Family("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                       stats.start_time_seconds));
  return out;
}

}  // namespace dse::metrics
