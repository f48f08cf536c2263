#include "server/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "common/bcrypt_hash.h"

namespace dse::server {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Strict RFC 4648 base64 with padding; nullopt on any deviation.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t block = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      uint32_t v = 0;
      if (c == '=') {
        // Padding only in the last block's last two places.
        if (i + 4 != in.size() || j < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        const size_t pos = kBase64Alphabet.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        v = static_cast<uint32_t>(pos);
      }
      block = (block << 6) | v;
    }
    out.push_back(static_cast<char>((block >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((block >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(block & 0xff));
  }
  return out;
}

// bcrypt reads at most 72 bytes and crypt() stops at NUL: refuse passwords it
// would silently truncate, so "secret" + junk never passes for "secret".
bool UsablePassword(std::string_view password) {
  return password.size() <= 72 && password.find('\0') == std::string_view::npos;
}

void AddLengthPrefixed(EVP_MD_CTX* ctx, std::string_view part) {
  const uint64_t n = part.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  EVP_DigestUpdate(ctx, len, sizeof len);
  EVP_DigestUpdate(ctx, part.data(), part.size());
}

}  // namespace

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header) {
  constexpr std::string_view kScheme = "basic";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view rest = header.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  auto decoded = DecodeBase64(rest);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return std::nullopt;
  }
  BasicCredentials out{decoded->substr(0, colon), decoded->substr(colon + 1)};
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return out;
}

Result<std::unique_ptr<BasicAuthenticator>> BasicAuthenticator::Create(
    std::map<std::string, std::string> users, Clock clock) {
  for (const auto& [user, hash] : users) {
    if (!IsBcryptHash(hash)) {
      return Error{"basic_auth_users: the hash for user \"" + user +
                   "\" is not a bcrypt hash ($2a$, $2b$ or $2y$)"};
    }
  }
  // The dummy costs as much as a real user's check: a bcrypt setting string
  // with the first user's cost (crypt() accepts a bare setting and never
  // reproduces it, so it can match nothing).
  unsigned long cost = 10;
  if (!users.empty()) {
    const std::string& h = users.begin()->second;
    cost = static_cast<unsigned long>((h[4] - '0') * 10 + (h[5] - '0'));
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting) == nullptr) {
    return Error{"basic auth: libcrypt cannot make a bcrypt salt"};
  }
  if (!clock) clock = [] { return std::chrono::steady_clock::now(); };
  return std::unique_ptr<BasicAuthenticator>(
      new BasicAuthenticator(std::move(users), setting, std::move(clock)));
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users, std::string dummy_hash,
                                       Clock clock)
    : users_(std::move(users)), dummy_hash_(std::move(dummy_hash)), clock_(std::move(clock)) {
  cache_.reserve(kCacheCapacity);
}

bool BasicAuthenticator::CacheKey(std::string_view user, std::string_view password, const std::string& hash,
                                  Digest& key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  if (ok) {
    AddLengthPrefixed(ctx, user);
    AddLengthPrefixed(ctx, password);
    AddLengthPrefixed(ctx, hash);
    EVP_DigestFinal_ex(ctx, key.data(), &len);
  }
  EVP_MD_CTX_free(ctx);
  return ok && len == key.size();
}

bool BasicAuthenticator::CheckCached(std::string_view user, std::string_view password) {
  if (!UsablePassword(password)) return false;
  const auto it = users_.find(std::string(user));
  if (it == users_.end()) return false;
  Digest key{};
  return CacheKey(user, password, it->second, key) && CacheHit(key, clock_());
}

bool BasicAuthenticator::Check(std::string_view user, std::string_view password) {
  if (!UsablePassword(password)) return false;
  const auto it = users_.find(std::string(user));
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : dummy_hash_;
  const auto now = clock_();

  Digest key{};
  const bool keyed = known && CacheKey(user, password, hash, key);
  if (keyed && CacheHit(key, now)) return true;
  const bool matches = BcryptMatches(password, hash);
  if (!known || !matches) return false;
  if (keyed) CacheInsert(key, now);
  return true;
}

bool BasicAuthenticator::BcryptMatches(std::string_view password, const std::string& hash) {
  // struct crypt_data is 32 KiB: too big for a worker thread's stack.
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  bcrypt_runs_.fetch_add(1);
  const char* out = crypt_rn(pw.c_str(), hash.c_str(), data.get(), static_cast<int>(sizeof(crypt_data)));
  const bool matches =
      out != nullptr && std::strlen(out) == hash.size() && CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(pw.data(), pw.size());
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return matches;
}

bool BasicAuthenticator::CacheHit(const Digest& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(cache_mu_);
  // Every entry is compared in full, without an early exit, so the time taken
  // says nothing about which entry (if any) matched.
  bool hit = false;
  for (const CacheEntry& e : cache_) {
    const bool same = CRYPTO_memcmp(e.key.data(), key.data(), key.size()) == 0;
    hit |= same && e.expires > now;
  }
  return hit;
}

void BasicAuthenticator::CacheInsert(const Digest& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(cache_mu_);
  std::erase_if(cache_, [&](const CacheEntry& e) { return e.expires <= now || e.key == key; });
  if (cache_.size() >= kCacheCapacity) {
    // Full of live entries: forget the one closest to expiry.
    cache_.erase(std::min_element(cache_.begin(), cache_.end(), [](const CacheEntry& a, const CacheEntry& b) {
      return a.expires < b.expires;
    }));
  }
  cache_.push_back({key, now + kCacheTtl});
}

}  // namespace dse::server
