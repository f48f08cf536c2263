// End-to-end behaviour of dashscope_exporter against dashscope_mock: the
// acceptance checks of the contract (docs/contract.md), each asserting what a
// user sees (metric text, HTTP answers, exit codes, messages).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "testing/harness.h"

namespace dse::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

const std::string kUp = "dashscope_up{account=\"mock\"} 1";
const std::string kDown = "dashscope_up{account=\"mock\"} 0";

// The mock's default fleet (seed 1) lists this deployment first.
const std::string kFirstId = "qwen-plus-3ee61975-mock001";
// Index 1 of the fleet: PENDING at ticks 0-1, RUNNING from tick 2.
const std::string kCreatedId = "emo-e23f195c-mock002";

// One deployment as the mock lists it, read by the test straight from the
// mock's list endpoint.
struct ListedDeployment {
  std::string deployed_model;
  std::optional<std::string> name;
  std::string status;
  std::string model_name;
  std::string base_model;
  std::string workspace_id;
  std::string charge_type;
  std::optional<std::string> plan;
  double capacity = 0;
  double ready_capacity = 0;
  double base_capacity = 0;
  double created = 0;
  double modified = 0;
  std::optional<double> rpm_limit;
  std::optional<double> tpm_limit;
  std::optional<std::string> model_unit_spec;
  std::optional<std::string> ptu_service_tier;
  std::optional<std::string> overflow_strategy;
  std::optional<double> ptu_input_tpm;
  std::optional<double> ptu_output_tpm;
  std::optional<double> prepaid_expiry;
};

double ApiTime(const std::string& text) {
  std::tm tm{};
  strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<double>(timegm(&tm));
}

std::optional<std::string> OptionalString(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember(key) || !v[key].IsString()) return std::nullopt;
  return std::string(v[key].GetString());
}

// A JSON number, or a string holding one (the mock sends some rpm_limit so).
std::optional<double> OptionalNumber(const rapidjson::Value& v, const char* key) {
  if (!v.HasMember(key)) return std::nullopt;
  if (v[key].IsString()) return std::stod(v[key].GetString());
  if (!v[key].IsNumber()) return std::nullopt;
  return v[key].GetDouble();
}

// Every deployment of the mock, walking its pages of 200.
std::vector<ListedDeployment> ListMock(Mock& mock) {
  std::vector<ListedDeployment> out;
  for (int page = 1; page < 1000; ++page) {
    HttpResult r = mock.List(page, 200);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    EXPECT_FALSE(doc.HasParseError());
    const char* envelope = doc.HasMember("output") ? "output" : "data";
    if (doc.HasParseError() || !doc.HasMember(envelope)) return out;
    const rapidjson::Value& output = doc[envelope];
    const auto& list = output["deployments"];
    for (const auto& d : list.GetArray()) {
      ListedDeployment l;
      l.deployed_model = d["deployed_model"].GetString();
      l.name = OptionalString(d, "name");
      l.status = d["status"].GetString();
      l.model_name = d["model_name"].GetString();
      l.base_model = d["base_model"].GetString();
      l.workspace_id = d["workspace_id"].GetString();
      l.charge_type = d["charge_type"].GetString();
      l.plan = OptionalString(d, "plan");
      l.capacity = d["capacity"].GetDouble();
      l.ready_capacity = d["ready_capacity"].GetDouble();
      l.base_capacity = d["base_capacity"].GetDouble();
      l.created = ApiTime(d["gmt_create"].GetString());
      l.modified = ApiTime(d["gmt_modified"].GetString());
      l.rpm_limit = OptionalNumber(d, "rpm_limit");
      l.tpm_limit = OptionalNumber(d, "tpm_limit");
      l.model_unit_spec = OptionalString(d, "model_unit_spec");
      l.ptu_service_tier = OptionalString(d, "ptu_service_tier");
      l.overflow_strategy = OptionalString(d, "overflow_strategy");
      if (d.HasMember("ptu_capacity")) {
        l.ptu_input_tpm = OptionalNumber(d["ptu_capacity"], "input_tpm");
        l.ptu_output_tpm = OptionalNumber(d["ptu_capacity"], "output_tpm");
      }
      if (auto expiry = OptionalString(d, "pre_paid_gmt_expired")) l.prepaid_expiry = ApiTime(*expiry);
      out.push_back(std::move(l));
    }
    if (list.Size() == 0 || out.size() >= static_cast<size_t>(output["total"].GetInt64())) break;
  }
  return out;
}

// The labels of a series `name{a="x",...}`, in their written order.
std::vector<std::pair<std::string, std::string>> Labels(const std::string& series) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = series.find('{');
  if (i == std::string::npos) return out;
  ++i;
  while (i < series.size() && series[i] != '}') {
    const size_t eq = series.find('=', i);
    std::string key = series.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;  // past ="
    for (; j < series.size() && series[j] != '"'; ++j) {
      if (series[j] == '\\' && j + 1 < series.size()) {
        ++j;
        value += series[j] == 'n' ? '\n' : series[j];
      } else {
        value += series[j];
      }
    }
    out.emplace_back(std::move(key), std::move(value));
    i = j + 1;
    if (i < series.size() && series[i] == ',') ++i;
  }
  return out;
}

std::string Label(const std::string& series, const std::string& key) {
  for (const auto& [k, v] : Labels(series)) {
    if (k == key) return v;
  }
  return "";
}

std::string MetricName(const std::string& series) { return series.substr(0, series.find('{')); }

// The deployment series of a scrape, in order.
std::vector<std::string> DeploymentLines(const std::string& exposition) {
  return LinesStartingWith(exposition, "dashscope_deployment_");
}

double Value(const std::string& exposition, const std::string& series) {
  return Sample(exposition, series).value_or(-1);
}

std::string Series(const std::string& metric, const std::string& id, const std::string& account = "mock") {
  return metric + "{account=\"" + account + "\",workspace_id=\"llm-mock\",deployed_model=\"" + id + "\"}";
}

// Runs promtool check metrics over `exposition`; its exit code and output.
std::pair<int, std::string> Promtool(const std::string& exposition) {
  const TempDir dir("dse_promtool");
  const std::string file = dir.File("metrics.prom");
  EXPECT_TRUE(WriteFile(file, exposition));
  // promtool reads the metrics from stdin; Process gives children /dev/null.
  auto p = Process::Start("/bin/sh", {"-c", "exec /usr/bin/promtool check metrics < \"$0\"", file});
  std::optional<int> code = p ? p->WaitExit(30000ms) : std::nullopt;
  std::string output = p ? p->Stdout() + p->Stderr() : "";
  return {code.value_or(-1), output};
}

