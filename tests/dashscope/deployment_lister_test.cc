#include "dashscope/deployment_lister.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "testing/fake_clock.h"
#include "testing/fake_fetcher.h"

namespace dse::dashscope {
namespace {

using namespace std::chrono_literals;

using testing::FakeFetcher;

Deployment Dep(const std::string& id) {
  Deployment d;
  d.deployed_model = id;
  return d;
}

RequestOutcome Page(std::vector<std::string> ids, std::optional<int64_t> total) {
  RequestOutcome o;
  o.ok = true;
  o.page.total = total;
  for (auto& id : ids) o.page.deployments.push_back(Dep(id));
  return o;
}

RequestOutcome Failure(int status, std::string code, bool retryable) {
  RequestOutcome o;
  o.http_status = status;
  o.error_code = std::move(code);
  o.error_message = "HTTP " + std::to_string(status) + " " + o.error_code;
  o.retryable = retryable;
  return o;
}

// A list of `n` deployments d0..d{n-1}, paged honestly.
RequestOutcome Honest(int n, int64_t page_no, int page_size, std::optional<int64_t> total) {
  std::vector<std::string> ids;
  for (int64_t i = (page_no - 1) * page_size; i < std::min<int64_t>(n, page_no * page_size); ++i) {
    ids.push_back("d" + std::to_string(i));
  }
  return Page(ids, total);
}

struct ListerTest : ::testing::Test {
  FakeFetcher fetcher;
  testing::FakeClock clock;  // retries wait on it, without sleeping
  StopSignal stop;
  std::vector<std::string> observed_codes;
  ListOptions options{.page_size = 2,
                      .max_retries = 2,
                      .retry_base_delay = Duration(1),
                      .request_timeout = Duration(1000),
                      .account = "a"};

  PollResult List() {
    DeploymentLister lister(
        fetcher, options, clock, stop,
        [this](const RequestOutcome& o) { observed_codes.push_back(o.ok ? "ok" : o.error_code); }, 42);
    return lister.ListAll(clock.SteadyNow() + 10s);
  }
};

TEST_F(ListerTest, WalksEveryPageUntilTotal) {
  fetcher.serve = [](int64_t p, int s) { return Honest(5, p, s, 5); };
  auto r = List();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.deployments.size(), 5u);
  EXPECT_EQ(fetcher.requested, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(r.pages, 3);
}

TEST_F(ListerTest, DuplicatesAcrossPagesAreExportedOnce) {
  // The list shifted between requests: page 2 repeats d1.
  fetcher.serve = [](int64_t p, int) {
    if (p == 1) return Page({"d0", "d1"}, 4);
    if (p == 2) return Page({"d1", "d2"}, 4);
    return Page({"d3"}, 4);
  };
  auto r = List();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.deployments.size(), 4u);
  EXPECT_EQ(r.duplicates, 1u);
}

TEST_F(ListerTest, ShortPageEndsListWithoutTotal) {
  fetcher.serve = [](int64_t p, int s) { return Honest(3, p, s, std::nullopt); };
  auto r = List();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.deployments.size(), 3u);
  EXPECT_EQ(fetcher.requested, (std::vector<int64_t>{1, 2}));
}

