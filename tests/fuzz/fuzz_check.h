// What the fuzzers share: an invariant check that libFuzzer reports as a
// crash, and a strict UTF-8 check written independently of the parser's.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "testing/utf8_oracle.h"

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

using dse::testing::IsValidUtf8;

inline std::string_view AsText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace dse::fuzz
