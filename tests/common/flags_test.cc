#include "common/flags.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dse {
namespace {

// A table like the exporter's: two value flags, two booleans and --help.
struct Parsed {
  std::string name;
  std::string path;
  std::vector<std::string> seen;  // every value --name was given, in order
  bool once = false;
  bool dry_run = true;
  bool help = false;
};

Result<Parsed> Parse(const std::vector<std::string>& args) {
  Parsed p;
  const FlagDef defs[] = {
      {"--name", false,
       [&](const std::string& v) -> Status {
         if (v == "bad") return Error{"must not be \"bad\""};
         p.name = v;
         p.seen.push_back(v);
         return Status::Ok();
       }},
      {"--path", false,
       [&](const std::string& v) -> Status {
         p.path = v;
         return Status::Ok();
       }},
      BoolFlag("--once", p.once),
      BoolFlag("--dry-run", p.dry_run),
      BoolFlag("--help", p.help),
  };
  if (Status s = ParseFlagArgs(args, defs); !s.ok()) return Error{s.error()};
  return p;
}

std::string ErrorOf(const std::vector<std::string>& args) {
  Result<Parsed> p = Parse(args);
  return p.ok() ? "(ok)" : p.error();
}

TEST(ParseFlagArgs, NoArgumentsKeepTheDefaults) {
  auto p = Parse({});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->name, "");
  EXPECT_FALSE(p->once);
  EXPECT_TRUE(p->dry_run);
  EXPECT_FALSE(p->help);
}

TEST(ParseFlagArgs, ValueWithEqualsOrAsTheNextArgument) {
  auto p = Parse({"--name=a", "--path", "/p"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->name, "a");
  EXPECT_EQ(p->path, "/p");
}

TEST(ParseFlagArgs, ValueTextIsTakenAsItIs) {
  // Only the first '=' splits; an empty value reaches apply, which decides.
  EXPECT_EQ(Parse({"--name=a=b"})->name, "a=b");
  auto empty = Parse({"--name=x", "--name="});
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty->name, "");
  // The next argument is the value even when it looks like a flag.
  EXPECT_EQ(Parse({"--name", "--once"})->name, "--once");
  EXPECT_FALSE(Parse({"--name", "--once"})->once);
}

