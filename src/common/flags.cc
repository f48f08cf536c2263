#include "common/flags.h"

#include <optional>

#include "common/decimal.h"

namespace dse {
namespace {

const FlagDef* Find(std::span<const FlagDef> defs, std::string_view name) {
  for (const FlagDef& def : defs) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

}  // namespace

FlagDef BoolFlag(std::string_view name, bool& out) {
  return {name, true, [&out](const std::string& value) {
            out = value == "true";
            return Status::Ok();
          }};
}

Status ParseFlagArgs(const std::vector<std::string>& args, std::span<const FlagDef> defs) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string arg = args[i] == "-h" ? "--help" : args[i];
    if (arg.rfind("--", 0) != 0) {
      return Error{"unexpected argument \"" + arg + "\" (flags start with --; see --help)"};
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const FlagDef* def = Find(defs, name);
    bool negated = false;
    if (def == nullptr && name.rfind("--no-", 0) == 0) {
      // --no-once=true would read as a double negative, so it is not a spelling of --once.
      const FlagDef* positive = Find(defs, "--" + name.substr(5));
      negated = positive != nullptr && positive->boolean && !value;
      if (negated) def = positive;
    }
    if (def == nullptr) return Error{"unknown flag " + name + " (see --help)"};
    const std::string prefix = std::string(def->name) + ": ";
    if (def->boolean) {
      if (!value) {
        value = negated ? "false" : "true";
      } else if (*value == "1") {
        value = "true";
      } else if (*value == "0") {
        value = "false";
      } else if (*value != "true" && *value != "false") {
        return Error{prefix + "want true or false, got \"" + *value + "\""};
      }
    } else if (!value) {
      if (i + 1 >= args.size()) return Error{prefix + "missing value"};
      value = args[++i];
    }
    if (Status s = def->apply(*value); !s.ok()) return Error{prefix + s.error()};
  }
  return Status::Ok();
}

Result<int64_t> ParseIntFlag(std::string_view value, int64_t min, int64_t max) {
  const std::optional<int64_t> n = ParseDecimal<int64_t>(value);
  if (!n || *n < min || *n > max) {
    return Error{"expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got \"" +
                 std::string(value) + "\""};
  }
  return *n;
}

Result<uint64_t> ParseUintFlag(std::string_view value) {
  const std::optional<uint64_t> n = ParseDecimal<uint64_t>(value);
  if (!n) return Error{"expected a non-negative integer, got \"" + std::string(value) + "\""};
  return *n;
}

}  // namespace dse
