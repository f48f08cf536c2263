// How the real dashscope_exporter talks to the API (contract: "Talking to
// the API"), against dashscope_mock and a CONNECT proxy started here: the
// key never reaches a proxy, proxy credentials do, a private CA and
// tls_config work, a rotated key file takes effect without SIGHUP, a refused
// page_size falls back to 100, a huge Retry-After is capped, and
// request_timeout bounds a request whose headers trickle in.
#include <gtest/gtest.h>
#include <strings.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "testing/connect_proxy.h"
#include "testing/harness.h"

namespace dse::testing {
namespace {

constexpr std::string_view kNewKey = "sk-mock-ROTATED-0002";

std::string Mine(const std::string& name) { return name + "{account=\"mock\"}"; }

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The header lines of a request head named `name` (case-insensitive).
std::vector<std::string> HeaderLines(const std::string& head, const std::string& name) {
  auto out = LinesWhere(head, [&](const std::string& line) {
    return line.size() > name.size() && line[name.size()] == ':' &&
           strncasecmp(line.c_str(), name.c_str(), name.size()) == 0;
  });
  for (auto& line : out) {
    if (line.back() == '\r') line.pop_back();  // a match is never empty
  }
  return out;
}

// Environment without any proxy from the machine running the tests.
std::map<std::string, std::string> NoProxyEnv(const Mock& mock) {
  auto env = MockEnv(mock);
  for (const char* v : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}) {
    env[v] = "";
  }
  return env;
}

// A test CA and a certificate it signed for 127.0.0.1 and mock.test, made
// with the openssl CLI at test time.
struct TestPki {
  TempDir dir{"dse_pki"};
  std::string ca_cert;
  std::string cert;
  std::string key;

  static TestPki Make() {
    TestPki p;
    p.ca_cert = p.dir.File("ca.pem");
    p.cert = p.dir.File("mock.pem");
    p.key = p.dir.File("mock.key");
    const std::string ca_key = p.dir.File("ca.key");
    const std::string csr = p.dir.File("mock.csr");
    const std::string ext = p.dir.File("ext.cnf");
    WriteFile(ext, "subjectAltName=IP:127.0.0.1,DNS:mock.test\n");
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    const std::string quiet = " 2>/dev/null";
    const std::vector<std::string> cmds = {
        "openssl req -x509" + ec + "-days 1 -subj /CN=dse-test-ca -keyout " + ca_key + " -out " + p.ca_cert,
        "openssl req -new" + ec + "-subj /CN=mock.test -keyout " + p.key + " -out " + csr,
        "openssl x509 -req -in " + csr + " -CA " + p.ca_cert + " -CAkey " + ca_key +
            " -CAcreateserial -days 1 -extfile " + ext + " -out " + p.cert,
    };
    for (const auto& cmd : cmds) {
      EXPECT_EQ(std::system((cmd + quiet).c_str()), 0) << "openssl CLI needed: " << cmd;
    }
    return p;
  }
};

std::vector<std::string> TlsMockArgs(const TestPki& pki) {
  return {"--tls-cert-file", pki.cert, "--tls-key-file", pki.key};
}

std::string Timings(const std::string& extra = "") {
  return "poll_interval: 2s\nrequest_timeout: 1s\nmax_retries: 0\n" + extra;
}

std::string Account(const std::string& name, const std::string& base_url, const std::string& extra = "") {
  return "  - name: " + name + "\n    base_url: " + base_url +
         "\n    api_key_env: " + std::string(kMockApiKeyEnv) + "\n" + extra;
}

// A configuration with the timings above and one account, "mock", on `mock`.
std::string OneMockAccount(const Mock& mock, const std::string& extra = "") {
  return Timings() + "accounts:\n" + Account("mock", mock.base_url(), extra);
}

// The account lines that make it trust TestPki's CA.
std::string TrustTestCa(const TestPki& pki) {
  return "    tls_config:\n      ca_file: " + pki.ca_cert + "\n";
}

class ApiTransportTest : public ::testing::Test {
 protected:
  // The mock (with `mock_args`) and a CONNECT proxy, for the proxy tests;
  // call it in ASSERT_NO_FATAL_FAILURE.
  void StartMockAndProxy(std::vector<std::string> mock_args = {}) {
    mock_ = Mock::Start(std::move(mock_args));
    ASSERT_NE(mock_, nullptr);
    proxy_ = ConnectProxy::Start();
    ASSERT_NE(proxy_, nullptr);
  }

