#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "testing/temp_dir.h"

namespace dse::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// Distinctive so that a leak into any message is caught.
constexpr char kKey[] = "sk-test-SECRET-0123";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup KeyEnv() { return FakeEnv({{"DASHSCOPE_API_KEY", kKey}}); }

constexpr char kOneAccount[] = "accounts:\n  - name: intl\n";

Config Load(std::string_view yaml, const EnvLookup& env = KeyEnv()) {
  Result<Config> r = LoadConfigString(yaml, "cfg.yml", env);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : Config{};
}

// Every failing load must also keep the key out of its message.
std::string ErrorOf(std::string_view yaml, const EnvLookup& env = KeyEnv()) {
  Result<Config> r = LoadConfigString(yaml, "cfg.yml", env);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_THAT(r.error(), Not(HasSubstr(kKey)));
  return r.error();
}

using testing::TempDir;

// --- Values ---------------------------------------------------------------

TEST(ConfigLoaderTest, DefaultsWithOneAccount) {
  const Config c = Load(kOneAccount);
  EXPECT_EQ(c.poll_interval, seconds(60));
  EXPECT_EQ(c.request_timeout, seconds(10));
  EXPECT_EQ(c.page_size, 200);
  EXPECT_EQ(c.max_staleness, minutes(15));
  EXPECT_EQ(c.max_retries, 2);
  EXPECT_EQ(c.retry_base_delay, milliseconds(500));
  EXPECT_EQ(c.max_response_bytes, 32u * 1024 * 1024);
  ASSERT_EQ(c.accounts.size(), 1u);
  EXPECT_EQ(c.accounts[0].name, "intl");
  EXPECT_EQ(c.accounts[0].base_url, "https://dashscope-intl.aliyuncs.com");
  EXPECT_EQ(c.accounts[0].workspace, "");
  EXPECT_EQ(c.accounts[0].api_key, kKey);
  EXPECT_EQ(c.accounts[0].api_key_source, "env DASHSCOPE_API_KEY");
}

TEST(ConfigLoaderTest, EveryTopLevelKey) {
  const Config c = Load(
      "poll_interval: 2m\n"
      "request_timeout: 15s\n"
      "page_size: 50\n"
      "max_staleness: 1h\n"
      "max_retries: 0\n"
      "retry_base_delay: 1s\n"
      "max_response_bytes: 8MiB\n"
      "accounts:\n"
      "  - name: intl\n");
  EXPECT_EQ(c.poll_interval, minutes(2));
  EXPECT_EQ(c.request_timeout, seconds(15));
  EXPECT_EQ(c.page_size, 50);
  EXPECT_EQ(c.max_staleness, minutes(60));
  EXPECT_EQ(c.max_retries, 0);
  EXPECT_EQ(c.retry_base_delay, seconds(1));
  EXPECT_EQ(c.max_response_bytes, 8u * 1024 * 1024);
}

TEST(ConfigLoaderTest, PollIntervalDuration) {
  EXPECT_EQ(Load(std::string("poll_interval: 1h30m\n") + kOneAccount).poll_interval, minutes(90));
  EXPECT_EQ(
      Load(std::string("poll_interval: 100ms\nrequest_timeout: 50ms\nretry_base_delay: 10ms\n") + kOneAccount)
          .poll_interval,
      milliseconds(100));
}

TEST(ConfigLoaderTest, RequestTimeoutDuration) {
  EXPECT_EQ(Load(std::string("request_timeout: 1500ms\n") + kOneAccount).request_timeout, milliseconds(1500));
}

TEST(ConfigLoaderTest, MaxStalenessDuration) {
  EXPECT_EQ(Load(std::string("max_staleness: 0\n") + kOneAccount).max_staleness, milliseconds(0));
  EXPECT_EQ(Load(std::string("max_staleness: 1d\n") + kOneAccount).max_staleness, std::chrono::hours(24));
}

TEST(ConfigLoaderTest, RetryBaseDelayDuration) {
  EXPECT_EQ(Load(std::string("retry_base_delay: 0\n") + kOneAccount).retry_base_delay, milliseconds(0));
  EXPECT_EQ(Load(std::string("retry_base_delay: 2s\n") + kOneAccount).retry_base_delay, seconds(2));
}

TEST(ConfigLoaderTest, PageSizeAndRetriesBounds) {
  EXPECT_EQ(Load(std::string("page_size: 1\n") + kOneAccount).page_size, 1);
  EXPECT_EQ(Load(std::string("page_size: 200\n") + kOneAccount).page_size, 200);
  EXPECT_EQ(Load(std::string("max_retries: 10\n") + kOneAccount).max_retries, 10);
}

TEST(ConfigLoaderTest, MaxResponseBytesForms) {
  auto bytes = [](const std::string& v) {
    return Load("max_response_bytes: " + v + "\n" + kOneAccount).max_response_bytes;
  };
  EXPECT_EQ(bytes("1024"), 1024u);
  EXPECT_EQ(bytes("1KiB"), 1024u);
  EXPECT_EQ(bytes("\"64KiB\""), 64u * 1024);
  EXPECT_EQ(bytes("32MiB"), 32u * 1024 * 1024);
  EXPECT_EQ(bytes("1GiB"), 1024u * 1024 * 1024);
}

