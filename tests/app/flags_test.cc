#include "app/flags.h"

#include <gtest/gtest.h>

namespace dse::app {
namespace {

TEST(ParseFlags, DefaultsFromTheContract) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->config_file, "dashscope_exporter.yml");
  EXPECT_EQ(f->listen_address, ":9864");
  EXPECT_EQ(f->telemetry_path, "/metrics");
  EXPECT_FALSE(f->web_config_file.has_value());
  EXPECT_EQ(f->log_level, log::Level::kInfo);
  EXPECT_EQ(f->log_format, log::Format::kLogfmt);
  EXPECT_FALSE(f->once);
  EXPECT_FALSE(f->check_config);
}

TEST(ParseFlags, BothValueForms) {
  auto f =
      ParseFlags({"--config.file=a.yml", "--web.listen-address", "127.0.0.1:1", "--once", "--log.level",
                  "debug", "--log.format=json", "--web.telemetry-path=/m", "--web.config.file", "web.yml"});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->config_file, "a.yml");
  EXPECT_EQ(f->listen_address, "127.0.0.1:1");
  EXPECT_TRUE(f->once);
  EXPECT_EQ(f->log_level, log::Level::kDebug);
  EXPECT_EQ(f->log_format, log::Format::kJson);
  EXPECT_EQ(f->telemetry_path, "/m");
  EXPECT_EQ(f->web_config_file, "web.yml");
  EXPECT_FALSE(ParseFlags({"--once", "--no-once"})->once);
}

TEST(ParseFlags, ErrorsNameTheFlag) {
  EXPECT_EQ(ParseFlags({"--bogus"}).error(), "unknown flag --bogus (see --help)");
  EXPECT_EQ(ParseFlags({"--log.level=loud"}).error(),
            "--log.level: must be one of debug, info, warn, error; got \"loud\"");
  EXPECT_EQ(ParseFlags({"--log.format=xml"}).error(), "--log.format: must be logfmt or json; got \"xml\"");
  EXPECT_EQ(ParseFlags({"--config.file"}).error(), "--config.file: missing value");
  EXPECT_EQ(ParseFlags({"--web.telemetry-path=metrics"}).error(),
            "--web.telemetry-path: must start with '/', got \"metrics\"");
  EXPECT_EQ(ParseFlags({"--web.telemetry-path=/healthz"}).error(),
            "--web.telemetry-path: \"/healthz\" is taken by another endpoint");
  // The same check as the server's: its aliases and what a request line cannot carry.
  EXPECT_EQ(ParseFlags({"--web.telemetry-path=/-/ready"}).error(),
            "--web.telemetry-path: \"/-/ready\" is taken by another endpoint");
  EXPECT_EQ(
      ParseFlags({"--web.telemetry-path=/me trics"}).error(),
      "--web.telemetry-path: spaces, control characters, ?, # and % are not allowed, got \"/me trics\"");
  EXPECT_EQ(ParseFlags({"--web.listen-address=9864"}).error(),
            "--web.listen-address: want [host]:port, got \"9864\"");
  EXPECT_EQ(ParseFlags({"--once=maybe"}).error(), "--once: want true or false, got \"maybe\"");
  EXPECT_EQ(ParseFlags({"stray"}).error(), "unexpected argument \"stray\" (flags start with --; see --help)");
}

TEST(UsageText, ListsEveryContractFlag) {
  const std::string usage = UsageText();
  for (const char* flag :
       {"--config.file", "--web.listen-address", "--web.telemetry-path", "--web.config.file", "--log.level",
        "--log.format", "--once", "--check-config", "--version", "--help"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace dse::app
