#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "server/http_server.h"
#include "server_test_util.h"
#include "testing/bcrypt.h"
#include "testing/gzip.h"

namespace dse::server {
namespace {

using testing::CertFiles;
using ::testing::HasSubstr;
using testing::TempDir;

config::WebConfig TlsConfig(const CertFiles& cert, std::string min_version = "TLS12",
                            std::string client_ca = "") {
  config::WebConfig web;
  web.tls = config::TlsServerConfig{cert.cert, cert.key, std::move(min_version), std::move(client_ca)};
  return web;
}

class HttpsServerTest : public testing::InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    cert_ = testing::MakeSelfSigned(dir_, "server", "localhost");
  }

  Status StartServer(config::WebConfig web, ServerOptions o = {}) {
    o.web = std::move(web);
    return StartOnLoopback(std::move(o));
  }

  // A client that trusts only `ca_file` and checks the host name.
  std::unique_ptr<httplib::SSLClient> Client(const std::string& ca_file) {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    c->set_ca_cert_path(ca_file.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(std::chrono::seconds(5));
    return c;
  }

  TempDir dir_;
  CertFiles cert_;
};

TEST_F(HttpsServerTest, ServesMetricsOverTls) {
  ASSERT_TRUE(StartServer(TlsConfig(cert_)).ok());
  auto c = Client(cert_.cert);
  c->set_decompress(false);
  auto res = c->Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res->body, provider_.GzipBytes());

  // Plain HTTP to the TLS port gets nowhere.
  httplib::Client plain("127.0.0.1", server_->port());
  plain.set_read_timeout(std::chrono::seconds(2));
  auto p = plain.Get("/healthz");
  EXPECT_TRUE(!p || p->status != 200);
}

TEST_F(HttpsServerTest, VerificationDisabledClient) {
  ASSERT_TRUE(StartServer(TlsConfig(cert_)).ok());
  httplib::SSLClient c("127.0.0.1", server_->port());
  c.enable_server_certificate_verification(false);
  auto res = c.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(HttpsServerTest, OldProtocolsAreRefused) {
  ASSERT_TRUE(StartServer(TlsConfig(cert_)).ok());
  {
    auto c = Client(cert_.cert);
    // Let this client offer TLS 1.1 at all, so that the refusal is the server's.
    SSL_CTX_set_security_level(c->ssl_context(), 0);
    SSL_CTX_set_min_proto_version(c->ssl_context(), TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_1_VERSION);
    auto res = c->Get("/healthz");
    EXPECT_FALSE(res);
  }
  {
    auto c = Client(cert_.cert);
    SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_2_VERSION);
    auto res = c->Get("/healthz");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
  }
}

TEST_F(HttpsServerTest, MinVersionTls13) {
  ASSERT_TRUE(StartServer(TlsConfig(cert_, "TLS13")).ok());
  {
    auto c = Client(cert_.cert);
    SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_2_VERSION);
    EXPECT_FALSE(c->Get("/healthz"));
  }
  auto c = Client(cert_.cert);
  auto res = c->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpsServerTest, TheHandshakeCountsAgainstTheHeadDeadline) {
  ServerOptions o;
  o.head_timeout = std::chrono::seconds(1);
  ASSERT_TRUE(StartServer(TlsConfig(cert_), o).ok());
  // A client that connects and never says hello.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 20000), 1) << "closed by the server within the head deadline";
  char byte = 0;
  EXPECT_EQ(recv(fd, &byte, 1, 0), 0);
  close(fd);
  uint64_t timeouts = 0;
  for (int i = 0; i < 2000 && timeouts == 0; ++i) {
    for (const auto& [reason, n] : server_->counters().Connections().closed) {
      if (reason == "head_timeout") timeouts = n;
    }
    if (timeouts == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(timeouts, 1u);
}

TEST_F(HttpsServerTest, MaxVersionCipherSuitesAndCurves) {
  config::WebConfig web = TlsConfig(cert_);
  web.tls->max_version = "TLS12";
  web.tls->cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
  web.tls->curve_preferences = {"CurveP384"};
  ASSERT_TRUE(StartServer(web).ok());
  {
    auto c = Client(cert_.cert);
    SSL_CTX_set_min_proto_version(c->ssl_context(), TLS1_3_VERSION);
    EXPECT_FALSE(c->Get("/healthz")) << "TLS 1.3 is above max_version";
  }
  {
    auto c = Client(cert_.cert);
    SSL_CTX_set_cipher_list(c->ssl_context(), "ECDHE-ECDSA-AES128-GCM-SHA256");
    EXPECT_FALSE(c->Get("/healthz")) << "a suite the server does not allow";
  }
  {
    auto c = Client(cert_.cert);
    SSL_CTX_set1_groups_list(c->ssl_context(), "P-256");
    EXPECT_FALSE(c->Get("/healthz")) << "a curve the server does not allow";
  }
  auto c = Client(cert_.cert);
  SSL_CTX_set_cipher_list(c->ssl_context(), "ECDHE-ECDSA-AES256-GCM-SHA384");
  SSL_CTX_set1_groups_list(c->ssl_context(), "P-384:P-256");
  auto res = c->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpsServerTest, ReloadSwapsCertificateForNewConnections) {
  ASSERT_TRUE(StartServer(TlsConfig(cert_)).ok());
  const CertFiles next = testing::MakeSelfSigned(dir_, "next", "localhost");
  EXPECT_FALSE(Client(next.cert)->Get("/healthz"));  // still the first certificate

  ASSERT_TRUE(server_->Reload(TlsConfig(next, "TLS13")).ok());
  auto res = Client(next.cert)->Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(Client(cert_.cert)->Get("/healthz"));
  {
    auto c = Client(next.cert);  // and the new minimum version holds
    SSL_CTX_set_max_proto_version(c->ssl_context(), TLS1_2_VERSION);
    EXPECT_FALSE(c->Get("/healthz"));
  }

  // Unusable files are refused; the current certificate stays.
  config::WebConfig broken = TlsConfig(next);
  broken.tls->cert_file = dir_.File("missing.crt");
  const Status s = server_->Reload(broken);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(),
            "TLS: cannot read certificate \"" + dir_.File("missing.crt") + "\": No such file or directory");
  EXPECT_TRUE(Client(next.cert)->Get("/healthz"));

  const Status off = server_->Reload(std::nullopt);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error(), "web config: turning TLS off needs a restart; the old settings stay in force");
  EXPECT_TRUE(Client(next.cert)->Get("/healthz"));
}

