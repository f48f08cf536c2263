#include "server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "server_test_util.h"
#include "testing/bcrypt.h"
#include "testing/gzip.h"

namespace dse::server {
namespace {

using testing::Bcrypt;
using testing::CountOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::WaitForCount;

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";

class HttpServerTest : public testing::InProcessServerTest {
 protected:
  void StartServer(std::optional<config::WebConfig> web = std::nullopt) {
    ServerOptions o;
    o.web = std::move(web);
    const Status s = StartOnLoopback(o);
    ASSERT_TRUE(s.ok()) << s.error();
    ASSERT_GT(server_->port(), 0);
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_decompress(false);  // see the bytes on the wire
    return c;
  }
};

TEST_F(HttpServerTest, MetricsPlainIsThePiecesByteForByte) {
  StartServer();
  auto res = Client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionType);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(provider_.Text().size()));
  EXPECT_EQ(res->body, provider_.Text());
  EXPECT_EQ(provider_.scrapes_plain, 1);
  EXPECT_EQ(provider_.scrapes_gzip, 0);
}

TEST_F(HttpServerTest, MetricsGzipIsSentAsIsNotCompressedTwice) {
  StartServer();
  auto res = Client().Get("/metrics", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionType);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res->get_header_value_count("Content-Encoding"), 1u);
  EXPECT_EQ(res->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(res->body, provider_.GzipBytes());
  EXPECT_EQ(testing::Gunzip(res->body), provider_.Text());  // one layer of gzip, not two
  EXPECT_EQ(provider_.scrapes_gzip, 1);
}

TEST_F(HttpServerTest, GzipWithQZeroGetsPlainText) {
  StartServer();
  auto res = Client().Get("/metrics", {{"Accept-Encoding", "gzip;q=0, identity"}});
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->body, provider_.Text());
  EXPECT_EQ(provider_.scrapes_gzip, 0);
}

TEST_F(HttpServerTest, ClientDecompressionSeesTheText) {
  StartServer();
  httplib::Client c("127.0.0.1", server_->port());
  c.set_decompress(true);
  auto res = c.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, provider_.Text());
}

TEST_F(HttpServerTest, HeadHasLengthAndNoBody) {
  StartServer();
  auto res = Client().Head("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionType);
  EXPECT_EQ(res->get_header_value("Content-Length"), std::to_string(provider_.Text().size()));
  EXPECT_EQ(res->body, "");
}

TEST_F(HttpServerTest, RangeIsIgnored) {
  StartServer();
  // Many overlapping ranges once made a 1 GB answer; now every range is the whole body, once.
  std::string ranges = "bytes=5-104";
  for (int i = 0; i < 500; ++i) ranges += ",0-";
  auto res = Client().Get("/metrics", {{"Range", ranges}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->has_header("Content-Range"));
  EXPECT_EQ(res->body, provider_.Text());
}

TEST_F(HttpServerTest, PrometheusStyleHealthAliases) {
  StartServer();
  auto c = Client();
  auto healthy = c.Get("/-/healthy");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200);
  EXPECT_EQ(healthy->body, "ok\n");
  auto ready = c.Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "not ready: no successful poll yet for account(s): intl, cn\n");
  provider_.ready = true;
  EXPECT_EQ(c.Get("/-/ready")->status, 200);
  EXPECT_EQ(WaitForCount(*server_, "healthz", 200, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "readyz", 200, 1), 1u);
}

TEST_F(HttpServerTest, QueryStringIsNotPartOfThePath) {
  StartServer();
  auto res = Client().Get("/metrics?module=x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, provider_.Text());
}

TEST_F(HttpServerTest, HealthAndReadiness) {
  StartServer();
  auto c = Client();
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  {
    std::lock_guard lock(provider_.mu);
    provider_.status.accounts[0].last_success_unix = 1;
  }
  auto not_ready = c.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->body, "not ready: no successful poll yet for account(s): cn\n");

  provider_.ready = true;
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");
}

