#include "dashscope/page_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dashscope/api_time.h"
#include "dashscope/error_body.h"
#include "testing/utf8_oracle.h"

namespace dse::dashscope {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Texts(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  for (const Problem& p : problems) out.push_back(p.text);
  return out;
}

std::vector<std::string_view> Labels(const std::vector<Problem>& problems) {
  std::vector<std::string_view> out;
  for (const Problem& p : problems) out.push_back(p.label());
  return out;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(DSE_FIXTURES_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open fixture " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

DeploymentPage MustParse(std::string_view body) {
  auto page = ParseDeploymentPage(body);
  EXPECT_TRUE(page.ok()) << page.error();
  if (!page.ok()) return {};
  return std::move(page).value();
}

std::string ParseError(std::string_view body) {
  auto page = ParseDeploymentPage(body);
  EXPECT_FALSE(page.ok());
  return page.ok() ? std::string("<parsed>") : page.error();
}

// A list body with the given text as the deployments array's contents.
std::string Page(const std::string& deployments) {
  return R"({"output":{"page_no":1,"page_size":10,"total":1,"deployments":[)" + deployments + "]}}";
}

// --------------------------------------------------------------- fixtures

TEST(ParseDeploymentPage, OutputEnvelopeSample) {
  const DeploymentPage page = MustParse(ReadFixture("list_output_envelope.json"));
  EXPECT_EQ(page.page_no, 1);
  EXPECT_EQ(page.page_size, 10);
  EXPECT_EQ(page.total, 2);
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  EXPECT_EQ(page.problems_not_listed, 0u);
  ASSERT_EQ(page.deployments.size(), 2u);

  const Deployment& a = page.deployments[0];
  EXPECT_EQ(a.deployed_model, "emo-35b3f106-sample01");
  EXPECT_EQ(a.workspace_id, "llm-v71tlv3d***");
  EXPECT_EQ(a.name, std::nullopt);
  EXPECT_EQ(a.model_name, "emo");
  EXPECT_EQ(a.base_model, "emo");
  EXPECT_EQ(a.status, "RUNNING");
  EXPECT_EQ(a.plan, std::nullopt);
  EXPECT_EQ(a.charge_type, "post_paid");
  EXPECT_EQ(a.capacity, 1.0);
  EXPECT_EQ(a.base_capacity, 1.0);
  EXPECT_EQ(a.ready_capacity, 1.0);
  EXPECT_EQ(a.rpm_limit, std::nullopt);
  EXPECT_EQ(a.tpm_limit, std::nullopt);
  EXPECT_EQ(a.gmt_create, 1750158038);    // 2025-06-17T11:00:38Z
  EXPECT_EQ(a.gmt_modified, 1750158373);  // 2025-06-17T11:06:13Z

  const Deployment& b = page.deployments[1];
  EXPECT_EQ(b.deployed_model, "qwen-plus-ptu-8c2e41d0");
  EXPECT_EQ(b.workspace_id, "llm-v71tlv3d***");
  EXPECT_EQ(b.name, "support-bot-prod");
  EXPECT_EQ(b.model_name, "qwen-plus-2025-04-28");
  EXPECT_EQ(b.base_model, "qwen-plus");
  EXPECT_EQ(b.status, "UPDATING");
  EXPECT_EQ(b.plan, "ptu");
  EXPECT_EQ(b.charge_type, "pre_paid");
  EXPECT_EQ(b.capacity, 6.0);
  EXPECT_EQ(b.base_capacity, 2.0);
  EXPECT_EQ(b.ready_capacity, 4.0);
  EXPECT_EQ(b.rpm_limit, 1200.0);
  EXPECT_EQ(b.tpm_limit, 2500000.0);
  EXPECT_EQ(b.gmt_create, 1746173700);    // 2025-05-02T08:15:00Z
  EXPECT_EQ(b.gmt_modified, 1750463999);  // 2025-06-20T23:59:59Z
}

TEST(ParseDeploymentPage, DataEnvelope) {
  const DeploymentPage page = MustParse(ReadFixture("list_data_envelope.json"));
  EXPECT_EQ(page.page_no, 1);
  EXPECT_EQ(page.page_size, 50);
  EXPECT_EQ(page.total, 1);
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 1u);
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.deployed_model, "qwen-turbo-ft-202506-a1b2c3d4");
  EXPECT_EQ(d.name, "ticket-classifier");
  EXPECT_EQ(d.model_name, "qwen-turbo-ft-202506-a1b2c3d4");
  EXPECT_EQ(d.base_model, "qwen-turbo");
  EXPECT_EQ(d.status, "STOPPED");
  EXPECT_EQ(d.plan, "lora");
  EXPECT_EQ(d.capacity, 0.0);
  EXPECT_EQ(d.base_capacity, 1.0);
  EXPECT_EQ(d.ready_capacity, 0.0);
  EXPECT_EQ(d.workspace_id, "llm-3kq9z0x1***");
  EXPECT_EQ(d.charge_type, "post_paid");
  EXPECT_EQ(d.gmt_create, 1748770200);    // "2025-06-01 09:30:00"
  EXPECT_EQ(d.gmt_modified, 1749581112);  // "2025-06-10 18:45:12"
}

TEST(ParseDeploymentPage, MissingAndNullOptionalFieldsAreAbsentWithoutProblems) {
  const DeploymentPage page = MustParse(ReadFixture("list_missing_optional_fields.json"));
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 3u);

  const Deployment& mu = page.deployments[0];
  EXPECT_EQ(mu.deployed_model, "qwen-max-mu-00f1e2d3");
  EXPECT_EQ(mu.workspace_id, "");
  EXPECT_EQ(mu.status, "PENDING");
  EXPECT_EQ(mu.model_name, "qwen-max");
  EXPECT_EQ(mu.plan, "mu");
  EXPECT_EQ(mu.capacity, 2.0);
  EXPECT_EQ(mu.ready_capacity, std::nullopt);
  EXPECT_EQ(mu.base_capacity, std::nullopt);
  EXPECT_EQ(mu.gmt_create, 1751284800);  // 2025-06-30T12:00:00Z
  EXPECT_EQ(mu.gmt_modified, std::nullopt);

