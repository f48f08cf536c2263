#include "metrics/deployment_families.h"

#include <optional>

#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

constexpr std::array<FamilyDescription, kDeploymentFamilyCount> kFamilies = {{
    {"dashscope_deployment_capacity",
     "Compute units the deployment is set to use (capacity), from the last background poll.", "gauge"},
    {"dashscope_deployment_ready_capacity",
     "Compute units ready to serve (ready_capacity), from the last background poll.", "gauge"},
    {"dashscope_deployment_base_capacity",
     "Minimum compute units the base model needs (base_capacity), from the last background poll.", "gauge"},
    {"dashscope_deployment_status",
     "1 for the deployment's current status, 0 for the others, from the last background poll.", "gauge"},
    {"dashscope_deployment_info",
     "Descriptive labels of the deployment (always 1), from the last background poll.", "gauge"},
    {"dashscope_deployment_created_timestamp_seconds",
     "Creation time of the deployment (gmt_create) as Unix time, from the last background poll.", "gauge"},
    {"dashscope_deployment_modified_timestamp_seconds",
     "Last modification time of the deployment (gmt_modified) as Unix time, from the last "
     "background poll.",
     "gauge"},
    {"dashscope_deployment_limit_requests_per_minute",
     "Requests-per-minute limit of the deployment (rpm_limit) when set, from the last background "
     "poll.",
     "gauge"},
    {"dashscope_deployment_limit_tokens_per_minute",
     "Tokens-per-minute limit of the deployment (tpm_limit) when set, from the last background "
     "poll.",
     "gauge"},
    {"dashscope_deployment_unexpected_status_info",
     "The status as the API sent it (raw_status) while it is outside the known set and counted as "
     "UNKNOWN (always 1), from the last background poll.",
     "gauge"},
    {"dashscope_deployment_failure_info",
     "Why the deployment failed (fail_reason) while its status is FAILED (always 1), from the last "
     "background poll.",
     "gauge"},
    {"dashscope_deployment_status_changed_timestamp_seconds",
     "Unix time the deployment entered its current status: when this process saw it change, else "
     "its gmt_modified (not after the poll), else when first seen; from the last background poll.",
     "gauge"},
    {"dashscope_deployment_status_changes_total",
     "Status changes of the deployment this process has seen, as of the last background poll.", "counter"},
    {"dashscope_deployment_ptu_input_tpm",
     "Provisioned input tokens per minute of a PTU deployment (ptu_capacity.input_tpm), from the "
     "last background poll.",
     "gauge"},
    {"dashscope_deployment_ptu_output_tpm",
     "Provisioned output tokens per minute of a PTU deployment (ptu_capacity.output_tpm), from the "
     "last background poll.",
     "gauge"},
    {"dashscope_deployment_prepaid_expiry_timestamp_seconds",
     "Expiry of the prepaid deployment (pre_paid_gmt_expired) as Unix time, from the last "
     "background poll.",
     "gauge"},
}};

// Writes `name{account="..",workspace_id="..",deployed_model=".."` (no closing
// brace) so that callers can add labels.
void AppendSeriesStart(std::string& out, std::string_view name, std::string_view account,
                       const dashscope::Deployment& d) {
  out += name;
  out += "{account=\"";
  AppendLabelValue(out, account);
  out += "\",workspace_id=\"";
  AppendLabelValue(out, d.workspace_id);
  out += "\",deployed_model=\"";
  AppendLabelValue(out, d.deployed_model);
  out.push_back('"');
}

template <typename T>
void AppendSample(std::string& out, std::string_view name, std::string_view account,
                  const dashscope::Deployment& d, const std::optional<T>& value) {
  if (!value) return;
  AppendSeriesStart(out, name, account, d);
  out += "} ";
  AppendValue(out, *value);
  out.push_back('\n');
}

// `name{the three,label="value"} 1`, the value cut to max_bytes.
void AppendInfoSample(std::string& out, std::string_view name, std::string_view account,
                      const dashscope::Deployment& d, std::string_view label, std::string_view value,
                      size_t max_bytes) {
  AppendSeriesStart(out, name, account, d);
  out.push_back(',');
  out += label;
  out += "=\"";
  AppendLabelValue(out, value, max_bytes);
  out += "\"} 1\n";
}

void AppendInfoLabel(std::string& out, std::string_view label, const std::optional<std::string>& value) {
  out.push_back(',');
  out += label;
  out += "=\"";
  if (value) AppendLabelValue(out, *value);
  out.push_back('"');
}

}  // namespace

const FamilyDescription& Describe(DeploymentFamily family) { return kFamilies[static_cast<size_t>(family)]; }

std::string_view NormalizedStatus(const dashscope::Deployment& d) {
  if (d.status) {
    for (std::string_view s : kKnownStatuses) {
      if (*d.status == s) return s;
    }
  }
  return "UNKNOWN";
}

