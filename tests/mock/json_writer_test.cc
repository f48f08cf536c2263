#include "mock/json_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace dse::mock {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(AppendJsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Quoted(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(Quoted("/ is fine"), R"("/ is fine")");
}

TEST(AppendJsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Quoted("通义千问 é 😀"), "\"通义千问 é 😀\"");
  EXPECT_EQ(Quoted("a\xff"
                   "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(Quoted("\xc3"), R"("\ufffd")");                      // truncated sequence
  EXPECT_EQ(Quoted("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong
  EXPECT_EQ(Quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
}

TEST(JsonWriter, PlacesCommasAndColons) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a").Int(-1);
  w.Key("b").BeginArray().String("x").Bool(true).Null().BeginObject().EndObject().EndArray();
  w.Key("c").Raw("[1]");
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":["x",true,null,{}],"c":[1]})");
}

}  // namespace
}  // namespace dse::mock
