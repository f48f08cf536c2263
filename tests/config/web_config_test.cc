#include "config/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace dse::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// Shaped like a bcrypt hash (cost 10); distinctive so a leak is caught.
const std::string kHash = "$2y$10$" + std::string("HASHSECRETabcdefghijklmnopqrstuvwxyz0123456789./ABCDE");

// A directory holding web.yml and the PEM files it names, removed afterwards.
class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.path();
    Write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
    Write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
    Write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    Write("empty.pem", "");
  }
  std::string Write(const std::string& name, std::string_view content) const {
    return tmp_.Write(name, content);
  }

  Result<WebConfig> LoadText(std::string_view yaml) const {
    return LoadWebConfigFile(Write("web.yml", yaml));
  }

  WebConfig Load(std::string_view yaml) const {
    Result<WebConfig> r = LoadText(yaml);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : WebConfig{};
  }

  // The message with the temporary directory shown as "DIR"; it must never
  // carry a password hash.
  std::string ErrorOf(std::string_view yaml) const {
    Result<WebConfig> r = LoadText(yaml);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_THAT(r.error(), Not(HasSubstr("HASHSECRET")));
    std::string e = r.error();
    for (size_t at = e.find(dir_); at != std::string::npos; at = e.find(dir_))
      e.replace(at, dir_.size(), "DIR");
    return e;
  }

  testing::TempDir tmp_{"dse_web_config_test"};
  std::string dir_;
};

TEST_F(WebConfigTest, EmptyFileMeansPlainHttpWithoutAuth) {
  const WebConfig c = Load("");
  EXPECT_FALSE(c.tls.has_value());
  EXPECT_TRUE(c.basic_auth_users.empty());
  EXPECT_TRUE(c.headers.empty());
  EXPECT_TRUE(c.unauthenticated_paths.empty());
}

TEST_F(WebConfigTest, EmptyTlsSectionMeansNoTls) {
  EXPECT_FALSE(Load("tls_server_config: {}\n").tls.has_value());
  EXPECT_FALSE(Load("tls_server_config:\n").tls.has_value());
}

TEST_F(WebConfigTest, FullConfig) {
  const WebConfig c = Load(
      "tls_server_config:\n"
      "  cert_file: cert.pem\n"
      "  key_file: " +
      dir_ +
      "/key.pem\n"
      "  client_ca_file: ca.pem\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  min_version: TLS13\n"
      "http_server_config:\n"
      "  http2: false\n"
      "  headers:\n"
      "    X-Frame-Options: deny\n"
      "    X-XSS-Protection: 1\n"
      "basic_auth_users:\n"
      "  alice: " +
      kHash +
      "\n"
      "  bob: '" +
      kHash +
      "'\n"
      "unauthenticated_paths:\n"
      "  - /healthz\n"
      "  - /readyz\n");
  ASSERT_TRUE(c.tls.has_value());
  // Relative paths are relative to the web config file, as in exporter-toolkit.
  EXPECT_EQ(c.tls->cert_file, dir_ + "/cert.pem");
  EXPECT_EQ(c.tls->key_file, dir_ + "/key.pem");
  EXPECT_EQ(c.tls->client_ca_file, dir_ + "/ca.pem");
  EXPECT_EQ(c.tls->min_version, "TLS13");
  EXPECT_THAT(c.headers, ElementsAre(Pair("X-Frame-Options", "deny"), Pair("X-XSS-Protection", "1")));
  EXPECT_THAT(c.basic_auth_users, ElementsAre(Pair("alice", kHash), Pair("bob", kHash)));
  EXPECT_THAT(c.unauthenticated_paths, ElementsAre("/healthz", "/readyz"));
}

TEST_F(WebConfigTest, TlsDefaults) {
  const WebConfig c = Load("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n");
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->min_version, "TLS12");
  EXPECT_EQ(c.tls->client_ca_file, "");
}

TEST_F(WebConfigTest, ClientCaWithoutAuthTypeRequiresClientCertificates) {
  const WebConfig c =
      Load("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_ca_file: ca.pem\n");
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->client_ca_file, dir_ + "/ca.pem");
}

TEST_F(WebConfigTest, ExporterToolkitHeaders) {
  const WebConfig c = Load(
      "http_server_config:\n"
      "  headers:\n"
      "    X-Frame-Options: sameorigin\n"
      "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
      "    X-Content-Type-Options: nosniff\n"
      "    Content-Security-Policy: \"default-src 'self'\"\n");
  EXPECT_EQ(c.headers.size(), 4u);
  EXPECT_EQ(c.headers.at("Strict-Transport-Security"), "max-age=31536000; includeSubDomains");
}

