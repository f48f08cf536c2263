// The per-deployment metric families of the contract, declared once as a
// table (name, help, type and what writes a deployment's samples), from
// which the headers, the rendering and the exposition order all follow.
// Rendered from our model into exposition text once per poll.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dashscope/deployment.h"

namespace dse::metrics {

// Label values cut shorter than kMaxLabelValueBytes, as the contract says.
inline constexpr size_t kMaxRawStatusBytes = 64;
inline constexpr size_t kMaxFailReasonBytes = 256;

// The statuses the status family always lists; anything else counts as UNKNOWN.
inline constexpr std::array<std::string_view, 7> kKnownStatuses = {
    "PENDING", "UPDATING", "RUNNING", "STOPPED", "DELETING", "FAILED", "UNKNOWN"};
// The status a deployment is exported under.
std::string_view NormalizedStatus(const dashscope::Deployment& d);

// What this process has seen of one deployment's status over time (kept by
// the poller, see app/status_history.h).
struct StatusSince {
  int64_t changed_unix = 0;  // when it entered its current status
  uint64_t changes = 0;      // status changes seen
  bool operator==(const StatusSince&) const = default;
};

// One deployment as its families see it.
struct DeploymentRow {
  std::string_view account;
  const dashscope::Deployment& deployment;
  std::string_view status;   // NormalizedStatus(deployment), found once for all families
  const StatusSince* since;  // null when no status history is kept
};

struct DeploymentFamily {
  std::string_view name;
  std::string_view help;
  std::string_view type;
  // Appends the family's sample lines (no HELP/TYPE) for every deployment:
  // none for one whose field is absent, never a 0 in its place.
  void (*render)(std::string& out, std::string_view name, std::span<const DeploymentRow> rows);
  // Families of the status history get no lines when none is kept.
  bool needs_history = false;
  // About what one deployment's lines take, reserved up front so that
  // thousands of appends do not regrow the text; 0 for rare families.
  size_t bytes_per_deployment = 0;
};

// Every family, in exposition order.
std::span<const DeploymentFamily> DeploymentFamilies();

// Sample lines (no HELP/TYPE) of every family, in DeploymentFamilies()
// order. `status_since[i]` belongs to `deployments[i]`; without it (empty)
// the history families get no lines.
using DeploymentFamilyText = std::vector<std::string>;
DeploymentFamilyText RenderDeploymentFamilies(std::string_view account,
                                              const std::vector<dashscope::Deployment>& deployments,
                                              std::span<const StatusSince> status_since = {});

}  // namespace dse::metrics
