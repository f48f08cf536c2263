#include "metrics/deployment_families.h"

#include <optional>

#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

using dashscope::Deployment;

// Writes `name{account="..",workspace_id="..",deployed_model=".."` (no closing
// brace) so that callers can add labels.
void AppendSeriesStart(std::string& out, std::string_view name, const DeploymentRow& row) {
  out += name;
  out += "{account=\"";
  AppendLabelValue(out, row.account);
  out += "\",workspace_id=\"";
  AppendLabelValue(out, row.deployment.workspace_id);
  out += "\",deployed_model=\"";
  AppendLabelValue(out, row.deployment.deployed_model);
  out.push_back('"');
}

template <typename T>
void AppendSample(std::string& out, std::string_view name, const DeploymentRow& row,
                  const std::optional<T>& value) {
  if (!value) return;
  AppendSeriesStart(out, name, row);
  out += "} ";
  AppendValue(out, *value);
  out.push_back('\n');
}

// The family of one numeric field of the deployment.
template <auto Field>
void AppendField(std::string& out, std::string_view name, const DeploymentRow& row) {
  AppendSample(out, name, row, row.deployment.*Field);
}

// The family of one field of the status history.
template <auto Field>
void AppendHistory(std::string& out, std::string_view name, const DeploymentRow& row) {
  AppendSample(out, name, row, std::optional<int64_t>(static_cast<int64_t>(row.since->*Field)));
}

