// The body of a failed API call: {"code": ..., "message": ..., "request_id": ...}.
#pragma once

#include <string_view>

#include "common/result.h"
#include "dashscope/deployment.h"

namespace dse::dashscope {

// Parses an error body; returns an error when the body is not a JSON object
// (the page parser's "invalid_response: ..." messages). Absent or non-string
// members are left empty.
Result<ApiError> ParseApiError(std::string_view body);

}  // namespace dse::dashscope
