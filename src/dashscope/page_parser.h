// JSON -> model. The only user of RapidJSON.
#pragma once

#include <string_view>

#include "common/result.h"
#include "dashscope/deployment.h"

namespace dse::dashscope {

// Parses a successful list response. Accepts the `output` and the `data`
// envelope. Fails (an `invalid_response`) when the body is not JSON, is
// nested deeper than 64 levels, or lacks an envelope with a `deployments`
// array. Bad records and wrongly typed fields do not fail the page: they are
// skipped or left out and described in DeploymentPage::problems.
Result<DeploymentPage> ParseDeploymentPage(std::string_view body);

// Parses an error body; returns an error when the body is not a JSON object.
Result<ApiError> ParseApiError(std::string_view body);

// "2025-06-17T11:00:38" (optionally with fractional seconds, a trailing 'Z'
// or a +HH:MM offset) -> Unix seconds; no zone means UTC.
std::optional<int64_t> ParseApiTime(std::string_view text);

}  // namespace dse::dashscope