TEST(ConfigLoaderTest, AccountFields) {
  const Config c = Load(
      "accounts:\n"
      "  - name: intl\n"
      "    base_url: https://proxy.example:8443/dashscope/\n"
      "    api_key_env: OTHER_KEY\n"
      "    workspace: llm-abc123\n"
      "  - name: cn\n"
      "    base_url: http://127.0.0.1:9865\n",
      FakeEnv({{"OTHER_KEY", "sk-other"}, {"DASHSCOPE_API_KEY", kKey}}));
  ASSERT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.accounts[0].base_url, "https://proxy.example:8443/dashscope");
  EXPECT_EQ(c.accounts[0].api_key, "sk-other");
  EXPECT_EQ(c.accounts[0].api_key_source, "env OTHER_KEY");
  EXPECT_EQ(c.accounts[0].workspace, "llm-abc123");
  EXPECT_EQ(c.accounts[1].name, "cn");
  EXPECT_EQ(c.accounts[1].base_url, "http://127.0.0.1:9865");
  EXPECT_EQ(c.accounts[1].api_key, kKey);
}

TEST(ConfigLoaderTest, BaseUrlVariants) {
  auto url = [](const std::string& v) {
    return Load("accounts:\n  - name: a\n    base_url: " + v + "\n").accounts.at(0).base_url;
  };
  EXPECT_EQ(url("https://dashscope.aliyuncs.com/"), "https://dashscope.aliyuncs.com");
  EXPECT_EQ(url("http://[::1]:9865//"), "http://[::1]:9865");
  EXPECT_EQ(url("http://localhost"), "http://localhost");
}

TEST(ConfigLoaderTest, EmptyWorkspaceMeansNone) {
  EXPECT_EQ(Load("accounts:\n  - name: a\n    workspace:\n").accounts.at(0).workspace, "");
  EXPECT_EQ(Load("accounts:\n  - name: a\n    workspace: \"\"\n").accounts.at(0).workspace, "");
}

TEST(ConfigLoaderTest, NameCountsCharactersNotBytes) {
  std::string name;
  for (int i = 0; i < 128; ++i) name += "\xc3\xa9";  // é, two bytes each
  EXPECT_EQ(Load("accounts:\n  - name: " + name + "\n").accounts.at(0).name, name);
}

TEST(ConfigLoaderTest, KeyFromFileTrimsTrailingNewlines) {
  TempDir dir;
  const std::string file = dir.Write("key", std::string(kKey) + "\r\n\n");
  const Config c = Load("accounts:\n  - name: a\n    api_key_file: " + file + "\n", FakeEnv({}));
  EXPECT_EQ(c.accounts.at(0).api_key, kKey);
  EXPECT_EQ(c.accounts.at(0).api_key_source, "file " + file);
}

TEST(ConfigLoaderTest, RelativeKeyFileIsRelativeToConfigFile) {
  TempDir dir;
  dir.Write("key", kKey);
  const std::string cfg = dir.Write("cfg.yml", "accounts:\n  - name: a\n    api_key_file: key\n");
  Result<Config> r = LoadConfigFile(cfg, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->accounts.at(0).api_key, kKey);
  EXPECT_EQ(r->accounts.at(0).api_key_source, "file " + dir.path() + "/key");
}

TEST(ConfigLoaderTest, LoadConfigFileReadsFile) {
  TempDir dir;
  const std::string cfg = dir.Write("cfg.yml", "page_size: 7\naccounts:\n  - name: a\n");
  Result<Config> r = LoadConfigFile(cfg, KeyEnv());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->page_size, 7);
}

TEST(ConfigLoaderTest, RealEnvReadsProcessEnvironment) {
  ::setenv("DSE_CONFIG_LOADER_TEST_VAR", "value", 1);
  EXPECT_EQ(RealEnv()("DSE_CONFIG_LOADER_TEST_VAR"), "value");
  ::unsetenv("DSE_CONFIG_LOADER_TEST_VAR");
  EXPECT_EQ(RealEnv()("DSE_CONFIG_LOADER_TEST_VAR"), std::nullopt);
}

TEST(ConfigLoaderTest, ExampleConfigLoads) {
  Result<Config> r = LoadConfigFile(DSE_SOURCE_DIR "/config/dashscope_exporter.yml", KeyEnv());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->poll_interval, seconds(60));
  EXPECT_EQ(r->request_timeout, seconds(10));
  EXPECT_EQ(r->page_size, 200);
  EXPECT_EQ(r->max_staleness, minutes(15));
  ASSERT_EQ(r->accounts.size(), 1u);
  EXPECT_EQ(r->accounts[0].name, "intl");
  EXPECT_EQ(r->accounts[0].base_url, "https://dashscope-intl.aliyuncs.com");
  EXPECT_EQ(r->accounts[0].api_key_source, "env DASHSCOPE_API_KEY");
}

