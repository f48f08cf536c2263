#include "common/listen_address.h"

#include <gtest/gtest.h>

namespace dse {
namespace {

struct Case {
  const char* text;
  const char* host;
  int port;
};

TEST(ParseListenAddress, Accepts) {
  for (const Case& c : {
           Case{":9864", "0.0.0.0", 9864},  // all IPv4 interfaces, by choice
           Case{"127.0.0.1:0", "127.0.0.1", 0},
           Case{"localhost:9864", "localhost", 9864},
           Case{"[::1]:9864", "::1", 9864},
           Case{"[::]:80", "::", 80},
           Case{"0.0.0.0:65535", "0.0.0.0", 65535},
           Case{"exporter-1.internal:9864", "exporter-1.internal", 9864},
           Case{"[fe80::1%eth0]:9864", "fe80::1%eth0", 9864},
       }) {
    auto r = ParseListenAddress(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error();
    EXPECT_EQ(r->host, c.host) << c.text;
    EXPECT_EQ(r->port, c.port) << c.text;
  }
}

TEST(ParseListenAddress, RejectsWithReason) {
  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& b : {
           Bad{"", "missing port, want [host]:port such as :9864"},
           Bad{"9864", "missing port, want [host]:port such as :9864"},
           Bad{"localhost", "missing port, want [host]:port such as :9864"},
           Bad{":", "port must be a number from 0 to 65535"},
           Bad{":65536", "port must be a number from 0 to 65535"},
           Bad{":-1", "port must be a number from 0 to 65535"},
           Bad{":+80", "port must be a number from 0 to 65535"},
           Bad{":http", "port must be a number from 0 to 65535"},
           Bad{":123456", "port must be a number from 0 to 65535"},
           Bad{"::1:9864", "an IPv6 host needs brackets, e.g. [::1]:9864"},
           Bad{"[::1:9864", "IPv6 host must be written [addr]:port"},
           Bad{"[]:9864", "IPv6 host must be written [addr]:port"},
           Bad{"[::1]x:9864", "IPv6 host must be written [addr]:port"},
           Bad{"local host:9864", "bad character in host"},
           Bad{"a/b:9864", "bad character in host"},
       }) {
    auto r = ParseListenAddress(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_EQ(r.error(), std::string("invalid listen address \"") + b.text + "\": " + b.why);
  }
}

TEST(FormatListenAddress, BracketsIpv6) {
  EXPECT_EQ(FormatListenAddress({"0.0.0.0", 9864}), "0.0.0.0:9864");
  EXPECT_EQ(FormatListenAddress({"::1", 80}), "[::1]:80");
}

}  // namespace
}  // namespace dse
