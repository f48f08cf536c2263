// The mock over real loopback sockets, through httplib::Client and raw
// sockets where the client would hide what happened on the wire.
#include "mock/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace dse::mock {
namespace {

using namespace std::chrono_literals;

constexpr const char* kKey = "sk-mock-0000";

size_t CountOf(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The ids of a page, in order.
std::vector<std::string> Ids(const std::string& body) {
  std::vector<std::string> ids;
  static const std::regex id(R"re("deployed_model":"([^"]*)")re");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), id); it != std::sregex_iterator(); ++it) {
    ids.push_back((*it)[1]);
  }
  return ids;
}

// The value of `field` (string or number, as written) in the record of `id`.
std::string FieldOf(const std::string& body, const std::string& id, const std::string& field) {
  const size_t record = body.find("\"deployed_model\":\"" + id + "\"");
  if (record == std::string::npos) return "<no record>";
  const size_t at = body.find("\"" + field + "\":", record);
  if (at == std::string::npos) return "<no field>";
  size_t start = at + field.size() + 3;
  if (body[start] == '"') ++start;
  const size_t end = body.find_first_of("\",}", start);
  return body.substr(start, end - start);
}

// Sends `request` on a fresh connection and returns every byte until the
// server closes it.
std::string Raw(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "<connect failed>";
  }
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[65536];
  ssize_t n = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string RawList(int port, const std::string& query = "") {
  return Raw(port, "GET /api/v1/deployments" + query + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                       std::string(kKey) + "\r\nConnection: close\r\n\r\n");
}

class MockServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void SetUp() override { Start(FleetOptions{}, ApiOptions{}); }

  void Start(FleetOptions fleet, ApiOptions api) {
    if (server_) server_->Stop();
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.tick = Duration(0);
    server_ = std::make_unique<MockServer>(options, std::move(api), std::move(fleet));
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(5, 0);
  }

  httplib::Result List(const std::string& query = "", httplib::Headers headers = {}) {
    headers.emplace("Authorization", std::string("Bearer ") + kKey);
    return client_->Get("/api/v1/deployments" + query, headers);
  }

  std::string ListBody(const std::string& query = "") {
    auto res = List(query);
    if (!res) return "<" + httplib::to_string(res.error()) + ">";
    EXPECT_EQ(res->status, 200) << res->body;
    return res->body;
  }

  httplib::Result Post(const std::string& path, const httplib::Params& params) {
    return client_->Post(path, params);
  }

  void Fault(const httplib::Params& params) {
    auto res = Post("/mock/faults", params);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }

  void Tick(int n) { ASSERT_EQ(Post("/mock/tick", {{"n", std::to_string(n)}})->status, 200); }

  std::string State() { return client_->Get("/mock/state")->body; }

  std::string IdAt(size_t index) { return Fleet(FleetOptions{}).Page(index, 1).at(0).deployed_model; }

  std::unique_ptr<MockServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(MockServerTest, DefaultPageHoldsTheWholeDefaultFleet) {
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const std::string request_id = res->get_header_value("X-Request-Id");
  EXPECT_TRUE(std::regex_match(request_id,
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")));
  EXPECT_EQ(res->body.rfind("{\"request_id\":\"" + request_id +
                                "\",\"output\":{\"page_no\":1,\"page_size\":50,\"total\":12,"
                                "\"deployments\":[{",
                            0),
            0u)
      << res->body;
  EXPECT_EQ(Ids(res->body).size(), 12u);
  EXPECT_EQ(res->body.substr(res->body.size() - 5), "\"}]}}");
}

TEST_F(MockServerTest, PagingWalksEveryDeploymentOnce) {
  ASSERT_EQ(Post("/mock/deployments", {{"count", "120"}})->status, 200);
  std::vector<std::string> all;
  for (int page = 1; page <= 3; ++page) {
    const std::string body = ListBody("?page_no=" + std::to_string(page) + "&page_size=50");
    EXPECT_NE(body.find("\"page_no\":" + std::to_string(page) + ",\"page_size\":50,\"total\":120,"),
              std::string::npos);
    auto ids = Ids(body);
    EXPECT_EQ(ids.size(), page < 3 ? 50u : 20u);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 120u);
  const std::string past = ListBody("?page_no=4&page_size=50");
  EXPECT_NE(past.find("\"page_no\":4,\"page_size\":50,\"total\":120,\"deployments\":[]}}"), std::string::npos)
      << past;
  EXPECT_NE(ListBody("?page_no=9223372036854775807&page_size=200").find("\"deployments\":[]"),
            std::string::npos);
  EXPECT_EQ(Ids(ListBody("?page_size=200")).size(), 120u);
  EXPECT_EQ(Ids(ListBody("?page_size=1&page_no=120")).size(), 1u);
}

TEST_F(MockServerTest, InvalidPageParameters) {
  for (const char* query :
       {"?page_size=0", "?page_size=201", "?page_size=ten", "?page_no=0", "?page_no=-1"}) {
    auto res = List(query);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query;
    const std::string id = res->get_header_value("X-Request-Id");
    EXPECT_EQ(
        res->body.rfind(
            "{\"request_id\":\"" + id + "\",\"code\":\"InvalidParameter\",\"message\":\"Parameter page_", 0),
        0u)
        << res->body;
  }
  EXPECT_NE(List("?page_size=201")->body.find("must be between 1 and 200, got \\\"201\\\""),
            std::string::npos);
  EXPECT_NE(State().find("\"invalid_parameters\":6"), std::string::npos);
}

TEST_F(MockServerTest, MissingOrWrongKeyGets401) {
  for (const httplib::Headers& headers :
       {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer sk-wrong"}},
        httplib::Headers{{"Authorization", kKey}}}) {
    auto res = client_->Get("/api/v1/deployments", headers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res->body, "{\"request_id\":\"" + res->get_header_value("X-Request-Id") +
                             "\",\"code\":\"InvalidApiKey\",\"message\":\"Invalid API-key provided.\"}");
  }
  const std::string state = State();
  EXPECT_NE(state.find("\"auth_failures\":3"), std::string::npos);
  EXPECT_EQ(state.find(kKey), std::string::npos);
}

TEST_F(MockServerTest, CustomKeyAndWorkspace) {
  ApiOptions api;
  api.api_key = "sk-custom";
  FleetOptions fleet;
  fleet.workspace_id = "llm-team";
  Start(fleet, api);
  EXPECT_EQ(List()->status, 401);  // the default key no longer works
  httplib::Headers good = {{"Authorization", "Bearer sk-custom"},
                           {"X-DashScope-WorkSpace", "llm-team"},
                           {"User-Agent", "dashscope_exporter/0.1.0"}};
  auto ok = client_->Get("/api/v1/deployments?page_no=1&page_size=5", good);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(FieldOf(ok->body, Ids(ok->body).at(0), "workspace_id"), "llm-team");
  std::string state = State();
  EXPECT_NE(state.find("\"last_page_no\":1,\"last_page_size\":5,\"last_workspace_header\":true,"
                       "\"last_workspace\":\"llm-team\",\"last_user_agent\":\"dashscope_exporter/0.1.0\""),
            std::string::npos)
      << state;

  auto denied = client_->Get("/api/v1/deployments",
                             {{"Authorization", "Bearer sk-custom"}, {"X-DashScope-WorkSpace", "llm-other"}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("\"code\":\"AccessDenied\""), std::string::npos);
  state = State();
  EXPECT_NE(state.find("\"workspace_denials\":1"), std::string::npos);
  EXPECT_NE(state.find("\"last_page_no\":null,\"last_page_size\":null,\"last_workspace_header\":true,"
                       "\"last_workspace\":\"llm-other\""),
            std::string::npos);
  EXPECT_EQ(state.find("sk-custom"), std::string::npos);
}

TEST_F(MockServerTest, TickScheduleOverHttp) {
  const std::string created = IdAt(1), scaled = IdAt(2), fails = IdAt(5);
  std::string body = ListBody();
  EXPECT_EQ(FieldOf(body, created, "status"), "PENDING");
  EXPECT_EQ(FieldOf(body, created, "ready_capacity"), "0");
  const std::string c = FieldOf(body, scaled, "capacity");
  const std::string two_c = std::to_string(2 * std::stoi(c));

  Tick(2);
  body = ListBody();
  EXPECT_EQ(FieldOf(body, created, "status"), "RUNNING");
  EXPECT_EQ(FieldOf(body, created, "gmt_modified"), "2025-06-17T11:00:20");

  Tick(1);  // 3
  body = ListBody();
  EXPECT_EQ(FieldOf(body, scaled, "status"), "UPDATING");
  EXPECT_EQ(FieldOf(body, scaled, "capacity"), two_c);
  EXPECT_EQ(FieldOf(body, scaled, "ready_capacity"), c);
  EXPECT_EQ(FieldOf(body, fails, "status"), "RUNNING");

  Tick(1);  // 4
  body = ListBody();
  EXPECT_EQ(FieldOf(body, fails, "status"), "FAILED");
  EXPECT_EQ(FieldOf(body, scaled, "ready_capacity"), c);

  Tick(2);  // 6
  body = ListBody();
  EXPECT_EQ(FieldOf(body, scaled, "ready_capacity"), two_c);
  EXPECT_EQ(FieldOf(body, scaled, "status"), "RUNNING");
  EXPECT_NE(State().find("\"tick\":6,"), std::string::npos);

  EXPECT_EQ(Post("/mock/tick", {{"n", "0"}})->status, 400);
}

TEST_F(MockServerTest, TickerAdvancesOnItsOwn) {
  server_->Stop();
  ServerOptions options;
  options.port = 0;
  options.tick = Duration(5);
  server_ = std::make_unique<MockServer>(options, ApiOptions{}, FleetOptions{});
  ASSERT_TRUE(server_->Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server_->api().tick() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_GE(server_->api().tick(), 3);
}

TEST_F(MockServerTest, EnvelopeDataAndAlternate) {
  ApiOptions api;
  api.envelope = Envelope::kData;
  Start(FleetOptions{}, api);
  EXPECT_NE(ListBody().find("\",\"data\":{\"page_no\":1"), std::string::npos);
  api.envelope = Envelope::kAlternate;
  Start(FleetOptions{}, api);
  EXPECT_NE(ListBody().find("\",\"output\":{"), std::string::npos);
  EXPECT_NE(ListBody().find("\",\"data\":{"), std::string::npos);
  EXPECT_NE(ListBody().find("\",\"output\":{"), std::string::npos);
}

TEST_F(MockServerTest, HttpFault) {
  Fault({{"kind", "http"}, {"status", "429"}, {"code", "Throttling.RateQuota"}, {"retry_after", "7"}});
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(res->get_header_value("Retry-After"), "7");
  EXPECT_EQ(res->body,
            "{\"request_id\":\"" + res->get_header_value("X-Request-Id") +
                "\",\"code\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit exceeded, please "
                "try again later.\"}");
  EXPECT_EQ(List()->status, 200);  // used up

  Fault({{"kind", "http"}, {"status", "503"}, {"code", ""}, {"message", ""}});
  res = List();
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "{\"request_id\":\"" + res->get_header_value("X-Request-Id") + "\"}");
}

TEST_F(MockServerTest, HtmlFault) {
  Fault({{"kind", "html"}});
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html");
  EXPECT_NE(res->body.find("<center><h1>502 Bad Gateway</h1></center>"), std::string::npos);
}

TEST_F(MockServerTest, DelayFaultAnswersLater) {
  Fault({{"kind", "delay"}, {"ms", "150"}});
  const auto start = std::chrono::steady_clock::now();
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_EQ(Ids(res->body).size(), 12u);
}

TEST_F(MockServerTest, HangingRequestBlocksNobodyAndStopEndsIt) {
  Fault({{"kind", "delay"}, {"ms", "60000"}});
  auto hung = std::async(std::launch::async, [port = port_] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c.Get("/api/v1/deployments", {{"Authorization", std::string("Bearer ") + kKey}});
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (State().find("\"delays_in_flight\":1") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_NE(State().find("\"delays_in_flight\":1"), std::string::npos);

  // A client whose timeout is shorter than the delay gives up...
  Fault({{"kind", "delay"}, {"ms", "60000"}});
  httplib::Client impatient("127.0.0.1", port_);
  impatient.set_read_timeout(0, 200000);
  auto timed_out = impatient.Get("/api/v1/deployments", {{"Authorization", std::string("Bearer ") + kKey}});
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error(), httplib::Error::Read);
  // ...and other requests are served meanwhile.
  EXPECT_EQ(Ids(ListBody()).size(), 12u);

  // An idle keep-alive connection must not hold the stop up either.
  httplib::Client keep("127.0.0.1", port_);
  keep.set_keep_alive(true);
  ASSERT_TRUE(keep.Get("/mock/state"));

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(server_->serving());
  ASSERT_EQ(hung.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(hung.get());
}

TEST_F(MockServerTest, TruncateFaultSendsPartOfTheAnnouncedBody) {
  const std::string whole = RawList(port_);
  const size_t whole_body = whole.size() - whole.find("\r\n\r\n") - 4;
  Fault({{"kind", "truncate"}});
  const std::string cut = RawList(port_);
  const size_t head = cut.find("\r\n\r\n");
  ASSERT_NE(head, std::string::npos) << cut;
  EXPECT_NE(cut.find("Content-Length: " + std::to_string(whole_body) + "\r\n"), std::string::npos)
      << cut.substr(0, head);
  EXPECT_EQ(cut.size() - head - 4, whole_body / 2);

  Fault({{"kind", "truncate"}, {"bytes", "10"}});
  auto res = List();
  EXPECT_FALSE(res);
  EXPECT_EQ(Ids(ListBody()).size(), 12u);  // the next request is whole
}

TEST_F(MockServerTest, OversizeFaultIsValidJsonOfTheGivenSize) {
  Fault({{"kind", "oversize"}, {"bytes", "3000000"}});
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), 3000000u);
  EXPECT_NE(res->body.find(",\"total\":12,\"padding\":\"xxxx"), std::string::npos);
  EXPECT_NE(res->body.find("xxxx\",\"deployments\":[{"), std::string::npos);
  EXPECT_EQ(Ids(res->body).size(), 12u);
  EXPECT_EQ(res->body.substr(res->body.size() - 4), "}]}}");
}

TEST_F(MockServerTest, DeepFaultNestsArrays) {
  Fault({{"kind", "deep"}, {"depth", "100000"}});
  auto res = List();
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find(",\"nested\":" + std::string(100000, '[') + std::string(100000, ']') +
                           ",\"deployments\":["),
            std::string::npos);
}

TEST_F(MockServerTest, WrongTypesFault) {
  Fault({{"kind", "wrong_types"}});
  const std::string body = ListBody();
  EXPECT_EQ(CountOf(body, "\"deployed_model\""), 11u);
  EXPECT_EQ(CountOf(body, ",\"capacity\":\""), 1u);
  EXPECT_EQ(CountOf(body, "\"status\":1,"), 1u);
}

TEST_F(MockServerTest, DuplicatesFaultRepeatsThePreviousPage) {
  const auto page1 = Ids(ListBody("?page_no=1&page_size=5"));
  const auto page2 = Ids(ListBody("?page_no=2&page_size=5"));
  Fault({{"kind", "duplicates"}, {"page", "2"}});
  EXPECT_EQ(Ids(ListBody("?page_no=1&page_size=5")), page1);  // not for page 1
  auto dup = Ids(ListBody("?page_no=2&page_size=5"));
  std::vector<std::string> expected = page1;
  expected.insert(expected.end(), page2.begin(), page2.end());
  EXPECT_EQ(dup, expected);
}

TEST_F(MockServerTest, LyingTotalUntilCleared) {
  Fault({{"kind", "lying_total"}, {"total", "1000000000"}, {"times", "0"}});
  for (int page = 1; page <= 5; ++page) {
    const std::string body = ListBody("?page_no=" + std::to_string(page) + "&page_size=5");
    EXPECT_NE(body.find("\"total\":1000000000,"), std::string::npos);
    EXPECT_EQ(Ids(body).size(), page == 1 || page == 2 ? 5u : page == 3 ? 2u : 0u) << page;
  }
  EXPECT_NE(client_->Get("/mock/faults")
                ->body.find("{\"kind\":\"lying_total\",\"times\":0,\"page\":null,\"total\":1000000000}"),
            std::string::npos);
  EXPECT_EQ(client_->Delete("/mock/faults")->body, "{\"cleared\":1}");
  EXPECT_NE(ListBody().find("\"total\":12,"), std::string::npos);
}

TEST_F(MockServerTest, EmptyAndInvalidBodies) {
  Fault({{"kind", "empty_body"}});
  Fault({{"kind", "invalid_json"}});
  auto empty = List();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->body, "");
  auto invalid = List();
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 200);
  EXPECT_EQ(
      invalid->body,
      "{\"request_id\":\"" + invalid->get_header_value("X-Request-Id") +
          "\",\"output\":{\"page_no\":1,\"total\":12,\"deployments\":[{\"deployed_model\":\"broken\",}]");
}

TEST_F(MockServerTest, CloseFaultSendsNothing) {
  Fault({{"kind", "close"}});
  EXPECT_EQ(RawList(port_), "");
  Fault({{"kind", "close"}});
  auto res = List();
  EXPECT_FALSE(res);
  EXPECT_EQ(Ids(ListBody()).size(), 12u);
}

// The whole response, head first, one byte at a time: a client reading it
// sees the status line arrive over many intervals, and every byte arrives.
TEST_F(MockServerTest, TrickleFaultSendsTheResponseOneByteAtATime) {
  Fault({{"kind", "trickle"}, {"ms", "1"}});
  const auto start = std::chrono::steady_clock::now();
  const std::string raw = RawList(port_, "?page_size=1");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  const size_t head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = raw.substr(head_end + 4);
  EXPECT_NE(raw.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos) << raw;
  EXPECT_EQ(Ids(body).size(), 1u);
  // At least 1 ms between bytes: far longer than the same page unthrottled.
  EXPECT_GE(took, std::chrono::milliseconds(raw.size()));
  // Only once: the next request is answered normally.
  EXPECT_EQ(Ids(ListBody("?page_size=1")).size(), 1u);
}

TEST_F(MockServerTest, MaxPageSizeRefusesLargerPages) {
  ApiOptions api;
  api.max_page_size = 100;
  Start(FleetOptions{}, api);
  auto res = List("?page_size=101");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("\"code\":\"InvalidParameter\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("Parameter page_size must be between 1 and 100, got \\\"101\\\"."),
            std::string::npos)
      << res->body;
  EXPECT_EQ(List("?page_size=100")->status, 200);
}

TEST_F(MockServerTest, FaultsQueueInOrder) {
  Fault({{"kind", "http"}, {"status", "500"}, {"times", "2"}});
  Fault({{"kind", "html"}, {"status", "504"}});
  const std::string listed = client_->Get("/mock/faults")->body;
  EXPECT_EQ(
      listed,
      "{\"faults\":[{\"kind\":\"http\",\"times\":2,\"page\":null,\"status\":500,\"code\":\"InternalError\","
      "\"message\":\"An internal error has occured, please try again later or contact service support.\"},"
      "{\"kind\":\"html\",\"times\":1,\"page\":null,\"status\":504}]}");
  EXPECT_EQ(List()->status, 500);
  EXPECT_EQ(List()->status, 500);
  EXPECT_EQ(List()->status, 504);
  EXPECT_EQ(List()->status, 200);
  EXPECT_NE(State().find("\"faults_applied\":3,\"faults_pending\":0"), std::string::npos);

  // Unauthenticated requests do not use faults up.
  Fault({{"kind", "html"}});
  EXPECT_EQ(client_->Get("/api/v1/deployments")->status, 401);
  EXPECT_EQ(List()->status, 502);

  auto bad = Post("/mock/faults", {{"kind", "delay"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, "{\"error\":\"field ms: missing (delay needs ms=)\"}");
}

TEST_F(MockServerTest, AdminPostsWorkWithoutABody) {
  // `curl -X POST URL?query` sends no Content-Length, which httplib alone refuses.
  const std::string reply =
      Raw(port_, "POST /mock/tick?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find("{\"tick\":3}"), std::string::npos);
  const std::string fault =
      Raw(port_, "POST /mock/faults?kind=http&status=418 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(fault.find("\"status\":418"), std::string::npos) << fault;
  EXPECT_EQ(List()->status, 418);
}

TEST_F(MockServerTest, AdminEditsTheFleet) {
  const std::string id = IdAt(0);
  auto set = Post("/mock/deployments",
                  {{"set", id}, {"status", "STOPPED"}, {"capacity", "4"}, {"ready_capacity", "1"}});
  ASSERT_EQ(set->status, 200) << set->body;
  EXPECT_EQ(set->body, "{\"tick\":0,\"deployments\":12}");
  std::string body = ListBody();
  EXPECT_EQ(FieldOf(body, id, "status"), "STOPPED");
  EXPECT_EQ(FieldOf(body, id, "capacity"), "4");
  EXPECT_EQ(FieldOf(body, id, "ready_capacity"), "1");
  EXPECT_EQ(FieldOf(body, id, "gmt_modified"), "2025-06-17T11:00:00");

  ASSERT_EQ(Post("/mock/deployments", {{"add", "qwen-max-0000beef-extra"}})->status, 200);
  body = ListBody();
  EXPECT_EQ(Ids(body).back(), "qwen-max-0000beef-extra");
  EXPECT_EQ(FieldOf(body, "qwen-max-0000beef-extra", "status"), "PENDING");
  Tick(2);
  EXPECT_EQ(FieldOf(ListBody(), "qwen-max-0000beef-extra", "status"), "RUNNING");

  ASSERT_EQ(Post("/mock/deployments", {{"remove", id}})->status, 200);
  body = ListBody();
  EXPECT_EQ(Ids(body).size(), 12u);
  EXPECT_NE(body.find("\"total\":12,"), std::string::npos);
  EXPECT_EQ(FieldOf(body, id, "status"), "<no record>");

  EXPECT_EQ(Post("/mock/deployments", {{"count", "3"}})->body, "{\"tick\":2,\"deployments\":3}");
  EXPECT_EQ(Ids(ListBody()).size(), 3u);

  EXPECT_EQ(Post("/mock/deployments", {{"set", "nope"}})->status, 404);
  EXPECT_EQ(Post("/mock/deployments", {{"remove", "nope"}})->status, 404);
  EXPECT_EQ(Post("/mock/deployments", {{"add", IdAt(0)}})->status, 409);
  EXPECT_EQ(Post("/mock/deployments", {{"count", "1"}, {"remove", "x"}})->status, 400);
  EXPECT_EQ(Post("/mock/deployments", {{"count", "100001"}})->status, 400);
  EXPECT_EQ(Post("/mock/deployments", {{"set", IdAt(0)}, {"capacity", "-1"}})->status, 400);
  EXPECT_EQ(Post("/mock/deployments", {{"colour", "red"}})->body, "{\"error\":\"unknown field colour\"}");
}

TEST_F(MockServerTest, AdminSetsSecondReleaseFields) {
  const std::string id = IdAt(0);
  auto set = Post("/mock/deployments", {{"set", id},
                                        {"status", "FAILED"},
                                        {"fail_reason", "no quota"},
                                        {"pre_paid_gmt_expired_unix", "1750158038"},
                                        {"ptu_input_tpm", "1000"},
                                        {"ptu_output_tpm", "100"}});
  ASSERT_EQ(set->status, 200) << set->body;
  const std::string body = ListBody();
  EXPECT_EQ(FieldOf(body, id, "fail_reason"), "no quota");
  EXPECT_EQ(FieldOf(body, id, "pre_paid_gmt_expired"), "2025-06-17T11:00:38");
  EXPECT_NE(body.find(R"("ptu_capacity":{"input_tpm":1000,"output_tpm":100})"), std::string::npos) << body;
  ASSERT_EQ(Post("/mock/deployments", {{"set", id}, {"status", "RUNNING"}})->status, 200);
  EXPECT_EQ(FieldOf(ListBody(), id, "fail_reason"), "<no field>");
  EXPECT_EQ(Post("/mock/deployments", {{"set", id}, {"ptu_input_tpm", "lots"}})->body,
            "{\"error\":\"field ptu_input_tpm: expected a non-negative integer\"}");
}

TEST_F(MockServerTest, ResetRestoresTheStartingState) {
  Tick(5);
  Fault({{"kind", "html"}});
  ASSERT_EQ(Post("/mock/deployments", {{"count", "2"}})->status, 200);
  EXPECT_EQ(Post("/mock/reset", {})->body, "{\"tick\":0,\"deployments\":12}");
  const std::string state = State();
  EXPECT_NE(state.find("\"tick\":0,\"deployments\":12,"), std::string::npos);
  EXPECT_NE(state.find("\"faults_pending\":0"), std::string::npos);
  EXPECT_NE(state.find("\"list_requests\":0,"), std::string::npos);
  EXPECT_EQ(FieldOf(ListBody(), IdAt(1), "status"), "PENDING");
}

TEST_F(MockServerTest, StateCountsByPath) {
  (void)List();
  (void)List();
  (void)client_->Get("/nowhere");
  const std::string state = State();
  EXPECT_NE(state.find("\"requests_by_path\":{\"/api/v1/deployments\":2,\"/mock/state\":1,\"/nowhere\":1}"),
            std::string::npos)
      << state;
  EXPECT_NE(state.find("\"list_requests\":2,"), std::string::npos);
}

TEST_F(MockServerTest, UnknownPaths) {
  auto api = client_->Get("/api/v1/models", {{"Authorization", std::string("Bearer ") + kKey}});
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_NE(api->body.find("\"code\":\"NotFound\""), std::string::npos);
  auto admin = client_->Get("/mock/nothing");
  EXPECT_EQ(admin->status, 404);
  EXPECT_EQ(admin->body, "{\"error\":\"no such endpoint: GET /mock/nothing\"}");
}

TEST_F(MockServerTest, StopIsIdempotentAndPortIsReleased) {
  server_->Stop();
  server_->Stop();
  EXPECT_FALSE(server_->serving());
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(1, 0);
  EXPECT_FALSE(c.Get("/mock/state"));
}

}  // namespace
}  // namespace dse::mock