// The example shows the defaults: loading it must equal loading nothing but
// an account.
TEST(ConfigLoaderTest, ExampleConfigStatesTheDefaults) {
  Result<Config> r = LoadConfigFile(DSE_SOURCE_DIR "/config/dashscope_exporter.yml", KeyEnv());
  ASSERT_TRUE(r.ok()) << r.error();
  const Config d = Load(kOneAccount);
  EXPECT_EQ(r->poll_interval, d.poll_interval);
  EXPECT_EQ(r->request_timeout, d.request_timeout);
  EXPECT_EQ(r->page_size, d.page_size);
  EXPECT_EQ(r->max_staleness, d.max_staleness);
  EXPECT_EQ(r->max_retries, d.max_retries);
  EXPECT_EQ(r->retry_base_delay, d.retry_base_delay);
  EXPECT_EQ(r->max_response_bytes, d.max_response_bytes);
}

TEST(ConfigLoaderTest, MockConfigLoads) {
  Result<Config> r = LoadConfigFile(DSE_SOURCE_DIR "/config/dashscope_exporter.mock.yml",
                                    FakeEnv({{"DASHSCOPE_MOCK_API_KEY", kKey}}));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->poll_interval, seconds(15));
  ASSERT_EQ(r->accounts.size(), 1u);
  EXPECT_EQ(r->accounts[0].name, "mock");
  EXPECT_EQ(r->accounts[0].base_url, "http://127.0.0.1:9865");
  EXPECT_EQ(r->accounts[0].api_key_source, "env DASHSCOPE_MOCK_API_KEY");
}

// --- Reading the file -----------------------------------------------------

TEST(ConfigLoaderErrorTest, MissingFile) {
  Result<Config> r = LoadConfigFile("/nonexistent/dse/cfg.yml", KeyEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "/nonexistent/dse/cfg.yml: cannot read: No such file or directory");
}

TEST(ConfigLoaderErrorTest, DirectoryInsteadOfFile) {
  TempDir dir;
  Result<Config> r = LoadConfigFile(dir.path(), KeyEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), dir.path() + ": cannot read: Is a directory");
}

TEST(ConfigLoaderErrorTest, ErrorsNameTheFileGiven) {
  TempDir dir;
  const std::string cfg = dir.Write("cfg.yml", "page_size: 0\naccounts:\n  - name: a\n");
  Result<Config> r = LoadConfigFile(cfg, KeyEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), cfg + ":1:12: page_size: must be between 1 and 200, got 0");
}

TEST(ConfigLoaderErrorTest, EmptyFile) {
  EXPECT_EQ(ErrorOf(""), "cfg.yml: accounts: no accounts configured");
  EXPECT_EQ(ErrorOf("# nothing but a comment\n"), "cfg.yml: accounts: no accounts configured");
  EXPECT_EQ(ErrorOf("---\n"), "cfg.yml: accounts: no accounts configured");
}

TEST(ConfigLoaderErrorTest, NoAccountsKey) {
  EXPECT_EQ(ErrorOf("page_size: 10\n"), "cfg.yml: accounts: no accounts configured");
}

TEST(ConfigLoaderErrorTest, EmptyAccountsList) {
  EXPECT_EQ(ErrorOf("accounts: []\n"), "cfg.yml:1:11: accounts: no accounts configured");
  EXPECT_EQ(ErrorOf("page_size: 10\naccounts:\n"), "cfg.yml:2:1: accounts: no accounts configured");
}

TEST(ConfigLoaderErrorTest, SyntaxErrorHasPosition) {
  EXPECT_EQ(ErrorOf("accounts: [\n"), "cfg.yml:2:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n bad: 1\n"), "cfg.yml:3:2: invalid YAML: end of map not found");
}

TEST(ConfigLoaderErrorTest, SecondDocumentRefused) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n---\npage_size: 1\n"),
            "cfg.yml:3:1: only one YAML document is allowed");
  // A trailing empty document is harmless.
  EXPECT_EQ(Load("accounts:\n  - name: a\n---\n").accounts.size(), 1u);
}

// yaml-cpp 0.7's LoadAll loops forever, allocating, on these (issue #1040).
TEST(ConfigLoaderErrorTest, StrayCommaDoesNotHang) {
  EXPECT_EQ(ErrorOf(",\n"), "cfg.yml:1:1: invalid YAML: unexpected \",\"");
  EXPECT_EQ(ErrorOf(",page_size: 1\naccounts:\n  - name: a\n"),
            "cfg.yml:1:1: invalid YAML: unexpected \",\"");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n...\n,\n"), "cfg.yml:4:1: invalid YAML: unexpected \",\"");
}

TEST(ConfigLoaderErrorTest, TopLevelNotAMap) {
  EXPECT_EQ(ErrorOf("- name: a\n"), "cfg.yml:1:1: top level: want a map of settings, got a list");
  EXPECT_EQ(ErrorOf("hello\n"), "cfg.yml:1:1: top level: want a map of settings, got \"hello\"");
}

// --- Strictness -----------------------------------------------------------

TEST(ConfigLoaderErrorTest, UnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf("pol_interval: 5s\naccounts:\n  - name: a\n"),
            "cfg.yml:1:1: pol_interval: unknown key; allowed: poll_interval, request_timeout, page_size, "
            "max_staleness, max_retries, retry_base_delay, max_response_bytes, accounts");
}

