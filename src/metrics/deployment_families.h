// The per-deployment metric families of the contract, rendered from our model
// into exposition text once per poll.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dashscope/deployment.h"

namespace dse::metrics {

enum class DeploymentFamily {
  kCapacity,
  kReadyCapacity,
  kBaseCapacity,
  kStatus,
  kInfo,
  kCreated,
  kModified,
  kRpmLimit,
  kTpmLimit,
  kUnexpectedStatus,
  kFailure,
  kStatusChanged,
  kStatusChanges,
  kPtuInputTpm,
  kPtuOutputTpm,
  kPrepaidExpiry,
};
inline constexpr size_t kDeploymentFamilyCount = 16;

// Label values cut shorter than kMaxLabelValueBytes, as the contract says.
inline constexpr size_t kMaxRawStatusBytes = 64;
inline constexpr size_t kMaxFailReasonBytes = 256;

struct FamilyDescription {
  std::string_view name;
  std::string_view help;
  std::string_view type;
};
const FamilyDescription& Describe(DeploymentFamily family);

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

// Sample lines (no HELP/TYPE) for every family, indexed by DeploymentFamily.
// A family whose field is absent on a deployment gets no line for it.
// `status_since[i]` belongs to `deployments[i]`; without it (empty) the
// status-changed families get no lines.
using DeploymentFamilyText = std::array<std::string, kDeploymentFamilyCount>;
DeploymentFamilyText RenderDeploymentFamilies(std::string_view account,
                                              const std::vector<dashscope::Deployment>& deployments,
                                              std::span<const StatusSince> status_since = {});

}  // namespace dse::metrics