  for (const Deployment* d : {&page.deployments[1], &page.deployments[2]}) {
    EXPECT_EQ(d->workspace_id, "");
    EXPECT_EQ(d->name, std::nullopt);
    EXPECT_EQ(d->model_name, std::nullopt);
    EXPECT_EQ(d->base_model, std::nullopt);
    EXPECT_EQ(d->status, std::nullopt);
    EXPECT_EQ(d->plan, std::nullopt);
    EXPECT_EQ(d->charge_type, std::nullopt);
    EXPECT_EQ(d->capacity, std::nullopt);
    EXPECT_EQ(d->base_capacity, std::nullopt);
    EXPECT_EQ(d->ready_capacity, std::nullopt);
    EXPECT_EQ(d->rpm_limit, std::nullopt);
    EXPECT_EQ(d->tpm_limit, std::nullopt);
    EXPECT_EQ(d->gmt_create, std::nullopt);
    EXPECT_EQ(d->gmt_modified, std::nullopt);
  }
  EXPECT_EQ(page.deployments[1].deployed_model, "emo-35b3f106-sample02");
  EXPECT_EQ(page.deployments[2].deployed_model, "emo-35b3f106-sample03");
}

TEST(ParseDeploymentPage, WrongTypesAreLeftOutAndNamed) {
  const DeploymentPage page = MustParse(ReadFixture("list_wrong_types.json"));
  EXPECT_EQ(page.page_no, std::nullopt);
  EXPECT_EQ(page.page_size, std::nullopt);
  EXPECT_EQ(page.total, 3);
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("field output.page_no: expected an integer, got string",
                          "field output.page_size: expected an integer, got float",
                          // deployed_model comes after these fields, yet names them.
                          "deployment \"emo-1\": field status: expected a string, got number",
                          "deployment \"emo-1\": field name: expected a string, got object",
                          "deployment \"emo-1\": field model_name: expected a string, got array",
                          "deployment \"emo-1\": field plan: expected a string, got boolean",
                          "deployment \"emo-1\": field gmt_create: invalid time \"2025-02-30T10:00:00\"",
                          "deployment \"emo-1\": field gmt_modified: expected a string, got number",
                          "deployment #1: expected an object, got string",
                          "deployment \"emo-3\": field capacity: expected a number, got string"));
  ASSERT_EQ(page.deployments.size(), 2u);

  const Deployment& a = page.deployments[0];
  EXPECT_EQ(a.deployed_model, "emo-1");
  EXPECT_EQ(a.workspace_id, "llm-abc");
  EXPECT_EQ(a.capacity, 2.0);  // "2": a numeric string is a number
  EXPECT_EQ(a.status, std::nullopt);
  EXPECT_EQ(a.name, std::nullopt);
  EXPECT_EQ(a.model_name, std::nullopt);
  EXPECT_EQ(a.plan, std::nullopt);
  EXPECT_EQ(a.gmt_create, std::nullopt);
  EXPECT_EQ(a.gmt_modified, std::nullopt);
  EXPECT_EQ(a.base_capacity, 1.5);
  EXPECT_EQ(a.ready_capacity, -1.0);  // kept: the metrics layer decides

  // Duplicate keys: the last one wins, value and problem alike.
  const Deployment& c = page.deployments[1];
  EXPECT_EQ(c.deployed_model, "emo-3");
  EXPECT_EQ(c.capacity, std::nullopt);
  EXPECT_EQ(c.status, std::nullopt);
  EXPECT_EQ(c.rpm_limit, 60.0);
}

TEST(ParseDeploymentPage, RecordsWithoutDeployedModelAreDropped) {
  const DeploymentPage page = MustParse(ReadFixture("list_missing_deployed_model.json"));
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment #1: missing deployed_model",  // its bad capacity is not listed
                          "deployment #2: missing deployed_model", "deployment #3: missing deployed_model",
                          "deployment #4: missing deployed_model: expected a string, got number",
                          "deployment #5: expected an object, got null"));
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "emo-35b3f106-sample01");
  EXPECT_EQ(page.deployments[0].capacity, 1.0);
}

TEST(ParseDeploymentPage, EmptyList) {
  const DeploymentPage page = MustParse(ReadFixture("list_empty.json"));
  EXPECT_EQ(page.page_no, 1);
  EXPECT_EQ(page.page_size, 200);
  EXPECT_EQ(page.total, 0);
  EXPECT_THAT(page.deployments, IsEmpty());
  EXPECT_THAT(Texts(page.problems), IsEmpty());
}

TEST(ParseDeploymentPage, PageOf200) {
  const DeploymentPage page = MustParse(ReadFixture("list_page_of_200.json"));
  EXPECT_EQ(page.page_no, 3);
  EXPECT_EQ(page.page_size, 200);
  EXPECT_EQ(page.total, 643);
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 200u);

  const Deployment& first = page.deployments.front();
  EXPECT_EQ(first.deployed_model, "emo-mu-fe4ab4c0");
  EXPECT_EQ(first.name, "support-prod-000");
  EXPECT_EQ(first.status, "RUNNING");
  EXPECT_EQ(first.plan, "mu");
  EXPECT_EQ(first.capacity, 8.0);
  EXPECT_EQ(first.base_capacity, 2.0);
  EXPECT_EQ(first.ready_capacity, 8.0);
  EXPECT_EQ(first.rpm_limit, 60.0);
  EXPECT_EQ(first.tpm_limit, 2500000.0);
  EXPECT_EQ(first.workspace_id, "llm-3kq9z0x1***");
  EXPECT_EQ(first.gmt_create, 1750170386);
  EXPECT_EQ(first.gmt_modified, 1750339460);

  const Deployment& last = page.deployments.back();
  EXPECT_EQ(last.deployed_model, "qwen-turbo-ptu-efb4e013");
  EXPECT_EQ(last.model_name, "qwen-turbo-2025-04-28");
  EXPECT_EQ(last.charge_type, "pre_paid");
  EXPECT_EQ(last.capacity, 7.0);
  EXPECT_EQ(last.rpm_limit, std::nullopt);
  EXPECT_EQ(last.gmt_create, 1727036372);
  EXPECT_EQ(last.gmt_modified, 1729476099);

  // Totals worked out when the fixture was generated.
  double capacity = 0, ready = 0, tpm = 0;
  int64_t created = 0;
  int running = 0, stopped = 0, named = 0, with_plan = 0, with_rpm = 0;
  std::set<std::string> ids;
  for (const Deployment& d : page.deployments) {
    capacity += d.capacity.value_or(-1e9);
    ready += d.ready_capacity.value_or(-1e9);
    tpm += d.tpm_limit.value_or(0);
    created += d.gmt_create.value_or(0);
    running += d.status == "RUNNING";
    stopped += d.status == "STOPPED";
    named += d.name.has_value();
    with_plan += d.plan.has_value();
    with_rpm += d.rpm_limit.has_value();
    ids.insert(d.deployed_model);
  }
  EXPECT_EQ(capacity, 1971);
  EXPECT_EQ(ready, 1392);
  EXPECT_EQ(tpm, 77800000);
  EXPECT_EQ(created, 347671573060);
  EXPECT_EQ(running, 126);
  EXPECT_EQ(stopped, 23);
  EXPECT_EQ(named, 115);
  EXPECT_EQ(with_plan, 157);
  EXPECT_EQ(with_rpm, 77);
  EXPECT_EQ(ids.size(), 200u);
}

