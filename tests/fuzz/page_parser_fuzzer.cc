// Any bytes the API (or something in front of it) could send, through both
// body parsers. Beyond "no crash", checks what page_parser.h promises.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dashscope/api_time.h"
#include "dashscope/error_body.h"
#include "dashscope/page_parser.h"
#include "fuzz_check.h"

namespace {

using dse::fuzz::IsValidUtf8;

constexpr std::string_view kErrorPrefix = "invalid_response: ";

// Problems and errors end up in log lines and in /status: one line each,
// valid UTF-8.
void CheckMessage(std::string_view message) {
  DSE_FUZZ_CHECK(!message.empty(), "empty message");
  DSE_FUZZ_CHECK(message.find('\n') == std::string_view::npos, message);
  DSE_FUZZ_CHECK(message.find('\r') == std::string_view::npos, message);
  DSE_FUZZ_CHECK(IsValidUtf8(message), message);
}

void CheckOptional(const std::optional<std::string>& s) {
  if (s) DSE_FUZZ_CHECK(IsValidUtf8(*s), *s);
}

void CheckPage(const dse::dashscope::DeploymentPage& page) {
  DSE_FUZZ_CHECK(page.problems.size() <= dse::dashscope::kMaxListedProblems,
                 std::to_string(page.problems.size()));
  if (page.problems_not_listed > 0) {
    DSE_FUZZ_CHECK(page.problems.size() == dse::dashscope::kMaxListedProblems,
                   "problems left unlisted while the list had room");
  }
  for (const dse::dashscope::Problem& p : page.problems) {
    CheckMessage(p.text);
    DSE_FUZZ_CHECK(p.text.starts_with("deployment ") || p.text.starts_with("field "), p.text);
  }
  for (const auto& d : page.deployments) {
    DSE_FUZZ_CHECK(!d.deployed_model.empty(), "a parsed record without deployed_model");
    DSE_FUZZ_CHECK(IsValidUtf8(d.deployed_model), d.deployed_model);
    DSE_FUZZ_CHECK(IsValidUtf8(d.workspace_id), d.workspace_id);
    CheckOptional(d.name);
    CheckOptional(d.model_name);
    CheckOptional(d.base_model);
    CheckOptional(d.status);
    CheckOptional(d.plan);
    CheckOptional(d.charge_type);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = dse::fuzz::AsText(data, size);

  auto page = dse::dashscope::ParseDeploymentPage(body);
  if (page.ok()) {
    CheckPage(*page);
  } else {
    CheckMessage(page.error());
    DSE_FUZZ_CHECK(page.error().starts_with(kErrorPrefix), page.error());
  }

  auto api_error = dse::dashscope::ParseApiError(body);
  if (!api_error.ok()) {
    CheckMessage(api_error.error());
    DSE_FUZZ_CHECK(api_error.error().starts_with(kErrorPrefix), api_error.error());
  }

  // Times come from inside JSON strings; short inputs are enough to reach
  // every branch of the time parser.
  if (size <= 64) {
    if (const auto t = dse::dashscope::ParseApiTime(body)) {
      // Years 0000..9999 with an offset of at most a day either side.
      DSE_FUZZ_CHECK(*t >= -62167219200 - 86400 && *t <= 253402300799 + 86400, body);
    }
  }
  return 0;
}