// True once the mock holds one delayed list request (waiting up to 5 s), so
// that what a test checks next happens while the exporter waits on it, not at
// a guessed time.
bool MockHoldsADelayedRequest(Mock& mock) {
  return WaitUntil(
      [&] {
        return mock.Admin("GET", "/mock/state").body.find("\"delays_in_flight\":1") != std::string::npos;
      },
      5000ms);
}

// ---------------------------------------------------------------------------
// A large fleet: every deployment exactly once, with the mock's values.

struct FleetCase {
  int page_size;
  std::string envelope;  // the mock's --envelope: output, data or alternate (per page)
};

class LargeFleetTest : public ::testing::TestWithParam<FleetCase> {};

TEST_P(LargeFleetTest, OneSeriesSetPerDeploymentWithTheMocksValues) {
  const int page_size = GetParam().page_size;
  constexpr int kFleet = 450;
  auto mock = Mock::Start({"--deployments", std::to_string(kFleet), "--envelope", GetParam().envelope});
  ASSERT_NE(mock, nullptr);
  // A long interval: exactly one poll happens during the test, so the request
  // counter can be compared with the number of pages.
  auto exporter = Exporter::Start(MockConfig(
      *mock, "poll_interval: 60s\nrequest_timeout: 5s\npage_size: " + std::to_string(page_size) + "\n"));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 10000ms)) << exporter->Metrics();

  const std::string text = exporter->Metrics();
  // Read before the test's own list requests below add to it.
  const std::string mock_state = mock->Admin("GET", "/mock/state").body;
  const std::vector<ListedDeployment> listed = ListMock(*mock);
  ASSERT_EQ(listed.size(), static_cast<size_t>(kFleet));

  EXPECT_THAT(text, HasSubstr("\ndashscope_deployments{account=\"mock\"} 450\n"));
  const int pages = (kFleet + page_size - 1) / page_size;
  EXPECT_EQ(Value(text, "dashscope_api_requests_total{account=\"mock\"}"), pages);
  EXPECT_EQ(Value(text, "dashscope_polls_total{account=\"mock\"}"), 1);

  // Count lines per (family, deployed_model): duplicates would collapse in a map.
  std::map<std::string, std::map<std::string, int>> lines_per_family;
  std::map<std::string, int> status_ones;
  std::map<std::string, std::string> status_of;
  const auto lines = DeploymentLines(text);
  for (const std::string& line : lines) {
    const std::string series = line.substr(0, line.rfind(' '));
    const std::string id = Label(series, "deployed_model");
    ++lines_per_family[MetricName(series)][id];
    if (MetricName(series) == "dashscope_deployment_status" && line.ends_with("} 1")) {
      ++status_ones[id];
      status_of[id] = Label(series, "status");
    }
  }
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(), static_cast<size_t>(kFleet));
  for (const char* family : {"dashscope_deployment_capacity", "dashscope_deployment_ready_capacity",
                             "dashscope_deployment_base_capacity", "dashscope_deployment_info",
                             "dashscope_deployment_created_timestamp_seconds",
                             "dashscope_deployment_modified_timestamp_seconds"}) {
    EXPECT_EQ(lines_per_family[family].size(), static_cast<size_t>(kFleet)) << family;
    for (const auto& [id, n] : lines_per_family[family]) EXPECT_EQ(n, 1) << family << " " << id;
  }
  EXPECT_EQ(lines_per_family["dashscope_deployment_status"].size(), static_cast<size_t>(kFleet));
  for (const auto& [id, n] : lines_per_family["dashscope_deployment_status"]) EXPECT_EQ(n, 7) << id;

  const auto samples = ParseSamples(text);
  auto sample = [&](const std::string& series) -> std::optional<double> {
    auto it = samples.find(series);
    return it == samples.end() ? std::nullopt : std::optional(it->second);
  };
  // One message per differing value; the first few are shown.
  std::vector<std::string> mismatches;
  auto expect = [&](const std::string& series, std::optional<double> want) {
    const std::optional<double> got = sample(series);
    if (got != want) {
      mismatches.push_back(series + ": exporter " + (got ? std::to_string(*got) : "absent") + ", mock " +
                           (want ? std::to_string(*want) : "absent"));
    }
  };
  for (const ListedDeployment& d : listed) {
    const std::string& id = d.deployed_model;
    expect(Series("dashscope_deployment_capacity", id), d.capacity);
    expect(Series("dashscope_deployment_ready_capacity", id), d.ready_capacity);
    expect(Series("dashscope_deployment_base_capacity", id), d.base_capacity);
    expect(Series("dashscope_deployment_created_timestamp_seconds", id), d.created);
    expect(Series("dashscope_deployment_modified_timestamp_seconds", id), d.modified);
    expect(Series("dashscope_deployment_limit_requests_per_minute", id), d.rpm_limit);
    expect(Series("dashscope_deployment_limit_tokens_per_minute", id), d.tpm_limit);
    expect(Series("dashscope_deployment_ptu_input_tpm", id), d.ptu_input_tpm);
    expect(Series("dashscope_deployment_ptu_output_tpm", id), d.ptu_output_tpm);
    expect(Series("dashscope_deployment_prepaid_expiry_timestamp_seconds", id), d.prepaid_expiry);
    expect(Series("dashscope_deployment_status_changes_total", id), 0.0);  // one poll: no change seen
    expect(Series("dashscope_deployment_status_changed_timestamp_seconds", id), d.modified);
    const std::string info = "dashscope_deployment_info{account=\"mock\",workspace_id=\"" + d.workspace_id +
                             "\",deployed_model=\"" + id + "\",name=\"" + d.name.value_or("") +
                             "\",model_name=\"" + d.model_name + "\",base_model=\"" + d.base_model +
                             "\",plan=\"" + d.plan.value_or("") + "\",charge_type=\"" + d.charge_type +
                             "\",model_unit_spec=\"" + d.model_unit_spec.value_or("") +
                             "\",ptu_service_tier=\"" + d.ptu_service_tier.value_or("") +
                             "\",overflow_strategy=\"" + d.overflow_strategy.value_or("") + "\"}";
    expect(info, 1.0);
    static const std::set<std::string> kSeven = {"PENDING",  "UPDATING", "RUNNING", "STOPPED",
                                                 "DELETING", "FAILED",   "UNKNOWN"};
    const bool known = kSeven.contains(d.status);
    const std::string three =
        "{account=\"mock\",workspace_id=\"" + d.workspace_id + "\",deployed_model=\"" + id + "\"";
    expect("dashscope_deployment_unexpected_status_info" + three + ",raw_status=\"" + d.status + "\"}",
           known ? std::nullopt : std::optional(1.0));
    if (status_ones[id] != 1 || status_of[id] != (known ? d.status : "UNKNOWN")) {
      mismatches.push_back(id + ": " + std::to_string(status_ones[id]) + " status series at 1 (" +
                           status_of[id] + "), mock status " + d.status);
    }
  }
  std::string shown;
  for (size_t i = 0; i < mismatches.size() && i < 5; ++i) shown += mismatches[i] + "\n";
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches, first:\n" << shown;

  // The mock agrees on how many list requests it answered.
  EXPECT_THAT(mock_state, HasSubstr("\"list_requests\":" + std::to_string(pages) + ","));
}

