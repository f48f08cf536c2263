#include "dashscope/api_time.h"

#include <array>
#include <cstddef>

namespace dse::dashscope {
namespace {

constexpr bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int DaysInMonth(int64_t y, int m) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil): plain arithmetic, no time zone database or locale.
constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);

}  // namespace

std::optional<int64_t> ParseApiTime(std::string_view text) {
  bool had_zone = false;
  return detail::ParseApiTimeZoned(text, &had_zone);
}

void ApplyApiTimeZone(std::vector<Deployment>& deployments, int offset_seconds) {
  if (offset_seconds == 0) return;
  for (Deployment& d : deployments) {
    if (d.gmt_create && d.zoneless.gmt_create) *d.gmt_create -= offset_seconds;
    if (d.gmt_modified && d.zoneless.gmt_modified) *d.gmt_modified -= offset_seconds;
    if (d.pre_paid_gmt_expired && d.zoneless.pre_paid_gmt_expired) *d.pre_paid_gmt_expired -= offset_seconds;
    d.zoneless = {};  // applied once only
  }
}

namespace detail {

std::optional<int64_t> ParseApiTimeZoned(std::string_view text, bool* had_zone) {
  *had_zone = false;
  std::size_t pos = 0;
  const auto digits = [&](std::size_t count, int& out) {
    if (text.size() - pos < count) return false;
    int v = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const char c = text[pos + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += count;
    out = v;
    return true;
  };
  const auto literal = [&](char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
  };

  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(4, year) || !literal('-') || !digits(2, month) || !literal('-') || !digits(2, day))
    return std::nullopt;
  if (!literal('T') && !literal(' ')) return std::nullopt;
  if (!digits(2, hour) || !literal(':') || !digits(2, minute) || !literal(':') || !digits(2, second)) {
    return std::nullopt;
  }
  if (literal('.')) {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(2, oh) || !literal(':') || !digits(2, om) || oh > 23 || om > 59) return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60);
    *had_zone = true;
  } else if (literal('Z')) {
    *had_zone = true;
  }
  if (pos != text.size()) return std::nullopt;

  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
}

}  // namespace detail

}  // namespace dse::dashscope