TEST_F(HttpServerTest, LandingPage) {
  StartServer();
  auto res = Client().Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(res->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(res->body, HasSubstr("<section class=\"account\" data-account=\"intl\" data-up=\"0\">"));
  EXPECT_THAT(res->body, HasSubstr("version <span class=\"version\">9.9.9</span>"));
  EXPECT_THAT(res->body, HasSubstr("<a href=\"/metrics\">"));
}

TEST_F(HttpServerTest, UnknownPathsAndMethods) {
  StartServer();
  auto c = Client();
  auto nf = c.Get("/nope");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(nf->body, "404 page not found\n");
  EXPECT_EQ(c.Get("/metrics/")->status, 404);
  EXPECT_EQ(c.Get("/%0A")->status, 404);

  auto post = c.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(post->body, "405 method not allowed\n");
  EXPECT_EQ(c.Delete("/healthz")->status, 405);
  EXPECT_EQ(c.Put("/", "", "text/plain")->status, 405);
  EXPECT_EQ(c.Options("/readyz")->status, 405);
  EXPECT_EQ(c.Post("/nope", "x", "text/plain")->status, 404);
}

TEST_F(HttpServerTest, BodiesAreLimited) {
  StartServer();
  auto res = Client().Post("/metrics", std::string(10000, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

TEST_F(HttpServerTest, CountsRequestsByHandlerAndCode) {
  StartServer();
  auto c = Client();
  ASSERT_TRUE(c.Get("/metrics"));
  ASSERT_TRUE(c.Get("/metrics", {{"Accept-Encoding", "gzip"}}));
  ASSERT_TRUE(c.Get("/healthz"));
  ASSERT_TRUE(c.Get("/readyz"));
  ASSERT_TRUE(c.Get("/"));
  ASSERT_TRUE(c.Get("/nope"));
  ASSERT_TRUE(c.Post("/metrics", "x", "text/plain"));
  EXPECT_EQ(WaitForCount(*server_, "metrics", 200, 2), 2u);
  EXPECT_EQ(WaitForCount(*server_, "metrics", 405, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "healthz", 200, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "readyz", 503, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "landing", 200, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "other", 404, 1), 1u);
  std::vector<std::string> rows;
  for (const metrics::HttpRequestCount& r : server_->counters().Requests()) {
    rows.push_back(r.handler + " " + std::to_string(r.code) + " " + std::to_string(r.count));
  }
  EXPECT_THAT(rows, ElementsAre("healthz 200 1", "landing 200 1", "metrics 200 2", "metrics 405 1",
                                "other 404 1", "readyz 503 1"));
}

TEST_F(HttpServerTest, ListenErrors) {
  ServerOptions o;
  o.listen_address = "127.0.0.1";
  HttpServer bad(o, provider_);
  Status s = bad.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "invalid listen address \"127.0.0.1\": missing port, want [host]:port such as :9864");

  StartServer();
  o.listen_address = "127.0.0.1:" + std::to_string(server_->port());
  HttpServer clash(o, provider_);
  s = clash.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "cannot listen on \"" + o.listen_address + "\": Address already in use");

  o.telemetry_path = "metrics";
  o.listen_address = "127.0.0.1:0";
  HttpServer bad_path(o, provider_);
  s = bad_path.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "invalid telemetry path \"metrics\": must start with /");
}

TEST_F(HttpServerTest, CustomTelemetryPathAndIpv6) {
  ServerOptions o;
  o.listen_address = "[::1]:0";
  o.telemetry_path = "/x/metrics";
  server_ = std::make_unique<HttpServer>(o, provider_);
  const Status s = server_->Start();
  if (!s.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << s.error();
  httplib::Client c("::1", server_->port());
  auto res = c.Get("/x/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, provider_.Text());
  EXPECT_EQ(c.Get("/metrics")->status, 404);
  EXPECT_THAT(c.Get("/")->body, HasSubstr("<a href=\"/x/metrics\">"));
}

TEST_F(HttpServerTest, StopAndRestartOnAnotherServer) {
  StartServer();
  const int port = server_->port();
  server_->Stop();
  EXPECT_EQ(server_->port(), 0);
  server_->Stop();  // twice is fine
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(std::chrono::seconds(1));
  EXPECT_FALSE(c.Get("/healthz"));
}

// Basic auth -----------------------------------------------------------------

config::WebConfig AuthConfig() {
  config::WebConfig web;
  web.basic_auth_users["alice"] = Bcrypt("s3cret");
  web.unauthenticated_paths = {"/healthz"};
  web.headers["X-Frame-Options"] = "deny";
  return web;
}

TEST_F(HttpServerTest, BasicAuth) {
  StartServer(AuthConfig());
  auto c = Client();

  auto none = c.Get("/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Basic realm=\"dashscope_exporter\"");
  EXPECT_EQ(none->get_header_value("X-Frame-Options"), "deny");
  EXPECT_THAT(none->body, Not(HasSubstr("dashscope_up")));
  EXPECT_EQ(provider_.scrapes_plain, 0);

  c.set_basic_auth("alice", "wrong");
  auto wrong = c.Get("/metrics");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), "Basic realm=\"dashscope_exporter\"");

  c.set_basic_auth("mallory", "s3cret");
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  EXPECT_EQ(c.Get("/nope")->status, 401);  // unknown paths are not revealed either

  c.set_basic_auth("alice", "s3cret");
  auto ok = c.Get("/metrics");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, provider_.Text());
  EXPECT_EQ(ok->get_header_value("X-Frame-Options"), "deny");
  EXPECT_EQ(c.Get("/")->status, 200);

  httplib::Client anonymous("127.0.0.1", server_->port());
  auto health = anonymous.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->get_header_value("X-Frame-Options"), "deny");
  EXPECT_EQ(anonymous.Get("/readyz")->status, 401);

  auto malformed = anonymous.Get("/metrics", {{"Authorization", "Basic !!!"}});
  EXPECT_EQ(malformed->status, 401);

  EXPECT_EQ(WaitForCount(*server_, "metrics", 401, 4), 4u);
  EXPECT_EQ(WaitForCount(*server_, "other", 401, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "readyz", 401, 1), 1u);
  EXPECT_EQ(WaitForCount(*server_, "metrics", 200, 1), 1u);
}

