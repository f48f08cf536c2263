#include "testing/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace dse::testing {
namespace {

std::string TempRoot() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
}

bool HasFlag(const std::vector<std::string>& args, std::string_view flag) {
  for (const auto& a : args) {
    if (a == flag ||
        (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=')) {
      return true;
    }
  }
  return false;
}

// The value of --flag=value or --flag value, if given.
std::optional<std::string> FlagValue(const std::vector<std::string>& args, std::string_view flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == flag && i + 1 < args.size()) return args[i + 1];
    if (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=') {
      return a.substr(flag.size() + 1);
    }
  }
  return std::nullopt;
}

// The port from the exporter's started line, logfmt (port=NNN) or JSON
// ("port":"NNN" or "port":NNN).
std::optional<int> StartedPort(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("dashscope_exporter started") == std::string::npos) continue;
    for (const std::string_view key : {std::string_view(" port="), std::string_view("\"port\":")}) {
      size_t at = line.find(key);
      if (at == std::string::npos) continue;
      at += key.size();
      while (at < line.size() && (line[at] == '"' || line[at] == ' ')) ++at;
      int port = 0;
      size_t digits = 0;
      while (at + digits < line.size() && std::isdigit(static_cast<unsigned char>(line[at + digits])) != 0) {
        port = port * 10 + (line[at + digits] - '0');
        ++digits;
      }
      if (digits > 0 && port > 0) return port;
    }
  }
  return std::nullopt;
}

// Where a series ends in a sample line: after the closing brace of the label
// set (label values may hold spaces, braces and escaped quotes), else at the
// first space. npos when the line has no well-formed series.
size_t SeriesEnd(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
  if (i == line.size() || line[i] != '{') return i;
  bool quoted = false;
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '}') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string BinaryPath(std::string_view name) {
  std::string dir = DSE_BINARY_DIR;
  if (const char* override_dir = std::getenv("DSE_TEST_BINARY_DIR");
      override_dir != nullptr && *override_dir) {
    dir = override_dir;
  }
  if (name == "dashscope_exporter") return dir + "/src/dashscope_exporter";
  if (name == "dashscope_mock") return dir + "/src/mock/dashscope_mock";
  return dir + "/" + std::string(name);
}

// --- Process -----------------------------------------------------------------

