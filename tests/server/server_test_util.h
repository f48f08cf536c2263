// Helpers for the in-process server tests: a fake provider, the fixture that
// starts a server on it, and certificates made at test time (tests/testing
// has the rest).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "server/http_server.h"
#include "testing/temp_dir.h"

namespace dse::testing {

// Serves a fixed exposition split into pieces, as the real snapshot does.
// Each scrape gets freshly allocated pieces that only the ScrapeBody keeps
// alive, so a body that outlived its owner would show up under ASan.
class FakeProvider : public server::MetricsProvider {
 public:
  FakeProvider();

  metrics::ScrapeBody Scrape(bool gzip) override;
  metrics::StatusView CurrentView() override;
  bool Ready() override { return ready.load(); }
  metrics::HttpMetrics& HttpCounters() override { return http; }

  std::string Text() const;       // what the plain pieces concatenate to
  std::string GzipBytes() const;  // what the gzip pieces concatenate to

  metrics::HttpMetrics http;
  std::atomic<bool> ready{false};
  std::atomic<int> scrapes_plain{0};
  std::atomic<int> scrapes_gzip{0};

  mutable std::mutex mu;
  std::vector<std::string> plain_pieces;  // guarded by mu
  std::vector<std::string> gzip_pieces;   // guarded by mu; one gzip member
  metrics::StatusView status;             // guarded by mu
};

// The fixture of the in-process server tests: the log is muted while a test
// runs, and the server a test started is stopped before the provider it
// serves from goes.
class InProcessServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetSink([](std::string_view) {});
  }
  void TearDown() override {
    if (server_) server_->Stop();
    log::SetSink(nullptr);
  }
  // Starts a server with `o` on 127.0.0.1, on a port the kernel picks.
  Status StartOnLoopback(server::ServerOptions o) {
    o.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<server::HttpServer>(o, provider_);
    return server_->Start();
  }

  FakeProvider provider_;
  std::unique_ptr<server::HttpServer> server_;
};

struct CertFiles {
  std::string cert;
  std::string key;
};
// A self-signed certificate for CN=<cn>, SAN localhost and 127.0.0.1.
CertFiles MakeSelfSigned(const TempDir& dir, const std::string& name, const std::string& cn);
// A CA, and a client certificate it signed.
struct ClientCerts {
  std::string ca_cert;
  CertFiles client;
};
ClientCerts MakeClientCerts(const TempDir& dir);

// Waits (up to 5s) until the server has counted `want` responses for
// handler/code: counting happens after the response has been written.
uint64_t WaitForCount(const server::HttpServer& server, const std::string& handler, int code, uint64_t want);
uint64_t CountOf(const server::HttpServer& server, const std::string& handler, int code);

}  // namespace dse::testing
