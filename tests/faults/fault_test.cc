// Fault tests of the real binaries: dashscope_exporter polls dashscope_mock,
// the mock injects one fault, and each test asserts what a user would see:
// exact counters, dashscope_up, the last good data kept line for line, the
// one log line per failed poll, and an exporter that keeps serving.
//
// Timings (set explicitly, so that request counts are exact): one poll a
// second, request_timeout 500ms, max_retries 2, retry_base_delay 10ms. A poll
// that fails on a retryable error therefore sends exactly 3 requests (the
// jittered waits, at most 10ms and 20ms, fit in the 900ms poll deadline), one
// that fails on a non-retryable error exactly 1. Each test reads the
// exposition of the scrape that first shows the failed poll, long before the
// next poll is due.
//
// Every test also checks that the API key appears in no output of the
// exporter (TearDown). docs/reliability.md is the table of these faults.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/harness.h"

namespace dse::testing {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr int kAttempts = 3;  // max_retries: 2, plus the first request
constexpr int kFleet = 12;    // the mock's default fleet

std::string TestTimings(const std::string& extra = "") {
  return "poll_interval: 1s\n"
         "request_timeout: 500ms\n"
         "max_retries: 2\n"
         "retry_base_delay: 10ms\n"
         "max_response_bytes: 1MiB\n" +
         extra;
}

// `name{account="mock"}`
std::string Mine(const std::string& name) { return name + "{account=\"mock\"}"; }
const std::string kUp = Mine("dashscope_up");
const std::string kPolls = Mine("dashscope_polls_total");
const std::string kPollFailures = Mine("dashscope_poll_failures_total");
const std::string kRequests = Mine("dashscope_api_requests_total");
const std::string kDeployments = Mine("dashscope_deployments");
const std::string kDuplicates = Mine("dashscope_duplicate_deployments_total");
const std::string kThrottledUntil = Mine("dashscope_api_throttled_until_timestamp_seconds");
const std::string kStaleDropped = Mine("dashscope_stale_data_dropped");
const std::string kLastSuccess = Mine("dashscope_last_successful_poll_timestamp_seconds");

std::string ErrorLine(const std::string& code, int count) {
  return "dashscope_api_errors_total{account=\"mock\",code=\"" + code + "\"} " + std::to_string(count);
}
std::vector<std::string> ErrorLines(const std::string& exposition) {
  return LinesStartingWith(exposition, "dashscope_api_errors_total{account=\"mock\"");
}
std::vector<std::string> ProblemLines(const std::string& exposition) {
  return LinesStartingWith(exposition, "dashscope_record_problems_total{account=\"mock\"");
}

// Every deployment series (not dashscope_deployments, the count).
std::vector<std::string> DeploymentLines(const std::string& exposition) {
  return LinesStartingWith(exposition, "dashscope_deployment_");
}
// The deployment series of one deployment.
std::vector<std::string> LinesOf(const std::string& exposition, const std::string& deployed_model) {
  std::vector<std::string> out;
  for (auto& line : DeploymentLines(exposition)) {
    if (line.find("deployed_model=\"" + deployed_model + "\"") != std::string::npos) out.push_back(line);
  }
  return out;
}
std::vector<std::string> LinesOfFamily(const std::vector<std::string>& lines, const std::string& family) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.rfind(family + "{", 0) == 0) out.push_back(l);
  }
  return out;
}
std::vector<std::string> Without(const std::vector<std::string>& lines, const std::string& family) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.rfind(family + "{", 0) != 0) out.push_back(l);
  }
  return out;
}