TEST(ParseDeploymentPage, ErrorBodiesAndGatewayPagesAreNotPages) {
  EXPECT_EQ(ParseError(ReadFixture("error_invalid_api_key.json")),
            "invalid_response: no \"output\" or \"data\" object at the top level");
  EXPECT_EQ(ParseError(ReadFixture("error_throttling.json")),
            "invalid_response: no \"output\" or \"data\" object at the top level");
  EXPECT_EQ(ParseError(ReadFixture("gateway_502.html")),
            "invalid_response: JSON parse error at offset 0: Invalid value.");
}

TEST(ParseDeploymentPage, TruncatedBody) {
  EXPECT_EQ(ParseError(ReadFixture("list_truncated.json")),
            "invalid_response: JSON parse error at offset 712: Missing a closing quotation mark in string.");
}

// --------------------------------------------------------------- syntax and shape errors

TEST(ParseDeploymentPage, ParseErrorsCarryOffsetAndRapidJsonText) {
  EXPECT_EQ(ParseError(""), "invalid_response: JSON parse error at offset 0: The document is empty.");
  EXPECT_EQ(ParseError("   \n"), "invalid_response: JSON parse error at offset 4: The document is empty.");
  EXPECT_EQ(
      ParseError(R"({"output":{"deployments":[]} "x":1})"),
      "invalid_response: JSON parse error at offset 29: Missing a comma or '}' after an object member.");
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[]}} {})"),
            "invalid_response: JSON parse error at offset 30: The document root must not be followed by "
            "other values.");
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[{"capacity":1e400}]}})"),
            "invalid_response: JSON parse error at offset 38: Number too big to be stored in double.");
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[NaN]}})"),
            "invalid_response: JSON parse error at offset 26: Invalid value.");
  // A raw NUL ends the reader's input; what follows it must not be ignored.
  using namespace std::string_literals;
  EXPECT_EQ(ParseError("{\"output\":{\"deployments\":[]}}\0{\"x\":1}"s),
            "invalid_response: JSON parse error at offset 29: The document root must not be followed by "
            "other values.");
}

TEST(ParseDeploymentPage, TopLevelMustBeAnObject) {
  EXPECT_EQ(ParseError("[]"), "invalid_response: expected a JSON object at the top level, got array");
  EXPECT_EQ(ParseError(R"("output")"),
            "invalid_response: expected a JSON object at the top level, got string");
  EXPECT_EQ(ParseError("42"), "invalid_response: expected a JSON object at the top level, got number");
  EXPECT_EQ(ParseError("null"), "invalid_response: expected a JSON object at the top level, got null");
  EXPECT_EQ(ParseError("true"), "invalid_response: expected a JSON object at the top level, got boolean");
}

TEST(ParseDeploymentPage, MissingDeploymentsArrayNamesWhatIsMissing) {
  EXPECT_EQ(ParseError("{}"), "invalid_response: no \"output\" or \"data\" object at the top level");
  EXPECT_EQ(ParseError(R"({"output":"ok","data":[1]})"),
            "invalid_response: no \"output\" or \"data\" object at the top level");
  EXPECT_EQ(ParseError(R"({"output":{"total":3}})"),
            "invalid_response: no \"deployments\" array in \"output\"");
  EXPECT_EQ(ParseError(R"({"data":{"deployments":{}}})"),
            "invalid_response: no \"deployments\" array in \"data\" (got object)");
  EXPECT_EQ(ParseError(R"({"output":{"deployments":"none"},"data":{}})"),
            "invalid_response: no \"deployments\" array in \"output\" (got string) or \"data\"");
  // Only the envelope holds the page, not a nested look-alike.
  EXPECT_EQ(ParseError(R"({"meta":{"output":{"deployments":[]}},"output":{"result":{"deployments":[]}}})"),
            "invalid_response: no \"deployments\" array in \"output\"");
}

TEST(ParseDeploymentPage, NumbersReadExactlyAndSafely) {
  // Inputs that crash or misparse RapidJSON 1.1.0's full-precision path.
  DeploymentPage page =
      MustParse(R"({"output":{"deployments":[)"
                R"({"deployed_model":"a","capacity":128.74836467836484838364836483643636483648e-336},)"
                R"({"deployed_model":"b","capacity":0e100},)"
                R"({"deployed_model":"c","capacity":184467440737095516155},)"
                R"({"deployed_model":"d","capacity":0.1,"ready_capacity":-3,"tpm_limit":2500000}]}})");
  ASSERT_EQ(page.deployments.size(), 4u);
  EXPECT_EQ(page.deployments[0].capacity, 0.0);
  EXPECT_EQ(page.deployments[1].capacity, 0.0);
  EXPECT_EQ(page.deployments[2].capacity, 1.8446744073709552e20);
  EXPECT_EQ(page.deployments[3].capacity, 0.1);
  EXPECT_EQ(page.deployments[3].ready_capacity, -3.0);
  EXPECT_EQ(page.deployments[3].tpm_limit, 2500000.0);
  // Beyond a double's range the reader refuses the page as a whole.
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[{"deployed_model":"e","capacity":1e400}]}})")
                .rfind("invalid_response: JSON parse error", 0),
            0u);
}