  // Neither key nor the proxy password ever reaches the exporter's output.
  void ExpectNoSecretsIn(Exporter& exporter, const std::vector<std::string>& secrets) {
    const std::string out = exporter.process().Stdout() + exporter.process().Stderr() + exporter.Metrics();
    for (const auto& s : secrets) EXPECT_EQ(out.find(s), std::string::npos) << "leaked: " << s;
  }

  std::unique_ptr<Mock> mock_;
  std::unique_ptr<ConnectProxy> proxy_;
};

// --- proxies -------------------------------------------------------------------

// proxy_url with credentials: the CONNECT carries Proxy-Authorization and no
// Authorization; the key only travels inside the tunnel, encrypted.
TEST_F(ApiTransportTest, ProxyUrlConnectCarriesProxyCredentialsAndNoKey) {
  TestPki pki = TestPki::Make();
  ASSERT_NO_FATAL_FAILURE(StartMockAndProxy(TlsMockArgs(pki)));
  const std::string password = "pr0xy-P@SS";
  const std::string yaml = OneMockAccount(
      *mock_, "    proxy_url: http://scraper:pr0xy-P%40SS@127.0.0.1:" + std::to_string(proxy_->port()) +
                  "\n" + TrustTestCa(pki));
  auto exporter = Exporter::Start(yaml, {}, NoProxyEnv(*mock_));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)))
      << exporter->process().Stderr();

  const auto heads = proxy_->Heads();
  ASSERT_FALSE(heads.empty());
  const std::string target = "CONNECT 127.0.0.1:" + std::to_string(mock_->port()) + " HTTP/1.1\r\n";
  for (const auto& head : heads) {
    EXPECT_EQ(head.rfind(target, 0), 0u) << head;
    EXPECT_TRUE(HeaderLines(head, "Authorization").empty()) << head;
    // base64("scraper:pr0xy-P@SS")
    EXPECT_EQ(HeaderLines(head, "Proxy-Authorization"),
              std::vector<std::string>{"Proxy-Authorization: Basic c2NyYXBlcjpwcjB4eS1QQFNT"})
        << head;
    EXPECT_EQ(head.find(mock_->api_key()), std::string::npos) << head;
  }
  // The proxy's credentials stop at the proxy: the API never gets them.
  const std::string state = mock_->Admin("GET", "/mock/state").body;
  EXPECT_TRUE(state.find("\"last_proxy_authorization\":null") != std::string::npos ||
              state.find("\"last_proxy_authorization\":\"\"") != std::string::npos)
      << state;
  EXPECT_EQ(state.find("c2NyYXBlcjpwcjB4eS1QQFNT"), std::string::npos) << state;
  ExpectNoSecretsIn(*exporter, {mock_->api_key(), password, "pr0xy-P%40SS"});
}

// HTTPS_PROXY from the environment, no credentials: a bare CONNECT.
TEST_F(ApiTransportTest, HttpsProxyFromEnvironmentCarriesNoAuthorization) {
  TestPki pki = TestPki::Make();
  ASSERT_NO_FATAL_FAILURE(StartMockAndProxy(TlsMockArgs(pki)));
  auto env = NoProxyEnv(*mock_);
  env["HTTPS_PROXY"] = proxy_->url();
  auto exporter = Exporter::Start(OneMockAccount(*mock_, TrustTestCa(pki)), {}, env);
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)))
      << exporter->process().Stderr();
  const auto heads = proxy_->Heads();
  ASSERT_FALSE(heads.empty());
  for (const auto& head : heads) {
    EXPECT_EQ(head.rfind("CONNECT 127.0.0.1:" + std::to_string(mock_->port()) + " HTTP/1.1\r\n", 0), 0u)
        << head;
    EXPECT_TRUE(HeaderLines(head, "Authorization").empty()) << head;
    EXPECT_TRUE(HeaderLines(head, "Proxy-Authorization").empty()) << head;
  }
  ExpectNoSecretsIn(*exporter, {mock_->api_key()});
}