// The exporter's own series, for failure messages.
std::string SelfMetrics(const std::string& exposition) {
  std::string out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("dashscope_", 0) == 0 && line.rfind("dashscope_deployment_", 0) != 0 &&
        line.find("_bucket{") == std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

// A regular expression for `literal`, where <rid> stands for a request id and
// <dur> for a duration as the exporter formats it (1s93ms).
std::string Pattern(const std::string& literal) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  static const std::vector<std::pair<std::string, std::string>> kHoles = {
      {"<rid>", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"},
      {"<dur>", "[0-9hms]+"},
  };
  std::string out;
  for (size_t i = 0; i < literal.size();) {
    bool hole = false;
    for (const auto& [token, regex] : kHoles) {
      if (literal.compare(i, token.size(), token) == 0) {
        out += regex;
        i += token.size();
        hole = true;
        break;
      }
    }
    if (hole) continue;
    if (kSpecial.find(literal[i]) != std::string::npos) out += '\\';
    out += literal[i++];
  }
  return out;
}

// The line a failed poll logs, as a pattern. `code` and `err` are the logfmt
// values as written (quoted when they need to be).
std::string PollFailedLine(const std::string& code, const std::string& err) {
  return "time=\\S+ level=warn " +
         Pattern("msg=\"poll failed, keeping the last good data\" account=mock code=" + code + " err=" + err);
}

int64_t StateCounter(Mock& mock, const std::string& key) {
  const HttpResult r = mock.Admin("GET", "/mock/state");
  const std::string needle = "\"" + key + "\":";
  const size_t at = r.body.find(needle);
  if (r.status != 200 || at == std::string::npos) {
    ADD_FAILURE() << "no " << key << " in /mock/state: " << r.status << " " << r.body;
    return -1;
  }
  return std::strtoll(r.body.c_str() + at + needle.size(), nullptr, 10);
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HttpDate(system_clock::time_point t) {
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

double UnixNow() { return std::chrono::duration<double>(system_clock::now().time_since_epoch()).count(); }

class FaultTest : public ::testing::Test {
 protected:
  void TearDown() override {
    CheckKeyNeverShown();
    // A rare failure on a loaded machine is only worth something with the
    // exporter's own account of what it did.
    if (HasFailure() && exporter_) {
      std::printf("[ stderr   ] of the exporter:\n%s\n", exporter_->process().Stderr().c_str());
      if (mock_)
        std::printf("[ mock     ] /mock/state: %s\n", mock_->Admin("GET", "/mock/state").body.c_str());
    }
  }

  // Starts a mock (default fleet of 12 unless `mock_args` says otherwise)
  // and an exporter polling it, then waits for the first good poll.
  //
  // The tests count what the second poll does, so their fault must be
  // queued before it starts. That is checked, not assumed: the baseline must
  // show exactly one poll, and the first QueueFault() after Start() scrapes
  // again and must still see one poll (polls_total counts a poll as it
  // starts). On a machine so loaded that a second poll slipped in anyway,
  // the pair is started afresh (at most kStartAttempts times) instead of
  // counting the wrong poll; no assertion of the test is repeated.
  void Start(std::vector<std::string> mock_args = {}, const std::string& top_level = TestTimings()) {
    mock_args_ = std::move(mock_args);
    top_level_ = top_level;
    for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
      bool one_poll = false;
      ASSERT_NO_FATAL_FAILURE(StartOnce(one_poll));
      if (one_poll) {
        fresh_ = true;
        return;
      }
      std::printf("[ restart  ] a second poll started before the baseline was read (attempt %d)\n", attempt);
    }
    FAIL() << "a second poll started before the baseline could be read, " << kStartAttempts << " times";
  }

  void StartOnce(bool& one_poll) {
    exporter_.reset();
    mock_ = Mock::Start(mock_args_);
    ASSERT_NE(mock_, nullptr);
    keys_.push_back(mock_->api_key());
    exporter_ = Exporter::Start(MockConfig(*mock_, top_level_), {"--log.level=debug"}, MockEnv(*mock_));
    ASSERT_NE(exporter_, nullptr);
    baseline_ = Await([](const std::string& t) { return Sample(t, kPolls) >= 1.0 && Sample(t, kUp) == 1.0; },
                      "the first good poll");
    ASSERT_FALSE(baseline_.empty());
    one_poll = Sample(baseline_, kPolls) == 1.0;
    // The first deployment listed (taken from the exposition: a list request
    // of our own would change the mock's counters).
    const auto info = LinesStartingWith(baseline_, "dashscope_deployment_info{");
    ASSERT_FALSE(info.empty()) << baseline_;
    const std::string key = "deployed_model=\"";
    const size_t at = info[0].find(key);
    ASSERT_NE(at, std::string::npos) << info[0];
    known_ = info[0].substr(at + key.size(), info[0].find('"', at + key.size()) - at - key.size());
    // capacity x3, status x7, info, created, modified.
    ASSERT_GE(LinesOf(baseline_, known_).size(), 13u) << baseline_;
  }

  // Scrapes until `predicate` holds and returns that exposition ("" and a
  // failure on timeout).
  std::string Await(const std::function<bool(const std::string&)>& predicate, const std::string& what,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::string seen;
    const bool ok = exporter_->WaitForMetrics(
        [&](const std::string& t) {
          seen = t;
          return predicate(t);
        },
        timeout);
    outputs_.push_back({"a /metrics scrape", seen});
    if (!ok) {
      ADD_FAILURE() << "timed out waiting for " << what << "; exporter metrics:\n"
                    << SelfMetrics(seen) << "stderr:\n"
                    << exporter_->process().Stderr();
      return "";
    }
    return seen;
  }
  std::string AwaitFailures(int n) {
    return Await([n](const std::string& t) { return Sample(t, kPollFailures) == double(n); },
                 "poll failure #" + std::to_string(n));
  }

  void QueueFault(const std::string& query) {
    for (int attempt = 1;; ++attempt) {
      const HttpResult r = mock_->Admin("POST", "/mock/faults?" + query);
      ASSERT_EQ(r.status, 200) << query << ": " << r.body;
      if (!fresh_) return;
      // The first fault after Start(): it must be in place before poll 2.
      if (Sample(exporter_->Metrics(), kPolls) == 1.0) {
        fresh_ = false;
        return;
      }
      std::printf("[ restart  ] poll 2 started before the fault was queued (attempt %d)\n", attempt);
      ASSERT_LT(attempt, kStartAttempts) << "poll 2 kept starting before the fault was queued";
      ASSERT_NO_FATAL_FAILURE(Start(mock_args_, top_level_));
    }
  }
  void ClearFaults() {
    const HttpResult r = mock_->Admin("DELETE", "/mock/faults");
    EXPECT_EQ(r.status, 200) << r.body;
  }

  // The exporter still answers every endpoint.
  void ExpectServing(int readyz = 200) {
    EXPECT_TRUE(exporter_->process().Running());
    for (const std::string path : {"/healthz", "/readyz", "/metrics", "/"}) {
      const HttpResult r = exporter_->Get(path);
      EXPECT_EQ(r.status, path == "/readyz" ? readyz : 200) << path << ": " << r.error << r.body;
      outputs_.push_back({path, r.body});
    }
  }

  // Exactly `times` poll-failed lines so far; the first one matches.
  void ExpectPollFailedLogged(const std::string& code, const std::string& err, size_t times = 1) {
    const std::string log = exporter_->process().Stderr();
    const auto lines = LinesContaining(log, "msg=\"poll failed, keeping the last good data\"");
    ASSERT_EQ(lines.size(), times) << log;
    EXPECT_TRUE(std::regex_match(lines[0], std::regex(PollFailedLine(code, err))))
        << "got:  " << lines[0] << "\nwant: code=" << code << " err=" << err;
  }

  struct FailedPoll {
    std::string code;  // the code label and the log's code=
    int requests;      // requests the failed poll sent, each failing with `code`
    std::string err;   // the log's err= (see Pattern)
  };
  // The second poll fails as `f` says; the first poll's data stays, line for
  // line. Returns the exposition of the first scrape that shows the failure.
  std::string ExpectFailedPollKeepingData(const FailedPoll& f) {
    const std::string t = AwaitFailures(1);
    if (t.empty()) return t;
    EXPECT_EQ(Sample(t, kPolls), 2.0);
    EXPECT_EQ(Sample(t, kPollFailures), 1.0);
    EXPECT_EQ(Sample(t, kUp), 0.0);
    EXPECT_EQ(Sample(t, kRequests), 1.0 + f.requests) << SelfMetrics(t);
    EXPECT_EQ(ErrorLines(t), std::vector<std::string>{ErrorLine(f.code, f.requests)}) << SelfMetrics(t);
    EXPECT_EQ(Sample(t, kDeployments), double(kFleet));
    EXPECT_EQ(LinesOf(t, known_), LinesOf(baseline_, known_));
    EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
    EXPECT_EQ(Sample(t, kLastSuccess), Sample(baseline_, kLastSuccess));
    EXPECT_EQ(Sample(t, kStaleDropped), 0.0);
    ExpectServing();
    ExpectPollFailedLogged(f.code, f.err);
    // For the record (docs/reliability.md quotes these).
    const auto logged = LinesContaining(exporter_->process().Stderr(), "msg=\"poll failed");
    std::cout << "[ observed ] requests=" << Sample(t, kRequests).value_or(-1)
              << " up=" << Sample(t, kUp).value_or(-1) << " " << ::testing::PrintToString(ErrorLines(t))
              << "\n[ observed ] " << (logged.empty() ? "" : logged[0]) << "\n";
    return t;
  }

  // After the fault is gone the next poll succeeds again.
  void ExpectRecovery() {
    ClearFaults();
    const std::string t = Await([](const std::string& x) { return Sample(x, kUp) == 1.0; }, "recovery");
    EXPECT_EQ(Sample(t, kPollFailures), 1.0);
    EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
  }

  // Everything the exporter shows while it runs.
  void CollectLiveOutputs() {
    if (!exporter_ || !exporter_->process().Running()) return;
    for (const std::string path : {"/metrics", "/", "/healthz", "/readyz"}) {
      outputs_.push_back({path, exporter_->Get(path).body});
    }
    const HttpResult gz = exporter_->Get("/metrics", {{"Accept-Encoding", "gzip"}});
    outputs_.push_back({"/metrics (gzip)", GunzipMembers(gz.body).value_or(gz.body)});
    std::string cmdline = ReadFile("/proc/" + std::to_string(exporter_->process().pid()) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    outputs_.push_back({"/proc/<pid>/cmdline", cmdline});
  }

  void CheckKeyNeverShown() {
    if (!exporter_) return;
    CollectLiveOutputs();
    outputs_.push_back({"stdout", exporter_->process().Stdout()});
    const std::string log = exporter_->process().Stderr();
    outputs_.push_back({"stderr", log});
    // The leak check is only worth something if debug lines were written.
    EXPECT_NE(log.find("level=debug"), std::string::npos) << log;
    for (const auto& key : keys_) {
      ASSERT_FALSE(key.empty());
      for (const auto& [what, text] : outputs_) {
        EXPECT_EQ(text.find(key), std::string::npos) << "the API key appears in " << what;
        // Nor its secret part alone (say, after a "Bearer " was cut off).
        EXPECT_EQ(text.find(key.substr(3)), std::string::npos) << "part of the API key appears in " << what;
      }
    }
  }

  static constexpr int kStartAttempts = 3;
  std::vector<std::string> mock_args_;  // what Start() was given, to start afresh
  std::string top_level_;
  bool fresh_ = false;  // Start() done, no fault queued yet
  std::unique_ptr<Mock> mock_;
  std::unique_ptr<Exporter> exporter_;
  std::string baseline_;  // the exposition after the first good poll
  std::string known_;     // the first deployment the mock lists
  std::vector<std::string> keys_;
  std::vector<std::pair<std::string, std::string>> outputs_;  // what, text
};

// --- errors the API answers, not retried -------------------------------------

TEST_F(FaultTest, Http401InvalidApiKeyIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=401&times=0"));
  ExpectFailedPollKeepingData(
      {"InvalidApiKey", 1,
       "\"page 1: HTTP 401 InvalidApiKey: Invalid API-key provided. (request_id <rid>)\""});
  ExpectRecovery();
}

TEST_F(FaultTest, WrongKeyFromTheStartIsInvalidApiKeyAndNotReady) {
  // The mock's own key check, not a queued fault; there is no data to keep.
  mock_ = Mock::Start();
  ASSERT_NE(mock_, nullptr);
  const std::string wrong = "sk-mock-WRONGKEY-0002";
  keys_ = {mock_->api_key(), wrong};
  exporter_ = Exporter::Start(MockConfig(*mock_, TestTimings()), {"--log.level=debug"},
                              {{std::string(kMockApiKeyEnv), wrong}});
  ASSERT_NE(exporter_, nullptr);
  const std::string t = AwaitFailures(1);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kRequests), 1.0);
  EXPECT_EQ(ErrorLines(t), std::vector<std::string>{ErrorLine("InvalidApiKey", 1)});
  EXPECT_EQ(Sample(t, kUp), 0.0);
  EXPECT_EQ(Sample(t, kDeployments), 0.0);
  EXPECT_EQ(DeploymentLines(t), std::vector<std::string>{});
  EXPECT_EQ(Sample(t, kLastSuccess), std::nullopt);
  EXPECT_EQ(StateCounter(*mock_, "auth_failures"), 1);
  ExpectServing(/*readyz=*/503);
  ExpectPollFailedLogged("InvalidApiKey",
                         "\"page 1: HTTP 401 InvalidApiKey: Invalid API-key provided. (request_id <rid>)\"");
}

TEST_F(FaultTest, Http403AccessDeniedIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=403&times=0"));
  ExpectFailedPollKeepingData(
      {"AccessDenied", 1, "\"page 1: HTTP 403 AccessDenied: Access denied. (request_id <rid>)\""});
}

TEST_F(FaultTest, Http404NotFoundIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=404&times=0"));
  ExpectFailedPollKeepingData(
      {"NotFound", 1, "\"page 1: HTTP 404 NotFound: Not found. (request_id <rid>)\""});
}

// Not retried as such; but at page_size 200 (the default) it may be the
// API refusing the page size, so the poll lists once more at 100 (the
// page_size fallback), which fails the same way.
TEST_F(FaultTest, Http400InvalidParameterIsTriedOnceMoreAtPageSize100) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=400&times=0"));
  ExpectFailedPollKeepingData(
      {"InvalidParameter", 2,
       "\"page 1: HTTP 400 InvalidParameter: Invalid parameter. (request_id <rid>)\""});
}