TEST_F(WebConfigTest, StringSourceResolvesAgainstItsDirectory) {
  Result<WebConfig> r = LoadWebConfigString(
      "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n", dir_ + "/web.yml");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->tls->cert_file, dir_ + "/cert.pem");
}

// --- Errors ---------------------------------------------------------------

TEST_F(WebConfigTest, MissingFile) {
  Result<WebConfig> r = LoadWebConfigFile("/nonexistent/dse/web.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "/nonexistent/dse/web.yml: cannot read: No such file or directory");
}

TEST_F(WebConfigTest, SyntaxError) {
  EXPECT_EQ(ErrorOf("basic_auth_users: {\n"), "DIR/web.yml:2:1: invalid YAML: end of map flow not found");
}

TEST_F(WebConfigTest, TopLevelNotAMap) {
  EXPECT_EQ(ErrorOf("- a\n"), "DIR/web.yml:1:1: top level: want a map of settings, got a list");
}

TEST_F(WebConfigTest, UnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf("rate_limit:\n  burst: 1\n"),
            "DIR/web.yml:1:1: rate_limit: unknown key; allowed: tls_server_config, http_server_config, "
            "basic_auth_users, unauthenticated_paths");
}

TEST_F(WebConfigTest, UnknownTlsKey) {
  EXPECT_EQ(
      ErrorOf("tls_server_config:\n  cert_file: cert.pem\n  prefer_server_cipher_suites: true\n"),
      "DIR/web.yml:3:3: tls_server_config.prefer_server_cipher_suites: unknown key; allowed: cert_file, "
      "key_file, client_ca_file, client_auth_type, min_version, max_version, cipher_suites, "
      "curve_preferences");
}

constexpr char kTlsHead[] = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";

TEST_F(WebConfigTest, MaxVersionCipherSuitesAndCurves) {
  const WebConfig c = Load(std::string(kTlsHead) +
                           "  max_version: TLS12\n"
                           "  cipher_suites:\n"
                           "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                           "    - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305\n"
                           "  curve_preferences: [X25519, CurveP256]\n");
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->max_version, "TLS12");
  EXPECT_THAT(c.tls->cipher_suites, ElementsAre("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
  EXPECT_THAT(c.tls->curve_preferences, ElementsAre("X25519", "CurveP256"));
}

TEST_F(WebConfigTest, TlsVersionDefaultsAndRange) {
  const WebConfig c = Load(kTlsHead);
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->max_version, "TLS13");
  EXPECT_TRUE(c.tls->cipher_suites.empty());
  EXPECT_TRUE(c.tls->curve_preferences.empty());
  EXPECT_EQ(ErrorOf(std::string(kTlsHead) + "  max_version: TLS11\n"),
            "DIR/web.yml:4:16: tls_server_config.max_version: want TLS12 or TLS13 (TLS 1.1 and older are "
            "refused), got \"TLS11\"");
  EXPECT_EQ(ErrorOf(std::string(kTlsHead) + "  min_version: TLS13\n  max_version: TLS12\n"),
            "DIR/web.yml:5:16: tls_server_config.max_version: TLS12 is below min_version TLS13");
}

