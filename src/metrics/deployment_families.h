// The per-deployment metric families of the contract, rendered from our model
// into exposition text once per poll.
#pragma once

#include <array>
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
};
inline constexpr size_t kDeploymentFamilyCount = 9;

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

// Sample lines (no HELP/TYPE) for every family, indexed by DeploymentFamily.
// A family whose field is absent on a deployment gets no line for it.
using DeploymentFamilyText = std::array<std::string, kDeploymentFamilyCount>;
DeploymentFamilyText RenderDeploymentFamilies(std::string_view account,
                                              const std::vector<dashscope::Deployment>& deployments);

}  // namespace dse::metrics
