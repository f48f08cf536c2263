// What the fuzzers share: an invariant check that libFuzzer reports as a
// crash, and a strict UTF-8 check written independently of the parser's.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace dse::fuzz {

// abort() rather than assert(): the fuzz build is RelWithDebInfo (NDEBUG),
// and libFuzzer saves the input that aborted as a crash.
#define DSE_FUZZ_CHECK(cond, what)                                   \
  do {                                                               \
    if (!(cond)) ::dse::fuzz::Fail(__FILE__, __LINE__, #cond, what); \
  } while (false)

[[noreturn]] inline void Fail(const char* file, int line, const char* cond, std::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %.*s\n", file, line, cond,
               static_cast<int>(what.size() > 2000 ? 2000 : what.size()), what.data());
  std::abort();
}

// Well-formed UTF-8 (Unicode table 3-7): no overlongs, no surrogates, nothing
// above U+10FFFF, no truncated sequence.
inline bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

inline std::string_view AsText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace dse::fuzz
