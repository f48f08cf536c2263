#include "mock/faults.h"

#include <gtest/gtest.h>

namespace dse::mock {
namespace {

TEST(ParseFault, HttpDefaultsFollowTheStatus) {
  auto f = ParseFault({{"kind", "http"}, {"status", "429"}, {"retry_after", "7"}});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->status, 429);
  EXPECT_EQ(f->code, "Throttling");
  EXPECT_EQ(f->message, "Requests rate limit exceeded, please try again later.");
  EXPECT_EQ(f->retry_after, "7");
  EXPECT_EQ(f->times, 1);
  EXPECT_FALSE(f->page.has_value());

  auto plain = ParseFault({{"kind", "http"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 500);
  EXPECT_EQ(plain->code, "InternalError");
}

TEST(ParseFault, EmptyCodeLeavesItOut) {
  auto f = ParseFault({{"kind", "http"}, {"status", "503"}, {"code", ""}, {"message", "down"}});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->code.has_value());
  EXPECT_EQ(f->message, "down");
}

TEST(ParseFault, KindFields) {
  EXPECT_EQ(ParseFault({{"kind", "html"}})->status, 502);
  EXPECT_EQ(ParseFault({{"kind", "delay"}, {"ms", "1500"}})->delay_ms, 1500);
  EXPECT_EQ(ParseFault({{"kind", "trickle"}, {"ms", "500"}})->delay_ms, 500);
  EXPECT_EQ(ParseFault({{"kind", "trickle"}}).error(), "field ms: missing (trickle needs ms=)");
  EXPECT_EQ(ParseFault({{"kind", "trickle"}, {"ms", "0"}}).error(), "field ms: 0 is outside [1, 60000]");
  EXPECT_EQ(ParseFault({{"kind", "oversize"}, {"bytes", "1048576"}})->bytes, 1048576);
  EXPECT_EQ(ParseFault({{"kind", "deep"}, {"depth", "100000"}})->depth, 100000);
  EXPECT_EQ(ParseFault({{"kind", "lying_total"}, {"total", "1000000000"}})->total, 1000000000);
  EXPECT_EQ(ParseFault({{"kind", "close"}, {"times", "0"}, {"page", "3"}})->page, 3);
  for (const char* kind : {"truncate", "wrong_types", "duplicates", "empty_body", "invalid_json", "close"}) {
    EXPECT_TRUE(ParseFault({{"kind", kind}}).ok()) << kind;
  }
}

TEST(ParseFault, ErrorsNameTheField) {
  EXPECT_EQ(ParseFault({}).error(), "field kind: missing");
  EXPECT_NE(ParseFault({{"kind", "nope"}}).error().find("field kind: unknown kind \"nope\""),
            std::string::npos);
  EXPECT_EQ(ParseFault({{"kind", "http"}, {"colour", "red"}}).error(), "unknown field colour");
  EXPECT_EQ(ParseFault({{"kind", "delay"}}).error(), "field ms: missing (delay needs ms=)");
  EXPECT_EQ(ParseFault({{"kind", "http"}, {"status", "42"}}).error(),
            "field status: 42 is outside [200, 599]");
  EXPECT_EQ(ParseFault({{"kind", "http"}, {"times", "x"}}).error(), "field times: not an integer: \"x\"");
  EXPECT_EQ(ParseFault({{"kind", "http"}, {"page", "0"}}).error().rfind("field page: 0 is outside", 0), 0u);
}

TEST(FaultQueue, FirstInFirstOutWithUsesAndPages) {
  FaultQueue q;
  Fault twice = *ParseFault({{"kind", "http"}, {"times", "2"}});
  Fault page2 = *ParseFault({{"kind", "html"}, {"page", "2"}});
  Fault forever = *ParseFault({{"kind", "empty_body"}, {"times", "0"}});
  q.Push(twice);
  q.Push(page2);
  q.Push(forever);

  EXPECT_EQ(q.Take(1)->kind, FaultKind::kHttp);
  EXPECT_EQ(q.Take(2)->kind, FaultKind::kHttp);       // oldest first, even for page 2
  EXPECT_EQ(q.Take(1)->kind, FaultKind::kEmptyBody);  // page 1 passes over the page-2 fault
  EXPECT_EQ(q.Take(2)->kind, FaultKind::kHtml);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.Take(7)->kind, FaultKind::kEmptyBody);
  EXPECT_EQ(q.faults().size(), 1u);
  q.Clear();
  EXPECT_FALSE(q.Take(1).has_value());
}

}  // namespace
}  // namespace dse::mock