TEST(ConfigLoaderErrorTest, UnknownAccountKey) {
  EXPECT_EQ(
      ErrorOf("accounts:\n  - name: a\n    region: intl\n"),
      "cfg.yml:3:5: accounts[0].region: unknown key; allowed: name, base_url, api_key_env, api_key_file, "
      "workspace, proxy_url, tls_config, api_time_zone");
}

TEST(ConfigLoaderErrorTest, LiteralApiKeyRefused) {
  EXPECT_EQ(
      ErrorOf(std::string("accounts:\n  - name: a\n    api_key: ") + kKey + "\n"),
      "cfg.yml:3:5: accounts[0].api_key: the key itself must not be in the configuration; use api_key_env "
      "or api_key_file");
  EXPECT_EQ(ErrorOf(std::string("api_key: ") + kKey + "\n"),
            "cfg.yml:1:1: api_key: the key itself must not be in the configuration; use api_key_env or "
            "api_key_file");
}

TEST(ConfigLoaderErrorTest, DuplicateTopLevelKey) {
  EXPECT_EQ(ErrorOf("page_size: 10\naccounts:\n  - name: a\npage_size: 20\n"),
            "cfg.yml:4:1: page_size: duplicate key (first at line 1)");
}

TEST(ConfigLoaderErrorTest, DuplicateAccountKey) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    workspace: x\n    workspace: y\n"),
            "cfg.yml:4:5: accounts[0].workspace: duplicate key (first at line 3)");
}

TEST(ConfigLoaderErrorTest, DuplicateKeyInFlowMap) {
  EXPECT_EQ(ErrorOf("accounts: [{name: a, name: b}]\n"),
            "cfg.yml:1:22: accounts[0].name: duplicate key (first at line 1)");
}

TEST(ConfigLoaderErrorTest, NonScalarKey) {
  EXPECT_EQ(ErrorOf("[a, b]: 1\n"), "cfg.yml:1:1: top level: keys must be names, got a list");
}

TEST(ConfigLoaderErrorTest, FirstErrorInDocumentOrderWins) {
  EXPECT_EQ(ErrorOf("page_size: 0\nmax_retries: 99\nbogus: 1\naccounts:\n  - name: a\n"),
            "cfg.yml:1:12: page_size: must be between 1 and 200, got 0");
  EXPECT_EQ(ErrorOf("bogus: 1\npage_size: 0\naccounts:\n  - name: a\n"),
            "cfg.yml:1:1: bogus: unknown key; allowed: poll_interval, request_timeout, page_size, "
            "max_staleness, max_retries, retry_base_delay, max_response_bytes, accounts");
}

// --- Integers -------------------------------------------------------------

TEST(ConfigLoaderErrorTest, PageSizeNotANumber) {
  EXPECT_EQ(ErrorOf("page_size: abc\n"), "cfg.yml:1:12: page_size: want an integer, got \"abc\"");
  EXPECT_EQ(ErrorOf("page_size: 1.5\n"), "cfg.yml:1:12: page_size: want an integer, got \"1.5\"");
}

TEST(ConfigLoaderErrorTest, PageSizeQuoted) {
  EXPECT_EQ(ErrorOf("page_size: \"200\"\n"),
            "cfg.yml:1:12: page_size: want an integer, got the string \"200\"");
}

TEST(ConfigLoaderErrorTest, PageSizeMap) {
  EXPECT_EQ(ErrorOf("page_size:\n  value: 10\n"), "cfg.yml:2:3: page_size: want an integer, got a map");
}

TEST(ConfigLoaderErrorTest, PageSizeEmpty) {
  EXPECT_EQ(ErrorOf("page_size:\naccounts:\n  - name: a\n"),
            "cfg.yml:1:1: page_size: want an integer, got nothing");
}

TEST(ConfigLoaderErrorTest, PageSizeOutOfRange) {
  EXPECT_EQ(ErrorOf("page_size: 0\n"), "cfg.yml:1:12: page_size: must be between 1 and 200, got 0");
  EXPECT_EQ(ErrorOf("page_size: 201\n"), "cfg.yml:1:12: page_size: must be between 1 and 200, got 201");
  EXPECT_EQ(ErrorOf("page_size: -1\n"), "cfg.yml:1:12: page_size: must be between 1 and 200, got -1");
}

TEST(ConfigLoaderErrorTest, IntegerOverflow) {
  EXPECT_EQ(ErrorOf("page_size: 99999999999999999999\n"),
            "cfg.yml:1:12: page_size: integer out of range: \"99999999999999999999\"");
}

TEST(ConfigLoaderErrorTest, MaxRetriesOutOfRange) {
  EXPECT_EQ(ErrorOf("max_retries: 11\n"), "cfg.yml:1:14: max_retries: must be between 0 and 10, got 11");
  EXPECT_EQ(ErrorOf("max_retries: -1\n"), "cfg.yml:1:14: max_retries: must be between 0 and 10, got -1");
}

// --- Durations ------------------------------------------------------------

TEST(ConfigLoaderErrorTest, PollIntervalInvalid) {
  EXPECT_EQ(
      ErrorOf("poll_interval: 60\n"),
      "cfg.yml:1:16: poll_interval: invalid duration \"60\": want a number and unit such as 500ms, 30s, "
      "5m, 1h (units ms s m h d w y)");
}

