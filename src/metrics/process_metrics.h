// The standard process_* metrics, read from /proc/self at scrape time.
#pragma once

#include <optional>
#include <string>

namespace dse::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;
  double open_fds = 0;
  std::optional<double> max_fds;
};

// Reads /proc/self/{stat,fd} and RLIMIT_NOFILE; fields it cannot read stay 0.
ProcessStats ReadProcessStats();

// Appends the process_* families in exposition text, with text_format, as
// the other families are written.
void AppendProcessText(std::string& out, const ProcessStats& stats);

}  // namespace dse::metrics
