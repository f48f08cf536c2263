#include "dashscope/api_client.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <thread>

#include "dashscope/api_key_file.h"

namespace dse::dashscope {
namespace {

using namespace std::chrono_literals;

TEST(ErrorCodeFor, UsesDashScopeCodeElseHttpStatus) {
  EXPECT_EQ(
      ErrorCodeFor(401, R"({"request_id":"r","code":"InvalidApiKey","message":"Invalid API-key provided."})"),
      "InvalidApiKey");
  EXPECT_EQ(ErrorCodeFor(429, R"({"code":"Throttling.RateQuota"})"), "Throttling.RateQuota");
  EXPECT_EQ(ErrorCodeFor(502, "<html><body>Bad Gateway</body></html>"), "http_502");
  EXPECT_EQ(ErrorCodeFor(500, R"({"code":""})"), "http_500");
  // A code that would make a bad label value is not trusted.
  EXPECT_EQ(ErrorCodeFor(400, R"({"code":"bad code\n"})"), "http_400");
  EXPECT_EQ(ErrorCodeFor(400, "{\"code\":\"" + std::string(100, 'x') + "\"}"), "http_400");
}

TEST(IsRetryableStatus, ServerErrorsAndThrottlingOnly) {
  for (int s : {429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableStatus(s)) << s;
  for (int s : {400, 401, 403, 404, 409}) EXPECT_FALSE(IsRetryableStatus(s)) << s;
}

TEST(ReadPageBody, PageOrInvalidResponseKeepingWhatWasSet) {
  RequestOutcome good;
  good.http_status = 200;
  ReadPageBody(R"({"output":{"page_no":1,"page_size":200,"total":0,"deployments":[]}})", good);
  EXPECT_TRUE(good.ok);
  EXPECT_EQ(good.page.total, 0);
  EXPECT_TRUE(good.error_code.empty());
  EXPECT_EQ(good.http_status, 200);

  RequestOutcome bad;
  bad.http_status = 200;
  ReadPageBody("<html>not the API</html>", bad);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error_code, "invalid_response");
  EXPECT_FALSE(bad.error_message.empty());
  EXPECT_FALSE(bad.retryable);
  EXPECT_EQ(bad.http_status, 200);
}

TEST(ParseRetryAfter, SecondsAndHttpDate) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), Duration(120000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), Duration(30000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), Duration(0));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
}

TEST(ParseRetryAfter, CappedAtFifteenMinutes) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(ParseRetryAfter("900", now), Duration(900000));
  EXPECT_EQ(ParseRetryAfter("901", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("999999999", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Fri, 31 Dec 2100 23:59:59 GMT", now), kMaxRetryAfter);
  EXPECT_EQ(kMaxRetryAfter, Duration(15 * 60 * 1000));
}

TEST(ParseProxyUrl, HostPortAndDecodedCredentials) {
  auto p = ParseProxyUrl("http://us%3Aer:p%40ss:word@proxy.internal:3128/");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->host, "proxy.internal");
  EXPECT_EQ(p->port, 3128);
  EXPECT_EQ(p->username, "us:er");
  EXPECT_EQ(p->password, "p@ss:word");
  p = ParseProxyUrl("proxy:8080");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->host, "proxy");
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->username, "");
  EXPECT_EQ(ParseProxyUrl("http://[::1]:3128")->host, "::1");
  EXPECT_EQ(ParseProxyUrl("http://proxy")->port, 80);
  EXPECT_FALSE(ParseProxyUrl("https://proxy:3128").has_value());
  EXPECT_FALSE(ParseProxyUrl("socks5://proxy:1080").has_value());
  EXPECT_FALSE(ParseProxyUrl("http://u:p%zz@proxy:1").has_value());
  EXPECT_FALSE(ParseProxyUrl("http://proxy:3128/path").has_value());
  EXPECT_FALSE(ParseProxyUrl("http://:3128").has_value());
}

TEST(NoProxyMatches, HostsSuffixesAndStar) {
  EXPECT_TRUE(NoProxyMatches("localhost,.aliyuncs.com", "dashscope.aliyuncs.com"));
  EXPECT_TRUE(NoProxyMatches("aliyuncs.com", "dashscope.aliyuncs.com"));
  EXPECT_FALSE(NoProxyMatches("cs.com", "dashscope.aliyuncs.com"));
  EXPECT_TRUE(NoProxyMatches(" 127.0.0.1 ", "127.0.0.1"));
  EXPECT_TRUE(NoProxyMatches("*", "anything"));
  EXPECT_FALSE(NoProxyMatches("", "anything"));
  EXPECT_TRUE(NoProxyMatches("example.com:443", "example.com"));
}

