// The API's times ("2025-06-17T11:00:38", maybe with a zone) as Unix seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dashscope/deployment.h"

namespace dse::dashscope {

// "2025-06-17T11:00:38" (or with a space for the 'T'; optionally with
// fractional seconds, which are dropped, and a trailing 'Z' or +HH:MM / -HH:MM
// offset) -> Unix seconds; no zone means UTC. Out-of-range dates and times
// (month 13, Feb 30, 24:00:00, second 60) give std::nullopt.
std::optional<int64_t> ParseApiTime(std::string_view text);

// Reads the zoneless times of `deployments` (see Deployment::zoneless) as
// local times of a zone `offset_seconds` east of UTC (+08:00 is 28800).
void ApplyApiTimeZone(std::vector<Deployment>& deployments, int offset_seconds);

namespace detail {
// ParseApiTime, also telling whether the text carried a zone.
std::optional<int64_t> ParseApiTimeZoned(std::string_view text, bool* had_zone);
}  // namespace detail

}  // namespace dse::dashscope