DeploymentFamilyText RenderDeploymentFamilies(std::string_view account,
                                              const std::vector<dashscope::Deployment>& deployments,
                                              std::span<const StatusSince> status_since) {
  DeploymentFamilyText text;
  auto& capacity = text[static_cast<size_t>(DeploymentFamily::kCapacity)];
  auto& ready = text[static_cast<size_t>(DeploymentFamily::kReadyCapacity)];
  auto& base = text[static_cast<size_t>(DeploymentFamily::kBaseCapacity)];
  auto& status = text[static_cast<size_t>(DeploymentFamily::kStatus)];
  auto& info = text[static_cast<size_t>(DeploymentFamily::kInfo)];
  auto& created = text[static_cast<size_t>(DeploymentFamily::kCreated)];
  auto& modified = text[static_cast<size_t>(DeploymentFamily::kModified)];
  auto& rpm = text[static_cast<size_t>(DeploymentFamily::kRpmLimit)];
  auto& tpm = text[static_cast<size_t>(DeploymentFamily::kTpmLimit)];
  auto& unexpected = text[static_cast<size_t>(DeploymentFamily::kUnexpectedStatus)];
  auto& failure = text[static_cast<size_t>(DeploymentFamily::kFailure)];
  auto& changed = text[static_cast<size_t>(DeploymentFamily::kStatusChanged)];
  auto& changes = text[static_cast<size_t>(DeploymentFamily::kStatusChanges)];
  auto& ptu_in = text[static_cast<size_t>(DeploymentFamily::kPtuInputTpm)];
  auto& ptu_out = text[static_cast<size_t>(DeploymentFamily::kPtuOutputTpm)];
  auto& expiry = text[static_cast<size_t>(DeploymentFamily::kPrepaidExpiry)];
  const bool with_since = status_since.size() == deployments.size();

  // One series prefix is about 120 bytes; reserving avoids regrowth while
  // appending thousands of lines.
  const size_t n = deployments.size();
  for (auto* s : {&capacity, &ready, &base, &created, &modified}) s->reserve(n * 140);
  if (with_since) {
    changed.reserve(n * 160);
    changes.reserve(n * 150);
  }
  status.reserve(n * 7 * 160);
  info.reserve(n * 320);

  for (size_t i = 0; i < n; ++i) {
    const auto& d = deployments[i];
    AppendSample(capacity, Describe(DeploymentFamily::kCapacity).name, account, d, d.capacity);
    AppendSample(ready, Describe(DeploymentFamily::kReadyCapacity).name, account, d, d.ready_capacity);
    AppendSample(base, Describe(DeploymentFamily::kBaseCapacity).name, account, d, d.base_capacity);

    const std::string_view current = NormalizedStatus(d);
    for (std::string_view s : kKnownStatuses) {
      AppendSeriesStart(status, Describe(DeploymentFamily::kStatus).name, account, d);
      status += ",status=\"";
      status += s;
      status += s == current ? "\"} 1\n" : "\"} 0\n";
    }

    AppendSeriesStart(info, Describe(DeploymentFamily::kInfo).name, account, d);
    AppendInfoLabel(info, "name", d.name);
    AppendInfoLabel(info, "model_name", d.model_name);
    AppendInfoLabel(info, "base_model", d.base_model);
    AppendInfoLabel(info, "plan", d.plan);
    AppendInfoLabel(info, "charge_type", d.charge_type);
    AppendInfoLabel(info, "model_unit_spec", d.model_unit_spec);
    AppendInfoLabel(info, "ptu_service_tier", d.ptu_service_tier);
    AppendInfoLabel(info, "overflow_strategy", d.overflow_strategy);
    info += "} 1\n";

    if (d.status && current == "UNKNOWN" && *d.status != "UNKNOWN") {
      AppendInfoSample(unexpected, Describe(DeploymentFamily::kUnexpectedStatus).name, account, d,
                       "raw_status", *d.status, kMaxRawStatusBytes);
    }
    if (current == "FAILED" && d.fail_reason && !d.fail_reason->empty()) {
      AppendInfoSample(failure, Describe(DeploymentFamily::kFailure).name, account, d, "reason",
                       *d.fail_reason, kMaxFailReasonBytes);
    }
    if (with_since) {
      AppendSample(changed, Describe(DeploymentFamily::kStatusChanged).name, account, d,
                   std::optional<int64_t>(status_since[i].changed_unix));
      AppendSample(changes, Describe(DeploymentFamily::kStatusChanges).name, account, d,
                   std::optional<int64_t>(static_cast<int64_t>(status_since[i].changes)));
    }
    AppendSample(ptu_in, Describe(DeploymentFamily::kPtuInputTpm).name, account, d, d.ptu_input_tpm);
    AppendSample(ptu_out, Describe(DeploymentFamily::kPtuOutputTpm).name, account, d, d.ptu_output_tpm);
    AppendSample(expiry, Describe(DeploymentFamily::kPrepaidExpiry).name, account, d, d.pre_paid_gmt_expired);

    AppendSample(created, Describe(DeploymentFamily::kCreated).name, account, d, d.gmt_create);
    AppendSample(modified, Describe(DeploymentFamily::kModified).name, account, d, d.gmt_modified);
    AppendSample(rpm, Describe(DeploymentFamily::kRpmLimit).name, account, d, d.rpm_limit);
    AppendSample(tpm, Describe(DeploymentFamily::kTpmLimit).name, account, d, d.tpm_limit);
  }
  return text;
}

}  // namespace dse::metrics
