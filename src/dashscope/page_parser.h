// JSON -> model. The only user of RapidJSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dashscope/deployment.h"

namespace dse::dashscope {

// Parses a successful list response. Accepts the `output` and the `data`
// envelope. Fails (an `invalid_response`) when the body is not JSON, is
// nested deeper than 64 levels, or lacks an envelope with a `deployments`
// array. Bad records and wrongly typed fields do not fail the page: they are
// skipped or left out and described in DeploymentPage::problems.
//
// Problems name the record by its `deployed_model`, or by its index in the
// page when it has none:
//   deployment "emo-1": field capacity: expected a number, got string
//   deployment "emo-1": field gmt_create: invalid time "yesterday"
//   deployment "emo-1": field name: invalid UTF-8 replaced
//   deployment #3: missing deployed_model
//   deployment #3: missing deployed_model: expected a string, got number
//   deployment #4: expected an object, got string
//   field output.total: expected an integer, got float
// Errors start with "invalid_response: ", e.g.
//   invalid_response: JSON parse error at offset 123: Missing a comma or '}' after an object member.
//   invalid_response: JSON nested deeper than 64 levels
//   invalid_response: no "deployments" array in "output"
Result<DeploymentPage> ParseDeploymentPage(std::string_view body);

// At most this many problems are listed per page; the rest are only counted
// in DeploymentPage::problems_not_listed.
inline constexpr std::size_t kMaxListedProblems = 100;

// Deeper JSON is refused: nothing the API sends comes close, and the cap
// bounds the parser's memory on hostile input.
inline constexpr int kMaxJsonDepth = 64;

// Parses an error body; returns an error when the body is not a JSON object
// (same messages as above). Absent or non-string members are left empty.
Result<ApiError> ParseApiError(std::string_view body);

// "2025-06-17T11:00:38" (or with a space for the 'T'; optionally with
// fractional seconds, which are dropped, and a trailing 'Z' or +HH:MM / -HH:MM
// offset) -> Unix seconds; no zone means UTC. Out-of-range dates and times
// (month 13, Feb 30, 24:00:00, second 60) give std::nullopt.
std::optional<int64_t> ParseApiTime(std::string_view text);

// Reads the zoneless times of `deployments` (see Deployment::zoneless) as
// local times of a zone `offset_seconds` east of UTC (+08:00 is 28800).
void ApplyApiTimeZone(std::vector<Deployment>& deployments, int offset_seconds);

}  // namespace dse::dashscope
