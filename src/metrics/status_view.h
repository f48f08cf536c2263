// A read-only picture of every account for the landing page and /readyz.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dashscope/deployment.h"

namespace dse::metrics {

struct AccountView {
  std::string name;
  std::string base_url;
  std::string workspace;
  bool up = false;                           // last poll succeeded
  std::optional<int64_t> last_success_unix;  // seconds; unset until a poll succeeds
  std::optional<int64_t> last_poll_unix;     // seconds, end of last poll
  double last_poll_duration_seconds = 0;
  std::string last_error;              // empty when up; never contains the key
  bool data_dropped_as_stale = false;  // last good data older than max_staleness
  // The deployments currently exported for this account (empty when none or dropped).
  std::shared_ptr<const std::vector<dashscope::Deployment>> deployments;

  bool ever_succeeded() const { return last_success_unix.has_value(); }
};

struct StatusView {
  std::vector<AccountView> accounts;
  std::string version;
  std::string revision;
  std::string telemetry_path;
};

}  // namespace dse::metrics
