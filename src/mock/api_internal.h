// Internal to dse_mock: the few helpers that MockApi's handlers share across
// api.cc (where they are defined), list_endpoint.cc and admin_endpoints.cc.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dse::mock::detail {

constexpr const char* kJson = "application/json";

// A /mock/ endpoint's error: {"error": message}.
void AdminError(httplib::Response& res, int status, std::string_view message);

// A DashScope error body, as the real API sends it.
void ApiError(httplib::Response& res, int status, std::string_view request_id, std::string code,
              std::string message);

}  // namespace dse::mock::detail