TEST(ConfigLoaderErrorTest, PollIntervalList) {
  EXPECT_EQ(ErrorOf("poll_interval: [1s]\n"),
            "cfg.yml:1:16: poll_interval: want a duration such as 30s, got a list");
}

TEST(ConfigLoaderErrorTest, PollIntervalTooShort) {
  EXPECT_EQ(ErrorOf("poll_interval: 50ms\n"),
            "cfg.yml:1:16: poll_interval: must be at least 100ms, got 50ms");
}

TEST(ConfigLoaderErrorTest, RequestTimeoutZero) {
  EXPECT_EQ(ErrorOf("request_timeout: 0s\n"), "cfg.yml:1:18: request_timeout: must be greater than 0");
}

TEST(ConfigLoaderErrorTest, RequestTimeoutNotShorterThanPollInterval) {
  EXPECT_EQ(ErrorOf("poll_interval: 30s\nrequest_timeout: 30s\naccounts:\n  - name: a\n"),
            "cfg.yml:2:18: request_timeout: must be shorter than poll_interval (30s), got 30s");
}

TEST(ConfigLoaderErrorTest, PollIntervalShorterThanDefaultTimeout) {
  EXPECT_EQ(ErrorOf("poll_interval: 5s\naccounts:\n  - name: a\n"),
            "cfg.yml:1:16: poll_interval: must be longer than request_timeout (10s by default), got 5s");
}

TEST(ConfigLoaderErrorTest, MaxStalenessInvalid) {
  EXPECT_EQ(
      ErrorOf("max_staleness: -5m\n"),
      "cfg.yml:1:16: max_staleness: invalid duration \"-5m\": want a number and unit such as 500ms, 30s, "
      "5m, 1h (units ms s m h d w y)");
}

TEST(ConfigLoaderErrorTest, RetryBaseDelayNotShorterThanPollInterval) {
  EXPECT_EQ(ErrorOf("poll_interval: 30s\nretry_base_delay: 1m\naccounts:\n  - name: a\n"),
            "cfg.yml:2:19: retry_base_delay: must be shorter than poll_interval (30s), got 1m");
}

TEST(ConfigLoaderErrorTest, PollIntervalShorterThanDefaultRetryDelay) {
  EXPECT_EQ(
      ErrorOf("poll_interval: 400ms\nrequest_timeout: 100ms\naccounts:\n  - name: a\n"),
      "cfg.yml:1:16: poll_interval: must be longer than retry_base_delay (500ms by default), got 400ms");
}

TEST(ConfigLoaderErrorTest, RetryBaseDelayInvalid) {
  EXPECT_EQ(
      ErrorOf("retry_base_delay: fast\n"),
      "cfg.yml:1:19: retry_base_delay: invalid duration \"fast\": want a number and unit such as 500ms, "
      "30s, 5m, 1h (units ms s m h d w y)");
}

// --- Sizes ----------------------------------------------------------------

TEST(ConfigLoaderErrorTest, MaxResponseBytesBadUnit) {
  EXPECT_EQ(
      ErrorOf("max_response_bytes: 32MB\n"),
      "cfg.yml:1:21: max_response_bytes: want a size in bytes such as 33554432 or 32MiB (units KiB, MiB, "
      "GiB), got \"32MB\"");
}

TEST(ConfigLoaderErrorTest, MaxResponseBytesOutOfRange) {
  EXPECT_EQ(ErrorOf("max_response_bytes: 512\n"),
            "cfg.yml:1:21: max_response_bytes: must be between 1KiB and 1GiB, got 512");
  EXPECT_EQ(ErrorOf("max_response_bytes: 2GiB\n"),
            "cfg.yml:1:21: max_response_bytes: must be between 1KiB and 1GiB, got 2GiB");
  EXPECT_EQ(ErrorOf("max_response_bytes: 99999999999999999999999\n"),
            "cfg.yml:1:21: max_response_bytes: must be between 1KiB and 1GiB, got 99999999999999999999999");
}

TEST(ConfigLoaderErrorTest, MaxResponseBytesMap) {
  EXPECT_EQ(
      ErrorOf("max_response_bytes: {a: 1}\n"),
      "cfg.yml:1:21: max_response_bytes: want a size in bytes such as 33554432 or 32MiB (units KiB, MiB, "
      "GiB), got a map");
}

// --- Accounts -------------------------------------------------------------

TEST(ConfigLoaderErrorTest, AccountsNotAList) {
  EXPECT_EQ(ErrorOf("accounts:\n  name: a\n"), "cfg.yml:2:3: accounts: want a list of accounts, got a map");
}

TEST(ConfigLoaderErrorTest, AccountNotAMap) {
  EXPECT_EQ(ErrorOf("accounts:\n  - intl\n"),
            "cfg.yml:2:5: accounts[0]: want a map of account settings, got \"intl\"");
}

TEST(ConfigLoaderErrorTest, AccountWithoutName) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n  - workspace: x\n"),
            "cfg.yml:3:5: accounts[1].name: missing; every account needs a name");
}

TEST(ConfigLoaderErrorTest, EmptyName) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: \"\"\n"), "cfg.yml:2:11: accounts[0].name: must not be empty");
  EXPECT_EQ(ErrorOf("accounts:\n  - name:\n"), "cfg.yml:2:5: accounts[0].name: must not be empty");
}

