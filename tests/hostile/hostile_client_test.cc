// Hostile and careless clients against the real dashscope_exporter (issue 9's
// table, serving rows): each test does what such a client does over raw
// loopback sockets and asserts what an operator would see: status codes,
// bounded peak memory (VmHWM against a baseline taken in the same run),
// scrape latency from another connection, exit time on SIGTERM, and the
// exporter's own connection metrics.
//
// Latency bounds are the required cells ("every scrape < 1 s"); the
// p50/p99 seen are printed for the record, not asserted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/harness.h"
#include "testing/raw_connection.h"

namespace dse::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kMany = 2000;  // the count of slow and of idle connections
constexpr int64_t kMiB = 1024 * 1024;

// The test holds thousands of sockets too.
void RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

// "HTTP/1.1 431 ..." -> 431; 0 when there is no status line yet.
int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

bool HasFullHead(const std::string& response) { return response.find("\r\n\r\n") != std::string::npos; }

// A value in kB from /proc/<pid>/status, in bytes.
int64_t ProcStatusBytes(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1) * 1024;
  }
  return -1;
}
int64_t PeakRss(int pid) { return ProcStatusBytes(pid, "VmHWM"); }

// utime + stime of a process, in seconds.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct LatencyReport {
  int ok = 0;
  int total = 0;
  double worst = 0, p50 = 0, p99 = 0;
};

// `n` scrapes of /metrics from fresh connections, one after another.
LatencyReport TimeScrapes(int port, int n, milliseconds gap) {
  LatencyReport r;
  std::vector<double> seconds;
  for (int i = 0; i < n; ++i) {
    const auto start = steady_clock::now();
    const HttpResult res = HttpGet(port, "/metrics", {}, milliseconds(10000));
    const double took = std::chrono::duration<double>(steady_clock::now() - start).count();
    seconds.push_back(took);
    ++r.total;
    if (res.status == 200 && took < 1.0) ++r.ok;
    std::this_thread::sleep_for(gap);  // spreads the scrapes over the time the connections are held
  }
  std::sort(seconds.begin(), seconds.end());
  r.worst = seconds.back();
  r.p50 = seconds[seconds.size() / 2];
  r.p99 = seconds[std::min(seconds.size() - 1, seconds.size() * 99 / 100)];
  return r;
}

std::string Describe(const LatencyReport& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d of %d scrapes 200 in < 1 s; p50 %.1f ms, p99 %.1f ms, worst %.1f ms",
                r.ok, r.total, r.p50 * 1e3, r.p99 * 1e3, r.worst * 1e3);
  return buf;
}

double Metric(Exporter& e, const std::string& series) { return Sample(e.Metrics(), series).value_or(-1); }

class HostileClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RaiseOpenFileLimit();
    mock_ = Mock::Start({"--deployments", "1000"}).release();
  }
  static void TearDownTestSuite() {
    delete mock_;
    mock_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(mock_, nullptr);
    // One poll, then quiet: CPU and memory measured here are the server's.
    exporter_ = Exporter::Start(MockConfig(*mock_, "poll_interval: 10m\nrequest_timeout: 10s\n"), {},
                                MockEnv(*mock_));
    ASSERT_NE(exporter_, nullptr);
    ASSERT_TRUE(exporter_->WaitForMetric("dashscope_up{account=\"mock\"} 1", std::chrono::seconds(30)));
    // Warm every cache (landing page plain and gzip, both scrape forms).
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(HttpGet(port(), "/").status, 200);
      ASSERT_EQ(HttpGet(port(), "/", {{"Accept-Encoding", "gzip"}}).status, 200);
      ASSERT_EQ(HttpGet(port(), "/metrics", {{"Accept-Encoding", "gzip"}}).status, 200);
    }
    baseline_peak_ = PeakRss(pid());
    ASSERT_GT(baseline_peak_, 0);
  }

  int port() const { return exporter_->port(); }
  int pid() { return exporter_->process().pid(); }
  int64_t PeakGrowth() {
    const int64_t growth = PeakRss(pid()) - baseline_peak_;
    std::cout << "[ memory ] peak RSS " << baseline_peak_ / 1024 << " KiB before, +" << growth / 1024
              << " KiB" << std::endl;
    return growth;
  }

  // Waits for the exporter's count of connections closed for `reason` to reach `want`.
  double WaitForClosed(const std::string& reason, double want, milliseconds timeout = milliseconds(30000)) {
    const std::string series = "dashscope_exporter_http_connections_closed_total{reason=\"" + reason + "\"}";
    double seen = -1;
    WaitUntil([&] { return (seen = Metric(*exporter_, series)) >= want; }, timeout, milliseconds(100));
    return seen;
  }

  static Mock* mock_;
  std::unique_ptr<Exporter> exporter_;
  int64_t baseline_peak_ = 0;
};
Mock* HostileClientTest::mock_ = nullptr;

