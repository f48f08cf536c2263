#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

#include "common/utf8.h"

namespace dse::metrics {

void AppendLabelValue(std::string& out, std::string_view value, size_t max_bytes) {
  value = CutAtUtf8Boundary(value, max_bytes);
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(start, i - start));
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    start = i + 1;
  }
  out.append(value.substr(start));
}

void AppendValue(std::string& out, int64_t value);

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Whole numbers (capacities, limits, timestamps) read best in plain
  // digits; shortest-form to_chars would write 100000 as "1e+05".
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    AppendValue(out, static_cast<int64_t>(value));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
}

void AppendValue(std::string& out, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
}

void AppendHeader(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

}  // namespace dse::metrics
