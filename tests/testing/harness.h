// Test harness for end-to-end tests of the real binaries (dashscope_exporter
// and dashscope_mock), over loopback only. Shared by the integration, fault,
// load and soak tests: keep this API stable and additive.
//
// Typical use:
//   auto mock = Mock::Start({"--deployments", "450"});
//   ASSERT_NE(mock, nullptr);
//   auto exporter = Exporter::Start(MockConfig(*mock), {}, MockEnv(*mock));
//   ASSERT_NE(exporter, nullptr);
//   ASSERT_TRUE(exporter->WaitForMetric("dashscope_up{account=\"mock\"} 1", 5s));
//
// Start() functions report why they failed with ADD_FAILURE (including the
// child's stderr) and return nullptr, so callers only ASSERT_NE(.., nullptr).
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testing/gzip.h"
#include "testing/temp_dir.h"

namespace dse::testing {

using namespace std::chrono_literals;

// The key Mock::Start() accepts by default, and the value Exporter::Start()
// puts in DASHSCOPE_MOCK_API_KEY unless the env it is given sets it.
// Distinctive so that leak checks can search for it.
inline constexpr std::string_view kDefaultMockApiKey = "sk-mock-TESTKEY-0001";
// The environment variable MockConfig() names in api_key_env.
inline constexpr std::string_view kMockApiKeyEnv = "DASHSCOPE_MOCK_API_KEY";

// ${DSE_BINARY_DIR}/src/dashscope_exporter or ${DSE_BINARY_DIR}/src/mock/dashscope_mock
// (DSE_BINARY_DIR is the build directory, fixed at compile time; the
// environment variable DSE_TEST_BINARY_DIR overrides it at run time). Any
// other name resolves to ${DSE_BINARY_DIR}/<name>.
std::string BinaryPath(std::string_view name);

// A child process: fork/exec, stdout and stderr captured to temporary files,
// in a process group of its own, with the parent's environment plus
// `extra_env` (which wins on conflicts). Thread-safe.
class Process {
 public:
  // nullptr (and an ADD_FAILURE) when the binary cannot be executed.
  static std::unique_ptr<Process> Start(const std::string& binary, std::vector<std::string> args,
                                        std::map<std::string, std::string> extra_env = {});
  // SIGKILLs the whole process group of a child still running, reaps it and
  // removes the capture files.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return pid_; }
  // kill(pid, sig); false when the child has already been reaped.
  bool Signal(int sig);
  // The exit code, or 128 + the signal that ended the child; nullopt when it
  // is still running after `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Running();

  // Everything the child wrote so far.
  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // The command line, for messages.
  std::string Describe() const;

 private:
  Process() = default;
  // Reaps without blocking; needs mu_.
  void PollLocked();

  pid_t pid_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
  std::vector<std::string> argv_;