INSTANTIATE_TEST_SUITE_P(Pages, LargeFleetTest,
                         ::testing::Values(FleetCase{200, "output"}, FleetCase{50, "output"},
                                           FleetCase{50, "alternate"}),
                         [](const auto& param_info) {
                           return "PageSize" + std::to_string(param_info.param.page_size) + "_" +
                                  param_info.param.envelope;
                         });

// ---------------------------------------------------------------------------
// Exact text for one pinned deployment.

TEST(ExporterTest, PinnedDeploymentHasExactLines) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  // Pinned at tick 0: gmt_modified becomes tick 0, 2025-06-17T11:00:00Z.
  ASSERT_EQ(
      mock->Admin("POST", "/mock/deployments?set=" + kFirstId + "&status=STOPPED&capacity=4&ready_capacity=0")
          .status,
      200);
  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?add=pinned-e2e-001&status=RUNNING&capacity=3&name=Pinned")
                .status,
            200);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  const std::string text = exporter->Metrics();

  const std::string labels =
      "{account=\"mock\",workspace_id=\"llm-mock\",deployed_model=\"" + kFirstId + "\"";
  const std::vector<std::string> expected = {
      "dashscope_deployment_capacity" + labels + "} 4",
      "dashscope_deployment_ready_capacity" + labels + "} 0",
      "dashscope_deployment_base_capacity" + labels + "} 2",
      "dashscope_deployment_status" + labels + ",status=\"PENDING\"} 0",
      "dashscope_deployment_status" + labels + ",status=\"UPDATING\"} 0",
      "dashscope_deployment_status" + labels + ",status=\"RUNNING\"} 0",
      "dashscope_deployment_status" + labels + ",status=\"STOPPED\"} 1",
      "dashscope_deployment_status" + labels + ",status=\"DELETING\"} 0",
      "dashscope_deployment_status" + labels + ",status=\"FAILED\"} 0",
      "dashscope_deployment_status" + labels + ",status=\"UNKNOWN\"} 0",
      "dashscope_deployment_info" + labels +
          ",name=\"support-assistant-1\",model_name=\"qwen-plus\",base_model=\"qwen-plus\",plan="
          "\"mu\","
          "charge_type=\"post_paid\",model_unit_spec=\"mu.small.1x\",ptu_service_tier=\"\","
          "overflow_strategy=\"\"} 1",
      "dashscope_deployment_created_timestamp_seconds" + labels + "} 1745085579",
      "dashscope_deployment_modified_timestamp_seconds" + labels + "} 1750158000",
      "dashscope_deployment_limit_requests_per_minute" + labels + "} 300",
      "dashscope_deployment_limit_tokens_per_minute" + labels + "} 60000",
      // First seen in STOPPED: it entered it at its gmt_modified, as far as we know.
      "dashscope_deployment_status_changed_timestamp_seconds" + labels + "} 1750158000",
      "dashscope_deployment_status_changes_total" + labels + "} 0",
  };
  std::vector<std::string> actual;
  for (const auto& line : DeploymentLines(text)) {
    if (line.find("deployed_model=\"" + kFirstId + "\"") != std::string::npos) actual.push_back(line);
  }
  EXPECT_EQ(actual, expected);

  // An added deployment without rpm/tpm limits has no limit series at all.
  const std::string added = "{account=\"mock\",workspace_id=\"llm-mock\",deployed_model=\"pinned-e2e-001\"";
  const std::vector<std::string> expected_added = {
      "dashscope_deployment_capacity" + added + "} 3",
      "dashscope_deployment_ready_capacity" + added + "} 3",
      "dashscope_deployment_base_capacity" + added + "} 1",
      "dashscope_deployment_status" + added + ",status=\"PENDING\"} 0",
      "dashscope_deployment_status" + added + ",status=\"UPDATING\"} 0",
      "dashscope_deployment_status" + added + ",status=\"RUNNING\"} 1",
      "dashscope_deployment_status" + added + ",status=\"STOPPED\"} 0",
      "dashscope_deployment_status" + added + ",status=\"DELETING\"} 0",
      "dashscope_deployment_status" + added + ",status=\"FAILED\"} 0",
      "dashscope_deployment_status" + added + ",status=\"UNKNOWN\"} 0",
      "dashscope_deployment_info" + added +
          ",name=\"Pinned\",model_name=\"qwen-plus\",base_model=\"qwen-plus\",plan=\"mu\",charge_"
          "type=\"post_paid\",model_unit_spec=\"mu.small.1x\",ptu_service_tier=\"\",overflow_strategy=\"\"} "
          "1",
      "dashscope_deployment_created_timestamp_seconds" + added + "} 1750158000",
      "dashscope_deployment_modified_timestamp_seconds" + added + "} 1750158000",
      "dashscope_deployment_status_changed_timestamp_seconds" + added + "} 1750158000",
      "dashscope_deployment_status_changes_total" + added + "} 0",
  };
  std::vector<std::string> actual_added;
  for (const auto& line : DeploymentLines(text)) {
    if (line.find("deployed_model=\"pinned-e2e-001\"") != std::string::npos) actual_added.push_back(line);
  }
  EXPECT_EQ(actual_added, expected_added);

  // Metadata of a family: HELP says the value comes from the last poll.
  EXPECT_THAT(text, HasSubstr("# TYPE dashscope_deployment_capacity gauge\n"));
  for (const auto& help : LinesStartingWith(text, "# HELP dashscope_deployment_")) {
    EXPECT_THAT(help, HasSubstr("last background poll")) << help;
  }
}