TEST_F(HttpsServerTest, ClientCertificates) {
  const testing::ClientCerts client = testing::MakeClientCerts(dir_);
  ASSERT_TRUE(StartServer(TlsConfig(cert_, "TLS12", client.ca_cert)).ok());

  EXPECT_FALSE(Client(cert_.cert)->Get("/healthz"));  // no client certificate

  httplib::SSLClient with_cert("127.0.0.1", server_->port(), client.client.cert, client.client.key);
  with_cert.set_ca_cert_path(cert_.cert.c_str());
  with_cert.enable_server_certificate_verification(true);
  auto res = with_cert.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);

  // A certificate from another CA is refused.
  httplib::SSLClient self_signed("127.0.0.1", server_->port(), cert_.cert, cert_.key);
  self_signed.enable_server_certificate_verification(false);
  EXPECT_FALSE(self_signed.Get("/healthz"));

  // Dropping client_ca_file on reload lets clients without one in.
  ASSERT_TRUE(server_->Reload(TlsConfig(cert_)).ok());
  EXPECT_TRUE(Client(cert_.cert)->Get("/healthz"));
}

TEST_F(HttpsServerTest, BasicAuthOverTls) {
  config::WebConfig web = TlsConfig(cert_);
  web.basic_auth_users["alice"] = testing::Bcrypt("s3cret");
  ASSERT_TRUE(StartServer(web).ok());
  auto c = Client(cert_.cert);
  EXPECT_EQ(c->Get("/metrics")->status, 401);
  c->set_basic_auth("alice", "s3cret");
  EXPECT_EQ(c->Get("/metrics")->status, 200);
}

TEST_F(HttpsServerTest, StartErrorsNameTheFiles) {
  config::WebConfig missing = TlsConfig(cert_);
  missing.tls->key_file = dir_.File("nope.key");
  Status s = StartServer(missing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "TLS: cannot read key \"" + dir_.File("nope.key") + "\": No such file or directory");

  const CertFiles other = testing::MakeSelfSigned(dir_, "other", "localhost");
  config::WebConfig mismatch = TlsConfig(cert_);
  mismatch.tls->key_file = other.key;
  s = StartServer(mismatch);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "TLS: certificate \"" + cert_.cert + "\" and key \"" + other.key + "\" do not match");

  config::WebConfig not_pem = TlsConfig(cert_);
  not_pem.tls->cert_file = cert_.key;  // a key where a certificate should be
  s = StartServer(not_pem);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr("TLS: no PEM certificate in \"" + cert_.key + "\": "));

  s = StartServer(TlsConfig(cert_, "TLS11"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "TLS: min_version \"TLS11\" is not supported (want TLS12 or TLS13)");
}

}  // namespace
}  // namespace dse::server
