#include "app/account_poller.h"

#include <gtest/gtest.h>

#include <functional>

#include "testing/fake_clock.h"
#include "testing/fake_fetcher.h"

namespace dse::app {
namespace {

using namespace std::chrono_literals;

using testing::FakeClock;
using testing::FakeFetcher;

dashscope::RequestOutcome Good(std::vector<std::string> ids) {
  dashscope::RequestOutcome o;
  o.ok = true;
  o.page.total = static_cast<int64_t>(ids.size());
  for (auto& id : ids) {
    dashscope::Deployment d;
    d.deployed_model = id;
    d.capacity = 1;
    o.page.deployments.push_back(d);
  }
  return o;
}

dashscope::RequestOutcome Bad(std::string code) {
  dashscope::RequestOutcome o;
  o.error_code = std::move(code);
  o.error_message = "HTTP 401 " + o.error_code;
  return o;
}

struct PollerTest : ::testing::Test {
  FakeClock clock;
  metrics::ExporterMetrics metrics{"v", "r"};
  metrics::ExpositionStore store;
  FakeFetcher* fetcher = nullptr;
  std::unique_ptr<AccountPoller> poller;

  void Make(PollSettings settings = {}, int api_time_zone_seconds = 0) {
    metrics::AccountView v;
    v.name = "a";
    store.SetAccounts({v});
    auto f = std::make_unique<FakeFetcher>();
    fetcher = f.get();
    config::Account account;
    account.name = "a";
    account.base_url = "http://127.0.0.1:1";
    account.api_time_zone_seconds = api_time_zone_seconds;
    settings.list.max_retries = 0;
    poller = std::make_unique<AccountPoller>(account, settings, metrics, store, clock, std::move(f));
  }
  std::string Text() {
    std::string s;
    for (auto p : metrics::AssembleScrapeBody(store.Current(), metrics.RenderText(), false).pieces) s += p;
    return s;
  }
  bool Has(const std::string& line) { return Text().find("\n" + line + "\n") != std::string::npos; }
};

TEST_F(PollerTest, FailedPollKeepsLastGoodDataAndSetsUpToZero) {
  Make();
  fetcher->serve = [](int64_t, int) { return Good({"m1"}); };
  EXPECT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_up{account="a"} 1)"));
  fetcher->serve = [](int64_t, int) { return Bad("InvalidApiKey"); };
  clock.Advance(60s);
  EXPECT_FALSE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_up{account="a"} 0)"));
  EXPECT_TRUE(Has(R"(dashscope_deployment_capacity{account="a",workspace_id="",deployed_model="m1"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_api_errors_total{account="a",code="InvalidApiKey"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_poll_failures_total{account="a"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_last_successful_poll_timestamp_seconds{account="a"} 1800000000)"));
  EXPECT_EQ(store.Accounts()[0]->view.last_error, "page 1: HTTP 401 InvalidApiKey");
}

// One deployment "m1" in `status`, modified at `gmt_modified` (API time).
dashscope::RequestOutcome WithStatus(std::string status, std::optional<int64_t> gmt_modified = std::nullopt) {
  auto o = Good({"m1"});
  o.page.deployments[0].status = std::move(status);
  o.page.deployments[0].gmt_modified = gmt_modified;
  o.page.deployments[0].zoneless.gmt_modified = gmt_modified.has_value();
  return o;
}

constexpr char kChanged[] =
    R"(dashscope_deployment_status_changed_timestamp_seconds{account="a",workspace_id="",deployed_model="m1"} )";
constexpr char kChanges[] =
    R"(dashscope_deployment_status_changes_total{account="a",workspace_id="",deployed_model="m1"} )";

