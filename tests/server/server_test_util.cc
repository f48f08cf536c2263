#include "server_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "testing/gzip.h"

namespace dse::testing {

namespace {

const char kText[] =
    "# HELP dashscope_up 1 if the last poll succeeded.\n"
    "# TYPE dashscope_up gauge\n"
    "dashscope_up{account=\"intl\"} 1\n"
    "dashscope_up{account=\"cn\"} 0\n"
    "# HELP dashscope_deployment_capacity Capacity from the last background poll.\n"
    "# TYPE dashscope_deployment_capacity gauge\n";

void Run(const std::string& cmd) { ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd; }

std::vector<std::string> Split(const std::string& s, std::vector<size_t> cuts) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t c : cuts) {
    out.push_back(s.substr(at, c - at));
    at = c;
  }
  out.push_back(s.substr(at));
  return out;
}

}  // namespace

FakeProvider::FakeProvider() {
  std::string text = kText;
  for (int i = 0; i < 200; ++i) {
    text += "dashscope_deployment_capacity{account=\"intl\",workspace_id=\"ws\",deployed_model=\"dm-" +
            std::to_string(i) + "\"} " + std::to_string(i % 7) + "\n";
  }
  plain_pieces = Split(text, {10, 100, text.size() / 2});
  const std::string gz = Gzip(text);
  gzip_pieces = Split(gz, {10, gz.size() / 3, gz.size() / 2});

  metrics::AccountView intl;
  intl.name = "intl";
  intl.base_url = "https://dashscope-intl.aliyuncs.com";
  metrics::AccountView cn;
  cn.name = "cn";
  cn.base_url = "https://dashscope.aliyuncs.com";
  status.accounts = {intl, cn};
  status.version = "9.9.9";
  status.revision = "deadbeef";
}

metrics::ScrapeBody FakeProvider::Scrape(bool gzip) {
  (gzip ? scrapes_gzip : scrapes_plain)++;
  std::vector<std::string> copy;
  {
    std::lock_guard lock(mu);
    copy = gzip ? gzip_pieces : plain_pieces;
  }
  auto owner = std::make_shared<std::vector<std::string>>(std::move(copy));
  metrics::ScrapeBody body;
  for (const std::string& p : *owner) {
    body.pieces.push_back(p);
    body.size += p.size();
  }
  body.gzip = gzip;
  body.keep_alive = owner;
  return body;
}

metrics::StatusView FakeProvider::CurrentView() {
  std::lock_guard lock(mu);
  return status;
}

std::string FakeProvider::Text() const {
  std::lock_guard lock(mu);
  std::string out;
  for (const auto& p : plain_pieces) out += p;
  return out;
}

std::string FakeProvider::GzipBytes() const {
  std::lock_guard lock(mu);
  std::string out;
  for (const auto& p : gzip_pieces) out += p;
  return out;
}

CertFiles MakeSelfSigned(const TempDir& dir, const std::string& name, const std::string& cn) {
  CertFiles f{dir.File(name + ".crt"), dir.File(name + ".key")};
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" + cn +
      " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + f.key + " -out " + f.cert);
  return f;
}

ClientCerts MakeClientCerts(const TempDir& dir) {
  ClientCerts c;
  c.ca_cert = dir.File("ca.crt");
  const std::string ca_key = dir.File("ca.key");
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=test-ca"
      " -keyout " +
      ca_key + " -out " + c.ca_cert);
  c.client = {dir.File("client.crt"), dir.File("client.key")};
  const std::string csr = dir.File("client.csr");
  Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=scraper -keyout " +
      c.client.key + " -out " + csr);
  Run("openssl x509 -req -in " + csr + " -CA " + c.ca_cert + " -CAkey " + ca_key +
      " -CAcreateserial -days 1 -out " + c.client.cert);
  return c;
}

uint64_t CountOf(const server::HttpServer& server, const std::string& handler, int code) {
  for (const metrics::HttpRequestCount& c : server.counters().Requests()) {
    if (c.handler == handler && c.code == code) return c.count;
  }
  return 0;
}

uint64_t WaitForCount(const server::HttpServer& server, const std::string& handler, int code, uint64_t want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  uint64_t n = CountOf(server, handler, code);
  while (n < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    n = CountOf(server, handler, code);
  }
  return n;
}

}  // namespace dse::testing
