#include "metrics/deployment_families.h"

#include <gtest/gtest.h>

#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

dashscope::Deployment Full() {
  dashscope::Deployment d;
  d.deployed_model = "emo-35b3f106-sample01";
  d.workspace_id = "llm-v71tlv3d";
  d.name = "emo prod";
  d.model_name = "emo";
  d.base_model = "emo";
  d.status = "RUNNING";
  d.plan = "mu";
  d.charge_type = "post_paid";
  d.capacity = 2;
  d.base_capacity = 1;
  d.ready_capacity = 1.5;
  d.rpm_limit = 600;
  d.tpm_limit = 100000;
  d.gmt_create = 1750158038;
  d.gmt_modified = 1750158373;
  d.model_unit_spec = "mu.x1";
  return d;
}

TEST(RenderDeploymentFamilies, EveryFamilyExactly) {
  auto t = RenderDeploymentFamilies("intl", {Full()});
  const std::string series =
      R"({account="intl",workspace_id="llm-v71tlv3d",deployed_model="emo-35b3f106-sample01"})";
  EXPECT_EQ(t[0], "dashscope_deployment_capacity" + series + " 2\n");
  EXPECT_EQ(t[1], "dashscope_deployment_ready_capacity" + series + " 1.5\n");
  EXPECT_EQ(t[2], "dashscope_deployment_base_capacity" + series + " 1\n");
  const std::string status_prefix = "dashscope_deployment_status" + series.substr(0, series.size() - 1);
  EXPECT_EQ(t[3], status_prefix + ",status=\"PENDING\"} 0\n" + status_prefix + ",status=\"UPDATING\"} 0\n" +
                      status_prefix + ",status=\"RUNNING\"} 1\n" + status_prefix +
                      ",status=\"STOPPED\"} 0\n" + status_prefix + ",status=\"DELETING\"} 0\n" +
                      status_prefix + ",status=\"FAILED\"} 0\n" + status_prefix + ",status=\"UNKNOWN\"} 0\n");
  EXPECT_EQ(t[4],
            "dashscope_deployment_info" + series.substr(0, series.size() - 1) +
                R"(,name="emo prod",model_name="emo",base_model="emo",plan="mu",charge_type="post_paid",)"
                R"(model_unit_spec="mu.x1",ptu_service_tier="",overflow_strategy=""} 1)" +
                "\n");
  EXPECT_EQ(t[5], "dashscope_deployment_created_timestamp_seconds" + series + " 1750158038\n");
  EXPECT_EQ(t[6], "dashscope_deployment_modified_timestamp_seconds" + series + " 1750158373\n");
  EXPECT_EQ(t[7], "dashscope_deployment_limit_requests_per_minute" + series + " 600\n");
  EXPECT_EQ(t[8], "dashscope_deployment_limit_tokens_per_minute" + series + " 100000\n");
}