// ---------------------------------------------------------------------------
// The fleet changes: removals, additions, schedule-driven status changes.

TEST(ExporterTest, RemovedDeploymentVanishesAndAddedOneAppears) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  const std::string first = Series("dashscope_deployment_capacity", kFirstId);
  ASSERT_TRUE(exporter->WaitForMetric(first + " 6", 5000ms)) << exporter->Metrics();

  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?remove=" + kFirstId).status, 200);
  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?add=fresh-e2e-001&status=RUNNING&capacity=2").status, 200);

  const std::string fresh = Series("dashscope_deployment_capacity", "fresh-e2e-001");
  ASSERT_TRUE(exporter->WaitForMetric(fresh + " 2", 5000ms)) << exporter->Metrics();
  // Same scrape: the poll replaced the data at once.
  const std::string text = exporter->Metrics();
  EXPECT_THAT(text, Not(HasSubstr("deployed_model=\"" + kFirstId + "\"")));
  EXPECT_THAT(text, HasSubstr("\ndashscope_deployments{account=\"mock\"} 12\n"));
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(), 12u);
}

// The second release's fields, as the mock sends them in a fleet of 16:
// statuses outside the seven, PTU and prepaid fields, a string rpm_limit.
TEST(ExporterTest, EverythingTheApiSaysIsExported) {
  auto mock = Mock::Start({"--deployments", "16"});
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  const std::string text = exporter->Metrics();
  const auto labels = [](const std::string& id) {
    return "{account=\"mock\",workspace_id=\"llm-mock\",deployed_model=\"" + id + "\"";
  };
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_unexpected_status_info{"),
            (std::vector<std::string>{
                "dashscope_deployment_unexpected_status_info" + labels("qwen-turbo-a561c8cf-mock013") +
                    ",raw_status=\"DEPLOYING\"} 1",
                "dashscope_deployment_unexpected_status_info" + labels("qwen-turbo-6aa676f6-mock014") +
                    ",raw_status=\"WAIT_PRE_PAID_BILLING_TO_DEPLOYING\"} 1",
                "dashscope_deployment_unexpected_status_info" +
                    labels("qwen2.5-7b-instruct-c7cb17f2-mock015") + ",raw_status=\"SCALING\"} 1"}));
  EXPECT_TRUE(HasMetricLine(text, "dashscope_deployment_status" + labels("qwen-turbo-a561c8cf-mock013") +
                                      ",status=\"UNKNOWN\"} 1"));
  // Index 4 sends rpm_limit as the string "300".
  EXPECT_TRUE(HasMetricLine(
      text, Series("dashscope_deployment_limit_requests_per_minute", "qwen-plus-06c2f6a4-mock005") + " 300"));
  EXPECT_TRUE(HasMetricLine(
      text, Series("dashscope_deployment_prepaid_expiry_timestamp_seconds", kCreatedId) + " 1939374000"));
  const auto info = LinesStartingWith(text, "dashscope_deployment_info" + labels(kCreatedId) + ",");
  ASSERT_EQ(info.size(), 1u) << text;
  EXPECT_TRUE(
      info[0].ends_with(",plan=\"ptu\",charge_type=\"pre_paid\",model_unit_spec=\"\","
                        "ptu_service_tier=\"ptu_fast\",overflow_strategy=\"enable\"} 1"))
      << info[0];
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_ptu_input_tpm{").size(), 4u);
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_ptu_output_tpm{").size(), 4u);
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_failure_info{").size(), 0u);
  EXPECT_EQ(Promtool(text).first, 0) << Promtool(text).second;
}

// A status change seen across polls, then across SIGHUP reloads: one that
// keeps the account's poller and one that replaces it.
TEST(ExporterSignalTest, StatusHistoryFollowsChangesAcrossPollsAndReloads) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  // Pinned at tick 0: gmt_modified 2025-06-17T11:00:00Z.
  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?set=" + kFirstId + "&status=STOPPED").status, 200);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  const std::string changed = Series("dashscope_deployment_status_changed_timestamp_seconds", kFirstId);
  const std::string changes = Series("dashscope_deployment_status_changes_total", kFirstId);
  ASSERT_TRUE(exporter->WaitForMetric(changed + " 1750158000", 5000ms)) << exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), changes + " 0"));

  const double before = static_cast<double>(std::time(nullptr));
  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?set=" + kFirstId +
                                    "&status=FAILED&fail_reason=Insufficient%20quota")
                .status,
            200);
  ASSERT_TRUE(exporter->WaitForMetric(changes + " 1", 5000ms)) << exporter->Metrics();
  std::string text = exporter->Metrics();
  const double at = Value(text, changed);
  // The poll that saw the change timed it, in wall-clock time.
  EXPECT_GE(at, before - 1);
  EXPECT_LE(at, static_cast<double>(std::time(nullptr)) + 1);
  EXPECT_TRUE(HasMetricLine(text,
                            "dashscope_deployment_failure_info{account=\"mock\",workspace_id=\"llm-mock\","
                            "deployed_model=\"" +
                                kFirstId + "\",reason=\"Insufficient quota\"} 1"));
  // Polls that see the same status move nothing.
  const double polls = Value(text, "dashscope_polls_total{account=\"mock\"}");
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& t) { return Value(t, "dashscope_polls_total{account=\"mock\"}") >= polls + 2; },
      5000ms));
  text = exporter->Metrics();
  EXPECT_EQ(Value(text, changed), at);
  EXPECT_TRUE(HasMetricLine(text, changes + " 1"));

  // Reload with the account unchanged (another account added): its poller stays.
  exporter->RewriteConfig(MockConfig(*mock, "", MockAccountYaml(*mock, "second")));
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_up{account=\"second\"} 1", 5000ms)) << exporter->Metrics();
  text = exporter->Metrics();
  EXPECT_EQ(Value(text, changed), at);
  EXPECT_TRUE(HasMetricLine(text, changes + " 1"));
  // The new account saw no change yet: first seen in FAILED at the pin's time.
  EXPECT_TRUE(
      HasMetricLine(text, Series("dashscope_deployment_status_changes_total", kFirstId, "second") + " 0"));

  // A reload that replaces every poller (request_timeout changes): the history
  // reaches the new one.
  exporter->RewriteConfig(MockConfig(*mock, "request_timeout: 400ms\n"));
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(exporter->WaitForMetrics(
      [](const std::string& t) { return !t.empty() && t.find("account=\"second\"") == std::string::npos; },
      5000ms));
  const double polls_after = Value(exporter->Metrics(), "dashscope_polls_total{account=\"mock\"}");
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& t) {
        return Value(t, "dashscope_polls_total{account=\"mock\"}") >= polls_after + 1;
      },
      5000ms));
  text = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(text, "dashscope_exporter_config_last_reload_successful 1"));
  EXPECT_EQ(Value(text, changed), at);
  EXPECT_TRUE(HasMetricLine(text, changes + " 1"));

  // And the next change is counted on top.
  ASSERT_EQ(mock->Admin("POST", "/mock/deployments?set=" + kFirstId + "&status=RUNNING").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(changes + " 2", 5000ms)) << exporter->Metrics();
  EXPECT_EQ(LinesStartingWith(exporter->Metrics(), "dashscope_deployment_failure_info{").size(), 0u);
}