// `name{the three,label="value"} 1`, the value cut to max_bytes.
void AppendInfoSample(std::string& out, std::string_view name, const DeploymentRow& row,
                      std::string_view label, std::string_view value, size_t max_bytes) {
  AppendSeriesStart(out, name, row);
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

void AppendStatus(std::string& out, std::string_view name, const DeploymentRow& row) {
  for (std::string_view s : kKnownStatuses) {
    AppendSeriesStart(out, name, row);
    out += ",status=\"";
    out += s;
    out += s == row.status ? "\"} 1\n" : "\"} 0\n";
  }
}

void AppendInfo(std::string& out, std::string_view name, const DeploymentRow& row) {
  const Deployment& d = row.deployment;
  AppendSeriesStart(out, name, row);
  AppendInfoLabel(out, "name", d.name);
  AppendInfoLabel(out, "model_name", d.model_name);
  AppendInfoLabel(out, "base_model", d.base_model);
  AppendInfoLabel(out, "plan", d.plan);
  AppendInfoLabel(out, "charge_type", d.charge_type);
  AppendInfoLabel(out, "model_unit_spec", d.model_unit_spec);
  AppendInfoLabel(out, "ptu_service_tier", d.ptu_service_tier);
  AppendInfoLabel(out, "overflow_strategy", d.overflow_strategy);
  out += "} 1\n";
}

void AppendUnexpectedStatus(std::string& out, std::string_view name, const DeploymentRow& row) {
  const Deployment& d = row.deployment;
  if (d.status && row.status == "UNKNOWN" && *d.status != "UNKNOWN") {
    AppendInfoSample(out, name, row, "raw_status", *d.status, kMaxRawStatusBytes);
  }
}

void AppendFailure(std::string& out, std::string_view name, const DeploymentRow& row) {
  const Deployment& d = row.deployment;
  if (row.status == "FAILED" && d.fail_reason && !d.fail_reason->empty()) {
    AppendInfoSample(out, name, row, "reason", *d.fail_reason, kMaxFailReasonBytes);
  }
}

// A family's lines for every row, with its per-row append inlined into the
// loop: a call through the table per row and family was ~10% slower at
// 10,000 deployments.
template <void (*Append)(std::string&, std::string_view, const DeploymentRow&)>
void ForEachRow(std::string& out, std::string_view name, std::span<const DeploymentRow> rows) {
  for (const DeploymentRow& row : rows) Append(out, name, row);
}

// One series prefix is about 120 bytes.
constexpr auto kFamilies = std::to_array<DeploymentFamily>({
    {"dashscope_deployment_capacity",
     "Compute units the deployment is set to use (capacity), from the last background poll.", "gauge",
     ForEachRow<AppendField<&Deployment::capacity>>, false, 140},
    {"dashscope_deployment_ready_capacity",
     "Compute units ready to serve (ready_capacity), from the last background poll.", "gauge",
     ForEachRow<AppendField<&Deployment::ready_capacity>>, false, 140},
    {"dashscope_deployment_base_capacity",
     "Minimum compute units the base model needs (base_capacity), from the last background poll.", "gauge",
     ForEachRow<AppendField<&Deployment::base_capacity>>, false, 140},
    {"dashscope_deployment_status",
     "1 for the deployment's current status, 0 for the others, from the last background poll.", "gauge",
     ForEachRow<AppendStatus>, false, 7 * 160},
    {"dashscope_deployment_info",
     "Descriptive labels of the deployment (always 1), from the last background poll.", "gauge",
     ForEachRow<AppendInfo>, false, 320},
    {"dashscope_deployment_created_timestamp_seconds",
     "Creation time of the deployment (gmt_create) as Unix time, from the last background poll.", "gauge",
     ForEachRow<AppendField<&Deployment::gmt_create>>, false, 140},
    {"dashscope_deployment_modified_timestamp_seconds",
     "Last modification time of the deployment (gmt_modified) as Unix time, from the last "
     "background poll.",
     "gauge", ForEachRow<AppendField<&Deployment::gmt_modified>>, false, 140},
    {"dashscope_deployment_limit_requests_per_minute",
     "Requests-per-minute limit of the deployment (rpm_limit) when set, from the last background "
     "poll.",
     "gauge", ForEachRow<AppendField<&Deployment::rpm_limit>>},
    {"dashscope_deployment_limit_tokens_per_minute",
     "Tokens-per-minute limit of the deployment (tpm_limit) when set, from the last background "
     "poll.",
     "gauge", ForEachRow<AppendField<&Deployment::tpm_limit>>},
    {"dashscope_deployment_unexpected_status_info",
     "The status as the API sent it (raw_status) while it is outside the known set and counted as "
     "UNKNOWN (always 1), from the last background poll.",
     "gauge", ForEachRow<AppendUnexpectedStatus>},
    {"dashscope_deployment_failure_info",
     "Why the deployment failed (fail_reason) while its status is FAILED (always 1), from the last "
     "background poll.",
     "gauge", ForEachRow<AppendFailure>},
    {"dashscope_deployment_status_changed_timestamp_seconds",
     "Unix time the deployment entered its current status: when this process saw it change, else "
     "its gmt_modified (not after the poll), else when first seen; from the last background poll.",
     "gauge", ForEachRow<AppendHistory<&StatusSince::changed_unix>>, true, 160},
    {"dashscope_deployment_status_changes_total",
     "Status changes of the deployment this process has seen, as of the last background poll.", "counter",
     ForEachRow<AppendHistory<&StatusSince::changes>>, true, 150},
    {"dashscope_deployment_ptu_input_tpm",
     "Provisioned input tokens per minute of a PTU deployment (ptu_capacity.input_tpm), from the "
     "last background poll.",
     "gauge", ForEachRow<AppendField<&Deployment::ptu_input_tpm>>},
    {"dashscope_deployment_ptu_output_tpm",
     "Provisioned output tokens per minute of a PTU deployment (ptu_capacity.output_tpm), from the "
     "last background poll.",
     "gauge", ForEachRow<AppendField<&Deployment::ptu_output_tpm>>},
    {"dashscope_deployment_prepaid_expiry_timestamp_seconds",
     "Expiry of the prepaid deployment (pre_paid_gmt_expired) as Unix time, from the last "
     "background poll.",
     "gauge", ForEachRow<AppendField<&Deployment::pre_paid_gmt_expired>>},
});

}  // namespace

std::span<const DeploymentFamily> DeploymentFamilies() { return kFamilies; }

std::string_view NormalizedStatus(const Deployment& d) {
  if (d.status) {
    for (std::string_view s : kKnownStatuses) {
      if (*d.status == s) return s;
    }
  }
  return "UNKNOWN";
}

DeploymentFamilyText RenderDeploymentFamilies(std::string_view account,
                                              const std::vector<Deployment>& deployments,
                                              std::span<const StatusSince> status_since) {
  const bool with_history = status_since.size() == deployments.size();
  std::vector<DeploymentRow> rows;
  rows.reserve(deployments.size());
  for (size_t i = 0; i < deployments.size(); ++i) {
    rows.push_back({account, deployments[i], NormalizedStatus(deployments[i]),
                    with_history ? &status_since[i] : nullptr});
  }
  DeploymentFamilyText text(kFamilies.size());
  for (size_t f = 0; f < kFamilies.size(); ++f) {
    const DeploymentFamily& family = kFamilies[f];
    if (family.needs_history && !with_history) continue;
    text[f].reserve(deployments.size() * family.bytes_per_deployment);
    family.render(text[f], family.name, rows);
  }
  return text;
}

}  // namespace dse::metrics
