// Recorded API responses rendered to exposition text, compared byte for byte
// with reviewed golden files in tests/fixtures/*.prom. To update one after an
// intended change: DSE_UPDATE_GOLDEN=1 ./golden_exposition_test, then review
// the diff like any other change.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/status_history.h"
#include "dashscope/page_parser.h"
#include "metrics/exposition.h"

namespace dse::metrics {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The poll that read each fixture ended at 2025-06-19T08:00:00Z: after some
// gmt_modified values and before others.
constexpr int64_t kPollUnix = 1750320000;

std::string Render(const std::string& fixture) {
  auto page = dashscope::ParseDeploymentPage(Read(std::string(DSE_FIXTURES_DIR) + "/" + fixture));
  EXPECT_TRUE(page.ok()) << page.error();
  if (!page.ok()) return {};
  ExpositionStore store;
  AccountView view;
  view.name = "intl";
  store.SetAccounts({view});
  auto snapshot = std::make_shared<AccountSnapshot>();
  snapshot->view = view;
  std::vector<dashscope::Deployment> deployments = std::move(page)->deployments;
  auto since = app::FollowStatuses(nullptr, deployments, kPollUnix);
  snapshot->data = BuildDeploymentData("intl", std::move(deployments), std::move(since));
  store.Publish(snapshot);
  std::string text;
  for (auto piece : AssembleScrapeBody(store.Current(), "", false).pieces) text += piece;
  return text;
}

void ExpectGolden(const std::string& fixture, const std::string& golden) {
  const std::string path = std::string(DSE_FIXTURES_DIR) + "/" + golden;
  const std::string got = Render(fixture);
  if (std::getenv("DSE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << got;
  }
  EXPECT_EQ(got, Read(path)) << "golden file " << path;
}

TEST(GoldenExposition, OutputEnvelope) {
  ExpectGolden("list_output_envelope.json", "list_output_envelope.prom");
}

TEST(GoldenExposition, MissingOptionalFieldsAreNotExported) {
  ExpectGolden("list_missing_optional_fields.json", "list_missing_optional_fields.prom");
}

TEST(GoldenExposition, WrongTypesLeaveOnlyTheBadFieldsOut) {
  ExpectGolden("list_wrong_types.json", "list_wrong_types.prom");
}

// PTU and prepaid fields under both spellings, numeric strings, statuses
// outside the seven, a failure reason, a gmt_modified after the poll.
TEST(GoldenExposition, EveryField) { ExpectGolden("list_every_field.json", "list_every_field.prom"); }

}  // namespace
}  // namespace dse::metrics
