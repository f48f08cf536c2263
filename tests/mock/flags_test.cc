#include "mock/flags.h"

#include <gtest/gtest.h>

namespace dse::mock {
namespace {

TEST(ParseFlags, Defaults) {
  auto c = ParseFlags({}, nullptr);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 9865);
  EXPECT_EQ(c->fleet.count, 12u);
  EXPECT_EQ(c->fleet.workspace_id, "llm-mock");
  EXPECT_EQ(c->api.api_key, "sk-mock-0000");
  EXPECT_EQ(c->api_key_source, "default");
  EXPECT_EQ(c->server.tick, Duration(10000));
  EXPECT_EQ(c->fleet.seconds_per_tick, 10);
  EXPECT_EQ(c->api.envelope, Envelope::kOutput);
  EXPECT_TRUE(c->port_file.empty());
  EXPECT_FALSE(c->help);
}

TEST(ParseFlags, BothSpellingsAndEveryFlag) {
  auto c = ParseFlags({"--listen=127.0.0.1:0", "--port-file", "/tmp/p", "--deployments=100000", "--api-key",
                       "sk-test", "--workspace=llm-abc", "--seed", "42", "--tick=0", "--envelope",
                       "alternate", "--threads=4", "--log.level", "debug", "--log.format=json"},
                      "sk-env");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->server.port, 0);
  EXPECT_EQ(c->port_file, "/tmp/p");
  EXPECT_EQ(c->fleet.count, 100000u);
  EXPECT_EQ(c->api.api_key, "sk-test");
  EXPECT_EQ(c->api_key_source, "flag");
  EXPECT_EQ(c->fleet.workspace_id, "llm-abc");
  EXPECT_EQ(c->fleet.seed, 42u);
  EXPECT_EQ(c->server.tick.count(), 0);
  EXPECT_EQ(c->fleet.seconds_per_tick, 10);
  EXPECT_EQ(c->api.envelope, Envelope::kAlternate);
  EXPECT_EQ(c->server.threads, 4u);
  EXPECT_EQ(c->log_level, log::Level::kDebug);
  EXPECT_EQ(c->log_format, log::Format::kJson);
}

TEST(ParseFlags, MaxPageSizeAndTls) {
  auto c = ParseFlags({"--max-page-size=100", "--tls-cert-file", "/c.pem", "--tls-key-file=/k.pem"}, nullptr);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->api.max_page_size, 100);
  EXPECT_EQ(c->server.tls_cert_file, "/c.pem");
  EXPECT_EQ(c->server.tls_key_file, "/k.pem");
  EXPECT_EQ(ParseFlags({}, nullptr)->api.max_page_size, 200);
  EXPECT_EQ(ParseFlags({"--max-page-size=201"}, nullptr).error(),
            "--max-page-size: expected an integer in [1, 200], got \"201\"");
  EXPECT_EQ(ParseFlags({"--tls-cert-file=/c.pem"}, nullptr).error(),
            "flags --tls-cert-file and --tls-key-file go together");
}

TEST(ParseFlags, KeyFromEnvironment) {
  auto c = ParseFlags({"--tick", "1m"}, "sk-env");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->api.api_key, "sk-env");
  EXPECT_EQ(c->api_key_source, "env");
  EXPECT_EQ(c->fleet.seconds_per_tick, 60);
}

TEST(ParseFlags, ListenForms) {
  EXPECT_EQ(ParseFlags({"--listen=:9000"}, nullptr)->server.host, "0.0.0.0");
  EXPECT_EQ(ParseFlags({"--listen=[::1]:9000"}, nullptr)->server.host, "::1");
  EXPECT_EQ(ParseFlags({"--listen=localhost:9000"}, nullptr)->server.port, 9000);
}

TEST(ParseFlags, ErrorsNameTheFlag) {
  EXPECT_EQ(ParseFlags({"--deployments=100001"}, nullptr).error(),
            "--deployments: expected an integer in [0, 100000], got \"100001\"");
  EXPECT_EQ(ParseFlags({"--listen=9865"}, nullptr).error(),
            "--listen: invalid listen address \"9865\": missing port, want [host]:port such as :9864");
  EXPECT_EQ(ParseFlags({"--listen=:70000"}, nullptr).error(),
            "--listen: invalid listen address \":70000\": port must be a number from 0 to 65535");
  EXPECT_EQ(ParseFlags({"--envelope=json"}, nullptr).error(),
            "--envelope: expected output, data or alternate, got \"json\"");
  EXPECT_EQ(ParseFlags({"--bogus=1"}, nullptr).error(), "unknown flag --bogus (see --help)");
  EXPECT_EQ(ParseFlags({"--seed"}, nullptr).error(), "--seed: missing value");
  EXPECT_EQ(ParseFlags({"serve"}, nullptr).error(),
            "unexpected argument \"serve\" (flags start with --; see --help)");
  EXPECT_EQ(ParseFlags({"--tick=soon"}, nullptr).error().rfind("--tick: ", 0), 0u);
  // The key is never part of a message, not even beside a flag that fails.
  EXPECT_EQ(ParseFlags({"--api-key="}, nullptr).error(), "--api-key: must not be empty");
  EXPECT_EQ(ParseFlags({"--api-key", "sk-secret", "--api-key"}, nullptr).error(), "--api-key: missing value");
}

TEST(ParseFlags, HelpIsABoolean) {
  auto c = ParseFlags({"--help"}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->help);
  EXPECT_TRUE(ParseFlags({"-h"}, nullptr)->help);
  EXPECT_FALSE(ParseFlags({"--help", "--no-help"}, nullptr)->help);
  EXPECT_FALSE(ParseFlags({"--help=false"}, nullptr)->help);
  // Every flag is read, as the exporter reads them; only the checks after them wait for a run.
  EXPECT_EQ(ParseFlags({"--help", "--bogus"}, nullptr).error(), "unknown flag --bogus (see --help)");
  auto half_tls = ParseFlags({"--help", "--tls-cert-file=/c.pem"}, nullptr);
  ASSERT_TRUE(half_tls.ok()) << half_tls.error();
  EXPECT_TRUE(half_tls->help);
  EXPECT_NE(Usage().find("--api-key KEY"), std::string::npos);
}

}  // namespace
}  // namespace dse::mock
