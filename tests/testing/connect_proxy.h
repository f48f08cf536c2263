// A small HTTP proxy for tests, on 127.0.0.1: it records the head of every
// request it receives and tunnels CONNECT requests to loopback ports only
// (anything else gets 403, and plain forward-proxy requests get 502), so
// tests can assert what a proxy would see.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dse::testing {

class ConnectProxy {
 public:
  // nullptr (and an ADD_FAILURE) when it cannot listen.
  static std::unique_ptr<ConnectProxy> Start();
  ~ConnectProxy();  // closes every connection and joins every thread
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The request heads received so far (up to and including the blank line),
  // in arrival order.
  std::vector<std::string> Heads() const;
  // Connections accepted so far.
  int connections() const;

 private:
  ConnectProxy() = default;
  void Accept();
  void Serve(int client);

  int listener_ = -1;
  int port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::vector<std::string> heads_;    // guarded by mu_
  std::vector<int> sockets_;          // guarded by mu_; shut down on stop
  std::vector<std::thread> workers_;  // guarded by mu_
  int connections_ = 0;               // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
};

}  // namespace dse::testing