TEST(ParseDeploymentPage, AccountWithoutDeploymentsIsAnEmptyPage) {
  // An empty account must not fail every poll: a null list, or no list beside total 0.
  EXPECT_TRUE(MustParse(R"({"output":{"total":0,"deployments":null}})").deployments.empty());
  EXPECT_TRUE(MustParse(R"({"data":{"total":0}})").deployments.empty());
  EXPECT_EQ(MustParse(R"({"output":{"total":0}})").total, 0);
}

TEST(ParseDeploymentPage, EnvelopeChoice) {
  // Both: `output` wins, and its own page fields go with it.
  DeploymentPage page =
      MustParse(R"({"data":{"total":9,"deployments":[{"deployed_model":"from-data"}]},)"
                R"("output":{"total":1,"deployments":[{"deployed_model":"from-output"}]}})");
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "from-output");
  EXPECT_EQ(page.total, 1);

  // `output` without a list: `data` is used.
  page = MustParse(R"({"output":{"total":5},"data":{"total":2,"deployments":[{"deployed_model":"d"}]}})");
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "d");
  EXPECT_EQ(page.total, 2);
  EXPECT_EQ(page.page_no, std::nullopt);

  // A repeated envelope key: the last one wins.
  page = MustParse(R"({"output":{"deployments":[{"deployed_model":"old"}]},"output":{"deployments":[]}})");
  EXPECT_THAT(page.deployments, IsEmpty());
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[]},"output":null})"),
            "invalid_response: no \"output\" or \"data\" object at the top level");
}

TEST(ParseDeploymentPage, PageFieldsAcceptIntegersOnly) {
  const DeploymentPage page = MustParse(
      R"({"output":{"page_no":-1,"page_size":{"n":1},"total":18446744073709551615,"deployments":[]}})");
  EXPECT_EQ(page.page_no, -1);
  EXPECT_EQ(page.page_size, std::nullopt);
  EXPECT_EQ(page.total, std::nullopt);
  EXPECT_THAT(Texts(page.problems), ElementsAre("field output.page_size: expected an integer, got object",
                                                "field output.total: integer out of range"));

  const DeploymentPage big =
      MustParse(R"({"data":{"total":9223372036854775807,"page_no":1e2,"deployments":[]}})");
  EXPECT_EQ(big.total, INT64_MAX);
  EXPECT_THAT(Texts(big.problems), ElementsAre("field data.page_no: expected an integer, got float"));
}

// --------------------------------------------------------------- records

TEST(ParseDeploymentPage, NumbersOfEveryKind) {
  const DeploymentPage page =
      MustParse(Page(R"({"deployed_model":"n","capacity":0.1,"base_capacity":-3,"ready_capacity":4294967296,)"
                     R"("rpm_limit":18446744073709551615,"tpm_limit":1.5e6})"));
  ASSERT_EQ(page.deployments.size(), 1u);
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.capacity, 0.1);
  EXPECT_EQ(d.base_capacity, -3.0);
  EXPECT_EQ(d.ready_capacity, 4294967296.0);
  EXPECT_EQ(d.rpm_limit, 18446744073709551615.0);
  EXPECT_EQ(d.tpm_limit, 1500000.0);
  EXPECT_THAT(Texts(page.problems), IsEmpty());
}

TEST(ParseDeploymentPage, UnknownKeysAreSkippedWholeAtEveryLevel) {
  const DeploymentPage page = MustParse(
      R"({"request_id":"r","extra":{"deployments":[{"deployed_model":"fake"}],"output":{}},)"
      R"("output":{"note":[[{"deployed_model":"fake"}]],"deployments":[)"
      R"({"deployed_model":"real","ptu_capacity":{"input_tpm":1,"capacity":"x","deployed_model":"evil"},)"
      R"("tags":[{"status":1},[[]],"s",null],"capacity":2,"status":"RUNNING"}],"page_no":2}})");
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "real");
  EXPECT_EQ(page.deployments[0].capacity, 2.0);
  EXPECT_EQ(page.deployments[0].status, "RUNNING");
  EXPECT_EQ(page.page_no, 2);
  EXPECT_THAT(Texts(page.problems), IsEmpty());
}

TEST(ParseDeploymentPage, DuplicateRecordsAreKeptForThePollerToResolve) {
  const DeploymentPage page =
      MustParse(Page(R"({"deployed_model":"a","capacity":1},{"deployed_model":"a","capacity":2})"));
  ASSERT_EQ(page.deployments.size(), 2u);
  EXPECT_EQ(page.deployments[1].capacity, 2.0);
}

TEST(ParseDeploymentPage, DeployedModelLastKeyWins) {
  DeploymentPage page = MustParse(Page(R"({"deployed_model":"a","deployed_model":null})"));
  EXPECT_THAT(page.deployments, IsEmpty());
  EXPECT_THAT(Texts(page.problems), ElementsAre("deployment #0: missing deployed_model"));

  page = MustParse(Page(R"({"deployed_model":["a"],"deployed_model":"b"})"));
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "b");
  EXPECT_THAT(Texts(page.problems), IsEmpty());
}

// The label of dashscope_record_problems_total comes with the problem, not
// from its wording: a deployed_model that reads "expected" or "invalid UTF-8"
// cannot turn an invalid time into a wrong type.
TEST(ParseDeploymentPage, EachProblemCarriesItsKind) {
  const DeploymentPage page =
      MustParse(Page(R"({"capacity":1},)"
                     R"({"deployed_model":"expected invalid UTF-8","gmt_create":"soon"},)"
                     R"({"deployed_model":"b","capacity":"lots"},)"
                     R"(7)"));
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment #0: missing deployed_model",
                          "deployment \"expected invalid UTF-8\": field gmt_create: invalid time \"soon\"",
                          "deployment \"b\": field capacity: expected a number, got string",
                          "deployment #3: expected an object, got number"));
  EXPECT_THAT(Labels(page.problems),
              ElementsAre("missing_deployed_model", "malformed_record", "wrong_type", "wrong_type"));
  EXPECT_EQ(MustParse(Page(R"({"deployed_model":"c","name":")"
                           "\xff"
                           R"("})"))
                .problems.at(0)
                .label(),
            "invalid_utf8");
}

