// Escaping shared by log lines and error messages: one rule everywhere, so
// that a hostile string from a file or the API can never break a line.
#pragma once

#include <string>
#include <string_view>

namespace dse {

// Appends `s` with ", \, \n, \r, \t escaped as in JSON and every other
// control character (and DEL) as \u00XX. Valid inside JSON strings and
// logfmt quoted values alike.
void AppendJsonEscaped(std::string& out, std::string_view s);

// Values shown in error messages and log lines are cut here, so that a huge
// string from a body or a file cannot make a huge line.
inline constexpr size_t kMaxQuotedBytes = 128;

// `raw` for a message: in double quotes, JSON-escaped, ill-formed UTF-8
// replaced, and cut at a character boundary after kMaxQuotedBytes. A cut
// value is followed by `... (N bytes)`, N being the full size.
std::string Quote(std::string_view raw);

// Replaces every occurrence of `secret` in `text` with "<redacted>". Scanning
// resumes after each replacement, so a secret that occurs inside the marker
// itself cannot loop. An empty secret changes nothing.
void Redact(std::string& text, std::string_view secret);

}  // namespace dse
