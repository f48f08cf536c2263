#include "common/url.h"

#include <gtest/gtest.h>

namespace dse {
namespace {

TEST(ParseHttpUrl, TakesTheUrlApart) {
  Result<HttpUrl> u = ParseHttpUrl("https://dashscope-intl.aliyuncs.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "dashscope-intl.aliyuncs.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "");
  EXPECT_FALSE(u->has_userinfo);

  u = ParseHttpUrl("http://u%40x:p@ss@[::1]:8080/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_TRUE(u->has_userinfo);
  EXPECT_EQ(u->userinfo, "u%40x:p@ss");  // split at the last '@', still encoded
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/prefix/");

  EXPECT_EQ(ParseHttpUrl("http://proxy")->port, 80);
}

// Each error names what is wrong and never repeats the URL, which may hold a
// key pasted into the wrong field or a proxy password.
TEST(ParseHttpUrl, ErrorsSayWhatIsWrongWithoutTheUrl) {
  const struct {
    const char* url;
    const char* why;
  } cases[] = {
      {"ftp://sk-secret", "must start with http:// or https://"},
      {"https://sk secret", "must not contain spaces or control characters"},
      {"https://host/?key=sk-secret", "must not have a query (?) or fragment (#)"},
      {"https://[::1", "has an unterminated IPv6 address"},
      {"https://[::1]x", "has an invalid port"},
      {"https://:443", "has no host"},
      {"https://host:0", "has an invalid port (want 1 to 65535)"},
      {"https://host:65536", "has an invalid port (want 1 to 65535)"},
      {"https://host:+1", "has an invalid port (want 1 to 65535)"},
      {"https://host:", "has an invalid port (want 1 to 65535)"},
  };
  for (const auto& c : cases) {
    Result<HttpUrl> u = ParseHttpUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.error(), c.why) << c.url;
  }
}

}  // namespace
}  // namespace dse