// Opens `n` connections; each may send `prefix` at once.
std::vector<std::unique_ptr<RawConnection>> OpenMany(int port, int n, const std::string& prefix = "") {
  std::vector<std::unique_ptr<RawConnection>> out;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<RawConnection>(port);
    if (!c->ok()) break;
    if (!prefix.empty()) c->Send(prefix);
    out.push_back(std::move(c));
  }
  return out;
}

TEST_F(HostileClientTest, RangeBombGetsTheWholeBodyOnce) {
  // 2,700 overlapping parts in an 8 KiB header once made a 1 GB answer.
  std::string ranges = "bytes=0-";
  while (ranges.size() < 8000) ranges += ",0-";
  for (const std::string path : {"/", "/metrics"}) {
    RawConnection c(port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        c.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\nRange: " + ranges + "\r\nConnection: close\r\n\r\n"));
    const std::string response = c.Receive(milliseconds(10000));
    ASSERT_TRUE(c.closed()) << path;
    EXPECT_EQ(StatusOf(response), 200) << path;
    const size_t head_end = response.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const std::string head = response.substr(0, head_end);
    EXPECT_EQ(head.find("Content-Range"), std::string::npos) << path;
    const size_t cl = head.find("Content-Length: ");
    ASSERT_NE(cl, std::string::npos);
    const size_t declared = std::stoul(head.substr(cl + 16));
    EXPECT_EQ(response.size() - head_end - 4, declared) << path << ": the body, once";
    EXPECT_LT(declared, size_t(8 * kMiB)) << path;
  }
  EXPECT_LT(PeakGrowth(), 16 * kMiB);
}

// Sends `bytes` of header line (or body) while reading the answer.
struct Flood {
  int status = 0;
  bool closed = false;
  int64_t sent = 0;
};
Flood SendWhileReading(RawConnection& c, const std::string& head, int64_t total, char fill) {
  Flood f;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> sent{0};
  std::thread sender([&] {
    if (!c.Send(head)) return;
    const std::string block(64 * 1024, fill);
    while (!stop && sent < total) {
      if (!c.Send(block)) return;
      sent += static_cast<int64_t>(block.size());
    }
  });
  const std::string response =
      c.Receive(milliseconds(30000), [](const std::string& r) { return HasFullHead(r); });
  f.status = StatusOf(response);
  // After the answer the server closes: reading on sees the end.
  c.Receive(milliseconds(10000));
  f.closed = c.closed();
  stop = true;
  shutdown(c.fd(), SHUT_RDWR);  // ends a sender blocked in send()
  sender.join();
  f.sent = sent;
  std::cout << "[ flood ] answer " << f.status << " after " << f.sent / 1024 << " KiB sent past the head"
            << (f.closed ? ", then closed" : ", NOT closed") << std::endl;
  return f;
}

TEST_F(HostileClientTest, HugeHeaderLineGets431AtSixteenKiB) {
  RawConnection c(port());
  ASSERT_TRUE(c.ok());
  const Flood f = SendWhileReading(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 256 * kMiB, 'a');
  EXPECT_EQ(f.status, 431);
  EXPECT_TRUE(f.closed);
  EXPECT_LT(f.sent, 256 * kMiB) << "the server must stop reading";
  EXPECT_LT(PeakGrowth(), 16 * kMiB);
  EXPECT_EQ(WaitForClosed("head_too_large", 1), 1);
}

TEST_F(HostileClientTest, ThreeHundredHeadersOfEightKiBGet431) {
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 300; ++i)
    request += "X-H" + std::to_string(i) + ": " + std::string(8 * 1024, 'v') + "\r\n";
  request += "\r\n";
  RawConnection c(port());
  ASSERT_TRUE(c.ok());
  const Flood f = SendWhileReading(c, request, 0, 'x');
  EXPECT_EQ(f.status, 431);
  EXPECT_TRUE(f.closed);
  EXPECT_LT(PeakGrowth(), 16 * kMiB);
}