TEST_F(FaultTest, Http400ArrearageIsNotRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=400&code=Arrearage&times=0"));
  ExpectFailedPollKeepingData(
      {"Arrearage", 1,
       "\"page 1: HTTP 400 Arrearage: Access denied, please make sure your account is in "
       "good standing. (request_id <rid>)\""});
}

// --- errors retried with backoff ---------------------------------------------

TEST_F(FaultTest, Http429WithoutRetryAfterIsRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=429&times=0"));
  const std::string t =
      ExpectFailedPollKeepingData({"Throttling", kAttempts,
                                   "\"page 1: HTTP 429 Throttling: Requests rate limit exceeded, "
                                   "please try again later. (request_id <rid>)\""});
  EXPECT_EQ(Sample(t, kThrottledUntil), 0.0);
}

TEST_F(FaultTest, Http429ThrottlingRateQuotaKeepsItsCode) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=429&code=Throttling.RateQuota&times=0"));
  ExpectFailedPollKeepingData(
      {"Throttling.RateQuota", kAttempts,
       "\"page 1: HTTP 429 Throttling.RateQuota: Requests rate limit exceeded, please try "
       "again later. (request_id <rid>)\""});
}

TEST_F(FaultTest, Http500InternalErrorIsRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=500&times=0"));
  ExpectFailedPollKeepingData(
      {"InternalError", kAttempts,
       "\"page 1: HTTP 500 InternalError: An internal error has occured, please try again "
       "later or contact service support. (request_id <rid>)\""});
  ExpectRecovery();
}

