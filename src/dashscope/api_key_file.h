// The API key of an account whose key comes from api_key_file, re-read when
// the file changes, so that a rotated Kubernetes Secret (an atomic symlink
// swap) takes effect without SIGHUP.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

namespace dse::dashscope {

// Not thread-safe: the poller thread owns it.
class ApiKeyFile {
 public:
  // `initial_key` is what the configuration loader read from `path`.
  ApiKeyFile(std::string account, std::string path, std::string initial_key);

  // Checks the file (stat: inode, size, mtime) and, when it has changed,
  // reads it again. Returns the new key when it differs from the current
  // one. A failed read keeps the current key and is logged once until the
  // file reads well again. Neither key is ever logged.
  std::optional<std::string> Refresh();

  const std::string& key() const { return key_; }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const Identity& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  std::optional<Identity> Stat() const;

  const std::string account_;
  const std::string path_;
  std::string key_;
  std::optional<Identity> seen_;  // of the last read that succeeded (or was tried)
  bool failure_logged_ = false;
};

// The key in a key file's content: trailing whitespace dropped; nullopt when
// empty or when it holds whitespace, control or non-ASCII bytes.
std::optional<std::string> KeyFromFileContent(std::string content);

}  // namespace dse::dashscope
