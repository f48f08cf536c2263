// Whole-text decimal integers, as flags, form fields and query parameters
// carry them: one rule (no sign for unsigned types, no spaces, no
// trailing text, no overflow) wherever such a number is read.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace dse {

template <typename Int>
std::optional<Int> ParseDecimal(std::string_view text) {
  Int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace dse
