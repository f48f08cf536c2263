#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace dse {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t ms;
};
// Longest suffix first where one is a prefix of another ("ms" before "m").
constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                           {"w", 7LL * 24 * 3600 * 1000},
                           {"d", 24LL * 3600 * 1000},
                           {"h", 3600LL * 1000},
                           {"ms", 1},
                           {"m", 60LL * 1000},
                           {"s", 1000}};
constexpr int kRank[] = {0, 1, 2, 3, 6, 4, 5};  // order of magnitude, largest first

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  const Error bad{"invalid duration \"" + std::string(text) +
                  "\": want a number and unit such as 500ms, 30s, 5m, 1h (units ms s m h d w y)"};
  if (text == "0") return Duration(0);
  if (text.empty()) return bad;
  int64_t total = 0;
  int last_rank = -1;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return bad;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > std::numeric_limits<int64_t>::max() / 10) return bad;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    std::string_view rest = text.substr(i);
    int matched = -1;
    for (int u = 0; u < 7; ++u) {
      if (rest.starts_with(kUnits[u].suffix)) {
        matched = u;
        break;
      }
    }
    if (matched < 0 || kRank[matched] <= last_rank) return bad;
    last_rank = kRank[matched];
    i += kUnits[matched].suffix.size();
    if (n > (std::numeric_limits<int64_t>::max() - total) / kUnits[matched].ms) return bad;
    total += n * kUnits[matched].ms;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  constexpr Unit kOrder[] = {{"h", 3600LL * 1000}, {"m", 60LL * 1000}, {"s", 1000}, {"ms", 1}};
  for (const auto& u : kOrder) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.suffix;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace dse
