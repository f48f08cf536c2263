#include "server/accept_encoding.h"

#include <optional>

namespace dse::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// RFC 9110 qvalue: 0[.ddd] or 1[.000]. Only "is it above zero" matters to us.
std::optional<bool> QValueAboveZero(std::string_view q) {
  if (q.empty() || q.size() > 5) return std::nullopt;
  if (q[0] != '0' && q[0] != '1') return std::nullopt;
  bool nonzero_fraction = false;
  if (q.size() > 1) {
    if (q[1] != '.') return std::nullopt;
    for (char c : q.substr(2)) {
      if (c < '0' || c > '9') return std::nullopt;
      if (q[0] == '1' && c != '0') return std::nullopt;
      if (c != '0') nonzero_fraction = true;
    }
  }
  return q[0] == '1' || nonzero_fraction;
}

// The element's weight: nullopt when malformed, else whether q > 0.
std::optional<bool> Acceptable(std::string_view params) {
  bool above_zero = true;  // no q parameter means q=1
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;  // unknown flag-like parameter: ignore
    if (!EqualsIgnoreCase(Trim(param.substr(0, eq)), "q")) continue;
    const auto q = QValueAboveZero(Trim(param.substr(eq + 1)));
    if (!q) return std::nullopt;
    above_zero = *q;
  }
  return above_zero;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<bool> gzip;      // from an explicit gzip / x-gzip element
  std::optional<bool> wildcard;  // from "*"
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);

    const size_t semi = element.find(';');
    const std::string_view coding = Trim(element.substr(0, semi));
    const std::string_view params =
        semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    if (coding.empty()) continue;

    const bool is_gzip = EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip");
    const bool is_wildcard = coding == "*";
    if (!is_gzip && !is_wildcard) continue;
    const bool ok = Acceptable(params).value_or(false);
    // Listed twice: any acceptable mention wins.
    std::optional<bool>& slot = is_gzip ? gzip : wildcard;
    slot = slot.value_or(false) || ok;
  }
  if (gzip) return *gzip;
  return wildcard.value_or(false);
}

}  // namespace dse::server
