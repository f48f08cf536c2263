#include "server/landing_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

namespace dse::server {
namespace {

using dashscope::Deployment;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kNow = 1717243200;  // 2024-06-01T12:00:00Z

Deployment Make(std::string id, std::string status, double capacity, double ready) {
  Deployment d;
  d.deployed_model = std::move(id);
  d.workspace_id = "ws-1";
  d.name = "name-" + d.deployed_model;
  d.model_name = "qwen-plus";
  d.status = std::move(status);
  d.plan = "lora";
  d.capacity = capacity;
  d.ready_capacity = ready;
  d.gmt_create = 1714521600;  // 2024-05-01T00:00:00Z
  return d;
}

metrics::StatusView View() {
  metrics::StatusView v;
  v.version = "0.1.0";
  v.revision = "abc123";
  v.telemetry_path = "/metrics";
  metrics::AccountView a;
  a.name = "intl";
  a.base_url = "https://dashscope-intl.aliyuncs.com/api";
  a.workspace = "llm-xyz";
  a.up = true;
  a.last_success_unix = kNow - 75;
  a.last_poll_unix = kNow - 75;
  a.last_poll_duration_seconds = 0.25;
  a.deployments = std::make_shared<std::vector<Deployment>>(std::vector<Deployment>{
      Make("d-running-b", "RUNNING", 2, 2),
      Make("d-failed", "FAILED", 1, 0),
      Make("d-running-a", "RUNNING", 4, 3),
      Make("d-pending", "PENDING", 1, 0),
  });
  v.accounts.push_back(a);

  metrics::AccountView b;
  b.name = "cn";
  b.base_url = "https://dashscope.aliyuncs.com";
  b.up = false;
  b.last_poll_unix = kNow - 5;
  b.last_poll_duration_seconds = 1.5;
  b.last_error = "InvalidApiKey: bad key <b>";
  v.accounts.push_back(b);
  return v;
}

// The deployed_model of each deployment row, in page order.
std::vector<std::string> RowOrder(const std::string& html) {
  std::vector<std::string> out;
  const std::regex row(R"re(<tr class="deployment" data-account="[^"]*" data-deployed-model="([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

TEST(LandingPage, ExactDeploymentRow) {
  const std::string html = RenderLandingPage(View(), kNow);
  EXPECT_THAT(html, HasSubstr("<tr class=\"deployment\" data-account=\"intl\" "
                              "data-deployed-model=\"d-running-a\" data-status=\"RUNNING\">"
                              "<td><code>d-running-a</code></td><td>name-d-running-a</td><td>qwen-plus</td>"
                              "<td><span class=\"status status-running\">RUNNING</span></td>"
                              "<td class=\"num\">4</td>"
                              "<td class=\"num short\" title=\"fewer ready than requested\">3</td>"
                              "<td>lora</td><td>2024-05-01T00:00:00Z</td></tr>\n"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"deployment\" data-account=\"intl\" "
                              "data-deployed-model=\"d-running-b\" data-status=\"RUNNING\">"
                              "<td><code>d-running-b</code></td><td>name-d-running-b</td><td>qwen-plus</td>"
                              "<td><span class=\"status status-running\">RUNNING</span></td>"
                              "<td class=\"num\">2</td><td class=\"num\">2</td>"
                              "<td>lora</td><td>2024-05-01T00:00:00Z</td></tr>\n"));
}

TEST(LandingPage, NonRunningFirstThenByDeployedModel) {
  EXPECT_THAT(RowOrder(RenderLandingPage(View(), kNow)),
              ElementsAre("d-failed", "d-pending", "d-running-a", "d-running-b"));
}

TEST(LandingPage, StatusColors) {
  metrics::StatusView v = View();
  v.accounts.resize(1);
  v.accounts[0].deployments = std::make_shared<std::vector<Deployment>>(std::vector<Deployment>{
      Make("a", "RUNNING", 1, 1), Make("b", "PENDING", 1, 1), Make("c", "UPDATING", 1, 1),
      Make("d", "FAILED", 1, 1), Make("e", "STOPPED", 1, 1), Make("f", "DELETING", 1, 1),
      Make("g", "SOMETHING_NEW", 1, 1)});
  const std::string html = RenderLandingPage(v, kNow);
  for (const char* want : {
           "<span class=\"status status-running\">RUNNING</span>",
           "<span class=\"status status-pending\">PENDING</span>",
           "<span class=\"status status-updating\">UPDATING</span>",
           "<span class=\"status status-failed\">FAILED</span>",
           "<span class=\"status status-stopped\">STOPPED</span>",
           "<span class=\"status status-deleting\">DELETING</span>",
           "<span class=\"status status-other\">SOMETHING_NEW</span>",
       }) {
    EXPECT_THAT(html, HasSubstr(want));
  }
  // The colours themselves live in the inline style sheet.
  EXPECT_THAT(html, HasSubstr(".status-running{background:#1a7f37}"));
  EXPECT_THAT(html, HasSubstr(".status-failed{background:#cf222e}"));
  EXPECT_THAT(html, HasSubstr(".status-pending,.status-updating{background:#bf8700}"));
}

TEST(LandingPage, MissingFieldsShowADash) {
  metrics::StatusView v = View();
  v.accounts.resize(1);
  Deployment d;
  d.deployed_model = "bare";
  v.accounts[0].deployments = std::make_shared<std::vector<Deployment>>(std::vector<Deployment>{d});
  EXPECT_THAT(
      RenderLandingPage(v, kNow),
      HasSubstr(
          "<tr class=\"deployment\" data-account=\"intl\" data-deployed-model=\"bare\" data-status=\"\">"
          "<td><code>bare</code></td><td class=\"missing\">-</td><td class=\"missing\">-</td>"
          "<td><span class=\"status status-other\">UNKNOWN</span></td>"
          "<td class=\"num missing\">-</td><td class=\"num missing\">-</td>"
          "<td class=\"missing\">-</td><td class=\"missing\">-</td></tr>\n"));
}

TEST(LandingPage, EscapesEveryDynamicString) {
  metrics::StatusView v = View();
  v.version = "<script>v</script>";
  v.telemetry_path = "/m\"x";
  v.accounts[0].name = "<script>alert(1)</script>";
  v.accounts[0].workspace = "w&'";
  Deployment d = Make("<script>id</script>", "<script>s</script>", 1, 1);
  d.name = "<script>alert(\"name\")</script>";
  d.model_name = "<img src=x>";
  d.plan = "a&b";
  v.accounts[0].deployments = std::make_shared<std::vector<Deployment>>(std::vector<Deployment>{d});
  const std::string html = RenderLandingPage(v, kNow);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, HasSubstr("<section class=\"account\" "
                              "data-account=\"&lt;script&gt;alert(1)&lt;/script&gt;\" data-up=\"1\">"));
  EXPECT_THAT(html, HasSubstr("data-deployed-model=\"&lt;script&gt;id&lt;/script&gt;\" "
                              "data-status=\"&lt;script&gt;s&lt;/script&gt;\""));
  EXPECT_THAT(html, HasSubstr("<td>&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</td>"));
  EXPECT_THAT(html, HasSubstr("<dd>w&amp;&#39;</dd>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/m&quot;x\">"));
  EXPECT_THAT(html, HasSubstr("<dd class=\"error\">InvalidApiKey: bad key &lt;b&gt;</dd>"));
}

TEST(LandingPage, AccountFacts) {
  const std::string html = RenderLandingPage(View(), kNow);
  EXPECT_THAT(html, HasSubstr("<section class=\"account\" data-account=\"intl\" data-up=\"1\">\n"
                              "<h2>intl <span class=\"badge up\">up</span></h2>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>API</dt><dd>dashscope-intl.aliyuncs.com</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>Workspace</dt><dd>llm-xyz</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>Last successful poll</dt><dd><time datetime=\"2024-06-01T11:58:45Z\">"
                              "2024-06-01T11:58:45Z</time> (1m15s ago)</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>Last poll took</dt><dd>0.250s</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<p class=\"summary\">4 deployments, 2 running</p>"));

  EXPECT_THAT(html, HasSubstr("<section class=\"account\" data-account=\"cn\" data-up=\"0\">\n"
                              "<h2>cn <span class=\"badge down\">down</span></h2>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>Last successful poll</dt><dd>never</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<dt>Last poll took</dt><dd>1.500s</dd>\n"));
  EXPECT_THAT(html, HasSubstr("<p class=\"empty\">No deployments.</p>"));
}

TEST(LandingPage, WaitingAccountAndStaleData) {
  metrics::StatusView v = View();
  v.accounts[1].last_poll_unix.reset();
  v.accounts[1].last_error.clear();
  v.accounts[0].up = false;
  v.accounts[0].data_dropped_as_stale = true;
  const std::string html = RenderLandingPage(v, kNow);
  EXPECT_THAT(html, HasSubstr("<h2>cn <span class=\"badge waiting\">waiting for first poll</span></h2>"));
  EXPECT_THAT(html, HasSubstr("<section class=\"account\" data-account=\"intl\" data-up=\"0\">"));
  EXPECT_THAT(html, HasSubstr("no longer exported"));
}

TEST(LandingPage, HeaderAndLinks) {
  const std::string html = RenderLandingPage(View(), kNow);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<title>DashScope Exporter</title>"));
  EXPECT_THAT(
      html,
      HasSubstr(
          "version <span class=\"version\">0.1.0</span>, revision <span class=\"revision\">abc123</span>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/metrics\">Metrics</a>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/healthz\">Health</a>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/readyz\">Readiness</a>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));   // no external assets
  EXPECT_THAT(html, Not(HasSubstr("https://")));  // (base_url is shown as host only)
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

TEST(LandingPage, FutureTimestampsAreNotNegative) {
  metrics::StatusView v = View();
  v.accounts[0].last_success_unix = kNow + 30;
  EXPECT_THAT(RenderLandingPage(v, kNow), HasSubstr("(0s ago)"));
}

TEST(HtmlEscape, AllSpecials) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace dse::server