TEST(ConfigLoaderErrorTest, NameTooLong) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: " + std::string(129, 'x') + "\n"),
            "cfg.yml:2:11: accounts[0].name: must be at most 128 characters long, got 129");
}

TEST(ConfigLoaderErrorTest, NameWithControlCharacter) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: \"a\\tb\"\n"),
            "cfg.yml:2:11: accounts[0].name: must not contain control characters");
}

TEST(ConfigLoaderErrorTest, NameNotAString) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: [a]\n"),
            "cfg.yml:2:11: accounts[0].name: want a string, got a list");
}

TEST(ConfigLoaderErrorTest, DuplicateAccountName) {
  EXPECT_EQ(ErrorOf("accounts:\n"
                    "  - name: intl\n"
                    "    workspace: a\n"
                    "  - name: cn\n"
                    "  - name: intl\n"),
            "cfg.yml:5:11: accounts[2].name: duplicate account name \"intl\" (first at line 2)");
}

TEST(ConfigLoaderErrorTest, BaseUrlScheme) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: ftp://example.com\n"),
            "cfg.yml:3:15: accounts[0].base_url: must start with http:// or https://");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: dashscope-intl.aliyuncs.com\n"),
            "cfg.yml:3:15: accounts[0].base_url: must start with http:// or https://");
}

TEST(ConfigLoaderErrorTest, BaseUrlWithoutHost) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: https://\n"),
            "cfg.yml:3:15: accounts[0].base_url: has no host");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: https:///v1\n"),
            "cfg.yml:3:15: accounts[0].base_url: has no host");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: http://:80\n"),
            "cfg.yml:3:15: accounts[0].base_url: has no host");
}

TEST(ConfigLoaderErrorTest, BaseUrlWithCredentials) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: https://user:pw@example.com\n"),
            "cfg.yml:3:15: accounts[0].base_url: must not contain a user name or password");
}

TEST(ConfigLoaderErrorTest, BaseUrlWithQuery) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: https://example.com/?x=1\n"),
            "cfg.yml:3:15: accounts[0].base_url: must not have a query (?) or fragment (#)");
}

TEST(ConfigLoaderErrorTest, BaseUrlWithSpace) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: \"https://example.com/a b\"\n"),
            "cfg.yml:3:15: accounts[0].base_url: must not contain spaces or control characters");
}

TEST(ConfigLoaderErrorTest, BaseUrlBadPort) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: http://example.com:0\n"),
            "cfg.yml:3:15: accounts[0].base_url: has an invalid port (want 1 to 65535)");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: http://example.com:http/\n"),
            "cfg.yml:3:15: accounts[0].base_url: has an invalid port (want 1 to 65535)");
}

TEST(ConfigLoaderErrorTest, WorkspaceWithSpace) {
  EXPECT_EQ(
      ErrorOf("accounts:\n  - name: a\n    workspace: \"llm x\"\n"),
      "cfg.yml:3:16: accounts[0].workspace: must not contain whitespace, control or non-ASCII characters");
}

TEST(ConfigLoaderErrorTest, WorkspaceNotAString) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    workspace: {id: x}\n"),
            "cfg.yml:3:16: accounts[0].workspace: want a string, got a map");
}

TEST(ConfigLoaderTest, ApiTimeZone) {
  EXPECT_EQ(Load(kOneAccount).accounts.at(0).api_time_zone_seconds, 0);  // UTC unless set
  EXPECT_EQ(
      Load("accounts:\n  - name: a\n    api_time_zone: \"+08:00\"\n").accounts.at(0).api_time_zone_seconds,
      8 * 3600);
  EXPECT_EQ(Load("accounts:\n  - name: a\n    api_time_zone: -05:30\n").accounts.at(0).api_time_zone_seconds,
            -(5 * 3600 + 30 * 60));
  EXPECT_EQ(
      Load("accounts:\n  - name: a\n    api_time_zone: \"+14:00\"\n").accounts.at(0).api_time_zone_seconds,
      14 * 3600);
  EXPECT_EQ(
      Load("accounts:\n  - name: a\n    api_time_zone: \"-00:00\"\n").accounts.at(0).api_time_zone_seconds,
      0);
}

TEST(ConfigLoaderErrorTest, ApiTimeZoneNotAnOffset) {
  for (const char* bad :
       {"UTC", "+8", "+0800", "+08:60", "+14:30", "-12:01", "08:00", "+08:00 ", "Asia/Shanghai"}) {
    EXPECT_EQ(ErrorOf(std::string("accounts:\n  - name: a\n    api_time_zone: \"") + bad + "\"\n"),
              std::string(
                  "cfg.yml:3:20: accounts[0].api_time_zone: want a UTC offset from -12:00 to +14:00 such as "
                  "\"+08:00\", got \"") +
                  bad + "\"")
        << bad;
  }
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_time_zone: [\"+08:00\"]\n"),
            "cfg.yml:3:20: accounts[0].api_time_zone: want a string, got a list");
}

// --- Key sources ----------------------------------------------------------

TEST(ConfigLoaderErrorTest, BothKeySources) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_env: K\n    api_key_file: /k\n"),
            "cfg.yml:4:19: accounts[0].api_key_file: set only one of api_key_env and api_key_file");
}