// A loopback server whose list handler each test sets.
class ApiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    server_.Get("/api/v1/deployments", [this](const httplib::Request& req, httplib::Response& res) {
      last_auth_ = req.get_header_value("Authorization");
      last_workspace_ = req.get_header_value("X-DashScope-WorkSpace");
      last_user_agent_ = req.get_header_value("User-Agent");
      last_query_ = req.get_param_value("page_no") + "/" + req.get_param_value("page_size");
      handler_(req, res);
    });
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop has started would be lost.
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
    account_.name = "t";
    account_.base_url = "http://127.0.0.1:" + std::to_string(port_);
    account_.api_key = "sk-test-SECRET";
    account_.workspace = "llm-ws";
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  std::unique_ptr<PageFetcher> Fetcher(size_t max_bytes = 1 << 20) {
    ClientOptions o;
    o.user_agent = "dashscope_exporter/test";
    o.max_response_bytes = max_bytes;
    return MakeHttpPageFetcher(account_, o);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  config::Account account_;
  std::function<void(const httplib::Request&, httplib::Response&)> handler_;
  std::string last_auth_, last_workspace_, last_user_agent_, last_query_;
};

TEST_F(ApiClientTest, SendsAuthWorkspaceAndPaging) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"output":{"total":1,"deployments":[{"deployed_model":"m1","capacity":2}]}})",
                    "application/json");
  };
  auto out = Fetcher()->FetchPage(3, 50, 2s);
  ASSERT_TRUE(out.ok) << out.error_message;
  EXPECT_EQ(out.page.deployments.at(0).capacity, 2);
  EXPECT_EQ(last_auth_, "Bearer sk-test-SECRET");
  EXPECT_EQ(last_workspace_, "llm-ws");
  EXPECT_EQ(last_user_agent_, "dashscope_exporter/test");
  EXPECT_EQ(last_query_, "3/50");
}

TEST_F(ApiClientTest, ClassifiesApiErrorWithRetryAfter) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "7");
    res.set_content(R"({"request_id":"abc","code":"Throttling","message":"Requests throttled"})",
                    "application/json");
  };
  auto out = Fetcher()->FetchPage(1, 200, 2s);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error_code, "Throttling");
  EXPECT_TRUE(out.retryable);
  EXPECT_EQ(out.retry_after, Duration(7000));
  EXPECT_EQ(out.error_message, "HTTP 429 Throttling: Requests throttled (request_id abc)");
}

TEST_F(ApiClientTest, HtmlGatewayPageIsHttpStatus) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.status = 502;
    res.set_content("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
  };
  auto out = Fetcher()->FetchPage(1, 200, 2s);
  EXPECT_EQ(out.error_code, "http_502");
  EXPECT_TRUE(out.retryable);
}

TEST_F(ApiClientTest, InvalidJsonIsInvalidResponse) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"output":{"deployments":[{"deployed_model":)", "application/json");
  };
  auto out = Fetcher()->FetchPage(1, 200, 2s);
  EXPECT_EQ(out.error_code, "invalid_response");
  EXPECT_FALSE(out.retryable);
}

TEST_F(ApiClientTest, OversizedBodyIsRefused) {
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(2 << 20, ' ') + "{}", "application/json");
  };
  auto out = Fetcher(1 << 20)->FetchPage(1, 200, 2s);
  EXPECT_EQ(out.error_code, "invalid_response");
  EXPECT_EQ(out.error_message, "response body larger than max_response_bytes (1048576 bytes)");
}

TEST_F(ApiClientTest, HangIsTimeout) {
  // The server answers only once the client has given up (or after 10 s, so
  // that a broken client fails the test instead of hanging it): a result
  // before the answer can only be the timeout.
  std::promise<void> gave_up;
  std::shared_future<void> released = gave_up.get_future().share();
  handler_ = [released](const httplib::Request&, httplib::Response& res) {
    (void)released.wait_for(10s);
    res.set_content("{}", "application/json");
  };
  const auto start = std::chrono::steady_clock::now();
  auto out = Fetcher()->FetchPage(1, 200, 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  gave_up.set_value();
  EXPECT_EQ(out.error_code, "timeout");
  EXPECT_TRUE(out.retryable);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 10s) << "the client waited for the answer instead of timing out";
}

