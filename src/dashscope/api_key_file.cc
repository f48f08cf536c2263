#include "dashscope/api_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace dse::dashscope {
namespace {

// As the configuration loader: a key file holds one short line.
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// nullopt with `why` set on failure; never the content.
std::optional<std::string> ReadBounded(const std::string& path, std::string& why) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::string content;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      why = std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxKeyFileBytes) {
      why = "larger than " + std::to_string(kMaxKeyFileBytes) + " bytes";
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return content;
}

}  // namespace

std::optional<std::string> KeyFromFileContent(std::string content) {
  while (!content.empty() && (content.back() == ' ' || content.back() == '\t' || content.back() == '\n' ||
                              content.back() == '\r' || content.back() == '\v' || content.back() == '\f')) {
    content.pop_back();
  }
  if (content.empty()) return std::nullopt;
  for (char c : content) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return std::nullopt;
  }
  return content;
}

ApiKeyFile::ApiKeyFile(std::string account, std::string path, std::string initial_key)
    : account_(std::move(account)), path_(std::move(path)), key_(std::move(initial_key)), seen_(Stat()) {}

std::optional<ApiKeyFile::Identity> ApiKeyFile::Stat() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

std::optional<std::string> ApiKeyFile::Refresh() {
  const std::optional<Identity> now = Stat();
  if (now && seen_ && *now == *seen_) return std::nullopt;

  std::string why;
  std::optional<std::string> content = now ? ReadBounded(path_, why) : std::nullopt;
  if (!now) why = std::strerror(errno);
  std::optional<std::string> key;
  if (content) {
    key = KeyFromFileContent(std::move(*content));
    if (!key) why = "the file holds no usable key (empty, or whitespace, control or non-ASCII characters)";
  }
  if (!key) {
    // A missing file is remembered as "no identity", so it is retried each
    // poll but logged once.
    seen_ = now;
    if (!failure_logged_) {
      log::Warn("cannot re-read api_key_file; keeping the key already loaded",
                {{"account", account_}, {"file", path_}, {"err", why}});
      failure_logged_ = true;
    }
    return std::nullopt;
  }
  seen_ = now;
  failure_logged_ = false;
  if (*key == key_) return std::nullopt;
  // Registered before anything could log it.
  log::AddSecret(*key);
  key_ = std::move(*key);
  log::Info("api_key_file changed; using the new key", {{"account", account_}, {"file", path_}});
  return key_;
}

}  // namespace dse::dashscope
