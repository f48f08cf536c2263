#include "mock/connections.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <vector>

namespace dse::mock {
namespace {

int PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return -1;
}

std::string AddressOf(const sockaddr_storage& addr, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return {};
  }
  return host;
}

std::vector<int> OpenDescriptors() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = dirfd(dir);
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && fd != own) fds.push_back(static_cast<int>(fd));
  }
  closedir(dir);
  return fds;
}

}  // namespace

namespace {

bool Matches(int fd, int local_port, const std::optional<Peer>& peer) {
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return false;  // not a socket
  if (PortOf(local) != local_port) return false;
  sockaddr_storage remote{};
  socklen_t remote_len = sizeof remote;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) return false;  // the listener
  return !peer || (PortOf(remote) == peer->port && AddressOf(remote, remote_len) == peer->address);
}

}  // namespace

int FindConnection(int local_port, const Peer& peer) {
  for (int fd : OpenDescriptors()) {
    if (Matches(fd, local_port, peer)) return fd;
  }
  return -1;
}

int ShutdownConnections(int local_port, const std::optional<Peer>& peer) {
  int count = 0;
  for (int fd : OpenDescriptors()) {
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;  // not a socket
    if (PortOf(local) != local_port) continue;
    sockaddr_storage remote{};
    socklen_t remote_len = sizeof remote;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) continue;  // the listener
    if (peer && (PortOf(remote) != peer->port || AddressOf(remote, remote_len) != peer->address)) continue;
    if (shutdown(fd, SHUT_RDWR) == 0) ++count;
  }
  return count;
}

}  // namespace dse::mock