TEST_F(FaultTest, Http502HtmlBodyIsRetriedAsHttp502) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=html&status=502&times=0"));
  ExpectFailedPollKeepingData({"http_502", kAttempts, "\"page 1: HTTP 502 http_502\""});
}

TEST_F(FaultTest, Http503WithoutCodeIsRetriedAsHttp503) {
  // The mock's closest to "no body": an error body with neither code nor
  // message (only request_id).
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=503&code=&message=&times=0"));
  ExpectFailedPollKeepingData({"http_503", kAttempts, "\"page 1: HTTP 503 http_503\""});
}

TEST_F(FaultTest, ConnectionRefusedIsRetried) {
  // Killing the mock leaves the account pointing at a closed loopback port.
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(mock_->process().Signal(SIGKILL));
  ASSERT_TRUE(mock_->process().WaitExit(std::chrono::milliseconds(5000)).has_value());
  ExpectFailedPollKeepingData({"connection", kAttempts, "\"page 1: connection error: Connection\""});
}

TEST_F(FaultTest, ConnectionClosedBeforeAnswerIsRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=close&times=0"));
  ExpectFailedPollKeepingData({"connection", kAttempts, "\"page 1: connection error: Read\""});
}

TEST_F(FaultTest, HangPastRequestTimeoutIsTimeout) {
  // The first request runs to request_timeout (500ms); the retry gets what is
  // left of the 900ms poll deadline (~390ms) and times out too; no time is
  // left for a third. So 2 requests, not 3.
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=delay&ms=2000&times=0"));
  const std::string t = ExpectFailedPollKeepingData(
      {"timeout", 2, "\"page 1: no complete response within request_timeout (<dur>)\""});
  // The poll ends by its deadline, not by the mock.
  const auto duration = Sample(t, Mine("dashscope_poll_duration_seconds"));
  ASSERT_TRUE(duration.has_value());
  EXPECT_GE(*duration, 0.85);
  EXPECT_LT(*duration, 1.0);  // before the next poll is due, whatever the load
  ExpectRecovery();
}

TEST_F(FaultTest, SlowPagesEndThePollAtItsDeadline) {
  // 3 pages of 5, each answered after 400ms: pages 1 and 2 take ~800ms of the
  // 900ms poll deadline, page 3 gets the ~100ms left and times out; no time
  // is left to retry it. The poll fails; it does not run into the next one.
  ASSERT_NO_FATAL_FAILURE(Start({}, TestTimings("page_size: 5\n")));
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=delay&ms=400&times=0"));
  const std::string t = AwaitFailures(1);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kRequests), 6.0) << SelfMetrics(t);  // 3 + 3
  EXPECT_EQ(ErrorLines(t), std::vector<std::string>{ErrorLine("timeout", 1)}) << SelfMetrics(t);
  EXPECT_EQ(Sample(t, kUp), 0.0);
  const auto duration = Sample(t, Mine("dashscope_poll_duration_seconds"));
  ASSERT_TRUE(duration.has_value());
  EXPECT_GE(*duration, 0.85);
  EXPECT_LT(*duration, 1.0);  // before the next poll is due, whatever the load
  EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
  ExpectServing();
  ExpectPollFailedLogged("timeout", "\"page 3: no complete response within request_timeout (<dur>)\"");
  ClearFaults();
}

TEST_F(FaultTest, TruncatedBodyIsRetried) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=truncate&times=0"));
  ExpectFailedPollKeepingData({"connection", kAttempts, "\"page 1: connection error: Read\""});
}

// --- bodies the exporter refuses: invalid_response, not retried --------------

TEST_F(FaultTest, OversizedBodyIsInvalidResponse) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=oversize&bytes=2097152&times=0"));  // 2MiB, above 1MiB
  ExpectFailedPollKeepingData(
      {"invalid_response", 1, "\"page 1: response body larger than max_response_bytes (1048576 bytes)\""});
  ExpectRecovery();
}

TEST_F(FaultTest, DeeplyNestedJsonIsInvalidResponse) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=deep&depth=100000&times=0"));
  ExpectFailedPollKeepingData(
      {"invalid_response", 1, "\"page 1: invalid_response: JSON nested deeper than 64 levels\""});
  ExpectRecovery();
}

TEST_F(FaultTest, EmptyBodyIsInvalidResponse) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=empty_body&times=0"));
  ExpectFailedPollKeepingData(
      {"invalid_response", 1,
       "\"page 1: invalid_response: JSON parse error at offset 0: The document is empty.\""});
}

TEST_F(FaultTest, InvalidJsonIsInvalidResponse) {
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=invalid_json&times=0"));
  ExpectFailedPollKeepingData({"invalid_response", 1,
                               "\"page 1: invalid_response: JSON parse error at offset 128: "
                               "Missing a name for object member.\""});
}