TEST(ExporterTest, StatusFollowsTheMocksSchedule) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  const std::string status =
      "dashscope_deployment_status{account=\"mock\",workspace_id=\"llm-mock\",deployed_model=\"" +
      kCreatedId + "\",status=";
  ASSERT_TRUE(exporter->WaitForMetric(status + "\"PENDING\"} 1", 5000ms)) << exporter->Metrics();
  EXPECT_TRUE(
      HasMetricLine(exporter->Metrics(), Series("dashscope_deployment_ready_capacity", kCreatedId) + " 0"));

  ASSERT_EQ(mock->Admin("POST", "/mock/tick?n=2").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(status + "\"RUNNING\"} 1", 5000ms)) << exporter->Metrics();
  const std::string text = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(text, status + "\"PENDING\"} 0"));
  EXPECT_TRUE(HasMetricLine(text, Series("dashscope_deployment_ready_capacity", kCreatedId) + " 2"));
  // Tick 2 is 20 simulated seconds after tick 0.
  EXPECT_TRUE(HasMetricLine(
      text, Series("dashscope_deployment_modified_timestamp_seconds", kCreatedId) + " 1750158020"));
}

// ---------------------------------------------------------------------------
// Exposition format.

TEST(ExporterTest, PromtoolCheckMetricsIsClean) {
  auto mock = Mock::Start({"--deployments", "60"});
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  {
    const std::string text = exporter->Metrics();
    auto [code, output] = Promtool(text);
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(output, "");
    // No sample carries a timestamp: every sample line is "series value".
    for (const std::string& line : LinesStartingWith(text, "")) {
      if (line.empty() || line[0] == '#') continue;
      const size_t end = line.find('}') != std::string::npos ? line.rfind('}') + 1 : line.find(' ');
      EXPECT_EQ(line.find(' ', end + 1), std::string::npos) << line;
    }
  }
  // Also with error counters and a failed poll in the exposition.
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=http&status=401&code=InvalidApiKey&times=0").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kDown, 5000ms));
  const std::string failing = exporter->Metrics();
  ASSERT_THAT(failing, HasSubstr("dashscope_api_errors_total{"));
  auto [code, output] = Promtool(failing);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "");
}

// ---------------------------------------------------------------------------
// HTTP endpoints.

TEST(ExporterTest, HttpEndpoints) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));

  HttpResult gz = exporter->Get("/metrics", {{"Accept-Encoding", "gzip"}});
  HttpResult plain = exporter->Get("/metrics");
  ASSERT_EQ(gz.status, 200);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(plain.Header("Content-Encoding"), "");
  EXPECT_EQ(gz.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");
  std::optional<std::string> unzipped = GunzipMembers(gz.body);
  ASSERT_TRUE(unzipped.has_value()) << "not a gzip stream: " << gz.body.size() << " bytes";
  EXPECT_FALSE(DeploymentLines(plain.body).empty());
  // Only process_* and the exporter's own counters may move between the two.
  EXPECT_EQ(DeploymentLines(*unzipped), DeploymentLines(plain.body));
  // The exporter's own request counter may gain a family between the two (a
  // request is counted once answered), so only deployment metadata is compared.
  for (const char* prefix : {"# HELP dashscope_deployment_", "# TYPE dashscope_deployment_"}) {
    EXPECT_EQ(LinesStartingWith(*unzipped, prefix), LinesStartingWith(plain.body, prefix));
    EXPECT_FALSE(LinesStartingWith(plain.body, prefix).empty());
  }

  // Negotiation: gzip only when the client lists it.
  EXPECT_EQ(exporter->Get("/metrics", {{"Accept-Encoding", "identity"}}).Header("Content-Encoding"), "");
  HttpResult listed = exporter->Get("/metrics", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(listed.Header("Content-Encoding"), "gzip");
  EXPECT_TRUE(GunzipMembers(listed.body).has_value());

  HttpResult health = exporter->Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(exporter->Get("/readyz").status, 200);

  HttpResult landing = exporter->Get("/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_THAT(landing.Header("Content-Type"), HasSubstr("text/html"));
  for (const ListedDeployment& d : ListMock(*mock)) EXPECT_THAT(landing.body, HasSubstr(d.deployed_model));
  EXPECT_THAT(landing.body, HasSubstr("/metrics"));
  // Statuses of the default fleet at tick 0 (index 1 PENDING, index 3 STOPPED).
  EXPECT_THAT(landing.body, HasSubstr("PENDING"));
  EXPECT_THAT(landing.body, HasSubstr("STOPPED"));
  EXPECT_THAT(landing.body, HasSubstr("RUNNING"));

  EXPECT_EQ(exporter->Get("/no/such/page").status, 404);
  EXPECT_EQ(exporter->Get("/metricsx").status, 404);
}

TEST(ExporterTest, ReadyOnlyAfterTheFirstSuccessfulPoll) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  // The first list request hangs for 3 s: the exporter serves meanwhile.
  // The checks run once the mock holds that request, not at a guessed time.
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=delay&ms=3000&times=1").status, 200);
  auto exporter = Exporter::Start(MockConfig(*mock, "poll_interval: 10s\nrequest_timeout: 5s\n"));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(MockHoldsADelayedRequest(*mock));
  EXPECT_EQ(exporter->Get("/readyz").status, 503);
  EXPECT_EQ(exporter->Get("/healthz").status, 200);
  const auto started = Clock::now();
  EXPECT_TRUE(WaitUntil([&] { return exporter->Get("/readyz").status == 200; }, 10000ms));
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), kUp));
  std::printf("[ measured ] ready %lld ms after the checks with a 3000 ms first request\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()));
}