TEST_F(WebConfigTest, BadCipherSuitesAndCurves) {
  EXPECT_THAT(
      ErrorOf(std::string(kTlsHead) + "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
      ::testing::StartsWith("DIR/web.yml:4:19: tls_server_config.cipher_suites[0]: unknown or insecure "
                            "cipher suite \"TLS_RSA_WITH_RC4_128_SHA\"; known: "
                            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "));
  EXPECT_EQ(ErrorOf(std::string(kTlsHead) + "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"),
            "DIR/web.yml:4:19: tls_server_config.cipher_suites[0]: \"TLS_AES_128_GCM_SHA256\" is a TLS 1.3 "
            "suite; TLS 1.3 suites are not configurable");
  EXPECT_EQ(ErrorOf(std::string(kTlsHead) + "  curve_preferences: [X25519, P-256]\n"),
            "DIR/web.yml:4:31: tls_server_config.curve_preferences[1]: want one of X25519, CurveP256, "
            "CurveP384, CurveP521, got \"P-256\"");
  EXPECT_EQ(ErrorOf(std::string(kTlsHead) + "  curve_preferences: [X25519, X25519]\n"),
            "DIR/web.yml:4:31: tls_server_config.curve_preferences[1]: \"X25519\" is listed twice");
  EXPECT_EQ(
      ErrorOf(std::string(kTlsHead) + "  cipher_suites: nope\n"),
      "DIR/web.yml:4:18: tls_server_config.cipher_suites: want a list of TLS 1.2 cipher suite names, got "
      "\"nope\"");
}

TEST_F(WebConfigTest, DuplicateKey) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: cert.pem\n  cert_file: cert.pem\n"),
            "DIR/web.yml:3:3: tls_server_config.cert_file: duplicate key (first at line 2)");
}

TEST_F(WebConfigTest, TlsNotAMap) {
  EXPECT_EQ(ErrorOf("tls_server_config: yes\n"),
            "DIR/web.yml:1:20: tls_server_config: want a map of TLS settings, got \"yes\"");
}

TEST_F(WebConfigTest, CertFileMissing) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n"),
            "DIR/web.yml:2:14: tls_server_config.cert_file: cannot read \"DIR/nope.pem\": No such file or "
            "directory");
}

TEST_F(WebConfigTest, KeyFileEmpty) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: cert.pem\n  key_file: empty.pem\n"),
            "DIR/web.yml:3:13: tls_server_config.key_file: cannot read \"DIR/empty.pem\": the file is empty");
}

TEST_F(WebConfigTest, ClientCaFileMissing) {
  EXPECT_EQ(
      ErrorOf("tls_server_config:\n  client_ca_file: /nonexistent/ca.pem\n"),
      "DIR/web.yml:2:19: tls_server_config.client_ca_file: cannot read \"/nonexistent/ca.pem\": No such "
      "file or directory");
}

TEST_F(WebConfigTest, CertFileEmptyString) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: \"\"\n"),
            "DIR/web.yml:2:14: tls_server_config.cert_file: must not be empty");
}

TEST_F(WebConfigTest, KeyFileNotGiven) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: cert.pem\n"),
            "DIR/web.yml:2:3: tls_server_config.key_file: missing; TLS needs both cert_file and key_file");
}

TEST_F(WebConfigTest, CertFileNotGiven) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  min_version: TLS13\n"),
            "DIR/web.yml:2:3: tls_server_config.cert_file: missing; TLS needs both cert_file and key_file");
}

TEST_F(WebConfigTest, MinVersionUnsupported) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  min_version: TLS11\n"),
            "DIR/web.yml:2:16: tls_server_config.min_version: want TLS12 or TLS13, got \"TLS11\"");
}

TEST_F(WebConfigTest, ClientAuthTypeUnsupported) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  client_auth_type: RequireAnyClientCert\n"),
            "DIR/web.yml:2:21: tls_server_config.client_auth_type: want RequireAndVerifyClientCert (with "
            "client_ca_file) or NoClientCert, got \"RequireAnyClientCert\"");
}

TEST_F(WebConfigTest, VerifyWithoutClientCa) {
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n"),
            "DIR/web.yml:4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs "
            "client_ca_file");
}

TEST_F(WebConfigTest, NoClientCertWithClientCa) {
  EXPECT_EQ(
      ErrorOf("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
              "  client_ca_file: ca.pem\n  client_auth_type: NoClientCert\n"),
      "DIR/web.yml:5:21: tls_server_config.client_auth_type: NoClientCert contradicts client_ca_file; use "
      "RequireAndVerifyClientCert or drop client_ca_file");
}

TEST_F(WebConfigTest, HashNotBcrypt) {
  EXPECT_EQ(
      ErrorOf("basic_auth_users:\n  alice: HASHSECRET-plain-password\n"),
      "DIR/web.yml:2:10: basic_auth_users.alice: not a bcrypt hash: want $2a$, $2b$ or $2y$, a two-digit "
      "cost, $ and 53 characters (htpasswd -nBC 10 USER makes one)");
}

TEST_F(WebConfigTest, HashWithWrongPrefix) {
  EXPECT_EQ(
      ErrorOf("basic_auth_users:\n  alice: '$1$" + kHash.substr(3) + "'\n"),
      "DIR/web.yml:2:10: basic_auth_users.alice: not a bcrypt hash: want $2a$, $2b$ or $2y$, a two-digit "
      "cost, $ and 53 characters (htpasswd -nBC 10 USER makes one)");
}