TEST_F(FaultTest, PastThirtyTwoErrorCodesTheRestCountAsOther) {
  // A misbehaving API must not create unbounded series: 33 distinct codes,
  // the 33rd counts as "other". All 33 are queued before the exporter starts
  // (a poll must not slip in between); max_retries 10 sends up to 11 a poll,
  // so a few failed polls use them up and the next one succeeds.
  mock_ = Mock::Start();
  ASSERT_NE(mock_, nullptr);
  keys_.push_back(mock_->api_key());
  std::vector<std::string> want;
  for (int i = 1; i <= 33; ++i) {
    const std::string code = std::string("Fault") + (i < 10 ? "0" : "") + std::to_string(i);
    ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=500&times=1&code=" + code));
    if (i <= 32) want.push_back(ErrorLine(code, 1));
  }
  want.push_back(ErrorLine("other", 1));
  std::sort(want.begin(), want.end());
  exporter_ = Exporter::Start(MockConfig(*mock_,
                                         "poll_interval: 2s\nrequest_timeout: 1500ms\nmax_retries: 10\n"
                                         "retry_base_delay: 1ms\n"),
                              {"--log.level=debug"}, MockEnv(*mock_));
  ASSERT_NE(exporter_, nullptr);
  // request_timeout is far above a loopback answer, so that no request of a
  // loaded machine times out and hides a fault's code behind "timeout".
  const std::string t = Await([](const std::string& x) { return Sample(x, kUp) == 1.0; },
                              "a good poll after the 33 faults", std::chrono::milliseconds(20000));
  ASSERT_FALSE(t.empty());
  std::vector<std::string> got = ErrorLines(t);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got.size(), want.size());
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) EXPECT_EQ(got[i], want[i]);
  EXPECT_EQ(Sample(t, kRequests), 34.0) << SelfMetrics(t);  // 33 failures, the good one
  EXPECT_EQ(StateCounter(*mock_, "faults_pending"), 0);
  const auto failures = Sample(t, kPollFailures);
  ASSERT_TRUE(failures.has_value());
  EXPECT_GE(*failures, 3.0);
  const std::string log = exporter_->process().Stderr();
  EXPECT_EQ(LinesContaining(log, "msg=\"poll failed, keeping the last good data\"").size(),
            size_t(*failures));
  EXPECT_EQ(Sample(t, kDeployments), double(kFleet));
  ExpectServing();
}

// --- Retry-After --------------------------------------------------------------

// How the exporter under test polls, for the Retry-After tests.
struct Schedule {
  double interval_s = 1.0;  // poll_interval
  // Whether to predict how many polls are skipped. Poll start times are only
  // known to within scheduling noise, so this is for set-ups far from the
  // edges (or where an edge case is allowed to go either way).
  bool predict_skips = true;
};

// What happened after the 429.
struct Throttled {
  double until = 0;                  // dashscope_api_throttled_until_timestamp_seconds
  std::vector<double> skip_waits_s;  // the wait each skipped poll reported
  int deadline_failures = 0;         // polls failed with "poll deadline reached"
};

// "934ms", "1s93ms" -> seconds; -1 when unparsable.
double ParseExporterDuration(const std::string& text) {
  static const std::regex kPart("([0-9]+)(h|ms|m|s)");
  double total = 0;
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kPart); it != std::sregex_iterator(); ++it) {
    if (static_cast<size_t>(it->position()) != consumed) return -1;
    consumed += static_cast<size_t>(it->length());
    const double n = std::stod((*it)[1]);
    const std::string unit = (*it)[2];
    total += unit == "h" ? n * 3600 : unit == "m" ? n * 60 : unit == "s" ? n : n / 1000;
  }
  return consumed == text.size() && consumed > 0 ? total : -1;
}