TEST_F(ListerTest, LyingHugeTotalStopsAtEmptyPage) {
  fetcher.serve = [](int64_t p, int s) { return Honest(3, p, s, 1'000'000'000); };
  auto r = List();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.deployments.size(), 3u);
  EXPECT_EQ(fetcher.requested, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(ListerTest, EndlessNewPagesStopAtCapDerivedFromTotal) {
  // Every page brings new ids forever while claiming total=6 (3 pages).
  fetcher.serve = [](int64_t p, int) {
    return Page({"p" + std::to_string(p) + "a", "p" + std::to_string(p) + "b"}, 7);
  };
  auto r = List();
  ASSERT_TRUE(r.ok);
  // ceil(7/2) = 4 pages, plus one page of slack; then stop because 10 >= 7.
  EXPECT_LE(fetcher.requested.size(), 5u);
}

TEST_F(ListerTest, EndlessNewPagesWithoutTotalStopAtHardCap) {
  fetcher.serve = [](int64_t p, int) {
    return Page({"p" + std::to_string(p) + "a", "p" + std::to_string(p) + "b"}, std::nullopt);
  };
  auto r = List();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(static_cast<int64_t>(fetcher.requested.size()), kMaxPagesPerPoll);
}

TEST_F(ListerTest, RepeatedPageAddingNothingStops) {
  fetcher.serve = [](int64_t, int) { return Page({"d0", "d1"}, 100); };
  auto r = List();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(fetcher.requested, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.deployments.size(), 2u);
  EXPECT_EQ(r.duplicates, 2u);
}

TEST_F(ListerTest, RetriesServerErrorsThenSucceeds) {
  int calls = 0;
  fetcher.serve = [&](int64_t p, int s) {
    if (++calls == 1) return Failure(500, "InternalError", true);
    return Honest(1, p, s, 1);
  };
  auto r = List();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(observed_codes, (std::vector<std::string>{"InternalError", "ok"}));
  EXPECT_EQ(r.requests, 2);
}

TEST_F(ListerTest, NeverRetriesAuthErrors) {
  fetcher.serve = [](int64_t, int) { return Failure(401, "InvalidApiKey", false); };
  auto r = List();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, "InvalidApiKey");
  EXPECT_EQ(r.error, "page 1: HTTP 401 InvalidApiKey");
  EXPECT_EQ(fetcher.requested.size(), 1u);
}

TEST_F(ListerTest, GivesUpAfterMaxRetries) {
  fetcher.serve = [](int64_t, int) { return Failure(503, "http_503", true); };
  auto r = List();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, "http_503");
  EXPECT_EQ(fetcher.requested.size(), 3u);  // 1 + max_retries
  EXPECT_EQ(observed_codes.size(), 3u);
}

TEST_F(ListerTest, RetryAfterBeyondDeadlineFailsAtOnceAndSetsNotBefore) {
  fetcher.serve = [](int64_t, int) {
    auto f = Failure(429, "Throttling", true);
    f.retry_after = std::chrono::duration_cast<Duration>(60s);
    return f;
  };
  const auto before = clock.SteadyNow();
  auto r = List();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(fetcher.requested.size(), 1u);
  ASSERT_TRUE(r.not_before.has_value());
  EXPECT_GE(*r.not_before, before + 59s);
}

// A Retry-After that fits in the poll is waited out on the clock, then the
// request is sent again: the wait is the API's, not the jitter's.
TEST_F(ListerTest, ShortRetryAfterIsWaitedOutThenRetried) {
  int calls = 0;
  fetcher.serve = [&](int64_t p, int s) {
    if (++calls > 1) return Honest(1, p, s, 1);
    auto f = Failure(429, "Throttling", true);
    f.retry_after = std::chrono::duration_cast<Duration>(3s);
    return f;
  };
  const auto before = clock.SteadyNow();
  auto r = List();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(observed_codes, (std::vector<std::string>{"Throttling", "ok"}));
  EXPECT_EQ(clock.waits, (std::vector<std::chrono::steady_clock::duration>{3s}));
  EXPECT_EQ(clock.SteadyNow() - before, 3s);
}

TEST_F(ListerTest, StopDuringBackoffCancels) {
  options.retry_base_delay = Duration(60000);
  fetcher.serve = [&](int64_t, int) {
    stop.Stop();
    return Failure(500, "InternalError", true);
  };
  auto r = List();
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(fetcher.requested.size(), 1u);
}

// The API allows page_size 1..100 for some accounts: the refused poll is
// retried at 100 and the lister keeps 100 for later polls.
TEST_F(ListerTest, RefusedPageSizeFallsBackTo100ForGood) {
  options.page_size = 200;
  std::vector<int> sizes;
  fetcher.serve = [&sizes](int64_t p, int s) {
    sizes.push_back(s);
    if (s > 100) return Failure(400, "InvalidParameter", false);
    return Honest(150, p, s, 150);
  };
  DeploymentLister lister(fetcher, options, clock, stop, nullptr, 42);
  PollResult first = lister.ListAll(clock.SteadyNow() + 10s);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.deployments.size(), 150u);
  EXPECT_EQ(first.requests, 3);  // the refused request, then two pages of 100
  EXPECT_EQ(lister.page_size(), 100);
  PollResult second = lister.ListAll(clock.SteadyNow() + 10s);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(sizes, (std::vector<int>{200, 100, 100, 100, 100}));
}

TEST_F(ListerTest, InvalidParameterAtOrBelow100IsAnError) {
  options.page_size = 100;
  fetcher.serve = [](int64_t, int) { return Failure(400, "InvalidParameter", false); };
  auto r = List();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, "InvalidParameter");
  EXPECT_EQ(fetcher.requested, (std::vector<int64_t>{1}));
}

TEST_F(ListerTest, OtherErrorsDoNotChangeThePageSize) {
  options.page_size = 200;
  fetcher.serve = [](int64_t, int) { return Failure(401, "InvalidApiKey", false); };
  DeploymentLister lister(fetcher, options, clock, stop, nullptr, 42);
  EXPECT_FALSE(lister.ListAll(clock.SteadyNow() + 10s).ok);
  EXPECT_EQ(lister.page_size(), 200);
}

}  // namespace
}  // namespace dse::dashscope