TEST_F(WebConfigTest, HashTruncated) {
  EXPECT_EQ(
      ErrorOf("basic_auth_users:\n  alice: " + kHash.substr(0, 59) + "\n"),
      "DIR/web.yml:2:10: basic_auth_users.alice: not a bcrypt hash: want $2a$, $2b$ or $2y$, a two-digit "
      "cost, $ and 53 characters (htpasswd -nBC 10 USER makes one)");
}

TEST_F(WebConfigTest, HashNotAString) {
  EXPECT_EQ(ErrorOf("basic_auth_users:\n  alice: [" + kHash + "]\n"),
            "DIR/web.yml:2:10: basic_auth_users.alice: want a bcrypt hash, got a list");
}

TEST_F(WebConfigTest, UserNameWithColon) {
  EXPECT_EQ(
      ErrorOf("basic_auth_users:\n  \"a:b\": " + kHash + "\n"),
      "DIR/web.yml:2:10: basic_auth_users[\"a:b\"]: user names must not contain ':' (basic auth splits on "
      "it)");
}

TEST_F(WebConfigTest, DuplicateUser) {
  EXPECT_EQ(ErrorOf("basic_auth_users:\n  alice: " + kHash + "\n  alice: " + kHash + "\n"),
            "DIR/web.yml:3:3: basic_auth_users.alice: duplicate key (first at line 2)");
}

TEST_F(WebConfigTest, UsersNotAMap) {
  EXPECT_EQ(ErrorOf("basic_auth_users:\n  - alice\n"),
            "DIR/web.yml:2:3: basic_auth_users: want a map of user names to bcrypt hashes, got a list");
}

TEST_F(WebConfigTest, UnknownHttpServerKey) {
  EXPECT_EQ(ErrorOf("http_server_config:\n  keep_alive: true\n"),
            "DIR/web.yml:2:3: http_server_config.keep_alive: unknown key; allowed: http2, headers");
}

TEST_F(WebConfigTest, Http2NotABoolean) {
  EXPECT_EQ(ErrorOf("http_server_config:\n  http2: yes\n"),
            "DIR/web.yml:2:10: http_server_config.http2: want true or false, got \"yes\"");
}

TEST_F(WebConfigTest, HeaderNotAllowed) {
  EXPECT_EQ(ErrorOf("http_server_config:\n  headers:\n    Content-Type: text/plain\n"),
            "DIR/web.yml:3:19: http_server_config.headers.Content-Type: this header cannot be set; allowed: "
            "Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
            "X-XSS-Protection");
}

TEST_F(WebConfigTest, HeaderValueNotAllowed) {
  EXPECT_EQ(
      ErrorOf("http_server_config:\n  headers:\n    X-Frame-Options: allow\n"),
      "DIR/web.yml:3:22: http_server_config.headers.X-Frame-Options: want deny or sameorigin, got \"allow\"");
  EXPECT_EQ(
      ErrorOf("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n"),
      "DIR/web.yml:3:29: http_server_config.headers.X-Content-Type-Options: want nosniff, got \"sniff\"");
}

TEST_F(WebConfigTest, HeaderValueWithNewline) {
  EXPECT_EQ(
      ErrorOf("http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: x\"\n"),
      "DIR/web.yml:3:23: http_server_config.headers.X-XSS-Protection: must not contain control characters");
}

TEST_F(WebConfigTest, UnauthenticatedPathWithoutSlash) {
  EXPECT_EQ(ErrorOf("unauthenticated_paths:\n  - healthz\n"),
            "DIR/web.yml:2:5: unauthenticated_paths[0]: must start with /, got \"healthz\"");
}

TEST_F(WebConfigTest, UnauthenticatedPathWithQuery) {
  EXPECT_EQ(ErrorOf("unauthenticated_paths:\n  - /healthz\n  - /metrics?x\n"),
            "DIR/web.yml:3:5: unauthenticated_paths[1]: must be a plain path: no spaces, control characters, "
            "query or fragment");
}

TEST_F(WebConfigTest, UnauthenticatedPathsNotAList) {
  EXPECT_EQ(
      ErrorOf("unauthenticated_paths: /healthz\n"),
      "DIR/web.yml:1:24: unauthenticated_paths: want a list of paths such as /healthz, got \"/healthz\"");
}

}  // namespace
}  // namespace dse::config