TEST(ParseDeploymentPage, NonObjectElementsAreDroppedAndCounted) {
  const DeploymentPage page = MustParse(Page(R"(1,[{"deployed_model":"x"}],{"deployed_model":"y"},true)"));
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, "y");
  EXPECT_THAT(Texts(page.problems), ElementsAre("deployment #0: expected an object, got number",
                                                "deployment #1: expected an object, got array",
                                                "deployment #3: expected an object, got boolean"));
}

TEST(ParseDeploymentPage, ProblemsAreCappedButCounted) {
  std::string items = R"({"deployed_model":"ok"})";
  for (int i = 0; i < 1000; ++i) items += ",0";
  const DeploymentPage page = MustParse(R"({"output":{"total":"x","deployments":[)" + items + "]}}");
  ASSERT_EQ(page.deployments.size(), 1u);
  ASSERT_EQ(page.problems.size(), kMaxListedProblems);
  EXPECT_EQ(page.problems.front().text, "field output.total: expected an integer, got string");
  EXPECT_EQ(page.problems[1].text, "deployment #1: expected an object, got number");
  EXPECT_EQ(page.problems.back().text, "deployment #99: expected an object, got number");
  EXPECT_EQ(page.problems_not_listed, 1001u - kMaxListedProblems);
}

// --------------------------------------------------------------- strings

TEST(ParseDeploymentPage, InvalidUtf8IsReplacedAndNamed) {
  const DeploymentPage page =
      MustParse(Page("{\"name\":\"caf\xC3\",\"deployed_model\":\"m-\xFF\",\"model_name\":\"ok \xE2\x9C\x93 "
                     "\xF0\x9F\x98\x80\","
                     "\"status\":\"\xE2\x82x\",\"plan\":\"\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\x80\x80\","
                     "\"workspace_id\":"
                     "\"w\xF0\x9F\x98\"}"));
  ASSERT_EQ(page.deployments.size(), 1u);
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.deployed_model, "m-\uFFFD");
  EXPECT_EQ(d.name, "caf\uFFFD");
  EXPECT_EQ(d.model_name, "ok \u2713 \U0001F600");  // valid multi-byte text is untouched
  EXPECT_EQ(d.status, "\uFFFDx");                   // one U+FFFD per maximal ill-formed subpart
  EXPECT_EQ(d.plan, "\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD\uFFFD|\uFFFD\uFFFD");
  EXPECT_EQ(d.workspace_id, "w\uFFFD");
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment \"m-\uFFFD\": field name: invalid UTF-8 replaced",
                          "deployment \"m-\uFFFD\": field deployed_model: invalid UTF-8 replaced",
                          "deployment \"m-\uFFFD\": field status: invalid UTF-8 replaced",
                          "deployment \"m-\uFFFD\": field plan: invalid UTF-8 replaced",
                          "deployment \"m-\uFFFD\": field workspace_id: invalid UTF-8 replaced"));
}

TEST(ParseDeploymentPage, JsonEscapesDecode) {
  const DeploymentPage page = MustParse(Page(
      R"({"deployed_model":"a\"b\\c\u00e9\ud83d\ude00","name":"lone \udc00 low","status":"tab\there"})"));
  ASSERT_EQ(page.deployments.size(), 1u);
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.deployed_model, "a\"b\\c\u00e9\U0001F600");
  // A lone surrogate is not a character; its 3 bytes are 3 ill-formed subparts.
  EXPECT_EQ(d.name, "lone \uFFFD\uFFFD\uFFFD low");
  EXPECT_EQ(d.status, "tab\there");
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment \"a\\\"b\\\\c\u00e9\U0001F600\": field name: invalid UTF-8 replaced"));
  EXPECT_EQ(ParseError(Page(R"({"deployed_model":"\ud800"})")),
            "invalid_response: JSON parse error at offset 82: The surrogate pair in string is invalid.");
}

TEST(ParseDeploymentPage, HugeStrings) {
  const std::string huge(8 << 20, 'n');
  const DeploymentPage page =
      MustParse(Page(R"({"deployed_model":")" + huge + R"(","name":")" + huge + R"(","capacity":"x"})"));
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].deployed_model, huge);
  EXPECT_EQ(page.deployments[0].name, huge);
  // The problem quotes a shortened name so a log line stays small.
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment \"" + std::string(128, 'n') +
                          "\"... (8388608 bytes): field capacity: expected a number, got string"));
}

TEST(ParseDeploymentPage, QuotedValuesAreEscapedAndCutOnCharacterBoundaries) {
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes; 128 is not a multiple of 3
  std::string long_time;
  for (int i = 0; i < 50; ++i) long_time += euro;
  const DeploymentPage page = MustParse(
      Page(R"({"deployed_model":"x\ny\u0001","gmt_create":")" + long_time + R"(","gmt_modified":"bad\"q"})"));
  std::string shown;
  for (int i = 0; i < 42; ++i) shown += euro;  // 126 bytes
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment \"x\\ny\\u0001\": field gmt_create: invalid time \"" + shown +
                              "\"... (150 bytes)",
                          "deployment \"x\\ny\\u0001\": field gmt_modified: invalid time \"bad\\\"q\""));
}

// --------------------------------------------------------------- nesting

TEST(ParseDeploymentPage, DeepNestingIsRefusedWithoutCrashing) {
  const std::string kDeep = "invalid_response: JSON nested deeper than 64 levels";
  EXPECT_EQ(ParseError(std::string(100000, '[')),
            "invalid_response: expected a JSON object at the top level, got array");
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[)" + std::string(100000, '[')), kDeep);
  EXPECT_EQ(ParseError(R"({"output":{"deployments":[)" + std::string(100000, '[') + std::string(100000, ']') +
                       "]}}"),
            kDeep);

  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1";
  for (int i = 0; i < 100000; ++i) objects += "}";
  EXPECT_EQ(ParseError(objects), kDeep);
  EXPECT_EQ(
      ParseError(R"({"output":{"deployments":[{"deployed_model":"x","ptu_capacity":)" + objects + "}]}}"),
      kDeep);
}

