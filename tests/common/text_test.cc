#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace dse {
namespace {

std::string Redacted(std::string text, std::string_view secret) {
  Redact(text, secret);
  return text;
}

TEST(Redact, ReplacesEveryOccurrence) {
  EXPECT_EQ(Redacted("key sk-1 and again sk-1.", "sk-1"), "key <redacted> and again <redacted>.");
  EXPECT_EQ(Redacted("sk-1sk-1", "sk-1"), "<redacted><redacted>");
  EXPECT_EQ(Redacted("nothing here", "sk-1"), "nothing here");
}

TEST(Redact, EmptySecretChangesNothing) { EXPECT_EQ(Redacted("abc", ""), "abc"); }

// The marker itself contains the secret: scanning must go on past it.
TEST(Redact, SecretInsideTheMarkerDoesNotLoop) {
  EXPECT_EQ(Redacted("dad", "d"), "<redacted>a<redacted>");
  EXPECT_EQ(Redacted("red", "red"), "<redacted>");
}

TEST(AppendJsonEscaped, EscapesQuotesBackslashesAndControls) {
  std::string out;
  AppendJsonEscaped(out, std::string("a\"b\\c\n\x01\x7f", 8));
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001\\u007f");
}

TEST(Quote, QuotesAndEscapes) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\nc"), "\"a\\\"b\\nc\"");
  EXPECT_EQ(Quote("bad \xFF byte"), "\"bad \xEF\xBF\xBD byte\"");
}

// One cut rule for every message: kMaxQuotedBytes at a character boundary,
// then the full size, so a reader knows how much was left out.
TEST(Quote, CutsLongValuesAtACharacterBoundaryAndSaysHowLong) {
  EXPECT_EQ(Quote(std::string(kMaxQuotedBytes, 'x')), "\"" + std::string(kMaxQuotedBytes, 'x') + "\"");
  EXPECT_EQ(Quote(std::string(kMaxQuotedBytes + 1, 'x')),
            "\"" + std::string(kMaxQuotedBytes, 'x') + "\"... (129 bytes)");
  // A three-byte character straddling the cut is left out whole.
  const std::string text = std::string(kMaxQuotedBytes - 1, 'x') + "\xE5\x8C\x97";
  EXPECT_EQ(Quote(text), "\"" + std::string(kMaxQuotedBytes - 1, 'x') + "\"... (130 bytes)");
}

}  // namespace
}  // namespace dse