TEST_F(ApiClientTest, ConnectionRefusedIsConnection) {
  account_.base_url = "http://127.0.0.1:1";
  auto out = Fetcher()->FetchPage(1, 200, 1s);
  EXPECT_EQ(out.error_code, "connection");
  EXPECT_TRUE(out.retryable);
}

TEST_F(ApiClientTest, KeyNeverInErrorMessages) {
  handler_ = [](const httplib::Request& req, httplib::Response& res) {
    res.status = 401;
    // A hostile or buggy server echoing the header back.
    res.set_content(
        R"({"code":"InvalidApiKey","message":"bad key )" + req.get_header_value("Authorization") + "\"}",
        "application/json");
  };
  auto out = Fetcher()->FetchPage(1, 200, 2s);
  EXPECT_EQ(out.error_code, "InvalidApiKey");
  EXPECT_EQ(out.error_message.find("sk-test-SECRET"), std::string::npos) << out.error_message;
}

constexpr char kOkPage[] = R"({"output":{"total":1,"deployments":[{"deployed_model":"m1"}]}})";

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// A rotated Secret: the file gets a new key; the next poll uses it.
TEST_F(ApiClientTest, ChangedKeyFileIsReadBeforeThePoll) {
  char dir[] = "/tmp/dse_key_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/key";
  WriteText(file, "sk-test-SECRET\n");
  account_.api_key_file = file;
  handler_ = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kOkPage, "application/json");
  };
  auto fetcher = Fetcher();
  fetcher->BeforePoll();
  ASSERT_TRUE(fetcher->FetchPage(1, 50, 2s).ok);
  EXPECT_EQ(last_auth_, "Bearer sk-test-SECRET");

  WriteText(file, "sk-test-ROTATED-KEY\n");
  ASSERT_TRUE(fetcher->FetchPage(1, 50, 2s).ok);
  EXPECT_EQ(last_auth_, "Bearer sk-test-SECRET") << "the key changes between polls, not within one";
  fetcher->BeforePoll();
  ASSERT_TRUE(fetcher->FetchPage(1, 50, 2s).ok);
  EXPECT_EQ(last_auth_, "Bearer sk-test-ROTATED-KEY");

  // An unreadable (here: vanished) file keeps the key in use.
  std::remove(file.c_str());
  fetcher->BeforePoll();
  ASSERT_TRUE(fetcher->FetchPage(1, 50, 2s).ok);
  EXPECT_EQ(last_auth_, "Bearer sk-test-ROTATED-KEY");
  // An empty one too.
  WriteText(file, "\n");
  fetcher->BeforePoll();
  ASSERT_TRUE(fetcher->FetchPage(1, 50, 2s).ok);
  EXPECT_EQ(last_auth_, "Bearer sk-test-ROTATED-KEY");
  std::remove(file.c_str());
  rmdir(dir);
}

TEST(KeyFromFileContent, TrimsAndRefusesJunk) {
  EXPECT_EQ(KeyFromFileContent("sk-abc\r\n"), "sk-abc");
  EXPECT_FALSE(KeyFromFileContent(" \n").has_value());
  EXPECT_FALSE(KeyFromFileContent("sk a").has_value());
  EXPECT_FALSE(KeyFromFileContent("sk-\xc3\xa9").has_value());
}

// Over http:// a proxy would read the key: nothing is sent at all.
TEST_F(ApiClientTest, HttpBaseUrlThroughAProxyIsRefused) {
  int hits = 0;
  handler_ = [&hits](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content(kOkPage, "application/json");
  };
  ClientOptions o;
  o.user_agent = "t";
  o.http_proxy = "http://127.0.0.1:" + std::to_string(port_);  // would reach the server if used
  auto out = MakeHttpPageFetcher(account_, o)->FetchPage(1, 50, 2s);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error_code, "connection");
  EXPECT_EQ(
      out.error_message,
      "not sent: base_url is http:// and HTTP_PROXY applies to it; the proxy would see the API key. Use an "
      "https:// base_url, or list the host in NO_PROXY");
  EXPECT_EQ(hits, 0);
  // NO_PROXY naming the host lifts the refusal.
  o.no_proxy = "127.0.0.1";
  EXPECT_TRUE(MakeHttpPageFetcher(account_, o)->FetchPage(1, 50, 2s).ok);
}

}  // namespace
}  // namespace dse::dashscope