TEST(ParseDeploymentPage, SixtyFourLevelsAreAllowed) {
  // The top-level object is level 1; "extra" adds levels 2..n.
  const auto body = [](int levels) {
    std::string s = R"({"output":{"deployments":[]},"extra":)";
    for (int i = 1; i < levels; ++i) s += "[";
    for (int i = 1; i < levels; ++i) s += "]";
    return s + "}";
  };
  EXPECT_TRUE(ParseDeploymentPage(body(64)).ok());
  EXPECT_EQ(ParseError(body(65)), "invalid_response: JSON nested deeper than 64 levels");
}

// --------------------------------------------------------------- misc

TEST(ParseDeploymentPage, LeadingByteOrderMarkIsAccepted) {
  EXPECT_TRUE(ParseDeploymentPage("\xEF\xBB\xBF" + ReadFixture("list_empty.json")).ok());
  EXPECT_EQ(ParseError("\xEF\xBB\xBF<html>"),
            "invalid_response: JSON parse error at offset 3: Invalid value.");
}

// --------------------------------------------------------------- error bodies

TEST(ParseApiError, Fixtures) {
  auto e = ParseApiError(ReadFixture("error_invalid_api_key.json"));
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->code, "InvalidApiKey");
  EXPECT_EQ(e->message, "Invalid API-key provided.");
  EXPECT_EQ(e->request_id, "ca218d57-b91b-46b2-bd35-c41c6287bcf4");

  e = ParseApiError(ReadFixture("error_throttling.json"));
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->code, "Throttling.RateQuota");
  EXPECT_EQ(e->message, "Requests rate limit exceeded, please try again later.");
  EXPECT_EQ(e->request_id, "b7d3e0f2-1c4a-9e8b-a6d5-0f1e2d3c4b5a");
}

TEST(ParseApiError, AbsentOrOddMembersAreEmpty) {
  auto e = ParseApiError(R"({"message":"Model: qwen-plus-20230703-cx7f not found!"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "");
  EXPECT_EQ(e->message, "Model: qwen-plus-20230703-cx7f not found!");
  EXPECT_EQ(e->request_id, "");

  e = ParseApiError(
      R"({"code":404,"request_id":{"code":"Nested"},"message":"first","message":"second","output":{"code":"X"}})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "");
  EXPECT_EQ(e->request_id, "");
  EXPECT_EQ(e->message, "second");

  e = ParseApiError("{\"code\":\"Bad\xFF\"}");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "Bad\uFFFD");
}

TEST(ParseApiError, NotAnObject) {
  for (const char* body : {"[]", "\"InvalidApiKey\"", "null", "429"}) {
    auto e = ParseApiError(body);
    ASSERT_FALSE(e.ok()) << body;
    EXPECT_EQ(e.error(), "invalid_response: error body is not a JSON object") << body;
  }
  auto e = ParseApiError(ReadFixture("gateway_502.html"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), "invalid_response: JSON parse error at offset 0: Invalid value.");
  e = ParseApiError(R"({"code":"Throttling","message":"Requests rate)");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(),
            "invalid_response: JSON parse error at offset 45: Missing a closing quotation mark in string.");
  e = ParseApiError("");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), "invalid_response: JSON parse error at offset 0: The document is empty.");
}

TEST(ParseApiError, DeepNestingIsRefused) {
  auto e = ParseApiError(R"({"code":"X","detail":)" + std::string(100000, '['));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(), "invalid_response: JSON nested deeper than 64 levels");
}

// --------------------------------------------------------------- time