  std::mutex mu_;
  bool reaped_ = false;      // guarded by mu_
  std::optional<int> exit_;  // guarded by mu_
};

struct HttpResult {
  int status = 0;    // 0: no HTTP answer (see error)
  std::string body;  // as sent: never decompressed
  httplib::Headers headers;
  std::string error;  // the transport error when status == 0
  std::string Header(const std::string& name) const;
};

// Requests to 127.0.0.1:<port>. No Accept-Encoding is sent unless given, and
// bodies are returned as received (a gzip body stays compressed).
HttpResult HttpRequest(const std::string& method, int port, const std::string& path_and_query,
                       httplib::Headers headers = {}, const std::string& body = "",
                       const std::string& content_type = "",
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
HttpResult HttpGet(int port, const std::string& path, httplib::Headers headers = {},
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
HttpResult HttpPost(int port, const std::string& path_and_query, const std::string& body = "",
                    httplib::Headers headers = {});
HttpResult HttpDelete(int port, const std::string& path_and_query, httplib::Headers headers = {});
// To https://127.0.0.1:<port>, without checking its certificate (a test mock's).
HttpResult HttpsRequestUnverified(const std::string& method, int port, const std::string& path_and_query,
                                  httplib::Headers headers = {},
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// Polls `condition` every `every` until it holds or `timeout` passes; true
// when it held (it is checked once more at the deadline).
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(20));

// A running dashscope_mock on 127.0.0.1, port chosen by the kernel.
class Mock {
 public:
  // Adds `--listen 127.0.0.1:0 --port-file <tmp>`, and `--tick 0` unless
  // extra_args has --tick; the key goes in through DASHSCOPE_MOCK_API_KEY.
  // Returns once the mock answers GET /mock/state. With --tls-cert-file in
  // extra_args the mock serves HTTPS, and base_url(), Admin() and List()
  // follow (Admin and List without checking the certificate).
  static std::unique_ptr<Mock> Start(std::vector<std::string> extra_args = {},
                                     std::string api_key = std::string(kDefaultMockApiKey));
  ~Mock();

  int port() const { return port_; }
  std::string base_url() const;  // http://127.0.0.1:<port> (https:// with TLS)
  bool tls() const { return tls_; }
  const std::string& api_key() const { return api_key_; }
  // An admin request, e.g. Admin("POST", "/mock/tick?n=2"); fields travel in
  // the query string.
  HttpResult Admin(const std::string& method, const std::string& path_and_query);
  // A list request as the exporter sends it, with this mock's key.
  HttpResult List(int page_no, int page_size);
  Process& process() { return *process_; }

 private:
  Mock() = default;
  std::unique_ptr<Process> process_;
  TempDir dir_{"dse_mock"};  // holds the port file
  std::string api_key_;
  int port_ = 0;
  bool tls_ = false;
};

// {DASHSCOPE_MOCK_API_KEY: mock.api_key()}, for Exporter::Start's env.
std::map<std::string, std::string> MockEnv(const Mock& mock);

// One account item (list entry, 2-space indented) pointing at `mock`.
std::string MockAccountYaml(const Mock& mock, const std::string& name);

// A configuration with the account `mock` pointing at `mock`, api_key_env
// DASHSCOPE_MOCK_API_KEY, and test timings: poll_interval 1s,
// request_timeout 500ms, retry_base_delay 100ms. Each of those three is left
// out when extra_top_level_yaml sets it (a line starting with "<key>:"), so
// tests can override them. extra_accounts_yaml is appended to the accounts
// list (see MockAccountYaml).
std::string MockConfig(const Mock& mock, const std::string& extra_top_level_yaml = "",
                       const std::string& extra_accounts_yaml = "");

// A running dashscope_exporter serving on 127.0.0.1, port chosen by the kernel.
class Exporter {
 public:
  // Writes `config_yaml` to a temporary file and starts
  //   dashscope_exporter --config.file=<tmp> --web.listen-address=127.0.0.1:0 <extra_args>
  // with the parent environment plus `env`; DASHSCOPE_MOCK_API_KEY is set to
  // kDefaultMockApiKey unless `env` sets it (pass MockEnv(mock) for a mock
  // with another key). Waits up to 10 s for the "dashscope_exporter started"
  // log line and takes the port from it.
  static std::unique_ptr<Exporter> Start(const std::string& config_yaml,
                                         std::vector<std::string> extra_args = {},
                                         std::map<std::string, std::string> env = {});
  ~Exporter();

  int port() const { return port_; }
  HttpResult Get(const std::string& path, httplib::Headers headers = {});
  // The body of the telemetry path (--web.telemetry-path when given); empty
  // when the scrape did not return 200.
  std::string Metrics();
  // Polls the metrics every 20 ms until a line matches `line`: equal to it
  // when it holds a value ("name{labels} 1"), else starting with it
  // ("name{labels" or "name{"). True on a match.
  bool WaitForMetric(const std::string& line, std::chrono::milliseconds timeout);
  // Polls the metrics every 20 ms until `predicate(exposition)` holds.
  bool WaitForMetrics(const std::function<bool(const std::string& exposition)>& predicate,
                      std::chrono::milliseconds timeout);
  // Replaces the configuration file atomically (write aside, rename); send
  // SIGHUP to make the exporter read it.
  void RewriteConfig(const std::string& yaml);
  Process& process() { return *process_; }
  const std::string& config_path() const { return config_path_; }

 private:
  Exporter() = default;
  std::unique_ptr<Process> process_;
  TempDir dir_{"dse_exporter"};  // holds the configuration file
  std::string config_path_;
  std::string telemetry_path_ = "/metrics";
  int port_ = 0;
};

// True when `exposition` has a line matching `line` as WaitForMetric defines it.
bool HasMetricLine(const std::string& exposition, const std::string& line);

// Every sample of a text exposition, keyed by the series exactly as written
// (`name{labels}` or `name`). Comments and blank lines are skipped.
std::map<std::string, double> ParseSamples(const std::string& exposition);
std::optional<double> Sample(const std::string& exposition, const std::string& series);

// The lines of `text` (without their '\n') for which `keep` is true, in order.
std::vector<std::string> LinesWhere(const std::string& text,
                                    const std::function<bool(const std::string&)>& keep);
// The lines of `text` that start with `prefix`, in order.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix);
// The lines of `text` that contain `needle`, in order.
std::vector<std::string> LinesContaining(const std::string& text, const std::string& needle);

// A loopback port nothing listens on (bound, read and closed again), for
// "the API is down" cases.
int UnusedLoopbackPort();

// Writes `content` to `path` (truncating); false on failure.
bool WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

}  // namespace dse::testing