class RetryAfterTest : public FaultTest {
 protected:
  // A 429 carrying `retry_after` (the header value) fails the second poll
  // after one request: the wait it asks for does not fit in the poll. No list
  // request reaches the mock before `throttled_until`; then polls resume.
  // Every poll in between that sends nothing fails saying why: the
  // Retry-After wait, never a bare "poll deadline reached".
  Throttled ExpectThrottled(const std::string& retry_after, double min_wait_s, double max_wait_s,
                            const Schedule& schedule = Schedule()) {
    Throttled out;
    const double queued_at = UnixNow();
    [&] {
      ASSERT_NO_FATAL_FAILURE(
          QueueFault("kind=http&status=429&times=1&retry_after=" + UrlEncode(retry_after)));
    }();
    const std::string t =
        ExpectFailedPollKeepingData({"Throttling", 1,
                                     "\"page 1: HTTP 429 Throttling: Requests rate limit exceeded, "
                                     "please try again later. (request_id <rid>)\""});
    const double seen_at = UnixNow();
    const auto until = Sample(t, kThrottledUntil);
    if (!until.has_value()) {
      ADD_FAILURE() << "no " << kThrottledUntil;
      return out;
    }
    out.until = *until;
    EXPECT_GE(*until, queued_at + min_wait_s) << SelfMetrics(t);
    EXPECT_LE(*until, seen_at + max_wait_s) << SelfMetrics(t);

    const int64_t list_requests = StateCounter(*mock_, "list_requests");
    EXPECT_EQ(list_requests, 2);  // the first poll's and the 429
    // Until then, every look at the mock shows no further list request.
    int looks = 0;
    for (;;) {
      const int64_t n = StateCounter(*mock_, "list_requests");
      const double after = UnixNow();
      if (after >= *until) break;
      ++looks;
      EXPECT_EQ(n, list_requests) << "a list request reached the mock " << (*until - after)
                                  << " s before the Retry-After time";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GT(looks, 10);

    const std::string back = Await([](const std::string& x) { return Sample(x, kUp) == 1.0; }, "recovery");
    const int skipped = static_cast<int>(Sample(back, kPollFailures).value_or(0)) - 1;
    const std::string log = exporter_->process().Stderr();
    const auto failed = LinesContaining(log, "msg=\"poll failed, keeping the last good data\"");
    EXPECT_EQ(failed.size(), 1 + static_cast<size_t>(skipped)) << log;
    const std::regex skip_line(PollFailedLine("\"\"", "\"API asked to wait (Retry-After) ") + "([0-9hms]+)" +
                               Pattern(" more; no request sent\""));
    const std::regex deadline_line(PollFailedLine("\"\"", "\"page 1: poll deadline reached before page 1\""));
    for (size_t i = 1; i < failed.size(); ++i) {
      std::smatch m;
      if (std::regex_match(failed[i], m, skip_line)) {
        out.skip_waits_s.push_back(ParseExporterDuration(m[1]));
        continue;
      }
      if (std::regex_match(failed[i], deadline_line)) ++out.deadline_failures;
      ADD_FAILURE() << "a poll that could send no request because of Retry-After:\n  got:  " << failed[i]
                    << "\n  want: ... code=\"\" err=\"API asked to wait (Retry-After) <duration> "
                       "more; no request "
                       "sent\"";
    }

    if (schedule.predict_skips) {
      // Poll k (k = 1 the first) starts at first_start + (k - 1) * interval
      // (fixed rate). It is skipped when the wait left at its start is at
      // least the poll deadline (90% of the interval) less the 50ms a request
      // needs; otherwise it waits out the rest and lists.
      const double first_start = Sample(baseline_, kLastSuccess).value_or(0) -
                                 Sample(baseline_, Mine("dashscope_poll_duration_seconds")).value_or(0);
      const double skip_from = std::floor(schedule.interval_s * 900) / 1000 - 0.05;
      constexpr double kNoise = 0.06;  // closer than this to the edge: either way
      std::set<int> expected = {0};
      for (int k = 3;; ++k) {
        const double left = *until - (first_start + (k - 1) * schedule.interval_s);
        const int n = *expected.rbegin();
        if (std::abs(left - skip_from) < kNoise) {
          expected.insert(n + 1);
          break;
        }
        if (left < skip_from) break;
        expected = {n + 1};
      }
      EXPECT_TRUE(expected.count(skipped) == 1)
          << "skipped " << skipped << " polls, expected " << ::testing::PrintToString(expected) << "\n"
          << SelfMetrics(back);
    }
    EXPECT_EQ(Sample(back, kRequests), 3.0) << SelfMetrics(back);  // first poll, the 429, the recovery
    EXPECT_EQ(ErrorLines(back), std::vector<std::string>{ErrorLine("Throttling", 1)});
    EXPECT_EQ(Sample(back, kThrottledUntil), 0.0);
    EXPECT_EQ(DeploymentLines(back), DeploymentLines(baseline_));
    return out;
  }
};

TEST_F(RetryAfterTest, Http429WithRetryAfterSecondsHoldsRequests) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Throttled t = ExpectThrottled("2", 2.0, 2.05);
  // 1 s polls against a 2 s wait: the next poll starts with ~1 s left and is
  // skipped, the one after starts with ~0 s left and lists.
  EXPECT_EQ(Sample(exporter_->Metrics(), kPollFailures), 2.0);
  ASSERT_EQ(t.skip_waits_s.size(), 1u);
  EXPECT_NEAR(t.skip_waits_s[0], 1.0, 0.1);
}

TEST_F(RetryAfterTest, Http429WithRetryAfterHttpDateHoldsRequests) {
  // A whole-second date ends the wait at a fixed point of the 1 s poll grid:
  // frac(-first poll start) into some poll. Within ~60ms of the 50ms window
  // of the test below, the outcome depends on scheduling noise (and on that
  // bug); such a start is made again.
  for (int attempt = 1; attempt <= 10; ++attempt) {
    if (attempt > 1) {
      CheckKeyNeverShown();
      outputs_.clear();
      exporter_.reset();
      mock_.reset();
    }
    ASSERT_NO_FATAL_FAILURE(Start());
    const double first_start = Sample(baseline_, kLastSuccess).value_or(0) -
                               Sample(baseline_, Mine("dashscope_poll_duration_seconds")).value_or(0);
    const double phase = std::ceil(first_start) - first_start;
    if (phase < 0.79 || phase > 0.96) break;
  }
  const auto when = system_clock::now() + std::chrono::seconds(3);
  const double when_unix = double(system_clock::to_time_t(when));  // HTTP dates have whole seconds
  const Throttled t = ExpectThrottled(HttpDate(when), 1.0, 3.05);
  EXPECT_NEAR(t.until, when_unix, 0.05);
}

TEST_F(RetryAfterTest, Http429RetryAfterEndingInTheLast50msOfAPollSkipsThatPoll) {
  // poll_interval 1066ms (poll deadline 959ms) and Retry-After: 2. The poll
  // after the 429 starts with ~0.934 s of the wait left: waiting it out would
  // leave ~25ms, under the 50ms the lister needs to start a request. Such a
  // poll can send nothing, so it must be skipped at once with the
  // Retry-After reason, like any poll the wait does not fit in.
  // Scheduling noise on a loaded machine can move that poll out of the 50ms
  // window (it then waits and lists, or is skipped as an ordinary one); the
  // scenario is then run again on a fresh pair.
  constexpr double kWindowFrom = 0.909, kWindowTo = 0.959;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    if (attempt > 1) {
      CheckKeyNeverShown();
      outputs_.clear();
      exporter_.reset();
      mock_.reset();
    }
    ASSERT_NO_FATAL_FAILURE(Start({},
                                  "poll_interval: 1066ms\nrequest_timeout: 500ms\nmax_retries: 2\n"
                                  "retry_base_delay: 10ms\n"));
    const Throttled t = ExpectThrottled("2", 2.0, 2.05, {.interval_s = 1.066, .predict_skips = false});
    if (t.deadline_failures > 0) break;  // the case at hand, failed above
    bool in_window = false;
    for (double w : t.skip_waits_s) in_window = in_window || (w >= kWindowFrom && w < kWindowTo);
    if (in_window) break;  // the case at hand, handled right
    std::cout << "[ note     ] attempt " << attempt << " missed the window (skipped polls reported waits of "
              << ::testing::PrintToString(t.skip_waits_s) << " s); again\n";
  }
}

// --- bad data inside a good answer: the poll succeeds --------------------------