TEST(ExporterTest, NotReadyWhileTheApiIsDown) {
  auto exporter = Exporter::Start(
      "poll_interval: 1s\nrequest_timeout: 500ms\nretry_base_delay: 100ms\n"
      "accounts:\n  - name: mock\n    base_url: http://127.0.0.1:" +
      std::to_string(UnusedLoopbackPort()) + "\n    api_key_env: DASHSCOPE_MOCK_API_KEY\n");
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kDown, 5000ms)) << exporter->Metrics();
  EXPECT_EQ(exporter->Get("/readyz").status, 503);
  EXPECT_EQ(exporter->Get("/healthz").status, 200);
  EXPECT_TRUE(
      exporter->WaitForMetric("dashscope_api_errors_total{account=\"mock\",code=\"connection\"}", 1000ms))
      << exporter->Metrics();
}

// ---------------------------------------------------------------------------
// API failures.

TEST(ExporterTest, ApiFailureKeepsTheLastGoodData) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  const std::vector<std::string> good = DeploymentLines(exporter->Metrics());
  ASSERT_EQ(LinesStartingWith(exporter->Metrics(), "dashscope_deployment_capacity{").size(), 12u);

  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=http&status=401&code=InvalidApiKey&times=0").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kDown, 5000ms));
  const std::string down = exporter->Metrics();
  EXPECT_EQ(DeploymentLines(down), good);
  const std::string errors = "dashscope_api_errors_total{account=\"mock\",code=\"InvalidApiKey\"}";
  const std::string failures = "dashscope_poll_failures_total{account=\"mock\"}";
  const std::string requests = "dashscope_api_requests_total{account=\"mock\"}";
  EXPECT_GE(Value(down, errors), 1);
  EXPECT_GE(Value(down, failures), 1);

  // 401 is not retried: one request, one error per failed poll.
  std::string later;
  ASSERT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& text) {
        later = text;
        return Value(text, failures) >= Value(down, failures) + 2;
      },
      5000ms))
      << later;
  const double failed_polls = Value(later, failures) - Value(down, failures);
  EXPECT_EQ(Value(later, errors) - Value(down, errors), failed_polls) << later;
  EXPECT_EQ(Value(later, requests) - Value(down, requests), failed_polls) << later;
  EXPECT_EQ(Value(later, errors), Value(later, failures)) << later;
  EXPECT_TRUE(HasMetricLine(later, kDown));
  EXPECT_EQ(DeploymentLines(later), good);

  ASSERT_EQ(mock->Admin("DELETE", "/mock/faults").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  EXPECT_EQ(DeploymentLines(exporter->Metrics()), good);
}

TEST(ExporterTest, DataOlderThanMaxStalenessIsDropped) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock, "max_staleness: 2s\n"));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  EXPECT_TRUE(HasMetricLine(exporter->Metrics(), "dashscope_stale_data_dropped{account=\"mock\"} 0"));

  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=http&status=401&code=InvalidApiKey&times=0").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kDown, 5000ms));
  const std::string down = exporter->Metrics();
  const double last_success =
      Value(down, "dashscope_last_successful_poll_timestamp_seconds{account=\"mock\"}");
  ASSERT_GT(last_success, 0);
  ASSERT_FALSE(DeploymentLines(down).empty()) << "dropped before max_staleness";

  ASSERT_TRUE(exporter->WaitForMetrics(
      [](const std::string& text) { return !text.empty() && DeploymentLines(text).empty(); }, 6000ms))
      << exporter->Metrics();
  const double dropped_after =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      last_success;
  std::printf("[ measured ] deployment series dropped %.2f s after the last good poll (max_staleness 2s)\n",
              dropped_after);
  // Dropped at the first failing poll after 2 s; polls come every second
  // (slack for a loaded machine).
  EXPECT_GE(dropped_after, 2.0);
  EXPECT_LE(dropped_after, 5.0);
  const std::string text = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(text, kDown));
  EXPECT_TRUE(HasMetricLine(text, "dashscope_stale_data_dropped{account=\"mock\"} 1"));

  // A good poll brings the data back.
  ASSERT_EQ(mock->Admin("DELETE", "/mock/faults").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  EXPECT_TRUE(exporter->WaitForMetric("dashscope_stale_data_dropped{account=\"mock\"} 0", 2000ms));
  EXPECT_EQ(LinesStartingWith(exporter->Metrics(), "dashscope_deployment_capacity{").size(), 12u);
}

// ---------------------------------------------------------------------------
// --once, --check-config and flags.

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

RunResult RunExporter(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  env.emplace(std::string(kMockApiKeyEnv), std::string(kDefaultMockApiKey));
  auto p = Process::Start(BinaryPath("dashscope_exporter"), std::move(args), std::move(env));
  if (p == nullptr) return {};
  RunResult r;
  r.code = p->WaitExit(15000ms).value_or(-1);
  r.out = p->Stdout();
  r.err = p->Stderr();
  return r;
}

class ConfigFile {
 public:
  explicit ConfigFile(const std::string& yaml) : path_(dir_.File("exporter.yml")) {
    EXPECT_TRUE(WriteFile(path_, yaml));
  }
  const std::string& path() const { return path_; }

 private:
  TempDir dir_{"dse_cfg"};
  std::string path_;
};

TEST(ExporterOnceTest, PrintsTheExpositionAndExitsZero) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ConfigFile config(MockConfig(*mock));
  RunResult r = RunExporter({"--config.file=" + config.path(), "--once"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(HasMetricLine(r.out, Series("dashscope_deployment_capacity", kFirstId) + " 6")) << r.out;
  EXPECT_TRUE(HasMetricLine(r.out, kUp));
  EXPECT_THAT(r.err, Not(HasSubstr("poll failed")));
  auto [code, output] = Promtool(r.out);
  EXPECT_EQ(code, 0) << output;
}

TEST(ExporterOnceTest, WrongKeyFailsNamingTheAccount) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ConfigFile config(MockConfig(*mock));
  RunResult r = RunExporter({"--config.file=" + config.path(), "--once"},
                            {{std::string(kMockApiKeyEnv), "sk-mock-WRONGKEY-9999"}});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1) << "did not exit";
  EXPECT_THAT(r.err, HasSubstr("poll failed"));
  EXPECT_THAT(r.err, HasSubstr("mock"));
  EXPECT_THAT(r.err, HasSubstr("InvalidApiKey"));
  EXPECT_THAT(r.err, Not(HasSubstr("sk-mock-WRONGKEY-9999")));
  EXPECT_THAT(r.out, Not(HasSubstr("sk-mock-WRONGKEY-9999")));
}

