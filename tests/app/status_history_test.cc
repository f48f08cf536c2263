#include "app/status_history.h"

#include <gtest/gtest.h>

namespace dse::app {
namespace {

using metrics::StatusSince;

dashscope::Deployment D(std::string id, std::optional<std::string> status,
                        std::optional<int64_t> gmt_modified = std::nullopt) {
  dashscope::Deployment d;
  d.deployed_model = std::move(id);
  d.status = std::move(status);
  d.gmt_modified = gmt_modified;
  return d;
}

// What the poller keeps between polls: the last good data.
std::shared_ptr<const metrics::DeploymentData> Poll(
    const std::shared_ptr<const metrics::DeploymentData>& previous, std::vector<dashscope::Deployment> listed,
    int64_t now) {
  auto since = FollowStatuses(previous.get(), listed, now);
  return metrics::BuildDeploymentData("a", std::move(listed), std::move(since));
}

TEST(FollowStatuses, FirstSeenAtGmtModifiedNeverAfterThePoll) {
  const auto data =
      Poll(nullptr, {D("old", "RUNNING", 1000), D("future", "RUNNING", 9000), D("no_time", "RUNNING")}, 5000);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{1000, 0}, {5000, 0}, {5000, 0}}));
}

TEST(FollowStatuses, ChangesAreTimedAtThePollThatSawThemAndCounted) {
  auto data = Poll(nullptr, {D("m", "PENDING", 1000)}, 5000);
  data = Poll(data, {D("m", "PENDING", 1000)}, 5060);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{1000, 0}}));  // unchanged: kept
  data = Poll(data, {D("m", "RUNNING", 5100)}, 5120);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{5120, 1}}));  // the poll's time, not gmt_modified
  data = Poll(data, {D("m", "RUNNING", 5100)}, 5180);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{5120, 1}}));
  data = Poll(data, {D("m", "SCALING")}, 5240);  // raw statuses count, even both UNKNOWN
  data = Poll(data, {D("m", "DEPLOYING")}, 5300);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{5300, 3}}));
}

TEST(FollowStatuses, APollWithoutAStatusIsNoChange) {
  auto data = Poll(nullptr, {D("m", "PENDING", 1000)}, 5000);
  data = Poll(data, {D("m", std::nullopt)}, 5060);  // absent or a wrong type this once
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{1000, 0}}));
  data = Poll(data, {D("m", std::nullopt)}, 5120);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{1000, 0}}));
  // Back with a status: whatever it was before the gap, one change, now.
  data = Poll(data, {D("m", "RUNNING")}, 5180);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{5180, 1}}));
}

TEST(FollowStatuses, AVanishedDeploymentsHistoryGoesWithIt) {
  auto data = Poll(nullptr, {D("a", "PENDING", 100), D("b", "PENDING", 100)}, 1000);
  data = Poll(data, {D("a", "RUNNING"), D("b", "RUNNING")}, 1060);
  data = Poll(data, {D("b", "RUNNING")}, 1120);  // a gone
  ASSERT_EQ(data->deployments.size(), 1u);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{1060, 1}}));
  data = Poll(data, {D("a", "RUNNING", 200), D("b", "RUNNING")}, 1180);  // a back: first seen again
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{200, 0}, {1060, 1}}));
}

TEST(FollowStatuses, OrderOfTheListDoesNotMatter) {
  auto data = Poll(nullptr, {D("a", "PENDING", 100), D("b", "RUNNING", 100)}, 1000);
  data = Poll(data, {D("b", "RUNNING"), D("a", "RUNNING")}, 1060);
  EXPECT_EQ(data->status_since, (std::vector<StatusSince>{{100, 0}, {1060, 1}}));
}

TEST(FollowStatuses, DataWithoutHistoryStartsOne) {
  const auto plain = metrics::BuildDeploymentData("a", {D("a", "PENDING", 100)});
  EXPECT_EQ(FollowStatuses(plain.get(), {D("a", "RUNNING", 100)}, 1000),
            (std::vector<StatusSince>{{100, 0}}));
}

}  // namespace
}  // namespace dse::app
