// The dashscope_mock binary as users and other tests run it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class MockProcess {
 public:
  explicit MockProcess(std::vector<std::string> args) {
    dir_ = fs::temp_directory_path() /
           ("dashscope_mock_test_" + std::to_string(getpid()) + "_" + std::to_string(++count_));
    fs::create_directories(dir_);
    args.insert(args.begin(), std::string(DSE_BINARY_DIR) + "/src/mock/dashscope_mock");
    args.push_back("--port-file=" + PortFile().string());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, (dir_ / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~MockProcess() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path PortFile() const { return dir_ / "port"; }

  // The port once the port file appears.
  std::optional<int> WaitForPort() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(PortFile());
      int port = 0;
      if (in >> port) return port;
      if (Exited(std::chrono::milliseconds(5))) return std::nullopt;
    }
    return std::nullopt;
  }

  // Whether the process ended within `timeout`.
  bool Exited(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      }
      std::this_thread::sleep_for(1ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  void Signal(int sig) { kill(pid_, sig); }
  std::optional<int> exit_code() const { return exit_code_; }
  std::string Stdout() const { return Slurp(dir_ / "stdout"); }
  std::string Stderr() const { return Slurp(dir_ / "stderr"); }

 private:
  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static inline int count_ = 0;
  fs::path dir_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

TEST(DashscopeMockBinary, HelpExitsZero) {
  MockProcess mock({"--help"});
  ASSERT_TRUE(mock.Exited(10s));
  EXPECT_EQ(mock.exit_code(), 0);
  EXPECT_EQ(mock.Stdout().rfind("Usage: dashscope_mock", 0), 0u);
}

TEST(DashscopeMockBinary, BadFlagExitsTwoAndNamesIt) {
  MockProcess mock({"--deployments", "lots"});
  ASSERT_TRUE(mock.Exited(10s));
  EXPECT_EQ(mock.exit_code(), 2);
  EXPECT_EQ(mock.Stderr(),
            "dashscope_mock: --deployments: expected an integer in [0, 100000], got \"lots\"\n");
}

TEST(DashscopeMockBinary, BusyPortExitsOne) {
  MockProcess first({"--listen=127.0.0.1:0", "--tick=0"});
  const std::optional<int> port = first.WaitForPort();
  ASSERT_TRUE(port) << first.Stderr();
  MockProcess second({"--listen=127.0.0.1:" + std::to_string(*port), "--tick=0"});
  ASSERT_TRUE(second.Exited(10s));
  EXPECT_EQ(second.exit_code(), 1);
  EXPECT_NE(second.Stderr().find("level=error msg=\"cannot serve\" err=\"cannot bind 127.0.0.1:" +
                                 std::to_string(*port)),
            std::string::npos)
      << second.Stderr();
  EXPECT_FALSE(fs::exists(second.PortFile()));
}

TEST(DashscopeMockBinary, ServesThenStopsPromptlyOnSignals) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    const std::string key = "sk-very-secret-42";
    MockProcess mock({"--listen", "127.0.0.1:0", "--api-key", key, "--tick=0", "--log.level=debug"});
    const std::optional<int> port = mock.WaitForPort();
    ASSERT_TRUE(port) << mock.Stderr();
    httplib::Client client("127.0.0.1", *port);
    auto ok = client.Get("/api/v1/deployments", {{"Authorization", "Bearer " + key}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(client.Get("/api/v1/deployments")->status, 401);

    // A request held by a long delay must not hold the exit up.
    ASSERT_EQ(client.Post("/mock/faults", httplib::Params{{"kind", "delay"}, {"ms", "60000"}})->status, 200);
    std::thread hung([port = *port, key] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30, 0);
      (void)c.Get("/api/v1/deployments", {{"Authorization", "Bearer " + key}});
    });
    while (client.Get("/mock/state")->body.find("\"delays_in_flight\":1") == std::string::npos) {
      std::this_thread::sleep_for(1ms);
    }
    const auto start = std::chrono::steady_clock::now();
    mock.Signal(sig);
    EXPECT_TRUE(mock.Exited(1s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    hung.join();
    EXPECT_EQ(mock.exit_code(), 0);
    const std::string log = mock.Stderr();
    EXPECT_NE(log.find("msg=\"dashscope_mock listening\" address=127.0.0.1:" + std::to_string(*port)),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("api_key_from=flag"), std::string::npos);
    EXPECT_NE(log.find("msg=stopped"), std::string::npos);
    EXPECT_EQ(log.find(key), std::string::npos) << log;
  }
}

}  // namespace
