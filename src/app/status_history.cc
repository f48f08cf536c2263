#include "app/status_history.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace dse::app {

std::vector<metrics::StatusSince> FollowStatuses(const metrics::DeploymentData* previous,
                                                 const std::vector<dashscope::Deployment>& listed,
                                                 int64_t now_unix) {
  // Only while this runs: previous position of each deployment with a history.
  std::unordered_map<std::string_view, size_t> before;
  if (previous != nullptr && previous->status_since.size() == previous->deployments.size()) {
    before.reserve(previous->deployments.size());
    for (size_t i = 0; i < previous->deployments.size(); ++i) {
      before.emplace(previous->deployments[i].deployed_model, i);
    }
  }
  std::vector<metrics::StatusSince> out;
  out.reserve(listed.size());
  for (const auto& d : listed) {
    const auto it = before.find(d.deployed_model);
    if (it == before.end()) {
      const int64_t changed = d.gmt_modified ? std::min(*d.gmt_modified, now_unix) : now_unix;
      out.push_back({changed, 0});
      continue;
    }
    const metrics::StatusSince& was = previous->status_since[it->second];
    if (previous->deployments[it->second].status == d.status) {
      out.push_back(was);
    } else {
      out.push_back({now_unix, was.changes + 1});
    }
  }
  return out;
}

}  // namespace dse::app
