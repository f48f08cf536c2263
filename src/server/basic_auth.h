// HTTP basic authentication against bcrypt hashes, as exporter-toolkit's
// basic_auth_users does.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dse::server {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// Parses an Authorization value "Basic <base64(user:password)>" (scheme case
// insensitive, strict base64). nullopt for anything else.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header);

// Checks credentials. bcrypt is slow on purpose (tens of milliseconds at the
// usual costs), so successful checks are remembered for a short while, keyed
// by SHA-256 of (user, password, hash): a scrape every 15s pays for bcrypt
// only now and then, and a changed hash (reload) never matches an old entry.
// Thread-safe.
class BasicAuthenticator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::seconds kCacheTtl{120};
  static constexpr size_t kCacheCapacity = 64;

  // Fails, naming the user (never the hash), when a hash is not bcrypt.
  static Result<std::unique_ptr<BasicAuthenticator>> Create(std::map<std::string, std::string> users,
                                                            Clock clock = nullptr);

  bool Check(std::string_view user, std::string_view password);
  // True when these credentials passed Check() within kCacheTtl. Never runs
  // bcrypt, so the server's I/O thread may call it; a false means "ask Check".
  bool CheckCached(std::string_view user, std::string_view password);

  // bcrypt computations so far; lets tests see the cache work.
  uint64_t bcrypt_runs() const { return bcrypt_runs_.load(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct CacheEntry {
    Digest key;
    std::chrono::steady_clock::time_point expires;
  };

  BasicAuthenticator(std::map<std::string, std::string> users, std::string dummy_hash, Clock clock);
  static bool CacheKey(std::string_view user, std::string_view password, const std::string& hash,
                       Digest& key);
  bool CacheHit(const Digest& key, std::chrono::steady_clock::time_point now);
  void CacheInsert(const Digest& key, std::chrono::steady_clock::time_point now);
  bool BcryptMatches(std::string_view password, const std::string& hash);

  const std::map<std::string, std::string> users_;
  // Checked for unknown users so that they take as long as known ones.
  const std::string dummy_hash_;
  const Clock clock_;
  std::atomic<uint64_t> bcrypt_runs_{0};
  std::mutex cache_mu_;
  std::vector<CacheEntry> cache_;  // guarded by cache_mu_; at most kCacheCapacity
};

}  // namespace dse::server
