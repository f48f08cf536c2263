#include "server/auth_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace dse::server {
namespace {

using namespace std::chrono_literals;

TEST(AuthPool, RunsTheCheckAndHandsOverItsResult) {
  AuthPool pool(1, 4);
  std::promise<bool> answer;
  ASSERT_TRUE(pool.TrySubmit([] { return true; }, [&](bool ok) { answer.set_value(ok); }));
  auto got = answer.get_future();
  ASSERT_EQ(got.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(got.get());
}

// `limit` checks wait or run at once; the next is refused on the spot, and
// once one has answered its slot is free again.
TEST(AuthPool, RefusesPastItsLimitAndFreesTheSlotBeforeAnswering) {
  AuthPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> answered{0};
  std::promise<void> first_done;
  auto blocked = [released] {
    released.wait();
    return false;
  };
  ASSERT_TRUE(pool.TrySubmit(blocked, [&](bool) {
    if (answered.fetch_add(1) == 0) first_done.set_value();
  }));
  ASSERT_TRUE(pool.TrySubmit(blocked, [&](bool) { answered.fetch_add(1); }));
  EXPECT_FALSE(pool.TrySubmit([] { return true; }, [](bool) { ADD_FAILURE() << "a refused check ran"; }));

  std::promise<bool> third;
  release.set_value();
  ASSERT_EQ(first_done.get_future().wait_for(10s), std::future_status::ready);
  // The first answer came after its slot was freed, and the second holds at
  // most one: a new check fits.
  ASSERT_TRUE(pool.TrySubmit([] { return true; }, [&](bool ok) { third.set_value(ok); }));
  auto got = third.get_future();
  ASSERT_EQ(got.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(got.get());
}

}  // namespace
}  // namespace dse::server