TEST(ConfigLoaderErrorTest, DefaultKeyEnvUnset) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n", FakeEnv({})),
            "cfg.yml:2:5: accounts[0].api_key_env: environment variable DASHSCOPE_API_KEY is not set (the "
            "default when neither api_key_env nor api_key_file is set)");
}

TEST(ConfigLoaderErrorTest, KeyEnvUnset) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_env: MY_KEY\n"),
            "cfg.yml:3:18: accounts[0].api_key_env: environment variable MY_KEY is not set");
}

TEST(ConfigLoaderErrorTest, KeyEnvEmpty) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_env: MY_KEY\n", FakeEnv({{"MY_KEY", ""}})),
            "cfg.yml:3:18: accounts[0].api_key_env: environment variable MY_KEY is empty");
}

TEST(ConfigLoaderErrorTest, KeyEnvWithWhitespace) {
  EXPECT_EQ(
      ErrorOf("accounts:\n  - name: a\n", FakeEnv({{"DASHSCOPE_API_KEY", std::string(kKey) + "\n"}})),
      "cfg.yml:2:5: accounts[0].api_key_env: the key in environment variable DASHSCOPE_API_KEY contains "
      "whitespace, control or non-ASCII characters");
}

// The mistake of pasting the key where its variable's name belongs.
TEST(ConfigLoaderErrorTest, KeyPastedAsEnvName) {
  EXPECT_EQ(
      ErrorOf(std::string("accounts:\n  - name: a\n    api_key_env: ") + kKey + "\n"),
      "cfg.yml:3:18: accounts[0].api_key_env: not a valid environment variable name (letters, digits and "
      "_, not starting with a digit)");
}

TEST(ConfigLoaderErrorTest, KeyPastedAsFileName) {
  EXPECT_EQ(ErrorOf(std::string("accounts:\n  - name: a\n    api_key_file: /") + kKey + "\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: cannot read: No such file or directory");
}

TEST(ConfigLoaderErrorTest, KeyFileRelativeMissing) {
  TempDir dir;
  const std::string cfg = dir.Write("cfg.yml", "accounts:\n  - name: a\n    api_key_file: nokey\n");
  Result<Config> r = LoadConfigFile(cfg, FakeEnv({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            cfg + ":3:19: accounts[0].api_key_file: cannot read: No such file or directory (relative to " +
                dir.path() + ")");
}

TEST(ConfigLoaderErrorTest, KeyFileIsADirectory) {
  TempDir dir;
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_file: " + dir.path() + "\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: cannot read: Is a directory");
}

// An unreadable key file reports errno's text; a path under a regular file
// fails for root too, where a permission test could not.
TEST(ConfigLoaderErrorTest, KeyFileUnderAFile) {
  TempDir dir;
  const std::string file = dir.Write("key", kKey);
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_file: " + file + "/key\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: cannot read: Not a directory");
}

TEST(ConfigLoaderErrorTest, KeyFileEmpty) {
  TempDir dir;
  const std::string file = dir.Write("key", "\n \n");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_file: " + file + "\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: the file holds no key");
}

TEST(ConfigLoaderErrorTest, KeyFileWithInnerWhitespace) {
  TempDir dir;
  const std::string file = dir.Write("key", std::string(kKey) + " " + kKey + "\n");
  EXPECT_EQ(
      ErrorOf("accounts:\n  - name: a\n    api_key_file: " + file + "\n"),
      "cfg.yml:3:19: accounts[0].api_key_file: the key in the file contains whitespace, control or non-ASCII "
      "characters");
}

TEST(ConfigLoaderErrorTest, KeyFileTooLarge) {
  TempDir dir;
  const std::string file = dir.Write("key", std::string(70000, 'k'));
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_file: " + file + "\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: cannot read: larger than 65536 bytes");
}

TEST(ConfigLoaderErrorTest, KeyFileEmptyName) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_file: \"\"\n"),
            "cfg.yml:3:19: accounts[0].api_key_file: must not be empty");
}

TEST(ConfigLoaderErrorTest, KeyEnvNotAString) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    api_key_env: [A]\n"),
            "cfg.yml:3:18: accounts[0].api_key_env: want a string, got a list");
}

// Last line of defence: even a message that quotes a value (here a name
// equal to the key of an account already loaded) must not carry the key.
TEST(ConfigLoaderErrorTest, LoadedKeyRedactedFromMessages) {
  const std::string yaml = std::string("accounts:\n  - name: ") + kKey + "\n  - name: " + kKey + "\n";
  EXPECT_EQ(ErrorOf(yaml),
            "cfg.yml:3:11: accounts[1].name: duplicate account name \"<redacted>\" (first at line 2)");
}

// --- proxy_url and tls_config (the API client's transport) ---

constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST(ConfigLoaderTransportTest, DefaultsWhenAbsent) {
  const Config c = Load(kOneAccount);
  EXPECT_FALSE(c.accounts[0].proxy_url.has_value());
  EXPECT_EQ(c.accounts[0].tls, ApiTlsConfig{});
  EXPECT_EQ(c.accounts[0].api_key_file, "");
}

