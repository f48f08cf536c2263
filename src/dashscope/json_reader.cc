#include "dashscope/json_reader.h"

namespace dse::dashscope::detail {

std::string_view TypeName(JsonType t) {
  switch (t) {
    case JsonType::kNull: return "null";
    case JsonType::kBool: return "boolean";
    case JsonType::kInteger:
    case JsonType::kFloat: return "number";
    case JsonType::kString: return "string";
    case JsonType::kObject: return "object";
    case JsonType::kArray: return "array";
  }
  return "value";
}

std::string ParseErrorMessage(rapidjson::ParseErrorCode code, std::size_t offset) {
  std::string out(kErrorPrefix);
  out += "JSON parse error at offset ";
  out += std::to_string(offset);
  out += ": ";
  out += rapidjson::GetParseError_En(code);
  return out;
}

std::string TooDeepMessage() {
  return std::string(kErrorPrefix) + "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

}  // namespace dse::dashscope::detail