// An http:// base_url through HTTP_PROXY would show the whole request, key
// included, to the proxy: the exporter sends nothing and says why.
TEST_F(ApiTransportTest, HttpBaseUrlIsNeverSentThroughAProxy) {
  ASSERT_NO_FATAL_FAILURE(StartMockAndProxy());
  auto env = NoProxyEnv(*mock_);
  env["HTTP_PROXY"] = proxy_->url();
  auto exporter = Exporter::Start(OneMockAccount(*mock_), {}, env);
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_api_errors_total{account=\"mock\",code=\"connection\"} 2",
                                      std::chrono::seconds(15)));
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), Mine("dashscope_up") + " 0"));
  EXPECT_EQ(proxy_->connections(), 0);
  EXPECT_NE(mock_->Admin("GET", "/mock/state").body.find("\"list_requests\":0"), std::string::npos);
  const std::string err = exporter->process().Stderr();
  EXPECT_NE(
      err.find("not sent: base_url is http:// and HTTP_PROXY applies to it; the proxy would see the API "
               "key. Use an https:// base_url, or list the host in NO_PROXY"),
      std::string::npos)
      << err;
  ExpectNoSecretsIn(*exporter, {mock_->api_key()});
}

// NO_PROXY names the host: direct, and the proxy sees nothing.
TEST_F(ApiTransportTest, NoProxyBypassesTheProxy) {
  ASSERT_NO_FATAL_FAILURE(StartMockAndProxy());
  auto env = NoProxyEnv(*mock_);
  env["HTTP_PROXY"] = proxy_->url();
  env["NO_PROXY"] = "localhost,127.0.0.1";
  auto exporter = Exporter::Start(OneMockAccount(*mock_), {}, env);
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)));
  EXPECT_EQ(proxy_->connections(), 0);
}

// An unparsable proxy setting is named by its variable, never quoted.
TEST_F(ApiTransportTest, UnparsableProxyIsNotLoggedVerbatim) {
  TestPki pki = TestPki::Make();
  auto mock = Mock::Start(TlsMockArgs(pki));
  ASSERT_NE(mock, nullptr);
  auto env = NoProxyEnv(*mock);
  env["HTTPS_PROXY"] = "socks5://user:HUNTER2-secret@proxy:1080";
  auto exporter = Exporter::Start(OneMockAccount(*mock, TrustTestCa(pki)), {}, env);
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)));
  const std::string err = exporter->process().Stderr();
  EXPECT_NE(err.find("ignoring an unparsable proxy setting; connecting directly"), std::string::npos) << err;
  EXPECT_NE(err.find("setting=HTTPS_PROXY"), std::string::npos) << err;
  EXPECT_EQ(err.find("HUNTER2"), std::string::npos) << err;
  EXPECT_EQ(err.find("socks5"), std::string::npos) << err;
}

// --- TLS -------------------------------------------------------------------------