TEST(ExporterOnceTest, OneFailingAccountFailsTheRunButTheOthersArePrinted) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ConfigFile config(
      MockConfig(*mock, "",
                 "  - name: broken\n    base_url: http://127.0.0.1:" + std::to_string(UnusedLoopbackPort()) +
                     "\n    api_key_env: DASHSCOPE_MOCK_API_KEY\n"));
  RunResult r = RunExporter({"--config.file=" + config.path(), "--once"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1) << "did not exit";
  EXPECT_THAT(r.err, HasSubstr("poll failed: account broken"));
  EXPECT_THAT(r.err, Not(HasSubstr("account mock")));
  EXPECT_TRUE(HasMetricLine(r.out, Series("dashscope_deployment_capacity", kFirstId) + " 6")) << r.out;
  EXPECT_TRUE(HasMetricLine(r.out, kUp));
  EXPECT_TRUE(HasMetricLine(r.out, "dashscope_up{account=\"broken\"} 0"));
}

TEST(ExporterOnceTest, ApiDownFails) {
  ConfigFile config(
      "poll_interval: 1s\nrequest_timeout: 500ms\nretry_base_delay: 100ms\n"
      "accounts:\n  - name: mock\n    base_url: http://127.0.0.1:" +
      std::to_string(UnusedLoopbackPort()) + "\n    api_key_env: DASHSCOPE_MOCK_API_KEY\n");
  const auto started = Clock::now();
  RunResult r = RunExporter({"--config.file=" + config.path(), "--once"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1) << "did not exit";
  EXPECT_THAT(r.err, HasSubstr("poll failed"));
  EXPECT_THAT(r.err, HasSubstr("mock"));
  EXPECT_LT(Clock::now() - started, 5s);
}

TEST(ExporterFlagsTest, CheckConfigAcceptsAValidFile) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ConfigFile config(MockConfig(*mock));
  RunResult r = RunExporter({"--config.file=" + config.path(), "--check-config"});
  EXPECT_EQ(r.code, 0) << r.err;
  // "--flag value" works as well as "--flag=value".
  RunResult spaced = RunExporter({"--config.file", config.path(), "--check-config"});
  EXPECT_EQ(spaced.code, 0) << spaced.err;
  // Validation only: no request reaches the API.
  EXPECT_THAT(mock->Admin("GET", "/mock/state").body, HasSubstr("\"list_requests\":0,"));
}

TEST(ExporterFlagsTest, CheckConfigNamesAnUnknownKey) {
  ConfigFile config(
      "poll_interval: 1s\n"
      "request_timeout: 500ms\n"
      "poll_intervall: 2s\n"
      "accounts:\n"
      "  - name: mock\n"
      "    base_url: http://127.0.0.1:9\n"
      "    api_key_env: DASHSCOPE_MOCK_API_KEY\n");
  RunResult r = RunExporter({"--config.file=" + config.path(), "--check-config"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1);
  EXPECT_EQ(r.err,
            "dashscope_exporter: " + config.path() +
                ":3:1: poll_intervall: unknown key; allowed: poll_interval, request_timeout, page_size, "
                "max_staleness, max_retries, retry_base_delay, max_response_bytes, accounts\n");
  EXPECT_EQ(r.out, "");
}

TEST(ExporterFlagsTest, CheckConfigNamesABadApiTimeZone) {
  ConfigFile config(
      "accounts:\n"
      "  - name: mock\n"
      "    base_url: http://127.0.0.1:9\n"
      "    api_key_env: DASHSCOPE_MOCK_API_KEY\n"
      "    api_time_zone: Asia/Shanghai\n");
  RunResult r = RunExporter({"--config.file=" + config.path(), "--check-config"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1);
  EXPECT_EQ(r.err, "dashscope_exporter: " + config.path() +
                       ":5:20: accounts[0].api_time_zone: want a UTC offset from -12:00 to +14:00 such as "
                       "\"+08:00\", got \"Asia/Shanghai\"\n");
  EXPECT_EQ(r.out, "");
}

TEST(ExporterFlagsTest, CheckConfigNamesAnUnsetKeyVariable) {
  ConfigFile config(
      "poll_interval: 1s\n"
      "request_timeout: 500ms\n"
      "accounts:\n"
      "  - name: mock\n"
      "    base_url: http://127.0.0.1:9\n"
      "    api_key_env: DSE_IT_SURELY_UNSET_KEY\n");
  RunResult r = RunExporter({"--config.file=" + config.path(), "--check-config"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, -1);
  EXPECT_EQ(r.err, "dashscope_exporter: " + config.path() +
                       ":6:18: accounts[0].api_key_env: environment variable "
                       "DSE_IT_SURELY_UNSET_KEY is not set\n");
}

TEST(ExporterFlagsTest, BadFlagsAreNamed) {
  RunResult level = RunExporter({"--log.level=loud"});
  EXPECT_NE(level.code, 0);
  EXPECT_NE(level.code, -1);
  EXPECT_THAT(level.err, HasSubstr("--log.level"));
  EXPECT_THAT(level.err, HasSubstr("loud"));

  RunResult unknown = RunExporter({"--web.listen-adress=:1234"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.code, -1);
  EXPECT_THAT(unknown.err, HasSubstr("--web.listen-adress"));

  RunResult missing = RunExporter({"--config.file=/nonexistent/dse/exporter.yml", "--check-config"});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.code, -1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/dse/exporter.yml"));

  RunResult version = RunExporter({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("dashscope_exporter, version "));
}

// ---------------------------------------------------------------------------
// Signals.

TEST(ExporterSignalTest, SighupReloadsAndRefusesABadFile) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));

  exporter->RewriteConfig(MockConfig(*mock, "", MockAccountYaml(*mock, "second")));
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_up{account=\"second\"} 1", 5000ms)) << exporter->Metrics();
  std::string text = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(text, "dashscope_exporter_config_last_reload_successful 1"));
  EXPECT_TRUE(HasMetricLine(text, Series("dashscope_deployment_capacity", kFirstId, "second") + " 6"));
  EXPECT_TRUE(HasMetricLine(text, Series("dashscope_deployment_capacity", kFirstId, "mock") + " 6"));
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(), 24u);

  // Not YAML at all: an unclosed flow sequence.
  exporter->RewriteConfig("poll_interval: 1s\naccounts: [\n");
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_exporter_config_last_reload_successful 0", 5000ms));
  EXPECT_TRUE(exporter->process().Running());
  // The old configuration stays in force: both accounts keep being polled.
  text = exporter->Metrics();
  const double polls = Value(text, "dashscope_polls_total{account=\"second\"}");
  EXPECT_TRUE(exporter->WaitForMetrics(
      [&](const std::string& t) { return Value(t, "dashscope_polls_total{account=\"second\"}") > polls; },
      3000ms));
  text = exporter->Metrics();
  EXPECT_TRUE(HasMetricLine(text, kUp));
  EXPECT_TRUE(HasMetricLine(text, "dashscope_up{account=\"second\"} 1"));
  EXPECT_EQ(LinesStartingWith(text, "dashscope_deployment_capacity{").size(), 24u);
  EXPECT_EQ(exporter->Get("/readyz").status, 200);
  // The loader's message, file:line:col first, in the log.
  const std::string err = exporter->process().Stderr();
  EXPECT_THAT(err, HasSubstr("configuration reload failed"));
  EXPECT_THAT(err, HasSubstr(exporter->config_path() + ":3:1: invalid YAML: end of sequence flow not found"));

  // A fixed file is taken again.
  exporter->RewriteConfig(MockConfig(*mock));
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(exporter->WaitForMetric("dashscope_exporter_config_last_reload_successful 1", 5000ms));
  EXPECT_TRUE(exporter->WaitForMetrics(
      [](const std::string& t) { return !t.empty() && t.find("account=\"second\"") == std::string::npos; },
      3000ms))
      << exporter->Metrics();
}