std::unique_ptr<Process> Process::Start(const std::string& binary, std::vector<std::string> args,
                                        std::map<std::string, std::string> extra_env) {
  std::unique_ptr<Process> p(new Process());
  p->argv_.push_back(binary);
  for (auto& a : args) p->argv_.push_back(std::move(a));

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls are allowed (the test may run other threads).
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (auto& [k, v] : extra_env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& s : p->argv_) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string base = TempRoot() + "/dse_proc_XXXXXX";
  std::string out_path = base + ".out";
  std::string err_path = base + ".err";
  const int out_fd = mkostemps(out_path.data(), 4, O_CLOEXEC);
  const int err_fd = mkostemps(err_path.data(), 4, O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "cannot create capture files: " << std::strerror(errno);
    for (auto [fd, path] : {std::pair{out_fd, &out_path}, std::pair{err_fd, &err_path}}) {
      if (fd < 0) continue;
      close(fd);
      unlink(path->c_str());
    }
    return nullptr;
  }
  p->stdout_path_ = out_path;
  p->stderr_path_ = err_path;

  // exec failures come back through this pipe; a successful exec closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return nullptr;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    close(report[0]);
    close(report[1]);
    return nullptr;
  }
  if (pid == 0) {
    setpgid(0, 0);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    // The test's own sockets and files must not leak into the child.
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    // Signals blocked or ignored by the test runner would be inherited.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    execve(argv[0], argv.data(), envp.data());
    const int err = errno;
    ssize_t ignored = write(report[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  // Also from the parent, so that a signal to the group right after Start()
  // cannot race the child's own setpgid.
  setpgid(pid, pid);
  close(report[1]);
  close(out_fd);
  close(err_fd);
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  p->pid_ = pid;
  if (n > 0) {
    ADD_FAILURE() << "cannot execute " << binary << ": " << std::strerror(child_errno);
    return nullptr;  // the destructor reaps the child
  }
  return p;
}

Process::~Process() {
  if (pid_ > 0) {
    std::lock_guard lock(mu_);
    PollLocked();
    if (!reaped_) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    // A reaped child's group is left alone: its id may belong to a stranger by now.
  }
  if (!stdout_path_.empty()) unlink(stdout_path_.c_str());
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

void Process::PollLocked() {
  if (reaped_ || pid_ <= 0) return;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    if (WIFEXITED(status)) {
      exit_ = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_ = 128 + WTERMSIG(status);
    }
  } else if (r < 0 && errno == ECHILD) {
    reaped_ = true;
  }
}

bool Process::Signal(int sig) {
  std::lock_guard lock(mu_);
  PollLocked();
  if (reaped_) return false;
  return kill(pid_, sig) == 0;
}

std::optional<int> Process::WaitExit(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      PollLocked();
      if (reaped_) return exit_;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool Process::Running() {
  std::lock_guard lock(mu_);
  PollLocked();
  return !reaped_;
}

std::string Process::Stdout() const { return ReadFile(stdout_path_); }
std::string Process::Stderr() const { return ReadFile(stderr_path_); }

std::string Process::Describe() const {
  std::string s;
  for (const auto& a : argv_) s += (s.empty() ? "" : " ") + a;
  return s;
}

// --- HTTP --------------------------------------------------------------------

std::string HttpResult::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

namespace {
HttpResult SendOn(httplib::Client& client, const std::string& method, const std::string& path_and_query,
                  httplib::Headers headers, const std::string& body, const std::string& content_type,
                  std::chrono::milliseconds timeout);
}  // namespace

HttpResult HttpRequest(const std::string& method, int port, const std::string& path_and_query,
                       httplib::Headers headers, const std::string& body, const std::string& content_type,
                       std::chrono::milliseconds timeout) {
  httplib::Client client("127.0.0.1", port);
  return SendOn(client, method, path_and_query, std::move(headers), body, content_type, timeout);
}

HttpResult HttpsRequestUnverified(const std::string& method, int port, const std::string& path_and_query,
                                  httplib::Headers headers, std::chrono::milliseconds timeout) {
  httplib::Client client("https://127.0.0.1:" + std::to_string(port));
  client.enable_server_certificate_verification(false);
  return SendOn(client, method, path_and_query, std::move(headers), "", "", timeout);
}

namespace {
HttpResult SendOn(httplib::Client& client, const std::string& method, const std::string& path_and_query,
                  httplib::Headers headers, const std::string& body, const std::string& content_type,
                  std::chrono::milliseconds timeout) {
  client.set_decompress(false);
  client.set_keep_alive(false);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    res = client.Get(path_and_query, headers);
  } else if (method == "POST") {
    res = client.Post(path_and_query, headers, body, content_type.empty() ? "text/plain" : content_type);
  } else if (method == "PUT") {
    res = client.Put(path_and_query, headers, body, content_type.empty() ? "text/plain" : content_type);
  } else if (method == "DELETE") {
    res = client.Delete(path_and_query, headers);
  } else if (method == "HEAD") {
    res = client.Head(path_and_query, headers);
  } else {
    HttpResult out;
    out.error = "unsupported method " + method;
    return out;
  }
  HttpResult out;
  if (!res) {
    out.error = httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.body = res->body;
  out.headers = res->headers;
  return out;
}
}  // namespace

HttpResult HttpGet(int port, const std::string& path, httplib::Headers headers,
                   std::chrono::milliseconds timeout) {
  return HttpRequest("GET", port, path, std::move(headers), "", "", timeout);
}

HttpResult HttpPost(int port, const std::string& path_and_query, const std::string& body,
                    httplib::Headers headers) {
  return HttpRequest("POST", port, path_and_query, std::move(headers), body,
                     "application/x-www-form-urlencoded");
}

HttpResult HttpDelete(int port, const std::string& path_and_query, httplib::Headers headers) {
  return HttpRequest("DELETE", port, path_and_query, std::move(headers));
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

// --- Mock --------------------------------------------------------------------

std::unique_ptr<Mock> Mock::Start(std::vector<std::string> extra_args, std::string api_key) {
  std::unique_ptr<Mock> m(new Mock());
  m->api_key_ = std::move(api_key);
  m->tls_ = HasFlag(extra_args, "--tls-cert-file");
  if (m->dir_.path().empty()) return nullptr;
  const std::string port_file = m->dir_.File("port");
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--port-file", port_file};
  if (!HasFlag(extra_args, "--tick")) {
    args.push_back("--tick");
    args.push_back("0");
  }
  for (auto& a : extra_args) args.push_back(std::move(a));
  m->process_ = Process::Start(BinaryPath("dashscope_mock"), std::move(args),
                               {{std::string(kMockApiKeyEnv), m->api_key_}});
  if (m->process_ == nullptr) return nullptr;

  const bool bound = WaitUntil(
      [&] {
        const std::string text = ReadFile(port_file);
        if (!text.empty()) m->port_ = std::atoi(text.c_str());
        return m->port_ > 0 || !m->process_->Running();
      },
      std::chrono::milliseconds(10000), std::chrono::milliseconds(5));
  if (!bound || m->port_ <= 0) {
    ADD_FAILURE() << "dashscope_mock did not start (" << m->process_->Describe() << ")\nstderr:\n"
                  << m->process_->Stderr();
    return nullptr;
  }
  const bool serving = WaitUntil([&] { return m->Admin("GET", "/mock/state").status == 200; },
                                 std::chrono::milliseconds(10000), std::chrono::milliseconds(5));
  if (!serving) {
    ADD_FAILURE() << "dashscope_mock does not answer on port " << m->port_ << "\nstderr:\n"
                  << m->process_->Stderr();
    return nullptr;
  }
  return m;
}

Mock::~Mock() { process_.reset(); }

std::string Mock::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

HttpResult Mock::Admin(const std::string& method, const std::string& path_and_query) {
  if (tls_) return HttpsRequestUnverified(method, port_, path_and_query);
  return HttpRequest(method, port_, path_and_query);
}

HttpResult Mock::List(int page_no, int page_size) {
  const std::string path =
      "/api/v1/deployments?page_no=" + std::to_string(page_no) + "&page_size=" + std::to_string(page_size);
  if (tls_) return HttpsRequestUnverified("GET", port_, path, {{"Authorization", "Bearer " + api_key_}});
  return HttpGet(port_, path, {{"Authorization", "Bearer " + api_key_}});
}

std::map<std::string, std::string> MockEnv(const Mock& mock) {
  return {{std::string(kMockApiKeyEnv), mock.api_key()}};
}

std::string MockAccountYaml(const Mock& mock, const std::string& name) {
  return "  - name: " + name + "\n    base_url: " + mock.base_url() +
         "\n    api_key_env: " + std::string(kMockApiKeyEnv) + "\n";
}

std::string MockConfig(const Mock& mock, const std::string& extra_top_level_yaml,
                       const std::string& extra_accounts_yaml) {
  auto sets = [&](const std::string& key) {
    std::istringstream lines(extra_top_level_yaml);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(key + ":", 0) == 0) return true;
    }
    return false;
  };
  std::string yaml;
  if (!sets("poll_interval")) yaml += "poll_interval: 1s\n";
  if (!sets("request_timeout")) yaml += "request_timeout: 500ms\n";
  if (!sets("retry_base_delay")) yaml += "retry_base_delay: 100ms\n";
  yaml += extra_top_level_yaml;
  if (!yaml.empty() && yaml.back() != '\n') yaml += "\n";
  yaml += "accounts:\n" + MockAccountYaml(mock, "mock") + extra_accounts_yaml;
  return yaml;
}

// --- Exporter ----------------------------------------------------------------

std::unique_ptr<Exporter> Exporter::Start(const std::string& config_yaml, std::vector<std::string> extra_args,
                                          std::map<std::string, std::string> env) {
  std::unique_ptr<Exporter> e(new Exporter());
  if (e->dir_.path().empty()) return nullptr;
  e->config_path_ = e->dir_.File("dashscope_exporter.yml");
  if (!WriteFile(e->config_path_, config_yaml)) {
    ADD_FAILURE() << "cannot write " << e->config_path_;
    return nullptr;
  }
  if (auto path = FlagValue(extra_args, "--web.telemetry-path")) e->telemetry_path_ = *path;
  env.emplace(std::string(kMockApiKeyEnv),
              std::string(kDefaultMockApiKey));  // no-op when already set

  std::vector<std::string> args = {"--config.file=" + e->config_path_, "--web.listen-address=127.0.0.1:0"};
  for (auto& a : extra_args) args.push_back(std::move(a));
  e->process_ = Process::Start(BinaryPath("dashscope_exporter"), std::move(args), std::move(env));
  if (e->process_ == nullptr) return nullptr;

  std::optional<int> port;
  WaitUntil(
      [&] {
        port = StartedPort(e->process_->Stderr());
        return port.has_value() || !e->process_->Running();
      },
      std::chrono::milliseconds(10000), std::chrono::milliseconds(5));
  if (!port) {
    const std::optional<int> code = e->process_->WaitExit(std::chrono::milliseconds(0));
    ADD_FAILURE() << "dashscope_exporter did not log its start ("
                  << (code ? "exited with " + std::to_string(*code) : std::string("still running"))
                  << "): " << e->process_->Describe() << "\nstderr:\n"
                  << e->process_->Stderr();
    return nullptr;
  }
  e->port_ = *port;
  return e;
}

Exporter::~Exporter() { process_.reset(); }

HttpResult Exporter::Get(const std::string& path, httplib::Headers headers) {
  return HttpGet(port_, path, std::move(headers));
}

std::string Exporter::Metrics() {
  HttpResult r = Get(telemetry_path_);
  return r.status == 200 ? r.body : std::string();
}

bool Exporter::WaitForMetric(const std::string& line, std::chrono::milliseconds timeout) {
  return WaitForMetrics([&](const std::string& text) { return HasMetricLine(text, line); }, timeout);
}

bool Exporter::WaitForMetrics(const std::function<bool(const std::string&)>& predicate,
                              std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return predicate(Metrics()); }, timeout);
}

