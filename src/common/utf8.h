// UTF-8 validation, repair and cutting: the exposition format, JSON log
// lines and the landing page all require well-formed UTF-8, and the API, the
// config and HTTP clients can send anything. One definition of "well-formed"
// (no overlong forms, no surrogates, nothing above U+10FFFF) for the tree.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dse {

// U+FFFD, which stands in for each ill-formed subpart.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

// Length of the well-formed sequence starting at s[i] (1 for ASCII), or 0
// when there is none; then *bad, when given, is the length of the maximal
// ill-formed subpart (>= 1), which Unicode recommends replacing by one U+FFFD
// (as browsers do). Requires i < s.size().
std::size_t Utf8SequenceAt(std::string_view s, std::size_t i, std::size_t* bad = nullptr);

// Number of code points, or nullopt when `s` is not well-formed.
std::optional<std::size_t> Utf8Length(std::string_view s);

// out = in with each maximal ill-formed subpart replaced by U+FFFD; returns
// whether anything was replaced.
bool AssignValidUtf8(std::string_view in, std::string& out);

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a sequence. Steps back at most three bytes (a sequence has at most four),
// so ill-formed input costs no more than well-formed input.
std::string_view CutAtUtf8Boundary(std::string_view s, std::size_t max);

}  // namespace dse
