#include "server/basic_auth.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/bcrypt_hash.h"
#include "testing/bcrypt.h"
#include "testing/fake_clock.h"

namespace dse::server {
namespace {

using namespace std::chrono_literals;

using testing::Bcrypt;

// The authenticator's clock is a function; this one reads a testing::FakeClock.
BasicAuthenticator::Clock ClockOf(const testing::FakeClock& clock) {
  return [&clock] { return clock.SteadyNow(); };
}

TEST(ParseBasicAuthorization, Valid) {
  auto c = ParseBasicAuthorization("Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cret");

  c = ParseBasicAuthorization("basic  YWxpY2U6YTpiOmM=");  // alice:a:b:c, password keeps its colons
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "a:b:c");

  c = ParseBasicAuthorization("BASIC Og==");  // ":"
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->password, "");
}

TEST(ParseBasicAuthorization, Invalid) {
  for (const char* bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6czNjcmV0", "BasicYWxpY2U6czNjcmV0",
                          "Basic YWxpY2U",   // "alice": no colon (and bad length)
                          "Basic YWxpY2U=",  // "alice": no colon
                          "Basic YWxp*2U6czNjcmV0", "Basic YW=xY2U6", "Basic =WxpY2U6"}) {
    EXPECT_FALSE(ParseBasicAuthorization(bad)) << bad;
  }
}

TEST(IsBcryptHash, Forms) {
  const std::string h = Bcrypt("x");
  EXPECT_TRUE(IsBcryptHash(h));
  EXPECT_TRUE(IsBcryptHash("$2a" + h.substr(3)));
  EXPECT_TRUE(IsBcryptHash("$2y" + h.substr(3)));
  EXPECT_FALSE(IsBcryptHash("$2x" + h.substr(3)));
  EXPECT_FALSE(IsBcryptHash("$1$abc$def"));
  EXPECT_FALSE(IsBcryptHash("plaintext"));
  EXPECT_FALSE(IsBcryptHash(h.substr(0, 59)));
  EXPECT_FALSE(IsBcryptHash("$2b$03" + h.substr(6)));  // cost below 4
  EXPECT_FALSE(IsBcryptHash("$2b$32" + h.substr(6)));
  std::string bad_char = h;
  bad_char[20] = '!';
  EXPECT_FALSE(IsBcryptHash(bad_char));
}

TEST(BasicAuthenticator, RejectsNonBcryptHashNamingTheUserOnly) {
  auto a = BasicAuthenticator::Create({{"alice", "$1$salt$hashhashhash"}});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(),
            "basic_auth_users: the hash for user \"alice\" is not a bcrypt hash ($2a$, $2b$ or $2y$)");
}

TEST(BasicAuthenticator, ChecksPasswords) {
  auto a = BasicAuthenticator::Create({{"alice", Bcrypt("s3cret")}, {"bob", Bcrypt("hunter2", 5, "$2y$")}});
  ASSERT_TRUE(a.ok()) << a.error();
  BasicAuthenticator& auth = **a;
  EXPECT_TRUE(auth.Check("alice", "s3cret"));
  EXPECT_TRUE(auth.Check("bob", "hunter2"));
  EXPECT_FALSE(auth.Check("alice", "hunter2"));
  EXPECT_FALSE(auth.Check("alice", "s3cret "));
  EXPECT_FALSE(auth.Check("alice", ""));
  EXPECT_FALSE(auth.Check("carol", "s3cret"));
  EXPECT_FALSE(auth.Check("", ""));
  // crypt() would stop at the NUL and accept "s3cret".
  EXPECT_FALSE(auth.Check("alice", std::string("s3cret\0junk", 11)));
}

TEST(BasicAuthenticator, UnknownUsersCostABcryptToo) {
  auto a = BasicAuthenticator::Create({{"alice", Bcrypt("s3cret")}});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)->Check("mallory", "x"));
  EXPECT_EQ((*a)->bcrypt_runs(), 1u);
}

TEST(BasicAuthenticator, CachesSuccessForAWhile) {
  testing::FakeClock clock;
  auto a = BasicAuthenticator::Create({{"alice", Bcrypt("s3cret")}}, ClockOf(clock));
  ASSERT_TRUE(a.ok());
  BasicAuthenticator& auth = **a;
  EXPECT_TRUE(auth.Check("alice", "s3cret"));
  EXPECT_TRUE(auth.Check("alice", "s3cret"));
  clock.Advance(BasicAuthenticator::kCacheTtl - 1s);
  EXPECT_TRUE(auth.Check("alice", "s3cret"));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);

  // Failures are never cached, and never hit the cached success.
  EXPECT_FALSE(auth.Check("alice", "wrong"));
  EXPECT_FALSE(auth.Check("alice", "wrong"));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);

  clock.Advance(1s);  // expired
  EXPECT_TRUE(auth.Check("alice", "s3cret"));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
}

TEST(BasicAuthenticator, CacheIsBounded) {
  testing::FakeClock clock;
  std::map<std::string, std::string> users;
  const std::string hash = Bcrypt("pw");
  const size_t n = BasicAuthenticator::kCacheCapacity + 1;
  for (size_t i = 0; i < n; ++i) users["user" + std::to_string(i)] = hash;
  auto a = BasicAuthenticator::Create(users, ClockOf(clock));
  ASSERT_TRUE(a.ok());
  BasicAuthenticator& auth = **a;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(auth.Check("user" + std::to_string(i), "pw"));
    clock.Advance(1ms);
  }
  EXPECT_EQ(auth.bcrypt_runs(), n);
  // The newest is cached; the oldest made room for it.
  EXPECT_TRUE(auth.Check("user" + std::to_string(n - 1), "pw"));
  EXPECT_EQ(auth.bcrypt_runs(), n);
  EXPECT_TRUE(auth.Check("user0", "pw"));
  EXPECT_EQ(auth.bcrypt_runs(), n + 1);
}

}  // namespace
}  // namespace dse::server
