// --web.config.file end to end: the real exporter serving TLS with basic auth.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>

#include "testing/bcrypt.h"
#include "testing/harness.h"

namespace dse::testing {
namespace {

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.path();
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " +
                            dir_ + "/server.key -out " + dir_ + "/server.crt >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI needed to make a test certificate";
    const std::string hash = Bcrypt("s3cret-pass");
    ASSERT_FALSE(hash.empty());
    ASSERT_TRUE(WriteFile(dir_ + "/web.yml",
                          "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                          "basic_auth_users:\n  prom: " +
                              hash + "\nunauthenticated_paths: [/healthz]\n"));
    mock_ = Mock::Start();
    ASSERT_NE(mock_, nullptr);
    exporter_ = Exporter::Start(MockConfig(*mock_), {"--web.config.file=" + dir_ + "/web.yml"});
    ASSERT_NE(exporter_, nullptr);
  }

  httplib::Result Get(const std::string& path, const std::string& user = "", const std::string& pass = "") {
    httplib::SSLClient client("127.0.0.1", exporter_->port());
    client.enable_server_certificate_verification(false);  // self-signed, made above
    client.set_connection_timeout(5);
    if (!user.empty()) client.set_basic_auth(user, pass);
    return client.Get(path.c_str());
  }

  TempDir tmp_{"dse-webcfg"};
  std::string dir_;
  std::unique_ptr<Mock> mock_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(WebConfigTest, MetricsNeedCredentialsOverTls) {
  auto anonymous = Get("/metrics");
  ASSERT_TRUE(anonymous) << httplib::to_string(anonymous.error());
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Basic realm=\"dashscope_exporter\"");

  auto wrong = Get("/metrics", "prom", "not-the-password");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);

  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = Get("/metrics", "prom", "s3cret-pass");
        return r && r->status == 200 &&
               r->body.find("\ndashscope_up{account=\"mock\"} 1\n") != std::string::npos;
      },
      10s));
}

TEST_F(WebConfigTest, HealthzLeftOpenAndPlainHttpRefused) {
  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(Get("/readyz")->status, 401);
  // Plain HTTP to the TLS port gets no HTTP answer.
  EXPECT_EQ(exporter_->Get("/healthz").status, 0);
}

TEST(WebConfigFile, BadFileRefusedBeforeServing) {
  const TempDir tmp("dse-webcfg-bad");
  const std::string& dir = tmp.path();
  ASSERT_TRUE(WriteFile(dir + "/web.yml", "basic_auth_users:\n  prom: plaintext-password\n"));
  ASSERT_TRUE(WriteFile(dir + "/cfg.yml",
                        "accounts:\n  - name: a\n    base_url: http://127.0.0.1:1\n"
                        "    api_key_env: DSE_WEBCFG_TEST_KEY\n"));
  auto p = Process::Start(BinaryPath("dashscope_exporter"),
                          {"--config.file=" + dir + "/cfg.yml", "--web.config.file=" + dir + "/web.yml",
                           "--web.listen-address=127.0.0.1:0"},
                          {{"DSE_WEBCFG_TEST_KEY", "sk-webcfg-test"}});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->WaitExit(10s), 1);
  EXPECT_NE(p->Stderr().find(dir + "/web.yml:2:9: basic_auth_users.prom: "), std::string::npos)
      << p->Stderr();
  EXPECT_EQ(p->Stderr().find("plaintext-password"), std::string::npos);
  EXPECT_EQ(p->Stderr().find("serving HTTP"), std::string::npos);
}

}  // namespace
}  // namespace dse::testing
