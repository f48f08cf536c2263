#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include "testing/gzip.h"

namespace dse::metrics {
namespace {

std::string Join(const ScrapeBody& body) {
  std::string s;
  for (auto p : body.pieces) s.append(p);
  EXPECT_EQ(s.size(), body.size);
  return s;
}

using testing::Gunzip;

dashscope::Deployment Dep(std::string id, std::string status, double cap) {
  dashscope::Deployment d;
  d.deployed_model = std::move(id);
  d.workspace_id = "ws";
  d.status = std::move(status);
  d.capacity = cap;
  return d;
}

std::shared_ptr<AccountSnapshot> Snapshot(std::string account, std::vector<dashscope::Deployment> ds) {
  auto s = std::make_shared<AccountSnapshot>();
  s->view.name = account;
  s->data = BuildDeploymentData(account, std::move(ds));
  return s;
}

// The accounts a store is told of, by name: it keeps data only of those.
std::vector<AccountView> Accounts(const std::vector<std::string>& names) {
  std::vector<AccountView> out(names.size());
  for (size_t i = 0; i < names.size(); ++i) out[i].name = names[i];
  return out;
}

TEST(ExpositionStore, GroupsEachFamilyAcrossAccounts) {
  ExpositionStore store;
  store.SetAccounts(Accounts({"a", "b"}));
  store.Publish(Snapshot("a", {Dep("m1", "RUNNING", 1)}));
  store.Publish(Snapshot("b", {Dep("m2", "FAILED", 2)}));
  const std::string text = Join(AssembleScrapeBody(store.Current(), "", false));
  const std::string expected_start =
      "# HELP dashscope_deployment_capacity Compute units the deployment is set to use (capacity), from the "
      "last background poll.\n"
      "# TYPE dashscope_deployment_capacity gauge\n"
      "dashscope_deployment_capacity{account=\"a\",workspace_id=\"ws\",deployed_model=\"m1\"} 1\n"
      "dashscope_deployment_capacity{account=\"b\",workspace_id=\"ws\",deployed_model=\"m2\"} 2\n"
      "# HELP dashscope_deployment_status ";
  EXPECT_EQ(text.substr(0, expected_start.size()), expected_start);
  // Families without samples (ready capacity, limits...) are left out.
  EXPECT_EQ(text.find("dashscope_deployment_ready_capacity"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE dashscope_deployment_status gauge"),
            text.rfind("# TYPE dashscope_deployment_status gauge"));
}

TEST(ExpositionStore, PublishReplacesWholeAccountAndVanishedDeploymentsGo) {
  ExpositionStore store;
  store.SetAccounts(Accounts({"a"}));
  store.Publish(Snapshot("a", {Dep("m1", "RUNNING", 1), Dep("m2", "RUNNING", 1)}));
  auto before = store.Current();
  store.Publish(Snapshot("a", {Dep("m2", "RUNNING", 3)}));
  const std::string old_text = Join(AssembleScrapeBody(before, "", false));
  const std::string new_text = Join(AssembleScrapeBody(store.Current(), "", false));
  // A scrape that began before the publish still sees the whole old poll.
  EXPECT_NE(old_text.find("deployed_model=\"m1\""), std::string::npos);
  EXPECT_EQ(new_text.find("deployed_model=\"m1\""), std::string::npos);
  EXPECT_NE(new_text.find("deployed_model=\"m2\"} 3\n"), std::string::npos);
}

TEST(AssembleScrapeBody, GzipIsOneValidMemberEqualToPlain) {
  ExpositionStore store;
  store.SetAccounts(Accounts({"a", "b"}));
  std::vector<dashscope::Deployment> many;
  for (int i = 0; i < 500; ++i)
    many.push_back(Dep("m" + std::to_string(i), i % 3 ? "RUNNING" : "PENDING", i));
  store.Publish(Snapshot("a", many));
  store.Publish(Snapshot("b", {Dep("x", "STOPPED", 0)}));
  const std::string tail = "# HELP t t\n# TYPE t gauge\nt 1\n";
  const std::string plain = Join(AssembleScrapeBody(store.Current(), tail, false));
  const auto gz = AssembleScrapeBody(store.Current(), tail, true);
  EXPECT_TRUE(gz.gzip);
  const std::string compressed = Join(gz);
  EXPECT_LT(compressed.size() * 8, plain.size());
  EXPECT_EQ(Gunzip(compressed), plain);
  EXPECT_EQ(plain.substr(plain.size() - tail.size()), tail);
}

TEST(AssembleScrapeBody, EmptyExpositionStillValidGzip) {
  ExpositionStore store;
  EXPECT_EQ(Gunzip(Join(AssembleScrapeBody(store.Current(), "", true))), "");
  EXPECT_EQ(Gunzip(Join(AssembleScrapeBody(store.Current(), "x 1\n", true))), "x 1\n");
}

TEST(ExpositionStore, ReloadKeepsDataOfRemainingAccountsOnly) {
  ExpositionStore store;
  store.SetAccounts(Accounts({"a", "b"}));
  store.Publish(Snapshot("a", {Dep("m1", "RUNNING", 1)}));
  store.Publish(Snapshot("b", {Dep("m2", "RUNNING", 1)}));
  store.SetAccounts(Accounts({"b"}));
  const std::string text = Join(AssembleScrapeBody(store.Current(), "", false));
  EXPECT_EQ(text.find("account=\"a\""), std::string::npos);
  EXPECT_NE(text.find("account=\"b\""), std::string::npos);
  // A late result of a removed account is dropped.
  store.Publish(Snapshot("a", {Dep("m1", "RUNNING", 1)}));
  EXPECT_EQ(Join(AssembleScrapeBody(store.Current(), "", false)).find("account=\"a\""), std::string::npos);
}

// A poll that lists what the last one did reuses its data whole; one that
// differs renders afresh, and what it keeps from before (families whose lines
// came out the same) is exactly what a build from scratch makes.
TEST(BuildDeploymentData, AnUnchangedPollReturnsThePreviousData) {
  const std::vector<dashscope::Deployment> ds = {Dep("m1", "RUNNING", 1), Dep("m2", "PENDING", 2)};
  const std::vector<StatusSince> since = {{100, 0}, {200, 1}};
  const auto first = BuildDeploymentData("a", ds, since);
  EXPECT_EQ(BuildDeploymentData("a", ds, since, first).get(), first.get());
  EXPECT_NE(BuildDeploymentData("b", ds, since, first).get(), first.get());
  EXPECT_NE(BuildDeploymentData("a", ds, {{100, 0}, {300, 2}}, first).get(), first.get());
}

TEST(BuildDeploymentData, AChangedPollMatchesABuildFromScratch) {
  std::vector<dashscope::Deployment> ds = {Dep("m1", "RUNNING", 1), Dep("m2", "PENDING", 2)};
  const std::vector<StatusSince> since = {{100, 0}, {200, 1}};
  const auto first = BuildDeploymentData("a", ds, since);
  ds[1].capacity = 3;
  const auto next = BuildDeploymentData("a", ds, since, first);
  const auto scratch = BuildDeploymentData("a", ds, since);
  ASSERT_NE(next.get(), first.get());
  EXPECT_EQ(next->deployments, scratch->deployments);
  ASSERT_EQ(next->families.size(), DeploymentFamilies().size());
  for (size_t f = 0; f < next->families.size(); ++f) {
    EXPECT_EQ(next->families[f].text, scratch->families[f].text) << "family " << f;
    EXPECT_EQ(next->families[f].deflated, scratch->families[f].deflated) << "family " << f;
    EXPECT_EQ(next->families[f].crc, scratch->families[f].crc) << "family " << f;
  }
  const size_t capacity = 0;
  ASSERT_EQ(DeploymentFamilies()[capacity].name, "dashscope_deployment_capacity");
  EXPECT_NE(next->families[capacity].text, first->families[capacity].text);
  EXPECT_NE(next->families[capacity].text.find("deployed_model=\"m2\"} 3\n"), std::string::npos)
      << next->families[capacity].text;
}

}  // namespace
}  // namespace dse::metrics
