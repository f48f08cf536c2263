// An oracle for well-formed UTF-8, for the tests and fuzzers that check what
// the code under test emits.
#pragma once

#include <cstddef>
#include <string_view>

namespace dse::testing {

// Well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no
// truncated sequence. It decodes each code point and checks its range: on
// purpose not the byte-range table of src/common/utf8, which the code under
// test uses, so that a mistake there cannot hide from the fuzzers.
inline bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    unsigned min = 0;
    if (lead < 0x80) {
      extra = 0;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    unsigned cp = extra == 0 ? lead : lead & (0x3Fu >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace dse::testing
