#include "testing/connect_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dse::testing {
namespace {

constexpr size_t kMaxHead = 64 * 1024;

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool SendAll(int fd, const std::string& text) { return SendAll(fd, text.data(), text.size()); }

int ConnectLoopback(const std::string& host, int port) {
  if (host != "127.0.0.1" && host != "localhost") return -1;  // never leave the machine
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies bytes both ways until either side closes.
void Pump(int a, int b) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[16384];
  while (true) {
    if (::poll(fds, 2, 30000) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || !SendAll(fds[1 - i].fd, buf, static_cast<size_t>(n))) return;
    }
  }
}

}  // namespace

std::unique_ptr<ConnectProxy> ConnectProxy::Start() {
  std::unique_ptr<ConnectProxy> p(new ConnectProxy());
  p->listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(p->listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(p->listener_, 64) != 0 ||
      ::getsockname(p->listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "proxy cannot listen: " << std::strerror(errno);
    return nullptr;
  }
  p->port_ = ntohs(addr.sin_port);
  p->acceptor_ = std::thread([raw = p.get()] { raw->Accept(); });
  return p;
}

ConnectProxy::~ConnectProxy() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listener_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listener_);
}

std::vector<std::string> ConnectProxy::Heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}

int ConnectProxy::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

void ConnectProxy::Accept() {
  while (true) {
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;  // shut down
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(client);
      return;
    }
    ++connections_;
    sockets_.push_back(client);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void ConnectProxy::Serve(int client) {
  std::string head;
  char c = 0;
  while (head.size() < kMaxHead && head.find("\r\n\r\n") == std::string::npos) {
    if (::recv(client, &c, 1, 0) != 1) break;  // byte by byte: nothing past the head is consumed
    head += c;
  }
  {
    std::lock_guard lock(mu_);
    heads_.push_back(head);
  }
  int upstream = -1;
  if (head.rfind("CONNECT ", 0) == 0) {
    const size_t end = head.find(' ', 8);
    const std::string target = head.substr(8, end - 8);
    const size_t colon = target.rfind(':');
    if (colon != std::string::npos) {
      upstream = ConnectLoopback(target.substr(0, colon), std::atoi(target.c_str() + colon + 1));
    }
    if (upstream < 0) {
      SendAll(client, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    } else {
      {
        std::lock_guard lock(mu_);
        if (!stopping_) sockets_.push_back(upstream);
      }
      if (SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n")) Pump(client, upstream);
    }
  } else if (!head.empty()) {
    SendAll(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
  std::lock_guard lock(mu_);
  for (int fd : {client, upstream}) {
    if (fd < 0) continue;
    std::erase(sockets_, fd);
    ::close(fd);
  }
}

}  // namespace dse::testing
