// Dropping accepted connections that cpp-httplib 0.11 does not expose.
//
// httplib keeps accepted sockets to itself: a handler cannot close its
// connection without answering (the `close` fault), and Server::stop() leaves
// idle keep-alive connections in their wait for up to the keep-alive timeout
// (5 s), holding the stop up. Both are solved by finding the sockets among the
// process's descriptors and shutting them down (never closing them: httplib
// still owns and closes the descriptor, so no number is reused under it).
#pragma once

#include <optional>
#include <string>

namespace dse::mock {

struct Peer {
  std::string address;  // numeric, as httplib reports remote_addr
  int port = 0;
};

// shutdown(SHUT_RDWR) on every connected TCP socket of this process whose
// local port is `local_port` and, when `peer` is given, whose remote end is
// `peer`. Returns how many were shut down. Linux only (/proc/self/fd).
int ShutdownConnections(int local_port, const std::optional<Peer>& peer);

// The descriptor of this process's connected TCP socket with local port
// `local_port` and remote end `peer`, or -1. The caller may write to it and
// shut it down, never close it (httplib owns it).
int FindConnection(int local_port, const Peer& peer);

}  // namespace dse::mock