void Exporter::RewriteConfig(const std::string& yaml) {
  const std::string aside = config_path_ + ".new";
  ASSERT_TRUE(WriteFile(aside, yaml)) << aside;
  ASSERT_EQ(std::rename(aside.c_str(), config_path_.c_str()), 0) << std::strerror(errno);
}

// --- Exposition text ---------------------------------------------------------

bool HasMetricLine(const std::string& exposition, const std::string& line) {
  // A pattern with a value after its series must match the whole line, so
  // that "x 1" does not match "x 10"; a bare series (prefix) may match more.
  const size_t end = SeriesEnd(line);
  const bool whole = end != std::string::npos && end < line.size();
  std::istringstream lines(exposition);
  std::string l;
  while (std::getline(lines, l)) {
    if (whole ? l == line : l.rfind(line, 0) == 0) return true;
  }
  return false;
}

std::map<std::string, double> ParseSamples(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t end = SeriesEnd(line);
    if (end == std::string::npos || end >= line.size()) continue;
    size_t v = end;
    while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
    const size_t v_end = line.find_first_of(" \t", v);
    const std::string value = line.substr(v, v_end == std::string::npos ? std::string::npos : v_end - v);
    char* parse_end = nullptr;
    const double d = std::strtod(value.c_str(), &parse_end);
    if (value.empty() || parse_end != value.c_str() + value.size()) continue;
    out[line.substr(0, end)] = d;
  }
  return out;
}

std::optional<double> Sample(const std::string& exposition, const std::string& series) {
  const auto samples = ParseSamples(exposition);
  auto it = samples.find(series);
  if (it == samples.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> LinesWhere(const std::string& text,
                                    const std::function<bool(const std::string&)>& keep) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (keep(line)) out.push_back(line);
  }
  return out;
}

std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  return LinesWhere(text, [&](const std::string& line) { return line.rfind(prefix, 0) == 0; });
}

std::vector<std::string> LinesContaining(const std::string& text, const std::string& needle) {
  return LinesWhere(text, [&](const std::string& line) { return line.find(needle) != std::string::npos; });
}

int UnusedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// --- Files -------------------------------------------------------------------

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out.flush());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dse::testing
