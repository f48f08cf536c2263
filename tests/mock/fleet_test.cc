#include "mock/fleet.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include "mock/responses.h"

namespace dse::mock {
namespace {

Deployment At(const Fleet& fleet, size_t index) { return fleet.Page(index, 1).at(0); }

DeploymentEdit Edit(std::optional<std::string> status, std::optional<int64_t> capacity,
                    std::optional<int64_t> ready_capacity = std::nullopt) {
  DeploymentEdit edit;
  edit.status = std::move(status);
  edit.capacity = capacity;
  edit.ready_capacity = ready_capacity;
  return edit;
}

std::map<std::string, int> StatusCounts(const Fleet& fleet) {
  std::map<std::string, int> counts;
  for (const Deployment& d : fleet.Page(0, fleet.size())) ++counts[d.status];
  return counts;
}

TEST(Fleet, DefaultFleetAtTickZero) {
  Fleet fleet(FleetOptions{});
  EXPECT_EQ(fleet.size(), 12u);
  EXPECT_EQ(fleet.tick(), 0);
  EXPECT_EQ(StatusCounts(fleet),
            (std::map<std::string, int>{{"PENDING", 1}, {"RUNNING", 10}, {"STOPPED", 1}}));
  EXPECT_EQ(FormatApiTime(fleet.SimulatedTime(0)), "2025-06-17T11:00:00");
  EXPECT_EQ(FormatApiTime(fleet.SimulatedTime(3)), "2025-06-17T11:00:30");
}

TEST(Fleet, CreatedDeploymentRunsAfterTwoTicks) {
  Fleet fleet(FleetOptions{});
  Deployment d = At(fleet, 1);
  EXPECT_EQ(d.status, "PENDING");
  EXPECT_EQ(d.ready_capacity, 0);
  EXPECT_EQ(d.created_at, kEpochSeconds);
  EXPECT_EQ(d.modified_at, kEpochSeconds);
  fleet.Advance(1);
  EXPECT_EQ(At(fleet, 1).status, "PENDING");
  fleet.Advance(1);
  d = At(fleet, 1);
  EXPECT_EQ(d.status, "RUNNING");
  EXPECT_EQ(d.ready_capacity, d.capacity);
  EXPECT_EQ(d.modified_at, kEpochSeconds + 20);
  EXPECT_EQ(d.created_at, kEpochSeconds);
}

TEST(Fleet, ScaleUpLagsThreeTicks) {
  Fleet fleet(FleetOptions{});
  const Deployment before = At(fleet, 2);
  const int64_t c = before.capacity;
  EXPECT_EQ(c, before.base_capacity);
  for (int t = 0; t <= 2; ++t) {
    EXPECT_EQ(At(fleet, 2).capacity, c) << t;
    EXPECT_EQ(At(fleet, 2).status, "RUNNING");
    EXPECT_EQ(At(fleet, 2).modified_at, before.modified_at);
    fleet.Advance(1);
  }
  for (int t = 3; t <= 5; ++t) {
    const Deployment d = At(fleet, 2);
    EXPECT_EQ(d.capacity, 2 * c) << t;
    EXPECT_EQ(d.ready_capacity, c) << t;
    EXPECT_EQ(d.status, "UPDATING") << t;
    EXPECT_EQ(d.modified_at, kEpochSeconds + 30);
    fleet.Advance(1);
  }
  const Deployment after = At(fleet, 2);
  EXPECT_EQ(after.capacity, 2 * c);
  EXPECT_EQ(after.ready_capacity, 2 * c);
  EXPECT_EQ(after.status, "RUNNING");
  EXPECT_EQ(after.modified_at, kEpochSeconds + 60);
}

TEST(Fleet, IndexFiveFailsAtTickFourAndStays) {
  Fleet fleet(FleetOptions{});
  fleet.Advance(3);
  EXPECT_EQ(At(fleet, 5).status, "RUNNING");
  fleet.Advance(1);
  EXPECT_EQ(At(fleet, 5).status, "FAILED");
  EXPECT_EQ(At(fleet, 5).ready_capacity, 0);
  EXPECT_EQ(At(fleet, 5).modified_at, kEpochSeconds + 40);
  fleet.Advance(1000);
  EXPECT_EQ(At(fleet, 5).status, "FAILED");
  EXPECT_EQ(At(fleet, 3).status, "STOPPED");
  EXPECT_EQ(At(fleet, 3).ready_capacity, 0);
}

TEST(Fleet, StatusCountsAfterTheOneOffs) {
  Fleet fleet(FleetOptions{});
  fleet.Advance(4);
  EXPECT_EQ(StatusCounts(fleet),
            (std::map<std::string, int>{{"FAILED", 1}, {"RUNNING", 9}, {"STOPPED", 1}, {"UPDATING", 1}}));
  fleet.Advance(2);
  EXPECT_EQ(StatusCounts(fleet),
            (std::map<std::string, int>{{"FAILED", 1}, {"RUNNING", 10}, {"STOPPED", 1}}));
}

TEST(Fleet, AutoscaledCycle) {
  Fleet fleet(FleetOptions{});
  const int64_t c = At(fleet, 7).capacity;
  fleet.Advance(29);
  EXPECT_EQ(At(fleet, 7).capacity, c);
  fleet.Advance(1);  // 30
  EXPECT_EQ(At(fleet, 7).status, "UPDATING");
  EXPECT_EQ(At(fleet, 7).capacity, 2 * c);
  EXPECT_EQ(At(fleet, 7).ready_capacity, c);
  fleet.Advance(3);  // 33
  EXPECT_EQ(At(fleet, 7).status, "RUNNING");
  EXPECT_EQ(At(fleet, 7).ready_capacity, 2 * c);
  fleet.Advance(27);  // 60
  EXPECT_EQ(At(fleet, 7).capacity, c);
  EXPECT_EQ(At(fleet, 7).ready_capacity, c);
  EXPECT_EQ(At(fleet, 7).modified_at, kEpochSeconds + 600);
}

TEST(Fleet, FieldRulesByIndex) {
  Fleet fleet(FleetOptions{.count = 12});
  const std::regex id(R"([a-z0-9.\-]+-[0-9a-f]{8}-mock\d{3,})");
  std::set<std::string> ids;
  for (size_t i = 0; i < fleet.size(); ++i) {
    const Deployment d = At(fleet, i);
    SCOPED_TRACE(d.deployed_model);
    EXPECT_TRUE(std::regex_match(d.deployed_model, id));
    ids.insert(d.deployed_model);
    const char* plans[] = {"mu", "ptu", "lora", nullptr};
    if (plans[i % 4] != nullptr) {
      EXPECT_EQ(d.plan, plans[i % 4]);
    } else {
      EXPECT_FALSE(d.plan.has_value());
    }
    EXPECT_EQ(d.model_unit_spec.has_value(), i % 4 == 0);
    EXPECT_EQ(d.ptu_capacity.has_value(), i % 4 == 1);
    EXPECT_EQ(d.name.has_value(), i % 3 != 2);
    EXPECT_EQ(d.rpm_limit.has_value(), i % 2 == 0);
    EXPECT_EQ(d.capacity % d.base_capacity, 0);
    EXPECT_EQ(d.workspace_id, "llm-mock");
    EXPECT_LE(d.created_at, d.modified_at);
    EXPECT_EQ(d.creator.substr(9), "***");
  }
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(At(fleet, 0).deployed_model.substr(At(fleet, 0).deployed_model.size() - 8), "-mock001");
}

TEST(Fleet, SecondReleaseFieldsByIndex) {
  Fleet fleet(FleetOptions{.count = 16});
  for (size_t i = 0; i < fleet.size(); ++i) {
    const Deployment d = At(fleet, i);
    SCOPED_TRACE(d.deployed_model);
    EXPECT_EQ(d.rpm_limit_as_string, i % 6 == 4);
    EXPECT_EQ(d.pre_paid_expires_at.has_value(), i % 4 == 1);
    EXPECT_EQ(d.ptu_service_tier.has_value(), i % 4 == 1);
    EXPECT_EQ(d.overflow_strategy.has_value(), i % 4 == 1);
    if (d.pre_paid_expires_at) {
      EXPECT_GE(*d.pre_paid_expires_at - d.created_at, 5 * 365 * 86400);
      EXPECT_EQ(d.ptu_service_tier, i % 8 == 1 ? "ptu_fast" : "ptu_default");
    }
    EXPECT_FALSE(d.fail_reason.has_value());
  }
  // The first release's fleet is unchanged by these fields.
  EXPECT_EQ(At(fleet, 0).deployed_model, "qwen-plus-3ee61975-mock001");
}

TEST(Fleet, StatusesOutsideTheSevenPastIndexEleven) {
  Fleet fleet(FleetOptions{.count = 16});
  EXPECT_EQ(At(fleet, 12).status, "DEPLOYING");
  EXPECT_EQ(At(fleet, 12).ready_capacity, 0);
  EXPECT_EQ(At(fleet, 13).status, "WAIT_PRE_PAID_BILLING_TO_DEPLOYING");
  EXPECT_EQ(At(fleet, 13).plan, "ptu");
  EXPECT_EQ(At(fleet, 14).status, "SCALING");
  EXPECT_EQ(At(fleet, 14).ready_capacity * 2, At(fleet, 14).capacity);
  fleet.Advance(3);
  EXPECT_EQ(At(fleet, 12).status, "RUNNING");
  EXPECT_EQ(At(fleet, 12).modified_at, kEpochSeconds + 30);
  EXPECT_EQ(At(fleet, 13).status, "DEPLOYING");
  EXPECT_EQ(At(fleet, 13).modified_at, kEpochSeconds + 30);
  fleet.Advance(3);
  EXPECT_EQ(At(fleet, 13).status, "RUNNING");
  EXPECT_EQ(At(fleet, 13).ready_capacity, At(fleet, 13).capacity);
  EXPECT_EQ(At(fleet, 14).status, "RUNNING");
  EXPECT_EQ(At(fleet, 14).ready_capacity, At(fleet, 14).capacity);
  EXPECT_EQ(At(fleet, 14).modified_at, kEpochSeconds + 60);
}

TEST(Fleet, FailedDeploymentGivesAReasonAndPinsCanSetOne) {
  Fleet fleet(FleetOptions{});
  EXPECT_FALSE(At(fleet, 5).fail_reason.has_value());
  fleet.Advance(4);
  const Deployment failed = At(fleet, 5);
  EXPECT_EQ(failed.status, "FAILED");
  EXPECT_EQ(failed.fail_reason,
            "Insufficient resource: no free capacity for " + failed.model_name + " in this region");
  // A new status drops the reason; a pin may give one.
  ASSERT_TRUE(fleet.Pin(failed.deployed_model, Edit("RUNNING", std::nullopt)).ok());
  EXPECT_FALSE(At(fleet, 5).fail_reason.has_value());
  DeploymentEdit edit = Edit("FAILED", std::nullopt);
  edit.fail_reason = "quota exceeded";
  ASSERT_TRUE(fleet.Pin(failed.deployed_model, edit).ok());
  EXPECT_EQ(At(fleet, 5).fail_reason, "quota exceeded");
}

TEST(Fleet, DeterministicFromSeed) {
  auto render = [](const Fleet& f) {
    PageBody page;
    page.deployments = f.Page(0, f.size());
    return RenderPage(page);
  };
  EXPECT_EQ(render(Fleet(FleetOptions{.seed = 7})), render(Fleet(FleetOptions{.seed = 7})));
  EXPECT_NE(render(Fleet(FleetOptions{.seed = 7})), render(Fleet(FleetOptions{.seed = 8})));
  // Growing the fleet keeps the deployments already in it.
  Fleet small(FleetOptions{.count = 12, .seed = 7});
  Fleet large(FleetOptions{.count = 40, .seed = 7});
  PageBody a, b;
  a.deployments = small.Page(0, 12);
  b.deployments = large.Page(0, 12);
  EXPECT_EQ(RenderPage(a), RenderPage(b));
}

TEST(Fleet, LargeFleetAndPaging) {
  Fleet fleet(FleetOptions{.count = kMaxFleetSize});
  EXPECT_EQ(fleet.size(), kMaxFleetSize);
  const std::string last = At(fleet, kMaxFleetSize - 1).deployed_model;
  EXPECT_EQ(last.substr(last.size() - 11), "-mock100000");
  EXPECT_EQ(fleet.Page(kMaxFleetSize - 50, 200).size(), 50u);
  EXPECT_TRUE(fleet.Page(kMaxFleetSize, 200).empty());
  EXPECT_FALSE(fleet.Regenerate(kMaxFleetSize + 1).ok());
}

TEST(Fleet, RegenerateRestartsTheSchedule) {
  Fleet fleet(FleetOptions{});
  fleet.Advance(10);
  ASSERT_TRUE(fleet.Regenerate(6).ok());
  EXPECT_EQ(fleet.size(), 6u);
  EXPECT_EQ(At(fleet, 1).status, "PENDING");
  EXPECT_EQ(At(fleet, 1).created_at, fleet.SimulatedTime(10));
  fleet.Advance(4);
  EXPECT_EQ(At(fleet, 5).status, "FAILED");
  fleet.Reset();
  EXPECT_EQ(fleet.tick(), 0);
  EXPECT_EQ(fleet.size(), 12u);
}

TEST(Fleet, PinFreezesAtTheCurrentView) {
  Fleet fleet(FleetOptions{});
  const std::string id = At(fleet, 1).deployed_model;  // would turn RUNNING at tick 2
  fleet.Advance(1);
  ASSERT_TRUE(fleet.Pin(id, Edit(std::nullopt, 4, 1)).ok());
  fleet.Advance(5);
  const Deployment d = *fleet.Find(id);
  EXPECT_EQ(d.status, "PENDING");
  EXPECT_EQ(d.capacity, 4);
  EXPECT_EQ(d.ready_capacity, 1);
  EXPECT_EQ(d.modified_at, fleet.SimulatedTime(1));
  ASSERT_TRUE(fleet.Pin(id, Edit("SCALING", std::nullopt)).ok());
  EXPECT_EQ(fleet.Find(id)->status, "SCALING");
  EXPECT_EQ(fleet.Pin("nope", {}).error(), "no deployment nope");
  EXPECT_FALSE(fleet.Pin(id, Edit(std::nullopt, -1)).ok());
}

TEST(Fleet, AddAndRemove) {
  Fleet fleet(FleetOptions{});
  ASSERT_TRUE(fleet.Add("custom-1", {}).ok());
  EXPECT_EQ(fleet.size(), 13u);
  EXPECT_EQ(At(fleet, 12).deployed_model, "custom-1");
  EXPECT_EQ(fleet.Find("custom-1")->status, "PENDING");
  fleet.Advance(2);
  EXPECT_EQ(fleet.Find("custom-1")->status, "RUNNING");
  EXPECT_EQ(fleet.Find("custom-1")->ready_capacity, 1);

  DeploymentEdit edit = Edit("RUNNING", 2);
  edit.model_name = "qwen-max";
  ASSERT_TRUE(fleet.Add("custom-2", edit).ok());
  Deployment d = *fleet.Find("custom-2");
  EXPECT_EQ(d.status, "RUNNING");
  EXPECT_EQ(d.capacity, 2);
  EXPECT_EQ(d.ready_capacity, 2);
  EXPECT_EQ(d.model_name, "qwen-max");
  EXPECT_EQ(d.base_model, "qwen-max");
  EXPECT_FALSE(fleet.Add("custom-2", {}).ok());

  const std::string first = At(fleet, 0).deployed_model;
  ASSERT_TRUE(fleet.Remove(first).ok());
  EXPECT_FALSE(fleet.Find(first).has_value());
  EXPECT_EQ(fleet.size(), 13u);
  EXPECT_EQ(fleet.Find("custom-2")->deployed_model, "custom-2");  // the index follows the erase
  EXPECT_FALSE(fleet.Remove(first).ok());
}

}  // namespace
}  // namespace dse::mock
