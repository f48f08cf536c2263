#include "common/utf8.h"

namespace dse {

std::size_t Utf8SequenceAt(std::string_view s, std::size_t i, std::size_t* bad) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;  // allowed range of the second byte; narrower
  unsigned char hi = 0xBF;  // after some leads to refuse overlongs/surrogates
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
    if (bad != nullptr) *bad = 1;
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const bool ok = i + k < s.size() && [&] {
      const auto b = static_cast<unsigned char>(s[i + k]);
      return k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }();
    if (!ok) {
      if (bad != nullptr) *bad = k;
      return 0;
    }
  }
  return len;
}

std::optional<std::size_t> Utf8Length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const std::size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return std::nullopt;
    i += n;
  }
  return count;
}

bool AssignValidUtf8(std::string_view in, std::string& out) {
  std::size_t i = 0;
  std::size_t bad = 0;
  // Fast path: most text is valid and is copied once.
  while (i < in.size()) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = Utf8SequenceAt(in, i, &bad);
    if (n == 0) break;
    i += n;
  }
  if (i == in.size()) {
    out.assign(in);
    return false;
  }
  out.assign(in.substr(0, i));
  while (i < in.size()) {
    const std::size_t n = Utf8SequenceAt(in, i, &bad);
    if (n == 0) {
      out += kReplacementChar;
      i += bad;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
  }
  return true;
}

std::string_view CutAtUtf8Boundary(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  // s[end] is the first byte left out; while it is a continuation byte
  // (10xxxxxx) the kept prefix would end inside its sequence.
  for (int k = 0; k < 3 && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80; ++k) --end;
  return s.substr(0, end);
}

}  // namespace dse