TEST(ConfigLoaderTransportTest, ReadsProxyUrlAndTlsConfig) {
  TempDir dir;
  const std::string ca = dir.Write("ca.pem", kPem);
  const Config c = Load(
      "accounts:\n  - name: a\n    proxy_url: http://user:p%40ss@proxy.internal:3128\n"
      "    tls_config:\n      ca_file: " +
      ca + "\n      server_name: dashscope.aliyuncs.com\n      insecure_skip_verify: true\n");
  EXPECT_EQ(c.accounts[0].proxy_url, "http://user:p%40ss@proxy.internal:3128");
  EXPECT_EQ(c.accounts[0].tls.ca_file, ca);
  EXPECT_EQ(c.accounts[0].tls.server_name, "dashscope.aliyuncs.com");
  EXPECT_TRUE(c.accounts[0].tls.insecure_skip_verify);
}

TEST(ConfigLoaderTransportTest, EmptyProxyUrlMeansDirect) {
  EXPECT_EQ(Load("accounts:\n  - name: a\n    proxy_url: \"\"\n").accounts[0].proxy_url, "");
  EXPECT_EQ(Load("accounts:\n  - name: a\n    proxy_url:\n").accounts[0].proxy_url, "");
}

TEST(ConfigLoaderTransportTest, RelativeCaFileIsResolvedAgainstTheConfigDirectory) {
  TempDir dir;
  dir.Write("ca.pem", kPem);
  const std::string cfg =
      dir.Write("cfg.yml", "accounts:\n  - name: a\n    tls_config:\n      ca_file: ca.pem\n");
  Result<Config> r = LoadConfigFile(cfg, KeyEnv());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->accounts[0].tls.ca_file, dir.path() + "/ca.pem");
}

TEST(ConfigLoaderTransportTest, KeyFilePathIsKept) {
  TempDir dir;
  const std::string file = dir.Write("key", kKey);
  EXPECT_EQ(Load("accounts:\n  - name: a\n    api_key_file: " + file + "\n").accounts[0].api_key_file, file);
}

TEST(ConfigLoaderTransportTest, ProxyUrlErrorsNeverEchoTheUrl) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: https://u:secretpw@proxy:3128\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: must start with http:// (an HTTP proxy; the API traffic is "
            "tunnelled through it with CONNECT)");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: http://usersecretpw@proxy:3128\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: user info must be user:password");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: http://u:p%zz@proxy:3128\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: user info has a '%' not followed by two hex digits");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: http://u:secretpw@proxy:99999\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: has an invalid port (want 1 to 65535)");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: http://u:secretpw@proxy:3128/path\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: must not have a path, query or fragment");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: http://u:secretpw@:3128\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: has no host");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    proxy_url: [a]\n"),
            "cfg.yml:3:16: accounts[0].proxy_url: want a string, got a list");
}

TEST(ConfigLoaderTransportTest, ProxyUrlNeedsHttpsBaseUrl) {
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: http://127.0.0.1:8080\n"
                    "    proxy_url: http://proxy:3128\n"),
            "cfg.yml:4:16: accounts[0].proxy_url: needs an https:// base_url: through a proxy, an http:// "
            "request would show the API key to the proxy");
  // "no proxy" is fine with any scheme.
  EXPECT_EQ(Load("accounts:\n  - name: a\n    base_url: http://127.0.0.1:8080\n    proxy_url: \"\"\n")
                .accounts[0]
                .proxy_url,
            "");
}

TEST(ConfigLoaderTransportTest, TlsConfigErrors) {
  TempDir dir;
  const std::string not_pem = dir.Write("ca.txt", "hello\n");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    tls_config:\n      verify: true\n"),
            "cfg.yml:4:7: accounts[0].tls_config.verify: unknown key; allowed: ca_file, server_name, "
            "insecure_skip_verify");
  EXPECT_EQ(
      ErrorOf("accounts:\n  - name: a\n    tls_config:\n      insecure_skip_verify: yes please\n"),
      "cfg.yml:4:29: accounts[0].tls_config.insecure_skip_verify: want true or false, got \"yes please\"");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    tls_config:\n      ca_file: " + dir.path() + "/none.pem\n"),
            "cfg.yml:4:16: accounts[0].tls_config.ca_file: cannot read " + dir.path() +
                "/none.pem: No such file or directory");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    tls_config:\n      ca_file: " + not_pem + "\n"),
            "cfg.yml:4:16: accounts[0].tls_config.ca_file: " + not_pem + " holds no PEM certificate");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    tls_config:\n      server_name: \"a b\"\n"),
            "cfg.yml:4:20: accounts[0].tls_config.server_name: must not contain whitespace, control or "
            "non-ASCII characters");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    tls_config: true\n"),
            "cfg.yml:3:17: accounts[0].tls_config: want a map of TLS settings (ca_file, server_name, "
            "insecure_skip_verify), got \"true\"");
  EXPECT_EQ(ErrorOf("accounts:\n  - name: a\n    base_url: http://127.0.0.1:1\n    tls_config:\n"
                    "      insecure_skip_verify: true\n"),
            "cfg.yml:5:7: accounts[0].tls_config: applies only to an https:// base_url");
}

}  // namespace
}  // namespace dse::config
