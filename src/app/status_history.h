// When each deployment entered its current status, and how often this
// process saw its status change. The history is the previous good poll's
// published data (its deployments and their StatusSince), so it costs 16
// bytes a deployment, holds only what was last listed, and travels with
// that data to the poller that replaces this one on a reload.
#pragma once

#include <cstdint>
#include <vector>

#include "dashscope/deployment.h"
#include "metrics/deployment_families.h"
#include "metrics/exposition.h"

namespace dse::app {

// The StatusSince of each of `listed` (same order) as of a poll that ended
// at `now_unix`, given the previous good poll's data (null: none):
// - listed before with the same raw status, or listed now without one
//   (absent, or unreadable): unchanged;
// - listed before with another status, or without one and now with one:
//   changed at now_unix, one change more (a change hidden behind polls
//   without a status still counts once);
// - not listed before: changed at its gmt_modified, but never later than
//   now_unix (a wrong api_time_zone must not make a status look newer than
//   the poll that saw it); without gmt_modified, at now_unix; no changes.
// A deployment not in `listed` is forgotten.
std::vector<metrics::StatusSince> FollowStatuses(const metrics::DeploymentData* previous,
                                                 const std::vector<dashscope::Deployment>& listed,
                                                 int64_t now_unix);

}  // namespace dse::app