// One exporter, five accounts against one HTTPS mock with a private CA.
TEST_F(ApiTransportTest, PrivateCaServerNameAndInsecureSkipVerify) {
  TestPki pki = TestPki::Make();
  auto mock = Mock::Start(TlsMockArgs(pki));
  ASSERT_NE(mock, nullptr);
  const std::string url = mock->base_url();
  const std::string ca = "      ca_file: " + pki.ca_cert + "\n";
  const std::string yaml =
      Timings() + "accounts:\n" + Account("with_ca", url, "    tls_config:\n" + ca) +
      Account("system_ca", url) +
      Account("wrong_name", url, "    tls_config:\n" + ca + "      server_name: other.test\n") +
      Account("right_name", url, "    tls_config:\n" + ca + "      server_name: mock.test\n") +
      Account("insecure", url, "    tls_config:\n      insecure_skip_verify: true\n");
  auto exporter = Exporter::Start(yaml, {}, NoProxyEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  const auto up = [](const std::string& a, int v) {
    return "dashscope_up{account=\"" + a + "\"} " + std::to_string(v);
  };
  const auto tls_errors = [](const std::string& a) {
    return "dashscope_api_errors_total{account=\"" + a + "\",code=\"tls\"}";
  };
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& m) {
        return HasMetricLine(m, up("with_ca", 1)) && HasMetricLine(m, up("right_name", 1)) &&
               HasMetricLine(m, up("insecure", 1)) && HasMetricLine(m, tls_errors("system_ca")) &&
               HasMetricLine(m, tls_errors("wrong_name"));
      },
      std::chrono::seconds(15)))
      << exporter->Metrics() << exporter->process().Stderr();
  const std::string m = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(m, up("system_ca", 0)));
  EXPECT_TRUE(HasMetricLine(m, up("wrong_name", 0)));
  EXPECT_TRUE(LinesStartingWith(m, "dashscope_api_errors_total{account=\"with_ca\"").empty());
  EXPECT_EQ(Count(exporter->process().Stderr(),
                  "TLS certificate verification is off for this account (tls_config.insecure_skip_verify)"),
            1u);
  ExpectNoSecretsIn(*exporter, {mock->api_key()});
}

// --- key rotation -----------------------------------------------------------------

// The Secret is rotated: the file gets the key the API now accepts, and the
// next poll uses it, with no SIGHUP. A vanished file keeps the key in use
// and is logged once.
TEST_F(ApiTransportTest, RotatedKeyFileTakesEffectWithoutSighup) {
  auto mock = Mock::Start({}, std::string(kNewKey));  // accepts only the new key
  ASSERT_NE(mock, nullptr);
  const TempDir dir("dse_keyfile");
  const std::string file = dir.File("key");
  ASSERT_TRUE(WriteFile(file, std::string(kDefaultMockApiKey) + "\n"));
  const std::string yaml = Timings() + "accounts:\n  - name: mock\n    base_url: " + mock->base_url() +
                           "\n    api_key_file: " + file + "\n";
  auto exporter = Exporter::Start(yaml, {}, NoProxyEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_api_errors_total{account=\"mock\",code=\"InvalidApiKey\"}",
                                      std::chrono::seconds(15)));
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), Mine("dashscope_up") + " 0"));

  // As kubelet does: the new content appears at once (write aside, rename).
  ASSERT_TRUE(WriteFile(file + ".new", std::string(kNewKey) + "\n"));
  ASSERT_EQ(std::rename((file + ".new").c_str(), file.c_str()), 0);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)))
      << exporter->process().Stderr();
  const std::string polls_before =
      std::to_string(*Sample(exporter->Metrics(), Mine("dashscope_polls_total")));

  std::remove(file.c_str());
  // Three more polls, all good with the key already loaded.
  const double polls = *Sample(exporter->Metrics(), Mine("dashscope_polls_total"));
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& m) {
        const auto p = Sample(m, Mine("dashscope_polls_total"));
        return p && *p >= polls + 3;
      },
      std::chrono::seconds(15)));
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), Mine("dashscope_up") + " 1"));
  const std::string err = exporter->process().Stderr();
  EXPECT_EQ(Count(err, "api_key_file changed; using the new key"), 1u) << err;
  EXPECT_EQ(Count(err, "cannot re-read api_key_file; keeping the key already loaded"), 1u) << err;
  EXPECT_EQ(Count(err, "configuration reloaded"), 0u);
  ExpectNoSecretsIn(*exporter, {std::string(kDefaultMockApiKey), std::string(kNewKey)});
}

// --- page_size fallback -------------------------------------------------------------