TEST(ParseApiTime, ExactUnixSeconds) {
  EXPECT_EQ(ParseApiTime("2025-06-17T11:00:38"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17 11:00:38"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17T11:00:38Z"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17T11:00:38.999Z"), 1750158038);  // fractions are dropped
  EXPECT_EQ(ParseApiTime("2025-06-17T11:00:38.123456789"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17T19:00:38+08:00"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17T05:30:38-05:30"), 1750158038);
  EXPECT_EQ(ParseApiTime("2025-06-17T11:00:38+00:00"), 1750158038);
  EXPECT_EQ(ParseApiTime("1970-01-01T00:00:00"), 0);
  EXPECT_EQ(ParseApiTime("1969-12-31T23:59:59"), -1);
  EXPECT_EQ(ParseApiTime("2000-02-29T12:00:00"), 951825600);
  EXPECT_EQ(ParseApiTime("2024-02-29T00:00:00"), 1709164800);
  EXPECT_EQ(ParseApiTime("2024-12-31T23:59:59"), 1735689599);
  EXPECT_EQ(ParseApiTime("2038-01-19T03:14:08"), 2147483648);
  EXPECT_EQ(ParseApiTime("9999-12-31T23:59:59"), 253402300799);
  EXPECT_EQ(ParseApiTime("0000-01-01T00:00:00"), -62167219200);
}

TEST(ParseApiTime, RejectsMalformedAndOutOfRange) {
  for (const char* bad : {"",
                          "2025-06-17",
                          "2025-06-17T11:00",
                          "2025-06-17T11:00:38.",
                          "2025-06-17T11:00:38+0800",
                          "2025-06-17T11:00:38+08",
                          "2025-06-17T11:00:38+24:00",
                          "2025-06-17T11:00:38+08:60",
                          "2025-06-17T11:00:38Zjunk",
                          "2025-06-17T11:00:38ZZ",
                          "2025-6-17T11:00:38",
                          " 2025-06-17T11:00:38",
                          "2025-06-17T11:00:38 ",
                          "2025-06-17t11:00:38",
                          "2025/06/17T11:00:38",
                          "2025-06-17T11:00:3x",
                          "2025-00-17T11:00:00",
                          "2025-13-01T00:00:00",
                          "2025-06-00T00:00:00",
                          "2025-06-31T00:00:00",
                          "2023-02-29T00:00:00",
                          "1900-02-29T00:00:00",
                          "2025-06-17T24:00:00",
                          "2025-06-17T11:60:00",
                          "2025-06-17T11:00:60",
                          "+2025-06-17T11:00:38",
                          "yesterday"}) {
    EXPECT_EQ(ParseApiTime(bad), std::nullopt) << bad;
  }
}

// --------------------------------------------------------------- second-release fields

TEST(ParseDeploymentPage, EveryFieldOfTheReference) {
  const DeploymentPage page = MustParse(ReadFixture("list_every_field.json"));
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 5u);

  const Deployment& ptu = page.deployments[0];
  EXPECT_EQ(ptu.rpm_limit, 600.0);  // a String in the reference
  EXPECT_EQ(ptu.tpm_limit, 2000000.0);
  EXPECT_EQ(ptu.ptu_input_tpm, 1000000.0);
  EXPECT_EQ(ptu.ptu_output_tpm, 200000.0);
  EXPECT_EQ(ptu.pre_paid_gmt_expired, 1752750038);  // 2025-07-17T11:00:38Z
  EXPECT_EQ(ptu.ptu_service_tier, "ptu_fast");
  EXPECT_EQ(ptu.overflow_strategy, "enable");
  EXPECT_EQ(ptu.model_unit_spec, std::nullopt);
  EXPECT_EQ(ptu.fail_reason, std::nullopt);

  const Deployment& quota = page.deployments[1];
  EXPECT_EQ(quota.status, "WAIT_PRE_PAID_BILLING_TO_DEPLOYING");  // raw, as sent
  EXPECT_EQ(quota.ptu_input_tpm, 500000.0);
  EXPECT_EQ(quota.ptu_output_tpm, 100000.0);
  EXPECT_EQ(quota.ptu_service_tier, "ptu_default");
  EXPECT_EQ(quota.overflow_strategy, "disable");

  const Deployment& mu = page.deployments[2];
  EXPECT_EQ(mu.model_unit_spec, "mu.standard.2x");
  EXPECT_EQ(mu.fail_reason, "Insufficient resources in the region; try a smaller capacity.");
  EXPECT_EQ(mu.capacity, 4.0);
  EXPECT_EQ(mu.ready_capacity, 0.0);
  EXPECT_EQ(mu.ptu_input_tpm, std::nullopt);  // absent is absent, never 0
  EXPECT_EQ(mu.pre_paid_gmt_expired, std::nullopt);

  const Deployment& beside = page.deployments[3];
  EXPECT_EQ(beside.status, "SCALING");
  EXPECT_EQ(beside.base_capacity, 1.5);
  EXPECT_EQ(beside.ptu_input_tpm, 300000.0);  // input_tpm_quota beside ptu_capacity
  EXPECT_EQ(beside.ptu_output_tpm, 60000.0);
}

TEST(ParseDeploymentPage, NumericStringsAreNumbers) {
  const DeploymentPage page =
      MustParse(Page(R"({"deployed_model":"a","capacity":"2","base_capacity":"0.5","ready_capacity":"-1",)"
                     R"("rpm_limit":"6e1","tpm_limit":"1E+3"})"));
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 1u);
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.capacity, 2.0);
  EXPECT_EQ(d.base_capacity, 0.5);
  EXPECT_EQ(d.ready_capacity, -1.0);
  EXPECT_EQ(d.rpm_limit, 60.0);
  EXPECT_EQ(d.tpm_limit, 1000.0);
}

TEST(ParseDeploymentPage, StringsThatAreNotDecimalNumbersAreWrongTypes) {
  for (const char* bad : {"", " 1", "1 ", "+1", "0x10", "1,000", "1.", ".5", "01", "inf", "nan", "NaN", "1e",
                          "1e400", "sixty", "60rpm"}) {
    const DeploymentPage page =
        MustParse(Page(std::string(R"({"deployed_model":"a","rpm_limit":")") + bad + "\"}"));
    EXPECT_THAT(Texts(page.problems),
                ElementsAre("deployment \"a\": field rpm_limit: expected a number, got string"))
        << bad;
    ASSERT_EQ(page.deployments.size(), 1u);
    EXPECT_EQ(page.deployments[0].rpm_limit, std::nullopt) << bad;
  }
}

TEST(ParseDeploymentPage, PtuSpellingsAndPrecedence) {
  // The plain name wins over its quota spelling, inside ptu_capacity wins over beside it.
  const DeploymentPage page = MustParse(
      Page(R"({"deployed_model":"a","input_tpm_quota":3,"output_tpm_quota":30,)"
           R"("ptu_capacity":{"input_tpm_quota":2,"input_tpm":1,"output_tpm_quota":20}},)"
           R"({"deployed_model":"b","output_tpm_quota":40},)"
           R"({"deployed_model":"c","ptu_capacity":{"input_tpm":1},"ptu_capacity":{"output_tpm":2}})"));
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 3u);
  EXPECT_EQ(page.deployments[0].ptu_input_tpm, 1.0);
  EXPECT_EQ(page.deployments[0].ptu_output_tpm, 20.0);
  EXPECT_EQ(page.deployments[1].ptu_input_tpm, std::nullopt);
  EXPECT_EQ(page.deployments[1].ptu_output_tpm, 40.0);
  // A later ptu_capacity replaces the earlier one whole.
  EXPECT_EQ(page.deployments[2].ptu_input_tpm, std::nullopt);
  EXPECT_EQ(page.deployments[2].ptu_output_tpm, 2.0);
}