TEST(ParseFlagArgs, LaterFlagOverridesEarlier) {
  auto p = Parse({"--name=first", "--name", "second"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->name, "second");
  EXPECT_EQ(p->seen, (std::vector<std::string>{"first", "second"}));
  EXPECT_FALSE(Parse({"--once", "--no-once"})->once);
  EXPECT_TRUE(Parse({"--no-once", "--once"})->once);
}

TEST(ParseFlagArgs, BooleanForms) {
  EXPECT_TRUE(Parse({"--once"})->once);
  EXPECT_TRUE(Parse({"--once=true"})->once);
  EXPECT_TRUE(Parse({"--once=1"})->once);
  EXPECT_FALSE(Parse({"--once=false"})->once);
  EXPECT_FALSE(Parse({"--once=0"})->once);
  EXPECT_FALSE(Parse({"--no-dry-run"})->dry_run);
  EXPECT_FALSE(Parse({"--dry-run=false"})->dry_run);
  EXPECT_EQ(ErrorOf({"--once=maybe"}), "--once: want true or false, got \"maybe\"");
  EXPECT_EQ(ErrorOf({"--once="}), "--once: want true or false, got \"\"");
}

TEST(ParseFlagArgs, BooleanTakesNoSeparateValue) {
  auto p = Parse({"--once", "--name", "n"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(p->once);
  EXPECT_EQ(p->name, "n");
  EXPECT_EQ(ErrorOf({"--once", "false"}), "unexpected argument \"false\" (flags start with --; see --help)");
}

TEST(ParseFlagArgs, NegationOnlyOfBooleansAndWithoutValue) {
  EXPECT_EQ(ErrorOf({"--no-name"}), "unknown flag --no-name (see --help)");
  EXPECT_EQ(ErrorOf({"--no-once=true"}), "unknown flag --no-once (see --help)");
  EXPECT_EQ(ErrorOf({"--no-bogus"}), "unknown flag --no-bogus (see --help)");
}

TEST(ParseFlagArgs, ShortHelp) {
  EXPECT_TRUE(Parse({"-h"})->help);
  EXPECT_TRUE(Parse({"--help"})->help);
  EXPECT_EQ(ErrorOf({"-h=1"}), "unexpected argument \"-h=1\" (flags start with --; see --help)");
}

TEST(ParseFlagArgs, UnknownFlagNamesOnlyTheFlag) {
  EXPECT_EQ(ErrorOf({"--bogus"}), "unknown flag --bogus (see --help)");
  // What follows '=' may be a secret given to a misspelt flag.
  EXPECT_EQ(ErrorOf({"--nmae=sk-secret"}), "unknown flag --nmae (see --help)");
  EXPECT_EQ(ErrorOf({"--"}), "unknown flag -- (see --help)");
  EXPECT_EQ(ErrorOf({"--name=a", "--bogus", "--name=b"}), "unknown flag --bogus (see --help)");
}

TEST(ParseFlagArgs, MissingValue) {
  EXPECT_EQ(ErrorOf({"--name"}), "--name: missing value");
  EXPECT_EQ(ErrorOf({"--once", "--path"}), "--path: missing value");
}

TEST(ParseFlagArgs, StrayArgument) {
  EXPECT_EQ(ErrorOf({"serve"}), "unexpected argument \"serve\" (flags start with --; see --help)");
  EXPECT_EQ(ErrorOf({"-once"}), "unexpected argument \"-once\" (flags start with --; see --help)");
  EXPECT_EQ(ErrorOf({""}), "unexpected argument \"\" (flags start with --; see --help)");
  EXPECT_EQ(ErrorOf({"--name", "a", "b"}), "unexpected argument \"b\" (flags start with --; see --help)");
}

TEST(ParseFlagArgs, ApplyErrorGetsTheNamePrefix) {
  EXPECT_EQ(ErrorOf({"--name=bad"}), "--name: must not be \"bad\"");
  EXPECT_EQ(ErrorOf({"--name", "bad"}), "--name: must not be \"bad\"");
}

TEST(ParseFlagArgs, StopsAtTheFirstError) {
  std::vector<std::string> applied;
  const FlagDef defs[] = {{"--n", false, [&](const std::string& v) -> Status {
                             applied.push_back(v);
                             if (v == "bad") return Error{"no"};
                             return Status::Ok();
                           }}};
  EXPECT_EQ(ParseFlagArgs({"--n=1", "--n=bad", "--n=3"}, defs).error(), "--n: no");
  EXPECT_EQ(applied, (std::vector<std::string>{"1", "bad"}));
}

enum class Color { kRed, kBlue };

std::optional<Color> ParseColor(std::string_view text) {
  if (text == "red") return Color::kRed;
  if (text == "blue") return Color::kBlue;
  return std::nullopt;
}

struct Kinds {
  std::string text;
  std::optional<std::string> maybe;
  Color color = Color::kRed;
  size_t count = 0;
};

std::string KindsError(const std::vector<std::string>& args, Kinds& k) {
  const FlagDef defs[] = {
      TextFlag("--text", k.text),
      TextFlag("--maybe", k.maybe, "needs a path"),
      ChoiceFlag("--color", k.color, ParseColor, "expected red or blue, got "),
      IntFlag("--count", k.count, 1, 8),
  };
  Status s = ParseFlagArgs(args, defs);
  return s.ok() ? "(ok)" : s.error();
}

TEST(FlagKinds, StoreWhatTheyRead) {
  Kinds k;
  EXPECT_EQ(KindsError({"--text=t", "--maybe", "/m", "--color=blue", "--count=8"}, k), "(ok)");
  EXPECT_EQ(k.text, "t");
  EXPECT_EQ(k.maybe, "/m");
  EXPECT_EQ(k.color, Color::kBlue);
  EXPECT_EQ(k.count, 8u);
}

TEST(FlagKinds, ReasonsGetTheNamePrefix) {
  Kinds k;
  EXPECT_EQ(KindsError({"--text="}, k), "--text: must not be empty");
  EXPECT_EQ(KindsError({"--maybe="}, k), "--maybe: needs a path");
  EXPECT_EQ(KindsError({"--color=green"}, k), "--color: expected red or blue, got \"green\"");
  EXPECT_EQ(KindsError({"--count=9"}, k), "--count: expected an integer in [1, 8], got \"9\"");
  EXPECT_EQ(k.text, "");
  EXPECT_FALSE(k.maybe.has_value());
  EXPECT_EQ(k.color, Color::kRed);
  EXPECT_EQ(k.count, 0u);
}

TEST(ParseIntFlag, WithinTheRange) {
  EXPECT_EQ(*ParseIntFlag("0", 0, 10), 0);
  EXPECT_EQ(*ParseIntFlag("10", 0, 10), 10);
  EXPECT_EQ(*ParseIntFlag("-5", -10, 10), -5);
  EXPECT_EQ(*ParseIntFlag("9223372036854775807", 0, INT64_MAX), INT64_MAX);
}

TEST(ParseIntFlag, RejectsWithTheRangeAndTheText) {
  EXPECT_EQ(ParseIntFlag("201", 1, 200).error(), "expected an integer in [1, 200], got \"201\"");
  EXPECT_EQ(ParseIntFlag("0", 1, 200).error(), "expected an integer in [1, 200], got \"0\"");
  EXPECT_EQ(ParseIntFlag("-1", 0, 100000).error(), "expected an integer in [0, 100000], got \"-1\"");
  for (const char* text : {"", "lots", "1x", " 1", "1 ", "+1", "0x10", "1.0", "99999999999999999999"}) {
    EXPECT_EQ(ParseIntFlag(text, 0, 10).error(),
              std::string("expected an integer in [0, 10], got \"") + text + "\"")
        << text;
  }
}

TEST(ParseUintFlag, WholeUnsignedRange) {
  EXPECT_EQ(*ParseUintFlag("0"), 0u);
  EXPECT_EQ(*ParseUintFlag("42"), 42u);
  EXPECT_EQ(*ParseUintFlag("18446744073709551615"), UINT64_MAX);
  for (const char* text : {"", "-1", "+1", "1x", "18446744073709551616"}) {
    EXPECT_EQ(ParseUintFlag(text).error(),
              std::string("expected a non-negative integer, got \"") + text + "\"")
        << text;
  }
}

}  // namespace
}  // namespace dse
