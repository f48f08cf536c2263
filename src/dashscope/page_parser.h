// A list response (JSON) -> DeploymentPage. With error_body and api_time,
// the only user of RapidJSON (through json_reader.h).
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

}  // namespace dse::dashscope
