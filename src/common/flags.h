// Command-line flags, Prometheus-exporter style: the exporter and the mock
// read the same forms through one parser and word their errors alike.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dse {

struct FlagDef {
  std::string_view name;  // with its dashes: "--config.file"
  // A boolean flag never takes the next argument as its value, so it can
  // stand before any other (`--once --config.file x`): bare --once is true,
  // kingpin's --no-once false, --once=V takes true, false, 1 or 0. Its apply
  // sees "true" or "false" only.
  bool boolean = false;
  // The reason an error gives reaches the user as "<name>: <reason>", so
  // apply words only the reason.
  std::function<Status(const std::string& value)> apply;
};

// Applies the flags in `args` (the program name excluded) in order, so of a
// repeated flag the last one wins. -h stands for --help. Stops at the first
// error, one of
//   unknown flag --bogus (see --help)
//   --config.file: missing value
//   --once: want true or false, got "maybe"
//   unexpected argument "serve" (flags start with --; see --help)
//   <name>: <the reason apply gave>
Status ParseFlagArgs(const std::vector<std::string>& args, std::span<const FlagDef> defs);

// Integer flag values, the whole text in decimal (a minus sign only where
// negative numbers exist); the errors are reasons for apply:
//   expected an integer in [1, 200], got "201"
Result<int64_t> ParseIntFlag(std::string_view value, int64_t min, int64_t max);
//   expected a non-negative integer, got "-1"
Result<uint64_t> ParseUintFlag(std::string_view value);

// Flags of the usual kinds, so that a table spells out only what is its own.
// Each stores into `out`, which must outlive the parse.

// A boolean flag that only stores its value.
FlagDef BoolFlag(std::string_view name, bool& out);

// Any text but the empty one, for which the reason is `if_empty`. The value
// never appears in a message, so this also suits secrets. `out`: a
// std::string or a std::optional<std::string>.
template <typename Out>
FlagDef TextFlag(std::string_view name, Out& out, std::string if_empty = "must not be empty") {
  return {name, false, [&out, if_empty = std::move(if_empty)](const std::string& value) -> Status {
            if (value.empty()) return Error{if_empty};
            out = value;
            return Status::Ok();
          }};
}

// One of the words `parse` knows; else the reason is `expected` and the value
// in quotes: `expected` "must be logfmt or json; got " reads
//   must be logfmt or json; got "xml"
template <typename T>
FlagDef ChoiceFlag(std::string_view name, T& out, std::optional<T> (*parse)(std::string_view),
                   std::string expected) {
  return {name, false, [&out, parse, expected = std::move(expected)](const std::string& value) -> Status {
            std::optional<T> parsed = parse(value);
            if (!parsed) return Error{expected + "\"" + value + "\""};
            out = *parsed;
            return Status::Ok();
          }};
}

// An integer in [min, max] (see ParseIntFlag).
template <typename Int>
FlagDef IntFlag(std::string_view name, Int& out, int64_t min, int64_t max) {
  return {name, false, [&out, min, max](const std::string& value) -> Status {
            Result<int64_t> n = ParseIntFlag(value, min, max);
            if (!n.ok()) return Error{n.error()};
            out = static_cast<Int>(*n);
            return Status::Ok();
          }};
}

}  // namespace dse
