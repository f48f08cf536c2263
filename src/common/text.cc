#include "common/text.h"

#include "common/utf8.h"

namespace dse {

void AppendJsonEscaped(std::string& out, std::string_view s) {
  constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
}

std::string Quote(std::string_view raw) {
  const std::string_view shown = CutAtUtf8Boundary(raw, kMaxQuotedBytes);
  std::string valid;
  AssignValidUtf8(shown, valid);
  std::string out;
  out.reserve(valid.size() + 2);
  out += '"';
  AppendJsonEscaped(out, valid);
  out += '"';
  if (shown.size() < raw.size()) out += "... (" + std::to_string(raw.size()) + " bytes)";
  return out;
}

void Redact(std::string& text, std::string_view secret) {
  constexpr std::string_view kMarker = "<redacted>";
  if (secret.empty()) return;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), kMarker);
    at += kMarker.size();
  }
}

}  // namespace dse