TEST(RenderDeploymentFamilies, MissingFieldsAreNotExportedAsZero) {
  dashscope::Deployment d;
  d.deployed_model = "m1";
  auto t = RenderDeploymentFamilies("a", {d});
  for (size_t i : {0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) EXPECT_EQ(t[i], "") << i;
  // No status is an unknown status; info labels are empty strings.
  EXPECT_NE(t[3].find(R"(status="UNKNOWN"} 1)"), std::string::npos);
  EXPECT_EQ(
      t[4],
      R"(dashscope_deployment_info{account="a",workspace_id="",deployed_model="m1",name="",model_name="",base_model="",plan="",charge_type="",model_unit_spec="",ptu_service_tier="",overflow_strategy=""} 1)"
      "\n");
}

TEST(RenderDeploymentFamilies, UnexpectedStatusCountsAsUnknown) {
  dashscope::Deployment d;
  d.deployed_model = "m1";
  d.status = "SCALING";
  auto t = RenderDeploymentFamilies("a", {d});
  EXPECT_NE(t[3].find(R"(status="UNKNOWN"} 1)"), std::string::npos);
  EXPECT_EQ(t[3].find("SCALING"), std::string::npos);
  EXPECT_EQ(t[3].find("} 1\n"), t[3].rfind("} 1\n"));  // exactly one 1
}

// A family's place in the table, by its contract name.
size_t Index(std::string_view name) {
  const auto families = DeploymentFamilies();
  for (size_t i = 0; i < families.size(); ++i) {
    if (families[i].name == name) return i;
  }
  ADD_FAILURE() << "no family " << name;
  return 0;
}

TEST(RenderDeploymentFamilies, NewFamiliesExactly) {
  dashscope::Deployment d;
  d.deployed_model = "p1";
  d.workspace_id = "w";
  d.status = "WAIT_PRE_PAID_BILLING_TO_DEPLOYING";
  d.ptu_input_tpm = 1000000;
  d.ptu_output_tpm = 200000;
  d.pre_paid_gmt_expired = 1752750038;
  d.ptu_service_tier = "ptu_fast";
  d.overflow_strategy = "enable";
  d.fail_reason = "not FAILED, so not shown";
  const std::vector<StatusSince> since = {{1750158000, 3}};
  auto t = RenderDeploymentFamilies("a", {d}, since);
  const std::string s = R"({account="a",workspace_id="w",deployed_model="p1")";
  EXPECT_EQ(t[Index("dashscope_deployment_unexpected_status_info")],
            "dashscope_deployment_unexpected_status_info" + s +
                R"(,raw_status="WAIT_PRE_PAID_BILLING_TO_DEPLOYING"} 1)"
                "\n");
  EXPECT_EQ(t[Index("dashscope_deployment_failure_info")], "");
  EXPECT_EQ(t[Index("dashscope_deployment_status_changed_timestamp_seconds")],
            "dashscope_deployment_status_changed_timestamp_seconds" + s + "} 1750158000\n");
  EXPECT_EQ(t[Index("dashscope_deployment_status_changes_total")],
            "dashscope_deployment_status_changes_total" + s + "} 3\n");
  EXPECT_EQ(t[Index("dashscope_deployment_ptu_input_tpm")],
            "dashscope_deployment_ptu_input_tpm" + s + "} 1000000\n");
  EXPECT_EQ(t[Index("dashscope_deployment_ptu_output_tpm")],
            "dashscope_deployment_ptu_output_tpm" + s + "} 200000\n");
  EXPECT_EQ(t[Index("dashscope_deployment_prepaid_expiry_timestamp_seconds")],
            "dashscope_deployment_prepaid_expiry_timestamp_seconds" + s + "} 1752750038\n");
  EXPECT_NE(t[Index("dashscope_deployment_info")].find(
                R"(,ptu_service_tier="ptu_fast",overflow_strategy="enable"} 1)"),
            std::string::npos);

  d.status = "FAILED";
  d.fail_reason = "quota \"exceeded\"\nretry";
  t = RenderDeploymentFamilies("a", {d}, since);
  EXPECT_EQ(t[Index("dashscope_deployment_unexpected_status_info")], "");  // FAILED is one of the seven
  EXPECT_EQ(t[Index("dashscope_deployment_failure_info")], "dashscope_deployment_failure_info" + s +
                                                               R"(,reason="quota \"exceeded\"\nretry"} 1)"
                                                               "\n");
}

TEST(RenderDeploymentFamilies, RawStatusAndReasonAreCutAtUtf8Boundaries) {
  dashscope::Deployment d;
  d.deployed_model = "m";
  d.status = std::string(63, 'S') + "\xC3\xA9" + "TAIL";  // é straddles byte 64
  auto t = RenderDeploymentFamilies("a", {d});
  EXPECT_EQ(
      t[Index("dashscope_deployment_unexpected_status_info")],
      R"(dashscope_deployment_unexpected_status_info{account="a",workspace_id="",deployed_model="m",raw_status=")" +
          std::string(63, 'S') + "\"} 1\n");
  d.status = "FAILED";
  d.fail_reason = std::string(255, 'r') + "\xE4\xB8\xAD" + "more";  // a 3-byte character at byte 256
  t = RenderDeploymentFamilies("a", {d});
  EXPECT_EQ(t[Index("dashscope_deployment_failure_info")],
            R"(dashscope_deployment_failure_info{account="a",workspace_id="",deployed_model="m",reason=")" +
                std::string(255, 'r') + "\"} 1\n");
  d.fail_reason = "";  // an empty reason is no reason
  t = RenderDeploymentFamilies("a", {d});
  EXPECT_EQ(t[Index("dashscope_deployment_failure_info")], "");
}

TEST(RenderDeploymentFamilies, NoHistoryNoStatusChangedLines) {
  dashscope::Deployment d;
  d.deployed_model = "m";
  const auto t = RenderDeploymentFamilies("a", {d});
  EXPECT_EQ(t[Index("dashscope_deployment_status_changed_timestamp_seconds")], "");
  EXPECT_EQ(t[Index("dashscope_deployment_status_changes_total")], "");
}

TEST(AppendLabelValue, EscapesAndCutsAtUtf8Boundary) {
  std::string out;
  AppendLabelValue(out, "a\"b\\c\nd");
  EXPECT_EQ(out, R"(a\"b\\c\nd)");
  out.clear();
  std::string long_value(kMaxLabelValueBytes - 1, 'x');
  long_value += "\xC3\xA9tail";  // a 2-byte character straddling the cap
  AppendLabelValue(out, long_value);
  EXPECT_EQ(out, std::string(kMaxLabelValueBytes - 1, 'x'));
}

TEST(AppendValue, ShortestRoundTrip) {
  std::string out;
  AppendValue(out, 0.1);
  out += ' ';
  AppendValue(out, 1e21);
  out += ' ';
  AppendValue(out, 100000.0);
  out += ' ';
  AppendValue(out, -3.0);
  EXPECT_EQ(out, "0.1 1e+21 100000 -3");
}

}  // namespace
}  // namespace dse::metrics
