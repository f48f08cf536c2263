// gzip for tests, with zlib: what the exporter sends must inflate to exactly
// the plain body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dse::testing {

// One gzip member of `text`.
std::string Gzip(std::string_view text);

// Inflates concatenated gzip members in turn (a body served in pieces may be
// several); nullopt unless the input ends exactly at the end of a member
// whose CRC and size check out.
std::optional<std::string> GunzipMembers(std::string_view bytes);

// Inflates exactly one gzip member: anything else (a bad trailer, a second
// member, trailing bytes) fails the test.
std::string Gunzip(std::string_view bytes);

}  // namespace dse::testing
