#include "mock/responses.h"

#include <gtest/gtest.h>

#include <string>

namespace dse::mock {
namespace {

Deployment Sample() {
  Deployment d;
  d.deployed_model = "emo-35b3f106-sample01";
  d.created_at = 1750158038;   // 2025-06-17T11:00:38
  d.modified_at = 1750158373;  // 2025-06-17T11:06:13
  d.status = "RUNNING";
  d.model_name = "emo";
  d.base_model = "emo";
  d.base_capacity = 1;
  d.capacity = 1;
  d.ready_capacity = 1;
  d.workspace_id = "llm-v71tlv3d***";
  d.charge_type = "post_paid";
  d.creator = "175805416***";
  d.modifier = "175805416***";
  return d;
}

TEST(RenderPage, MatchesTheApiReferenceSample) {
  PageBody page;
  page.request_id = "7efdd3a7-a90d-96c6-b477-70055d59edf7";
  page.page_no = 1;
  page.page_size = 10;
  page.total = 1;
  page.deployments = {Sample()};
  EXPECT_EQ(
      RenderPage(page),
      R"({"request_id":"7efdd3a7-a90d-96c6-b477-70055d59edf7","output":{"page_no":1,"page_size":10,"total":1,)"
      R"("deployments":[{"deployed_model":"emo-35b3f106-sample01","gmt_create":"2025-06-17T11:00:38",)"
      R"("gmt_modified":"2025-06-17T11:06:13","status":"RUNNING","model_name":"emo","base_model":"emo",)"
      R"("base_capacity":1,"capacity":1,"ready_capacity":1,"workspace_id":"llm-v71tlv3d***",)"
      R"("charge_type":"post_paid","creator":"175805416***","modifier":"175805416***"}]}})");
}

TEST(RenderPage, OptionalFieldsAndDataEnvelope) {
  Deployment d = Sample();
  d.name = "chat";
  d.plan = "ptu";
  d.rpm_limit = 600;
  d.tpm_limit = 120000;
  d.ptu_capacity = PtuCapacity{200000, 20000};
  PageBody page;
  page.request_id = "r";
  page.envelope = "data";
  page.deployments = {d};
  const std::string body = RenderPage(page);
  EXPECT_NE(body.find(R"({"request_id":"r","data":{"page_no":1,"page_size":50,"total":0,)"),
            std::string::npos);
  EXPECT_NE(body.find(R"("deployed_model":"emo-35b3f106-sample01","name":"chat","gmt_create")"),
            std::string::npos);
  EXPECT_NE(body.find(R"("charge_type":"post_paid","plan":"ptu","rpm_limit":600,"tpm_limit":120000,)"
                      R"("ptu_capacity":{"input_tpm":200000,"output_tpm":20000},"creator")"),
            std::string::npos);
}

TEST(RenderPage, SecondReleaseFields) {
  Deployment d = Sample();
  d.rpm_limit = 600;
  d.rpm_limit_as_string = true;
  d.ptu_capacity = PtuCapacity{200000, 20000};
  d.pre_paid_expires_at = 1750158038;
  d.ptu_service_tier = "ptu_fast";
  d.overflow_strategy = "enable";
  d.fail_reason = "no \"quota\"";
  PageBody page;
  page.deployments = {d};
  const std::string body = RenderPage(page);
  EXPECT_NE(body.find(R"("rpm_limit":"600",)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("ptu_capacity":{"input_tpm":200000,"output_tpm":20000},)"
                      R"("pre_paid_gmt_expired":"2025-06-17T11:00:38","ptu_service_tier":"ptu_fast",)"
                      R"("overflow_strategy":"enable","fail_reason":"no \"quota\"","creator")"),
            std::string::npos)
      << body;
}

TEST(RenderPage, WrongTypesSpreadOverTheFirstRecords) {
  PageBody page;
  page.deployments = {Sample(), Sample(), Sample(), Sample()};
  page.wrong_types = true;
  const std::string body = RenderPage(page);
  EXPECT_NE(body.find(R"("capacity":"1 units")"), std::string::npos);  // a numeric string would be a number
  EXPECT_NE(body.find(R"("status":1,)"), std::string::npos);
  size_t ids = 0;
  for (size_t at = body.find("\"deployed_model\""); at != std::string::npos;
       at = body.find("\"deployed_model\"", at + 1))
    ++ids;
  EXPECT_EQ(ids, 3u);

  page.deployments = {Sample()};  // one record takes all three
  const std::string one = RenderPage(page);
  EXPECT_EQ(one.find("\"deployed_model\""), std::string::npos);
  EXPECT_NE(one.find(R"("status":1,)"), std::string::npos);
  EXPECT_NE(one.find(R"("capacity":"1 units")"), std::string::npos);
}

TEST(RenderPageAround, SplitsWhereTheExtraValueGoes) {
  PageBody page;
  page.request_id = "r";
  SplitBody split = RenderPageAround(page, "nested");
  EXPECT_EQ(split.prefix, R"({"request_id":"r","output":{"page_no":1,"page_size":50,"total":0,"nested":)");
  EXPECT_EQ(split.suffix, R"(,"deployments":[]}})");
}

TEST(RenderError, LeavesOutAbsentMembers) {
  EXPECT_EQ(RenderError("id", std::string("InvalidApiKey"), std::string("Invalid API-key provided.")),
            R"({"request_id":"id","code":"InvalidApiKey","message":"Invalid API-key provided."})");
  EXPECT_EQ(RenderError("id", std::nullopt, std::string("m")), R"({"request_id":"id","message":"m"})");
}

TEST(RenderGatewayPage, LooksLikeNginx) {
  const std::string page = RenderGatewayPage(502);
  EXPECT_NE(page.find("<title>502 Bad Gateway</title>"), std::string::npos);
  EXPECT_NE(page.find("<center>nginx</center>"), std::string::npos);
}

TEST(StreamedBody, ReadsAcrossSegments) {
  StreamedBody body;
  body.AddText("ab");
  body.AddRun('x', 5);
  body.AddText("cd");
  ASSERT_EQ(body.size(), 9u);
  EXPECT_EQ(body.Read(0, 100), "abxxxxxcd");
  EXPECT_EQ(body.Read(1, 3), "bxx");
  EXPECT_EQ(body.Read(6, 2), "xc");
  EXPECT_EQ(body.Read(8, 5), "d");
  EXPECT_EQ(body.Read(9, 5), "");
  std::string joined;
  for (uint64_t offset = 0; offset < body.size(); offset += 2) joined += body.Read(offset, 2);
  EXPECT_EQ(joined, "abxxxxxcd");
}

}  // namespace
}  // namespace dse::mock
