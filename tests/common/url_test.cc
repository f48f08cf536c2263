#include "common/url.h"

#include <gtest/gtest.h>

#include <string>

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

// One line per parse, so that a case is one comparison.
std::string Parts(const Result<HttpUrl>& u) {
  if (!u.ok()) return "error: " + u.error();
  return u->scheme + " userinfo=" + (u->has_userinfo ? "\"" + u->userinfo + "\"" : "none") +
         " host=" + u->host + " port=" + std::to_string(u->port) + " path=\"" + u->path + "\"";
}

TEST(ParseProxyUrl, TakesTheProxyUrlApart) {
  // Split at the last '@', the user info still encoded.
  EXPECT_EQ(Parts(ParseProxyUrl("http://us%3Aer:p@ss@proxy.internal:3128/", ProxyUrlBytes::kAsciiOnly)),
            "http userinfo=\"us%3Aer:p@ss\" host=proxy.internal port=3128 path=\"/\"");
  EXPECT_EQ(Parts(ParseProxyUrl("http://[::1]", ProxyUrlBytes::kAsciiOnly)),
            "http userinfo=none host=::1 port=80 path=\"\"");
  // The user info's shape is the caller's to judge.
  EXPECT_EQ(Parts(ParseProxyUrl("http://user@proxy", ProxyUrlBytes::kAsciiOnly)),
            "http userinfo=\"user\" host=proxy port=80 path=\"\"");
  EXPECT_EQ(Parts(ParseProxyUrl("http://:pw@proxy", ProxyUrlBytes::kAsciiOnly)),
            "http userinfo=\":pw\" host=proxy port=80 path=\"\"");
}

TEST(ParseProxyUrl, NonAsciiOnlyWhenAllowed) {
  const std::string url = "http://user:p\xc3\xa4ss@proxy:3128";
  EXPECT_EQ(ParseProxyUrl(url, ProxyUrlBytes::kAsciiOnly).error(),
            "must not contain spaces, control or non-ASCII characters");
  Result<HttpUrl> u = ParseProxyUrl(url, ProxyUrlBytes::kAllowNonAscii);
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->userinfo, "user:p\xc3\xa4ss");
  // Spaces and control characters are refused either way.
  EXPECT_FALSE(ParseProxyUrl("http://pro xy", ProxyUrlBytes::kAllowNonAscii).ok());
  EXPECT_FALSE(ParseProxyUrl("http://proxy\x7f", ProxyUrlBytes::kAllowNonAscii).ok());
}

// The first thing wrong is named, in the config's words, never with the URL.
TEST(ParseProxyUrl, ErrorsSayWhatIsWrongWithoutTheUrl) {
  const struct {
    const char* url;
    const char* why;
  } cases[] = {
      {"https://u:secretpw@proxy",
       "must start with http:// (an HTTP proxy; the API traffic is tunnelled through it "
       "with CONNECT)"},
      {"proxy:3128",
       "must start with http:// (an HTTP proxy; the API traffic is tunnelled through it with CONNECT)"},
      {"http://u:secret pw@proxy/path", "must not contain spaces, control or non-ASCII characters"},
      {"http://proxy:3128/path", "must not have a path, query or fragment"},
      {"http://proxy/?", "must not have a path, query or fragment"},
      {"http://proxy?x", "must not have a path, query or fragment"},
      {"http://proxy#x", "must not have a path, query or fragment"},
      {"http://u:pw/x@proxy", "must not have a path, query or fragment"},
      {"http://[::1", "has an unterminated IPv6 address"},
      {"http://[::1]x", "has an invalid port"},
      {"http://u:secretpw@:3128", "has no host"},
      {"http://", "has no host"},
      {"http://proxy:99999", "has an invalid port (want 1 to 65535)"},
      {"http://proxy:", "has an invalid port (want 1 to 65535)"},
  };
  for (const auto& c : cases) {
    Result<HttpUrl> u = ParseProxyUrl(c.url, ProxyUrlBytes::kAsciiOnly);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.error(), c.why) << c.url;
  }
}

TEST(PercentDecode, EscapesOrNothing) {
  EXPECT_EQ(PercentDecode("p%40ss%3Aw%2fd"), "p@ss:w/d");
  EXPECT_EQ(PercentDecode("plain"), "plain");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("%zz"), std::nullopt);
  EXPECT_EQ(PercentDecode("ab%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("ab%"), std::nullopt);
}

}  // namespace
}  // namespace dse
