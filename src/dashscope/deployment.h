// Our model of one DashScope deployment, independent of the JSON it came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dse::dashscope {

struct Deployment {
  std::string deployed_model;  // unique id; never empty in a parsed record
  std::string workspace_id;
  std::optional<std::string> name;
  std::optional<std::string> model_name;
  std::optional<std::string> base_model;
  std::optional<std::string> status;  // raw; open set
  std::optional<std::string> plan;
  std::optional<std::string> charge_type;
  std::optional<double> capacity;
  std::optional<double> base_capacity;
  std::optional<double> ready_capacity;
  std::optional<double> rpm_limit;
  std::optional<double> tpm_limit;
  std::optional<int64_t> gmt_create;    // Unix seconds (the API's time read as UTC)
  std::optional<int64_t> gmt_modified;  // Unix seconds
  // Plan-specific: PTU (provisioned throughput) and prepaid deployments.
  std::optional<double> ptu_input_tpm;           // ptu_capacity.input_tpm or input_tpm_quota
  std::optional<double> ptu_output_tpm;          // ptu_capacity.output_tpm or output_tpm_quota
  std::optional<int64_t> pre_paid_gmt_expired;   // Unix seconds
  std::optional<std::string> ptu_service_tier;   // ptu_fast, ptu_default
  std::optional<std::string> overflow_strategy;  // enable, disable
  std::optional<std::string> model_unit_spec;    // plan mu
  std::optional<std::string> fail_reason;
  // Which times above came without a zone (as the API sends them), so that
  // an account's api_time_zone applies to those only.
  struct ZonelessTimes {
    bool gmt_create = false;
    bool gmt_modified = false;
    bool pre_paid_gmt_expired = false;
    bool operator==(const ZonelessTimes&) const = default;
  } zoneless;

  bool operator==(const Deployment&) const = default;
};

// A record dropped or a field left out. The kind is the `problem` label of
// dashscope_record_problems_total; the text names the record and field
// ("deployment #3: missing deployed_model",
// "deployment \"emo-1\": field capacity: expected a number, got string")
// for the log. Rewording a text never changes a label.
struct Problem {
  enum class Kind : std::uint8_t { kMissingDeployedModel, kInvalidUtf8, kWrongType, kMalformedRecord };
  Kind kind = Kind::kMalformedRecord;
  std::string text;

  std::string_view label() const {
    switch (kind) {
      case Kind::kMissingDeployedModel: return "missing_deployed_model";
      case Kind::kInvalidUtf8: return "invalid_utf8";
      case Kind::kWrongType: return "wrong_type";
      case Kind::kMalformedRecord: break;
    }
    return "malformed_record";
  }
  bool operator==(const Problem&) const = default;
};

// One page of the list call.
struct DeploymentPage {
  std::optional<int64_t> page_no;
  std::optional<int64_t> page_size;
  std::optional<int64_t> total;
  std::vector<Deployment> deployments;
  // Records dropped or fields left out, in the order met.
  std::vector<Problem> problems;
  // Problems found beyond the first kMaxListedProblems, counted but not
  // listed, so a huge or hostile body cannot grow this page without bound.
  std::size_t problems_not_listed = 0;
};

// An error body ({"code": ..., "message": ..., "request_id": ...}).
struct ApiError {
  std::string code;  // may be empty when the body had none
  std::string message;
  std::string request_id;
};

}  // namespace dse::dashscope