TEST_F(FaultTest, WrongTypesAreCountedAndTheRestOfTheRecordStays) {
  ASSERT_NO_FATAL_FAILURE(Start());
  // wrong_types: record 0 has capacity as a string, record 1 status as a
  // number, record 2 no deployed_model.
  const HttpResult page = mock_->List(1, 200);
  std::vector<std::string> ids;
  for (size_t at = page.body.find("\"deployed_model\":\""); at != std::string::npos;
       at = page.body.find("\"deployed_model\":\"", at + 1)) {
    const size_t from = at + 18;
    ids.push_back(page.body.substr(from, page.body.find('"', from) - from));
  }
  ASSERT_EQ(ids.size(), size_t(kFleet));
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=wrong_types&times=1"));

  const std::string t =
      Await([](const std::string& x) { return Sample(x, kPolls) == 2.0 && !ProblemLines(x).empty(); },
            "the second poll");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kUp), 1.0);
  EXPECT_EQ(Sample(t, kPollFailures), 0.0);
  EXPECT_EQ(ErrorLines(t), std::vector<std::string>{});
  // 11 of 12 listed, so page 2 (empty) is asked for too.
  EXPECT_EQ(Sample(t, kRequests), 3.0);
  std::vector<std::string> problems = ProblemLines(t);
  std::sort(problems.begin(), problems.end());
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "dashscope_record_problems_total{account=\"mock\",problem=\"missing_deployed_model\"} 1",
                "dashscope_record_problems_total{account=\"mock\",problem=\"wrong_type\"} 2",
            }));
  EXPECT_EQ(Sample(t, kDeployments), double(kFleet - 1));

  // Record 0: only the capacity series goes.
  const std::string capacity = "dashscope_deployment_capacity";
  EXPECT_EQ(LinesOfFamily(LinesOf(t, ids[0]), capacity), std::vector<std::string>{});
  EXPECT_EQ(LinesOf(t, ids[0]), Without(LinesOf(baseline_, ids[0]), capacity));
  // Record 1: only the status series change (an absent status is UNKNOWN).
  const std::string status = "dashscope_deployment_status";
  EXPECT_EQ(Without(LinesOf(t, ids[1]), status), Without(LinesOf(baseline_, ids[1]), status));
  const auto status_lines = LinesOfFamily(LinesOf(t, ids[1]), status);
  const std::string unknown =
      "dashscope_deployment_status{account=\"mock\",workspace_id=\"llm-mock\",deployed_model=\"" + ids[1] +
      "\",status=\"UNKNOWN\"} 1";
  EXPECT_NE(std::find(status_lines.begin(), status_lines.end(), unknown), status_lines.end())
      << ::testing::PrintToString(status_lines);
  // Record 2 cannot be told apart from any other: it is dropped.
  EXPECT_EQ(LinesOf(t, ids[2]), std::vector<std::string>{});
  for (size_t i = 3; i < ids.size(); ++i) {
    EXPECT_EQ(LinesOf(t, ids[i]), LinesOf(baseline_, ids[i])) << ids[i];
  }

  const std::string log = exporter_->process().Stderr();
  const auto bad = LinesContaining(log, "msg=\"bad deployment record\"");
  ASSERT_EQ(bad.size(), 3u) << log;
  const std::string prefix = "level=warn msg=\"bad deployment record\" account=mock problem=";
  EXPECT_NE(bad[0].find(prefix + "\"deployment \\\"" + ids[0] +
                        "\\\": field capacity: expected a number, got string\""),
            std::string::npos)
      << bad[0];
  EXPECT_NE(bad[1].find(prefix + "\"deployment \\\"" + ids[1] +
                        "\\\": field status: expected a string, got number\""),
            std::string::npos)
      << bad[1];
  EXPECT_NE(bad[2].find(prefix + "\"deployment #2: missing deployed_model\""), std::string::npos) << bad[2];
  EXPECT_EQ(LinesContaining(log, "msg=\"poll failed").size(), 0u);
  ExpectServing();
}

TEST_F(FaultTest, DuplicatesAcrossPagesAreExportedOnce) {
  // 12 deployments, 5 a page: pages of 5, 5, 2. Page 2 repeats page 1's 5.
  ASSERT_NO_FATAL_FAILURE(Start({}, TestTimings("page_size: 5\n")));
  EXPECT_EQ(Sample(baseline_, kRequests), 3.0);
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=duplicates&page=2&times=1"));
  const std::string t =
      Await([](const std::string& x) { return Sample(x, kDuplicates) > 0; }, "duplicates counted");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kDuplicates), 5.0);
  EXPECT_EQ(Sample(t, kUp), 1.0);
  EXPECT_EQ(Sample(t, kPollFailures), 0.0);
  EXPECT_EQ(Sample(t, kRequests), 6.0);
  EXPECT_EQ(ErrorLines(t), std::vector<std::string>{});
  EXPECT_EQ(Sample(t, kDeployments), double(kFleet));
  const auto info = LinesStartingWith(t, "dashscope_deployment_info{");
  EXPECT_EQ(info.size(), size_t(kFleet));
  std::set<std::string> unique(info.begin(), info.end());
  EXPECT_EQ(unique.size(), info.size());
  EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
  ExpectServing();
}

// --- pagination that would never end -------------------------------------------

TEST_F(FaultTest, LyingTotalOnPageOneStopsAtTheRealTotal) {
  // Page 1 claims a billion; pages 2 and 3 tell the truth (12), which ends
  // the walk at page 3.
  ASSERT_NO_FATAL_FAILURE(Start({}, TestTimings("page_size: 5\n")));
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=lying_total&total=1000000000&page=1&times=1"));
  const std::string t =
      Await([](const std::string& x) { return Sample(x, kPolls) == 2.0 && Sample(x, kRequests) == 6.0; },
            "the second poll");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kUp), 1.0);
  EXPECT_EQ(Sample(t, kPollFailures), 0.0);
  EXPECT_EQ(StateCounter(*mock_, "last_page_no"), 3);
  EXPECT_EQ(Sample(t, kDeployments), double(kFleet));
  EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
  EXPECT_EQ(LinesStartingWith(t, "dashscope_deployment_info{").size(), size_t(kFleet));
}