TEST_F(HostileClientTest, HugeChunkedPostIsRefusedUnread) {
  RawConnection c(port());
  ASSERT_TRUE(c.ok());
  // 256 MiB of chunked body: one endless chunk.
  const Flood f = SendWhileReading(
      c, "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000\r\n", 256 * kMiB,
      'b');
  EXPECT_EQ(f.status, 411);
  EXPECT_TRUE(f.closed);
  EXPECT_LT(f.sent, 256 * kMiB);
  EXPECT_LT(PeakGrowth(), 16 * kMiB);

  RawConnection declared(port());
  ASSERT_TRUE(declared.ok());
  const Flood g = SendWhileReading(
      declared, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 268435456\r\n\r\n", 256 * kMiB, 'b');
  EXPECT_EQ(g.status, 413);
  EXPECT_TRUE(g.closed);
  EXPECT_LT(PeakGrowth(), 16 * kMiB);
  EXPECT_EQ(WaitForClosed("body_refused", 2), 2);
}

TEST_F(HostileClientTest, TwoThousandSlowConnectionsDoNotHoldBackScrapes) {
  auto slow = OpenMany(port(), kMany, "G");
  ASSERT_EQ(slow.size(), size_t(kMany));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    // One more byte of the request head on each connection every 2 s.
    const std::string head = "ET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (size_t at = 0; !stop; ++at) {
      for (auto& c : slow) c->Send(std::string(1, at < head.size() ? head[at] : 'z'));
      for (int i = 0; i < 20 && !stop; ++i) std::this_thread::sleep_for(milliseconds(100));
    }
  });
  ASSERT_TRUE(
      WaitUntil([&] { return Metric(*exporter_, "dashscope_exporter_http_open_connections") >= kMany; },
                milliseconds(10000)));
  // The head deadline (10 s from accept) ends them; scrape while they are held.
  const LatencyReport r = TimeScrapes(port(), 30, milliseconds(150));
  std::cout << "[ slow x" << kMany << " ] " << Describe(r) << std::endl;
  EXPECT_EQ(r.ok, r.total) << Describe(r);
  // Every one of them is dropped at the head deadline, and counted once.
  EXPECT_EQ(WaitForClosed("head_timeout", kMany), kMany);
  stop = true;
  trickle.join();
}

TEST_F(HostileClientTest, TwoThousandIdleConnectionsDoNotHoldBackScrapes) {
  auto idle = OpenMany(port(), kMany);
  ASSERT_EQ(idle.size(), size_t(kMany));
  ASSERT_TRUE(
      WaitUntil([&] { return Metric(*exporter_, "dashscope_exporter_http_open_connections") >= kMany; },
                milliseconds(10000)));
  const LatencyReport r = TimeScrapes(port(), 30, milliseconds(150));
  std::cout << "[ idle x" << kMany << " ] " << Describe(r) << std::endl;
  EXPECT_EQ(r.ok, r.total) << Describe(r);
  // A connection that never sends a byte is closed as idle at the head deadline.
  EXPECT_EQ(WaitForClosed("idle", kMany), kMany);
  EXPECT_TRUE(WaitUntil([&] { return Metric(*exporter_, "dashscope_exporter_http_open_connections") == 1; },
                        milliseconds(10000)));  // the scrape's own
}

TEST_F(HostileClientTest, BrotliIsNeverSentAndTheLandingPageIsCheap) {
  const HttpResult br = HttpGet(port(), "/", {{"Accept-Encoding", "br"}});
  ASSERT_EQ(br.status, 200);
  EXPECT_EQ(br.Header("Content-Encoding"), "");
  EXPECT_NE(br.body.find("<html"), std::string::npos);
  const HttpResult both = HttpGet(port(), "/", {{"Accept-Encoding", "br, gzip"}});
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(both.Header("Content-Encoding"), "gzip");
  ASSERT_TRUE(GunzipMembers(both.body).has_value());
  EXPECT_EQ(HttpGet(port(), "/metrics", {{"Accept-Encoding", "br"}}).Header("Content-Encoding"), "");

  constexpr int kViews = 40;
  const double before = CpuSeconds(pid());
  for (int i = 0; i < kViews; ++i) {
    ASSERT_EQ(HttpGet(port(), "/", {{"Accept-Encoding", i % 2 ? "br" : "gzip, br"}}).status, 200);
  }
  const double per_view = (CpuSeconds(pid()) - before) / kViews;
  std::cout << "[ landing ] " << per_view * 1e3 << " ms of CPU per view at 1,000 deployments" << std::endl;
  EXPECT_LT(per_view, 0.050);
}

TEST_F(HostileClientTest, SigtermExitsPromptlyWhateverClientsDo) {
  auto slow = OpenMany(port(), kMany, "GET / HTTP/1.1\r\nHo");
  auto idle = OpenMany(port(), 500);
  ASSERT_EQ(slow.size(), size_t(kMany));
  ASSERT_TRUE(
      WaitUntil([&] { return Metric(*exporter_, "dashscope_exporter_http_open_connections") >= kMany + 500; },
                milliseconds(10000)));
  // One client in the middle of a big body it does not read.
  RawConnection reader(port());
  ASSERT_TRUE(reader.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto start = steady_clock::now();
  ASSERT_TRUE(exporter_->process().Signal(SIGTERM));
  const auto code = exporter_->process().WaitExit(milliseconds(5000));
  const double took = std::chrono::duration<double>(steady_clock::now() - start).count();
  std::cout << "[ sigterm ] exited in " << took * 1e3 << " ms with " << kMany + 500 << " connections open"
            << std::endl;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_LT(took, 2.0);
}

}  // namespace
}  // namespace dse::testing
