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

#include "metrics/text_format.h"

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

// /proc/self/statm and /proc/self/fd, opened once: on every scrape, resolving
// the two paths cost more than reading them. Each is -1 when it could not be
// opened; the paths are used then.
struct ProcFiles {
  int statm = -1;   // read with pread: each read from offset 0 is fresh
  int fd_dir = -1;  // O_PATH; fstat gives the descriptor count (below)
  int kept() const { return (statm >= 0 ? 1 : 0) + (fd_dir >= 0 ? 1 : 0); }
};

const ProcFiles& Files() {
  static const ProcFiles files = [] {
    ProcFiles f;
    f.statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    f.fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return f;
  }();
  return files;
}

// Reads a small /proc file into `buffer` (NUL-terminated): with pread from
// `fd` when it is open, else by path.
std::string_view ReadProcFile(int fd, const char* path, char (&buffer)[1024]) {
  ssize_t got = -1;
  if (fd >= 0) {
    got = pread(fd, buffer, sizeof buffer - 1, 0);
  } else if (const int opened = open(path, O_RDONLY | O_CLOEXEC); opened >= 0) {
    got = read(opened, buffer, sizeof buffer - 1);
    close(opened);
  }
  const size_t n = got > 0 ? static_cast<size_t>(got) : 0;
  buffer[n] = '\0';
  return {buffer, n};
}

// Field `number` (from 1) of space-separated unsigned decimals; 0 if absent.
uint64_t Field(std::string_view text, int number) {
  for (int i = 1; i <= number; ++i) {
    const size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return 0;
    text.remove_prefix(start);
    const std::string_view field = text.substr(0, text.find(' '));
    text.remove_prefix(field.size());
    if (i == number) {
      uint64_t v = 0;
      std::from_chars(field.data(), field.data() + field.size(), v);
      return v;
    }
  }
  return 0;
}

// Start time of the process in clock ticks after boot: /proc/self/stat field
// 22. The command name (field 2) may contain spaces and parentheses, so
// fields are counted from the last ')'.
double StartTicks() {
  char buffer[1024];
  const std::string_view line = ReadProcFile(-1, "/proc/self/stat", buffer);
  const size_t close_paren = line.rfind(')');
  if (close_paren == std::string_view::npos) return 0;
  return static_cast<double>(Field(line.substr(close_paren + 1), 22 - 2));
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // Neither changes: /proc/stat (long on many-CPU machines) and
  // /proc/self/stat are read once.
  static const double start_time =
      ticks_per_second > 0 ? BootTimeSeconds() + StartTicks() / static_cast<double>(ticks_per_second) : 0;
  const ProcFiles& proc = Files();

  // This runs on every scrape, and /proc/self/stat costs the kernel a walk
  // over every thread and fifty formatted fields. The same numbers come
  // cheaper from getrusage (CPU time: utime and stime each cut to whole
  // clock ticks, as /proc/self/stat has them) and /proc/self/statm (total
  // and resident size in pages).
  rusage usage{};
  if (ticks_per_second > 0 && getrusage(RUSAGE_SELF, &usage) == 0) {
    const int64_t micros_per_tick = 1'000'000 / ticks_per_second;
    const auto whole_ticks = [micros_per_tick](const timeval& t) {
      return (static_cast<int64_t>(t.tv_sec) * 1'000'000 + t.tv_usec) / micros_per_tick;
    };
    s.cpu_seconds = static_cast<double>(whole_ticks(usage.ru_utime) + whole_ticks(usage.ru_stime)) /
                    static_cast<double>(ticks_per_second);
  }
  s.start_time_seconds = start_time;
  char buffer[1024];
  const std::string_view statm = ReadProcFile(proc.statm, "/proc/self/statm", buffer);
  s.virtual_memory_bytes = static_cast<double>(Field(statm, 1)) * page;
  s.resident_memory_bytes = static_cast<double>(Field(statm, 2)) * page;

  // Since Linux 6.2 the size of /proc/self/fd is the number of open
  // descriptors: one stat() instead of listing the directory, for which the
  // kernel builds an entry per descriptor. Older kernels report 0. The
  // descriptors kept by Files() are not counted, as the directory stream's
  // own never was.
  struct stat fd_dir {};
  const int stat_result = proc.fd_dir >= 0 ? fstat(proc.fd_dir, &fd_dir) : ::stat("/proc/self/fd", &fd_dir);
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

void AppendProcessText(std::string& out, const ProcessStats& stats) {
  const auto family = [&out](std::string_view name, std::string_view help, std::string_view type,
                             double value) {
    AppendHeader(out, name, help, type);
    out += name;
    out.push_back(' ');
    AppendValue(out, value);
    out.push_back('\n');
  };
  family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
         stats.cpu_seconds);
  family("process_open_fds", "Number of open file descriptors.", "gauge", stats.open_fds);
  if (stats.max_fds) {
    family("process_max_fds", "Maximum number of open file descriptors.", "gauge", *stats.max_fds);
  }
  family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
         stats.virtual_memory_bytes);
  family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
         stats.resident_memory_bytes);
  family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
         stats.start_time_seconds);
}

}  // namespace dse::metrics