TEST_F(ApiTransportTest, RefusedPageSizeFallsBackTo100Once) {
  auto mock = Mock::Start({"--max-page-size", "100", "--deployments", "250"});
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(
      Timings("page_size: 200\n") + "accounts:\n" + Account("mock", mock->base_url()), {}, NoProxyEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(Mine("dashscope_up") + " 1", std::chrono::seconds(15)))
      << exporter->process().Stderr();
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), Mine("dashscope_deployments") + " 250"));
  // The refused request, then three pages of 100.
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(),
                            "dashscope_api_errors_total{account=\"mock\",code=\"InvalidParameter\"} 1"));
  ASSERT_TRUE(exporter->WaitForMetrics(
      [](const std::string& m) {
        const auto p = Sample(m, Mine("dashscope_polls_total"));
        return p && *p >= 3;
      },
      std::chrono::seconds(15)));
  const std::string m = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(m, "dashscope_api_errors_total{account=\"mock\",code=\"InvalidParameter\"} 1"))
      << m;
  EXPECT_TRUE(HasMetricLine(m, Mine("dashscope_poll_failures_total") + " 0")) << m;
  const std::string state = mock->Admin("GET", "/mock/state").body;
  EXPECT_NE(state.find("\"last_page_size\":100"), std::string::npos) << state;
  EXPECT_NE(state.find("\"invalid_parameters\":1,"), std::string::npos) << state;
  EXPECT_EQ(Count(exporter->process().Stderr(),
                  "the API refused page_size (InvalidParameter); listing with page_size 100 from now on"),
            1u);
}

// --- Retry-After and request_timeout ------------------------------------------------

// Retry-After: 999999999 (31 years) is honoured for 15 minutes at most.
// (That polls then resume is shown with fake time in account_poller_test.)
TEST_F(ApiTransportTest, HugeRetryAfterIsCappedAtFifteenMinutes) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=http&status=429&retry_after=999999999").status, 200);
  // A request_timeout far above a loopback answer: on a loaded machine the
  // 429 must still arrive as a 429, not as a timeout.
  auto exporter = Exporter::Start("poll_interval: 10s\nrequest_timeout: 5s\nmax_retries: 0\naccounts:\n" +
                                      Account("mock", mock->base_url()),
                                  {}, NoProxyEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  const std::string gauge = Mine("dashscope_api_throttled_until_timestamp_seconds");
  std::optional<double> seen;
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& m) {
        seen = Sample(m, gauge);
        return seen && *seen > 0;
      },
      std::chrono::seconds(15)))
      << exporter->Metrics();
  const double now = static_cast<double>(std::time(nullptr));
  const double until = *seen;
  EXPECT_LE(until, now + 15 * 60 + 1);
  EXPECT_GE(until, now + 15 * 60 - 30);
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(),
                            "dashscope_api_errors_total{account=\"mock\",code=\"Throttling\"} 1"));
}

// The API sends its response one byte every 200 ms: the request ends at
// request_timeout (1 s), counted as `timeout`, not when the last byte comes
// (the head alone would take ~20 s).
TEST_F(ApiTransportTest, TrickledHeadersEndAtRequestTimeout) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=trickle&ms=200&times=0").status, 200);
  auto exporter = Exporter::Start("poll_interval: 3s\nrequest_timeout: 1s\nmax_retries: 0\naccounts:\n" +
                                      Account("mock", mock->base_url()),
                                  {}, NoProxyEnv(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_api_errors_total{account=\"mock\",code=\"timeout\"} 1",
                                      std::chrono::seconds(15)))
      << exporter->Metrics();
  const std::string m = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(m, Mine("dashscope_up") + " 0"));
  const auto duration = Sample(m, Mine("dashscope_poll_duration_seconds"));
  ASSERT_TRUE(duration.has_value()) << m;
  EXPECT_GE(*duration, 0.9);
  EXPECT_LE(*duration, 1.5);  // request_timeout plus slack for a loaded machine
  const std::string err = exporter->process().Stderr();
  EXPECT_NE(err.find("no complete response within request_timeout (1s)"), std::string::npos) << err;
}

}  // namespace
}  // namespace dse::testing