TEST(ExporterSignalTest, SigtermExitsZeroPromptly) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock));
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  const auto sent = Clock::now();
  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  std::optional<int> code = exporter->process().WaitExit(5000ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent);
  std::printf("[ measured ] SIGTERM while idle: exit after %lld ms\n", static_cast<long long>(took.count()));
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*code, 0) << exporter->process().Stderr();
  EXPECT_LT(took, 2000ms);
}

TEST(ExporterSignalTest, SigtermExitsZeroWhileARequestHangs) {
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=delay&ms=30000&times=0").status, 200);
  auto exporter = Exporter::Start(MockConfig(*mock, "poll_interval: 60s\nrequest_timeout: 20s\n"));
  ASSERT_NE(exporter, nullptr);
  // Wait until the exporter's request is held by the mock.
  ASSERT_TRUE(MockHoldsADelayedRequest(*mock));
  const auto sent = Clock::now();
  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  std::optional<int> code = exporter->process().WaitExit(5000ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent);
  std::printf("[ measured ] SIGTERM during a hanging API request: exit after %lld ms\n",
              static_cast<long long>(took.count()));
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*code, 0) << exporter->process().Stderr();
  EXPECT_LT(took, 2000ms);
}

// ---------------------------------------------------------------------------
// The API key never shows.

TEST(ExporterSecretTest, ApiKeyNeverAppears) {
  const std::string key(kDefaultMockApiKey);
  auto mock = Mock::Start();
  ASSERT_NE(mock, nullptr);
  auto exporter = Exporter::Start(MockConfig(*mock), {"--log.level=debug"});
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  // Failures log more: an auth error, a gateway page, a timeout.
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=http&status=401&code=InvalidApiKey&times=1").status, 200);
  ASSERT_TRUE(exporter->WaitForMetric(kDown, 5000ms));
  ASSERT_EQ(mock->Admin("POST", "/mock/faults?kind=html&status=502&times=1").status, 200);
  ASSERT_TRUE(
      exporter->WaitForMetric("dashscope_api_errors_total{account=\"mock\",code=\"http_502\"}", 5000ms))
      << exporter->Metrics();
  ASSERT_TRUE(exporter->WaitForMetric(kUp, 5000ms));
  // And a reload.
  ASSERT_TRUE(exporter->process().Signal(SIGHUP));
  ASSERT_TRUE(WaitUntil(
      [&] { return exporter->process().Stderr().find("configuration reloaded") != std::string::npos; },
      5000ms));

  EXPECT_THAT(exporter->Metrics(), Not(HasSubstr(key)));
  EXPECT_THAT(exporter->Get("/metrics", {{"Accept-Encoding", "gzip"}}).body, Not(HasSubstr(key)));
  EXPECT_THAT(exporter->Get("/").body, Not(HasSubstr(key)));
  EXPECT_THAT(exporter->Get("/readyz").body, Not(HasSubstr(key)));
  const std::string cmdline = ReadFile("/proc/" + std::to_string(exporter->process().pid()) + "/cmdline");
  ASSERT_FALSE(cmdline.empty());
  EXPECT_THAT(cmdline, Not(HasSubstr(key)));

  ASSERT_TRUE(exporter->process().Signal(SIGTERM));
  ASSERT_TRUE(exporter->process().WaitExit(5000ms).has_value());
  const std::string err = exporter->process().Stderr();
  EXPECT_THAT(err, HasSubstr("level=debug")) << "debug logging is not on";
  EXPECT_THAT(err, Not(HasSubstr(key)));
  EXPECT_THAT(exporter->process().Stdout(), Not(HasSubstr(key)));
  // Nor any distinctive part of it.
  EXPECT_THAT(err, Not(HasSubstr("TESTKEY")));

  // --once too, with the key wrong and with it right.
  ConfigFile config(MockConfig(*mock));
  for (const std::string& k : {key, std::string("sk-mock-TESTKEY-WRONG")}) {
    RunResult r = RunExporter({"--config.file=" + config.path(), "--once", "--log.level=debug"},
                              {{std::string(kMockApiKeyEnv), k}});
    EXPECT_THAT(r.out, Not(HasSubstr("TESTKEY")));
    EXPECT_THAT(r.err, Not(HasSubstr("TESTKEY")));
  }
}

}  // namespace
}  // namespace dse::testing