TEST(ParseDeploymentPage, NewFieldsWithWrongTypesAreNamed) {
  const DeploymentPage page = MustParse(
      Page(R"({"deployed_model":"a","ptu_capacity":"1000","pre_paid_gmt_expired":1752750038,)"
           R"("ptu_service_tier":1,"overflow_strategy":true,"model_unit_spec":["x"],"fail_reason":{"m":"x"},)"
           R"("input_tpm_quota":false},)"
           R"({"deployed_model":"b","ptu_capacity":{"input_tpm":"lots","output_tpm":[1],"unknown":{"x":1}},)"
           R"("pre_paid_gmt_expired":"next month"})"));
  EXPECT_THAT(Texts(page.problems),
              ElementsAre("deployment \"a\": field ptu_capacity: expected an object, got string",
                          "deployment \"a\": field pre_paid_gmt_expired: expected a string, got number",
                          "deployment \"a\": field ptu_service_tier: expected a string, got number",
                          "deployment \"a\": field overflow_strategy: expected a string, got boolean",
                          "deployment \"a\": field model_unit_spec: expected a string, got array",
                          "deployment \"a\": field fail_reason: expected a string, got object",
                          "deployment \"a\": field input_tpm_quota: expected a number, got boolean",
                          "deployment \"b\": field ptu_capacity.input_tpm: expected a number, got string",
                          "deployment \"b\": field ptu_capacity.output_tpm: expected a number, got array",
                          "deployment \"b\": field pre_paid_gmt_expired: invalid time \"next month\""));
  ASSERT_EQ(page.deployments.size(), 2u);
  for (const Deployment& d : page.deployments) {
    EXPECT_EQ(d.ptu_input_tpm, std::nullopt);
    EXPECT_EQ(d.ptu_output_tpm, std::nullopt);
    EXPECT_EQ(d.pre_paid_gmt_expired, std::nullopt);
    EXPECT_EQ(d.ptu_service_tier, std::nullopt);
    EXPECT_EQ(d.fail_reason, std::nullopt);
  }
}

TEST(ParseDeploymentPage, NullNewFieldsAreAbsent) {
  const DeploymentPage page = MustParse(
      Page(R"({"deployed_model":"a","ptu_capacity":null,"pre_paid_gmt_expired":null,"fail_reason":null,)"
           R"("model_unit_spec":null,"ptu_capacity":{"input_tpm":null}})"));
  EXPECT_THAT(Texts(page.problems), IsEmpty());
  ASSERT_EQ(page.deployments.size(), 1u);
  EXPECT_EQ(page.deployments[0].ptu_input_tpm, std::nullopt);
  EXPECT_EQ(page.deployments[0].fail_reason, std::nullopt);
  EXPECT_EQ(page.deployments[0].model_unit_spec, std::nullopt);
}

TEST(ApplyApiTimeZone, ShiftsOnlyTheTimesThatCameWithoutAZone) {
  DeploymentPage page = MustParse(Page(
      R"({"deployed_model":"a","gmt_create":"2025-06-17T19:00:00","gmt_modified":"2025-06-17T11:00:00Z",)"
      R"("pre_paid_gmt_expired":"2025-07-17T08:00:00"})"));
  ASSERT_EQ(page.deployments.size(), 1u);
  ApplyApiTimeZone(page.deployments, 8 * 3600);  // +08:00
  const Deployment& d = page.deployments[0];
  EXPECT_EQ(d.gmt_create, 1750158000);            // 2025-06-17T11:00:00Z
  EXPECT_EQ(d.gmt_modified, 1750158000);          // had a zone: unchanged
  EXPECT_EQ(d.pre_paid_gmt_expired, 1752710400);  // 2025-07-17T00:00:00Z
  ApplyApiTimeZone(page.deployments, 8 * 3600);   // once only
  EXPECT_EQ(d.gmt_create, 1750158000);
}

// --------------------------------------------------------------- robustness

const std::vector<std::string> kAllFixtures = {
    "list_output_envelope.json",
    "list_data_envelope.json",
    "list_missing_optional_fields.json",
    "list_wrong_types.json",
    "list_missing_deployed_model.json",
    "list_empty.json",
    "error_invalid_api_key.json",
    "error_throttling.json",
    "gateway_502.html",
    "list_truncated.json",
    "list_page_of_200.json",
    "list_every_field.json",
};

using testing::IsValidUtf8;

void CheckInvariants(const Result<DeploymentPage>& page, const std::string& what) {
  if (!page.ok()) {
    EXPECT_EQ(page.error().rfind("invalid_response: ", 0), 0u) << what;
    return;
  }
  EXPECT_LE(page->problems.size(), kMaxListedProblems) << what;
  for (const Deployment& d : page->deployments) {
    EXPECT_FALSE(d.deployed_model.empty()) << what;
    EXPECT_TRUE(IsValidUtf8(d.deployed_model)) << what;
    EXPECT_TRUE(IsValidUtf8(d.workspace_id)) << what;
    for (const auto* s : {&d.name, &d.model_name, &d.base_model, &d.status, &d.plan, &d.charge_type}) {
      if (s->has_value()) {
        EXPECT_TRUE(IsValidUtf8(**s)) << what;
      }
    }
  }
  for (const Problem& p : page->problems) EXPECT_TRUE(IsValidUtf8(p.text)) << what;
}

TEST(Robustness, EveryFixtureSurvivesRandomTruncation) {
  std::mt19937 rng(20250617);
  for (const std::string& name : kAllFixtures) {
    const std::string body = ReadFixture(name);
    const std::size_t end = body.find_last_not_of(" \t\r\n") + 1;
    for (int i = 0; i < 300; ++i) {
      const std::size_t cut = std::uniform_int_distribution<std::size_t>(0, body.size())(rng);
      const std::string prefix = body.substr(0, cut);
      const auto page = ParseDeploymentPage(prefix);
      CheckInvariants(page, name + " cut at " + std::to_string(cut));
      if (cut < end) {
        EXPECT_FALSE(page.ok()) << name << " cut at " << cut;
        EXPECT_FALSE(ParseApiError(prefix).ok()) << name << " cut at " << cut;
      }
    }
  }
}

TEST(Robustness, EveryFixtureSurvivesRandomByteChanges) {
  std::mt19937 rng(4242);
  for (const std::string& name : kAllFixtures) {
    const std::string body = ReadFixture(name);
    for (int i = 0; i < 300; ++i) {
      std::string mutated = body;
      const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int k = 0; k < edits && !mutated.empty(); ++k) {
        const std::size_t at = std::uniform_int_distribution<std::size_t>(0, mutated.size() - 1)(rng);
        mutated[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      }
      CheckInvariants(ParseDeploymentPage(mutated), name + " mutation " + std::to_string(i));
      (void)ParseApiError(mutated);
    }
  }
}

}  // namespace
}  // namespace dse::dashscope
