// The server's connection limits in process, with small settings so that
// each limit is reached quickly: the connection cap, the head and idle
// deadlines, and the bounded bcrypt pool. Each test checks the answer a
// client sees and the close reason or rejection the server counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <string>

#include "server/http_server.h"
#include "server_test_util.h"
#include "testing/bcrypt.h"
#include "testing/gzip.h"
#include "testing/raw_connection.h"

namespace dse::server {
namespace {

using std::chrono::milliseconds;
using testing::Bcrypt;
using testing::RawConnection;

uint64_t Closed(const HttpServer& s, const std::string& reason) {
  for (const auto& [name, n] : s.counters().Connections().closed) {
    if (name == reason) return n;
  }
  ADD_FAILURE() << "no close reason " << reason;
  return 0;
}
uint64_t Rejected(const HttpServer& s, const std::string& reason) {
  for (const auto& [name, n] : s.counters().Connections().auth_rejections) {
    if (name == reason) return n;
  }
  ADD_FAILURE() << "no rejection reason " << reason;
  return 0;
}

bool WaitFor(const std::function<bool()>& cond, milliseconds timeout = milliseconds(20000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class HttpServerLimitsTest : public testing::InProcessServerTest {
 protected:
  void Start(ServerOptions o) {
    const Status s = StartOnLoopback(std::move(o));
    ASSERT_TRUE(s.ok()) << s.error();
  }
  uint64_t Open() const { return server_->counters().Connections().open; }
};

TEST_F(HttpServerLimitsTest, AtTheCapTheOldestIdleConnectionMakesRoom) {
  ServerOptions o;
  o.max_connections = 3;
  o.io_threads = 1;  // the cap picks among the idle connections of one I/O thread
  Start(o);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (uint64_t i = 1; i <= 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(idle.back()->ok());
    ASSERT_TRUE(WaitFor([&] { return Open() == i; }));  // accepted in this order
  }
  // The one in the middle is busy sending a head: not idle.
  ASSERT_TRUE(idle[1]->Send("GET /healthz HTTP/1.1\r\nHo"));

  httplib::Client c("127.0.0.1", server_->port());
  auto res = c.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  idle[0]->Receive(milliseconds(10000));
  EXPECT_TRUE(idle[0]->closed()) << "the oldest idle connection is closed";
  EXPECT_TRUE(WaitFor([&] { return Closed(*server_, "cap") == 1; }));
  // The busy one was passed over and still gets its answer.
  ASSERT_TRUE(idle[1]->Send("st: x\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(idle[1]->Receive(milliseconds(10000)), ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpServerLimitsTest, HeadDeadlineAndIdleTimeoutCloseAndAreCounted) {
  ServerOptions o;
  o.head_timeout = std::chrono::seconds(1);
  o.idle_timeout = std::chrono::seconds(1);
  Start(o);

  RawConnection slow(server_->port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));  // and never the blank line
  EXPECT_EQ(slow.Receive(milliseconds(20000)), "");
  EXPECT_TRUE(slow.closed());
  EXPECT_TRUE(WaitFor([&] { return Closed(*server_, "head_timeout") == 1; }));

  RawConnection kept(server_->port());
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(kept.Receive(milliseconds(20000)), ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(kept.closed()) << "an idle keep-alive connection is closed after idle_timeout";
  EXPECT_TRUE(WaitFor([&] { return Closed(*server_, "idle") == 1; }));
  EXPECT_EQ(Closed(*server_, "head_timeout"), 1u);
  EXPECT_TRUE(WaitFor([&] { return Open() == 0; }));
}

TEST_F(HttpServerLimitsTest, FullBcryptPoolAnswers503AndCachedUsersStillGetIn) {
  config::WebConfig web;
  // A cost that keeps one check busy for about a second, so that two guesses
  // sent together overlap even on a loaded machine.
  web.basic_auth_users["alice"] = Bcrypt("s3cret", 14);
  ServerOptions o;
  o.web = web;
  o.auth_threads = 1;
  o.auth_queue = 1;
  Start(o);

  httplib::Client alice("127.0.0.1", server_->port());
  alice.set_basic_auth("alice", "s3cret");
  ASSERT_EQ(alice.Get("/metrics")->status, 200);  // paid bcrypt once; cached now

  // Two wrong guesses at once: one takes the only slot, the other is turned away.
  auto guess = [&] {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(std::chrono::seconds(60));
    c.set_basic_auth("alice", "guess");
    auto r = c.Get("/metrics");
    return r ? r->status : 0;
  };
  auto a = std::async(std::launch::async, guess);
  auto b = std::async(std::launch::async, guess);
  // Meanwhile the cached user never waits for the pool.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(alice.Get("/metrics")->status, 200);
  std::vector<int> statuses = {a.get(), b.get()};
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{401, 503}));
  EXPECT_EQ(Rejected(*server_, "busy"), 1u);
  EXPECT_EQ(Rejected(*server_, "bad_credentials"), 1u);
  EXPECT_EQ(Rejected(*server_, "missing"), 0u);
  EXPECT_EQ(testing::WaitForCount(*server_, "metrics", 503, 1), 1u);
}

TEST_F(HttpServerLimitsTest, ConnectionCountsAddUp) {
  Start(ServerOptions{});
  {
    httplib::Client c("127.0.0.1", server_->port());
    ASSERT_EQ(c.Get("/healthz")->status, 200);                      // httplib asks Connection: close: "done"
    ASSERT_EQ(c.Post("/metrics", "x", "text/plain")->status, 405);  // and closed by the server
  }
  {
    RawConnection bad(server_->port());
    ASSERT_TRUE(bad.ok());
    ASSERT_TRUE(bad.Send("NOT HTTP\r\n\r\n"));
    EXPECT_THAT(bad.Receive(milliseconds(10000)), ::testing::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  }
  {
    RawConnection gone(server_->port());  // connects and leaves
    EXPECT_TRUE(gone.ok());
  }
  const auto total_closed = [&] {
    uint64_t total = 0;
    for (const auto& [reason, n] : server_->counters().Connections().closed) total += n;
    return total;
  };
  // Four connections, each closed and counted once (the last may not even be accepted yet).
  EXPECT_TRUE(WaitFor([&] { return total_closed() >= 4; }));
  EXPECT_EQ(Closed(*server_, "method_refused"), 1u);
  EXPECT_EQ(Closed(*server_, "bad_request"), 1u);
  EXPECT_EQ(Closed(*server_, "client_closed"), 1u);
  EXPECT_EQ(Closed(*server_, "done"), 1u);
  EXPECT_EQ(total_closed(), 4u);
  EXPECT_EQ(Open(), 0u);
}

}  // namespace
}  // namespace dse::server