TEST_F(PollerTest, StatusChangesAreFollowedAcrossPollsAndFailedPolls) {
  Make();
  fetcher->serve = [](int64_t, int) { return WithStatus("PENDING", 1'799'999'000); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(std::string(kChanged) + "1799999000"));  // first seen: its gmt_modified
  EXPECT_TRUE(Has(std::string(kChanges) + "0"));
  clock.Advance(60s);
  fetcher->serve = [](int64_t, int) { return WithStatus("DEPLOYING", 1'800'000'030); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(std::string(kChanged) + "1800000060"));  // seen changing at this poll
  EXPECT_TRUE(Has(std::string(kChanges) + "1"));
  EXPECT_TRUE(Has(
      R"(dashscope_deployment_unexpected_status_info{account="a",workspace_id="",deployed_model="m1",raw_status="DEPLOYING"} 1)"));
  clock.Advance(60s);
  fetcher->serve = [](int64_t, int) { return Bad("InternalError"); };
  EXPECT_FALSE(poller->PollOnce().ok);
  clock.Advance(60s);
  fetcher->serve = [](int64_t, int) { return WithStatus("RUNNING", 1'800'000'150); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(std::string(kChanged) + "1800000180"));
  EXPECT_TRUE(Has(std::string(kChanges) + "2"));
  EXPECT_EQ(Text().find("dashscope_deployment_unexpected_status_info{"), std::string::npos);
  clock.Advance(60s);
  ASSERT_TRUE(poller->PollOnce().ok);  // same status: nothing moves
  EXPECT_TRUE(Has(std::string(kChanged) + "1800000180"));
  EXPECT_TRUE(Has(std::string(kChanges) + "2"));
}

TEST_F(PollerTest, ApiTimeZoneAppliesToTheApisTimes) {
  Make({}, 8 * 3600);  // +08:00
  // 08:00 later than the poll in UTC, but the same instant in +08:00.
  fetcher->serve = [](int64_t, int) { return WithStatus("RUNNING", 1'800'000'000 + 8 * 3600 - 100); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(
      R"(dashscope_deployment_modified_timestamp_seconds{account="a",workspace_id="",deployed_model="m1"} 1799999900)"));
  EXPECT_TRUE(Has(std::string(kChanged) + "1799999900"));
}

TEST_F(PollerTest, AFutureGmtModifiedIsTakenAsNowForTheStatusChange) {
  Make();  // the same time read as UTC lies in the future: taken as the poll's time
  fetcher->serve = [](int64_t, int) { return WithStatus("RUNNING", 1'800'000'000 + 8 * 3600 - 100); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(
      R"(dashscope_deployment_modified_timestamp_seconds{account="a",workspace_id="",deployed_model="m1"} 1800028700)"));
  EXPECT_TRUE(Has(std::string(kChanged) + "1800000000"));
}

TEST_F(PollerTest, StatusHistoryCarriesOverToTheNextPollerOfTheAccount) {
  Make();
  fetcher->serve = [](int64_t, int) { return WithStatus("PENDING", 1'799'999'000); };
  ASSERT_TRUE(poller->PollOnce().ok);
  clock.Advance(60s);
  fetcher->serve = [](int64_t, int) { return WithStatus("RUNNING"); };
  ASSERT_TRUE(poller->PollOnce().ok);
  // A reload replaces the poller; the new one starts from what the store holds.
  poller.reset();
  auto f = std::make_unique<FakeFetcher>();
  fetcher = f.get();
  config::Account account;
  account.name = "a";
  account.base_url = "http://127.0.0.1:1";
  PollSettings settings;
  settings.list.max_retries = 0;
  poller = std::make_unique<AccountPoller>(account, settings, metrics, store, clock, std::move(f));
  clock.Advance(60s);
  fetcher->serve = [](int64_t, int) { return WithStatus("RUNNING"); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(std::string(kChanged) + "1800000060"));
  EXPECT_TRUE(Has(std::string(kChanges) + "1"));
}

TEST_F(PollerTest, DataOlderThanMaxStalenessIsDropped) {
  PollSettings s;
  s.max_staleness = std::chrono::duration_cast<Duration>(5min);
  Make(s);
  fetcher->serve = [](int64_t, int) { return Good({"m1"}); };
  ASSERT_TRUE(poller->PollOnce().ok);
  fetcher->serve = [](int64_t, int) { return Bad("InternalError"); };
  clock.Advance(4min);
  poller->PollOnce();
  EXPECT_NE(Text().find("deployed_model=\"m1\""), std::string::npos);
  clock.Advance(2min);
  poller->PollOnce();
  EXPECT_EQ(Text().find("deployed_model=\"m1\""), std::string::npos);
  EXPECT_TRUE(Has(R"(dashscope_stale_data_dropped{account="a"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_deployments{account="a"} 0)"));
  EXPECT_TRUE(store.Accounts()[0]->view.data_dropped_as_stale);
}

TEST_F(PollerTest, VanishedDeploymentsGoAtTheNextGoodPoll) {
  Make();
  fetcher->serve = [](int64_t, int) { return Good({"m1", "m2"}); };
  ASSERT_TRUE(poller->PollOnce().ok);
  fetcher->serve = [](int64_t, int) { return Good({"m2"}); };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_EQ(Text().find("deployed_model=\"m1\""), std::string::npos);
  EXPECT_TRUE(Has(R"(dashscope_deployments{account="a"} 1)"));
}

TEST_F(PollerTest, RetryAfterLongerThanAPollSkipsRequests) {
  Make();
  fetcher->serve = [](int64_t, int) {
    auto o = Bad("Throttling");
    o.retryable = true;
    o.retry_after = std::chrono::duration_cast<Duration>(10min);
    return o;
  };
  EXPECT_FALSE(poller->PollOnce().ok);
  EXPECT_EQ(fetcher->requested.size(), 1u);
  EXPECT_TRUE(Has(R"(dashscope_api_throttled_until_timestamp_seconds{account="a"} 1800000600)"));
  clock.Advance(1min);
  auto r = poller->PollOnce();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(fetcher->requested.size(), 1u);  // no request before Retry-After has passed
  EXPECT_EQ(r.error, "API asked to wait (Retry-After) 9m more; no request sent");
  clock.Advance(10min);
  fetcher->serve = [](int64_t, int) { return Good({"m1"}); };
  EXPECT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_api_throttled_until_timestamp_seconds{account="a"} 0)"));
}

TEST_F(PollerTest, BadRecordsAreCountedByKind) {
  Make();
  fetcher->serve = [](int64_t, int) {
    auto o = Good({"m1"});
    using Kind = dashscope::Problem::Kind;
    o.page.problems = {{Kind::kMissingDeployedModel, "deployment #1: missing deployed_model"},
                       {Kind::kWrongType, "deployment \"m1\": field capacity: expected a number, got string"},
                       {Kind::kInvalidUtf8, "deployment \"m1\": field name: invalid UTF-8 replaced"}};
    return o;
  };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_record_problems_total{account="a",problem="missing_deployed_model"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_record_problems_total{account="a",problem="wrong_type"} 1)"));
  EXPECT_TRUE(Has(R"(dashscope_record_problems_total{account="a",problem="invalid_utf8"} 1)"));
}

TEST_F(PollerTest, ProblemsBeyondTheParsersListCountAsOther) {
  Make();
  fetcher->serve = [](int64_t, int) {
    auto o = Good({"m1"});
    o.page.problems = {
        {dashscope::Problem::Kind::kMissingDeployedModel, "deployment #1: missing deployed_model"}};
    o.page.problems_not_listed = 250;
    return o;
  };
  ASSERT_TRUE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_record_problems_total{account="a",problem="other"} 250)"));
  EXPECT_TRUE(Has(R"(dashscope_record_problems_total{account="a",problem="missing_deployed_model"} 1)"));
}

TEST(PollDeadline, ShorterThanTheInterval) {
  EXPECT_EQ(PollDeadline(Duration(60000)), Duration(54000));
  EXPECT_LT(PollDeadline(Duration(100)), Duration(100));
}

// Retry-After: 999999999 (31 years) is honoured for 15 minutes: the gauge
// shows the capped time and polls resume once it has passed.
TEST_F(PollerTest, HugeRetryAfterIsCappedAtFifteenMinutes) {
  Make();
  fetcher->serve = [this](int64_t, int) {
    auto o = Bad("Throttling");
    o.retryable = true;
    o.retry_after = dashscope::ParseRetryAfter("999999999", clock.SystemNow());
    return o;
  };
  EXPECT_FALSE(poller->PollOnce().ok);
  EXPECT_TRUE(Has(R"(dashscope_api_throttled_until_timestamp_seconds{account="a"} 1800000900)"));
  clock.Advance(14min);
  EXPECT_EQ(poller->PollOnce().error, "API asked to wait (Retry-After) 1m more; no request sent");
  EXPECT_EQ(fetcher->requested.size(), 1u);
  clock.Advance(1min);
  fetcher->serve = [](int64_t, int) { return Good({"m1"}); };
  EXPECT_TRUE(poller->PollOnce().ok);
  EXPECT_EQ(fetcher->requested.size(), 2u);
  EXPECT_TRUE(Has(R"(dashscope_api_throttled_until_timestamp_seconds{account="a"} 0)"));
}

}  // namespace
}  // namespace dse::app
