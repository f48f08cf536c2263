// One raw TCP connection to the loopback address, for tests whose clients do
// what an HTTP library never would: a head sent a byte at a time, a head that
// never ends, a connection that is opened and left idle. Blocking sockets;
// reads end at a deadline, so a server that never answers fails the test
// instead of hanging it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace dse::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; ok() says whether that worked.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends all of `bytes`; false once the peer has closed or reset the
  // connection.
  bool Send(std::string_view bytes);

  // Reads until the peer closes, `timeout` passes, or `enough(received)`.
  // Sets closed() when the peer closed or reset the connection.
  std::string Receive(std::chrono::milliseconds timeout,
                      const std::function<bool(const std::string&)>& enough = nullptr);
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

}  // namespace dse::testing
