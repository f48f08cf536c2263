// The JSON reading the page parser and the error-body parser share:
// RapidJSON's SAX reader in iterative mode, numbers as text, a UTF-8 BOM
// skipped, the messages of a failed parse. Private to dse_dashscope_parser:
// only its .cc files include this, so RapidJSON reaches no other target.
#pragma once

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dse::dashscope::detail {

// Numbers arrive as text and are converted with std::from_chars: exact
// (correctly rounded) and safe. RapidJSON 1.1.0's own full-precision path
// crashes or misparses some inputs (upstream #1249, #1251), and its default
// path is not exact.
inline constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

inline constexpr std::string_view kErrorPrefix = "invalid_response: ";
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

enum class JsonType : std::uint8_t { kNull, kBool, kInteger, kFloat, kString, kObject, kArray };

// "null", "boolean", "number", "string", "object" or "array", for messages.
std::string_view TypeName(JsonType t);

// One scalar event, whatever RapidJSON handler call delivered it.
struct Scalar {
  JsonType type = JsonType::kNull;
  std::string_view text;           // kString; valid only during the event
  double number = 0;               // kInteger, kFloat
  std::optional<int64_t> integer;  // kInteger, when it fits
};

// "invalid_response: JSON parse error at offset N: <RapidJSON's words>".
std::string ParseErrorMessage(rapidjson::ParseErrorCode code, std::size_t offset);

// Deeper JSON is refused, in list pages and error bodies alike: nothing the
// API sends comes close, and the cap bounds the parser's memory on hostile
// input.
inline constexpr int kMaxJsonDepth = 64;

// "invalid_response: JSON nested deeper than 64 levels".
std::string TooDeepMessage();

// Feeds `body` to `handler`; returns the error message, empty on success.
// The handler stops the reader by returning false after setting error().
template <typename Handler>
std::string RunReader(std::string_view body, Handler& handler) {
  std::size_t skipped = 0;
  if (body.substr(0, kUtf8Bom.size()) == kUtf8Bom) {  // some gateways prepend one
    body.remove_prefix(kUtf8Bom.size());
    skipped = kUtf8Bom.size();
  }
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  const rapidjson::ParseResult result = reader.Parse<kParseFlags>(stream, handler);
  if (result.IsError()) {
    if (result.Code() == rapidjson::kParseErrorTermination && !handler.error().empty())
      return handler.error();
    return ParseErrorMessage(result.Code(), result.Offset() + skipped);
  }
  // The stream reads a NUL byte as its end; JSON never contains a raw one,
  // so one that stopped the reader early means trailing garbage.
  if (stream.Tell() != body.size()) {
    return ParseErrorMessage(rapidjson::kParseErrorDocumentRootNotSingular, stream.Tell() + skipped);
  }
  return {};
}

}  // namespace dse::dashscope::detail
