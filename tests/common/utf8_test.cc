#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace dse {
namespace {

std::string Repaired(std::string_view in) {
  std::string out;
  AssignValidUtf8(in, out);
  return out;
}

const std::string kFffd(kReplacementChar);

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xC3\xA9t\xC3\xA9"), 3u);         // été
  EXPECT_EQ(Utf8Length("\xE5\x8C\x97\xE4\xBA\xAC"), 2u);  // 北京
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1u);          // U+1F600
}

TEST(Utf8Length, RefusesIllFormedInput) {
  EXPECT_EQ(Utf8Length("\xC0\xAF"), std::nullopt);          // overlong '/'
  EXPECT_EQ(Utf8Length("\xE0\x80\xAF"), std::nullopt);      // overlong, 3 bytes
  EXPECT_EQ(Utf8Length("\xED\xA0\x80"), std::nullopt);      // surrogate U+D800
  EXPECT_EQ(Utf8Length("\xF4\x90\x80\x80"), std::nullopt);  // above U+10FFFF
  EXPECT_EQ(Utf8Length("ab\xE5\x8C"), std::nullopt);        // truncated at the end
  EXPECT_EQ(Utf8Length("\x80"), std::nullopt);              // lone continuation
}

TEST(AssignValidUtf8, KeepsValidTextAndReportsNoRepair) {
  std::string out;
  EXPECT_FALSE(AssignValidUtf8("qwen-plus \xE5\x8C\x97", out));
  EXPECT_EQ(out, "qwen-plus \xE5\x8C\x97");
}

// One U+FFFD per maximal ill-formed subpart, as Unicode recommends: a
// truncated three-byte sequence is one replacement, not two.
TEST(AssignValidUtf8, ReplacesEachMaximalSubpartOnce) {
  std::string out;
  EXPECT_TRUE(
      AssignValidUtf8("a\xE5\x8C"
                      "b",
                      out));
  EXPECT_EQ(out, "a" + kFffd + "b");
  EXPECT_EQ(Repaired("\xFF\xFE"), kFffd + kFffd);
  EXPECT_EQ(Repaired("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // E D is a lead, A0 is out of its range
  EXPECT_EQ(Repaired("x\xF0\x9F\x98"), "x" + kFffd);
}

TEST(CutAtUtf8Boundary, NeverEndsInsideASequence) {
  const std::string_view text =
      "ab\xE5\x8C\x97"
      "cd";  // a b 北 c d
  EXPECT_EQ(CutAtUtf8Boundary(text, 100), text);
  EXPECT_EQ(CutAtUtf8Boundary(text, 2), "ab");
  EXPECT_EQ(CutAtUtf8Boundary(text, 3), "ab");
  EXPECT_EQ(CutAtUtf8Boundary(text, 4), "ab");
  EXPECT_EQ(CutAtUtf8Boundary(text, 5), "ab\xE5\x8C\x97");
  EXPECT_EQ(CutAtUtf8Boundary(text, 0), "");
}

// Continuation bytes only: the cut steps back at most three bytes instead of
// scanning the whole prefix.
TEST(CutAtUtf8Boundary, BoundedStepBackOnIllFormedInput) {
  const std::string text(10, '\x80');
  EXPECT_EQ(CutAtUtf8Boundary(text, 8).size(), 5u);
}

}  // namespace
}  // namespace dse