TEST_F(HttpServerTest, RefusalsGetConfiguredHeadersToo) {
  StartServer(AuthConfig());
  auto res = Client().Post("/metrics", std::string(10000, 'x'), "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
}

TEST_F(HttpServerTest, NonBcryptHashRefusedAtStart) {
  config::WebConfig web;
  web.basic_auth_users["alice"] = "plain-text-password";
  ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.web = web;
  HttpServer s(o, provider_);
  const Status st = s.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(
      st.error(),
      "web config: basic_auth_users: the hash for user \"alice\" is not a bcrypt hash ($2a$, $2b$ or $2y$)");
  EXPECT_THAT(st.error(), Not(HasSubstr("plain-text-password")));
}

TEST_F(HttpServerTest, ReloadReplacesUsers) {
  StartServer(AuthConfig());
  auto c = Client();
  c.set_basic_auth("alice", "s3cret");
  EXPECT_EQ(c.Get("/metrics")->status, 200);

  config::WebConfig next;
  next.basic_auth_users["bob"] = Bcrypt("hunter2");
  ASSERT_TRUE(server_->Reload(next).ok());
  EXPECT_EQ(c.Get("/metrics")->status, 401);  // even though alice's success was cached
  c.set_basic_auth("bob", "hunter2");
  EXPECT_EQ(c.Get("/metrics")->status, 200);
  EXPECT_EQ(Client().Get("/healthz")->status, 401);  // no unauthenticated paths any more

  // A bad file is refused and the old settings stay.
  config::WebConfig bad;
  bad.basic_auth_users["bob"] = "nope";
  EXPECT_FALSE(server_->Reload(bad).ok());
  EXPECT_EQ(c.Get("/metrics")->status, 200);

  ASSERT_TRUE(server_->Reload(std::nullopt).ok());
  EXPECT_EQ(Client().Get("/metrics")->status, 200);
}

TEST_F(HttpServerTest, ReloadCannotTurnTlsOn) {
  StartServer();
  testing::TempDir dir;
  const auto cert = testing::MakeSelfSigned(dir, "server", "localhost");
  config::WebConfig web;
  web.tls = config::TlsServerConfig{cert.cert, cert.key, "TLS12", ""};
  const Status s = server_->Reload(web);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "web config: turning TLS on needs a restart; the old settings stay in force");
  EXPECT_EQ(Client().Get("/healthz")->status, 200);
}

TEST_F(HttpServerTest, ConcurrentScrapes) {
  StartServer();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_decompress(false);
      c.set_keep_alive(true);
      for (int i = 0; i < 25; ++i) {
        const bool gz = (i % 2) == 0;
        auto res = gz ? c.Get("/metrics", {{"Accept-Encoding", "gzip"}}) : c.Get("/metrics");
        if (res && res->status == 200 && res->body == (gz ? provider_.GzipBytes() : provider_.Text())) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good, 100);
}

}  // namespace
}  // namespace dse::server