TEST_F(FaultTest, LyingTotalOnEveryPageStopsAtTheEmptyPage) {
  // Every page claims a billion (times=0): pages 1-3 hold the 12, page 4 is
  // empty and ends the walk. Two polls, 4 requests each, never more.
  ASSERT_NO_FATAL_FAILURE(Start({}, TestTimings("page_size: 5\n")));
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=lying_total&total=1000000000&times=0"));
  const std::string t = Await(
      [](const std::string& x) {
        return Sample(x, kPolls) == 3.0 && Sample(x, kUp) == 1.0 && Sample(x, kRequests) == 11.0;
      },
      "two polls under the lie", std::chrono::milliseconds(6000));
  ASSERT_FALSE(t.empty()) << SelfMetrics(exporter_->Metrics());
  EXPECT_EQ(Sample(t, kPollFailures), 0.0);
  EXPECT_EQ(StateCounter(*mock_, "last_page_no"), 4);
  EXPECT_EQ(StateCounter(*mock_, "list_requests"), 11);
  EXPECT_EQ(Sample(t, kDeployments), double(kFleet));
  EXPECT_EQ(DeploymentLines(t), DeploymentLines(baseline_));
  EXPECT_EQ(LinesStartingWith(t, "dashscope_deployment_info{").size(), size_t(kFleet));
  ClearFaults();
}

// --- staleness -----------------------------------------------------------------

TEST_F(FaultTest, DataOlderThanMaxStalenessIsDropped) {
  ASSERT_NO_FATAL_FAILURE(Start({}, TestTimings("max_staleness: 1500ms\n")));
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=http&status=500&times=0"));
  // Failed polls at ~1 s (data 1 s old: kept) and ~2 s (2 s old: dropped).
  const std::string kept = AwaitFailures(1);
  EXPECT_EQ(DeploymentLines(kept), DeploymentLines(baseline_));
  const std::string t = AwaitFailures(2);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(Sample(t, kStaleDropped), 1.0);
  EXPECT_EQ(Sample(t, kDeployments), 0.0);
  EXPECT_EQ(DeploymentLines(t), std::vector<std::string>{});
  EXPECT_EQ(Sample(t, kUp), 0.0);
  EXPECT_EQ(Sample(t, kLastSuccess), Sample(baseline_, kLastSuccess));
  const std::string log = exporter_->process().Stderr();
  const auto dropped =
      LinesContaining(log, "msg=\"last good data older than max_staleness, no longer exported\"");
  ASSERT_EQ(dropped.size(), 1u) << log;
  EXPECT_TRUE(std::regex_match(
      dropped[0],
      std::regex("time=\\S+ level=warn " + Pattern("msg=\"last good data older than max_staleness, no "
                                                   "longer exported\" account=mock max_staleness=1s500ms"))))
      << dropped[0];
  ExpectServing();
  // Readiness means "has had a successful poll", so it stays.
  ClearFaults();
  const std::string back = Await([](const std::string& x) { return Sample(x, kUp) == 1.0; }, "recovery");
  EXPECT_EQ(Sample(back, kStaleDropped), 0.0);
  EXPECT_EQ(DeploymentLines(back), DeploymentLines(baseline_));
}

// --- the API never slows a scrape; SIGTERM during a hang ------------------------

struct Latencies {
  std::vector<double> ms;
  double Max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
  double Median() const {
    if (ms.empty()) return 0;
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  }
};

TEST_F(FaultTest, HangingApiNeverSlowsScrapesAndSigtermExitsPromptly) {
  // 1000 deployments, so that /metrics is a real page; a 3 s request_timeout
  // (poll_interval 4s) and a list request that hangs past it.
  ASSERT_NO_FATAL_FAILURE(
      Start({"--deployments", "1000"},
            "poll_interval: 4s\nrequest_timeout: 3s\nmax_retries: 2\nretry_base_delay: 10ms\n"));
  ASSERT_EQ(Sample(baseline_, kDeployments), 1000.0);
  ASSERT_NO_FATAL_FAILURE(QueueFault("kind=delay&ms=5000&times=0"));
  ASSERT_TRUE(WaitUntil([&] { return StateCounter(*mock_, "delays_in_flight") == 1; },
                        std::chrono::milliseconds(6000)));
  const auto hang_start = steady_clock::now();

  std::map<std::string, Latencies> latency;
  while (steady_clock::now() - hang_start < std::chrono::milliseconds(2200)) {
    for (const std::string path : {"/metrics", "/healthz", "/readyz"}) {
      const auto t0 = steady_clock::now();
      const HttpResult r = exporter_->Get(path);
      const double ms = std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count();
      EXPECT_EQ(r.status, 200) << path << r.error;
      latency[path].ms.push_back(ms);
      if (path == "/metrics") {
        EXPECT_NE(r.body.find("\n" + kDeployments + " 1000\n"), std::string::npos);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Still inside the hang: every scrape above was answered, with the data,
  // while the API request was held. A scrape that waited for the API would
  // have waited for the whole hang (request_timeout 3 s), so this, and not a
  // latency bound that a loaded machine can break, is what proves that
  // scrapes never wait for the API. Latency is reported; its bounds live in
  // docs/benchmarks.md.
  ASSERT_EQ(StateCounter(*mock_, "delays_in_flight"), 1);
  for (const auto& [path, l] : latency) {
    std::cout << "[ latency  ] " << path << " during a hanging API request: " << l.ms.size()
              << " requests, median " << l.Median() << " ms, max " << l.Max() << " ms\n";
    RecordProperty(path.substr(1) + "_max_ms", std::to_string(l.Max()));
    EXPECT_GE(l.ms.size(), 5u) << path;
  }

  CollectLiveOutputs();
  const auto term_at = steady_clock::now();
  ASSERT_TRUE(exporter_->process().Signal(SIGTERM));
  const std::optional<int> code = exporter_->process().WaitExit(std::chrono::milliseconds(5000));
  const double exit_ms = std::chrono::duration<double, std::milli>(steady_clock::now() - term_at).count();
  std::cout << "[ sigterm  ] exited with " << (code ? std::to_string(*code) : "nothing (still running)")
            << " after " << exit_ms << " ms\n";
  RecordProperty("sigterm_exit_ms", std::to_string(exit_ms));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_LT(exit_ms, 2000.0);
  const std::string log = exporter_->process().Stderr();
  EXPECT_EQ(LinesContaining(log, "msg=\"shutting down\" signal=SIGTERM").size(), 1u) << log;
}

}  // namespace
}  // namespace dse::testing
