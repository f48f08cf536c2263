#include "app/status_history.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace dse::app {

std::vector<metrics::StatusSince> FollowStatuses(const metrics::DeploymentData* previous,
                                                 const std::vector<dashscope::Deployment>& listed,
                                                 int64_t now_unix) {
  const bool has_history =
      previous != nullptr && previous->status_since.size() == previous->deployments.size();
  const size_t before_count = has_history ? previous->deployments.size() : 0;
  // The API lists in a stable order, so a deployment is usually where it was
  // last poll; the map of previous positions is built only when one is not.
  std::unordered_map<std::string_view, size_t> moved;
  const auto previous_position = [&](size_t i, std::string_view id) -> std::optional<size_t> {
    if (i < before_count && previous->deployments[i].deployed_model == id) return i;
    if (before_count == 0) return std::nullopt;
    if (moved.empty()) {
      moved.reserve(before_count);
      for (size_t k = 0; k < before_count; ++k) moved.emplace(previous->deployments[k].deployed_model, k);
    }
    const auto it = moved.find(id);
    if (it == moved.end()) return std::nullopt;
    return it->second;
  };

  std::vector<metrics::StatusSince> out;
  out.reserve(listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    const auto& d = listed[i];
    const std::optional<size_t> was_at = previous_position(i, d.deployed_model);
    if (!was_at) {
      const int64_t changed = d.gmt_modified ? std::min(*d.gmt_modified, now_unix) : now_unix;
      out.push_back({changed, 0});
      continue;
    }
    const metrics::StatusSince& was = previous->status_since[*was_at];
    // No status (absent, or dropped as a wrong type) says nothing about a
    // change: one bad record must not look like a flap.
    if (!d.status || previous->deployments[*was_at].status == d.status) {
      out.push_back(was);
    } else {
      out.push_back({now_unix, was.changes + 1});
    }
  }
  return out;
}

}  // namespace dse::app
