#include "dashscope/error_body.h"

#include <string>
#include <utility>

#include "common/utf8.h"
#include "dashscope/json_reader.h"

namespace dse::dashscope {
namespace {

using detail::kErrorPrefix;

// SAX handler for {"code": ..., "message": ..., "request_id": ...}: reads the
// top-level string members, skips everything else.
class ApiErrorHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ApiErrorHandler> {
 public:
  bool Default() {
    if (depth_ == 0) return NotAnObject();
    if (depth_ == 1 && target_ != nullptr) target_->clear();  // a non-string: treat as absent
    return true;
  }
  // Numbers arrive as text (kParseNumbersAsStringsFlag); they are not strings.
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Default(); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ == 0) return NotAnObject();
    if (depth_ == 1 && target_ != nullptr) AssignValidUtf8(std::string_view(s, n), *target_);
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ != 1) return true;
    const std::string_view key(s, n);
    target_ = key == "code"         ? &result_.code
              : key == "message"    ? &result_.message
              : key == "request_id" ? &result_.request_id
                                    : nullptr;
    return true;
  }
  bool StartObject() { return Open(true); }
  bool StartArray() { return Open(false); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  const std::string& error() const { return error_; }
  ApiError Take() && { return std::move(result_); }

 private:
  bool NotAnObject() {
    error_ = std::string(kErrorPrefix) + "error body is not a JSON object";
    return false;
  }
  bool Open(bool is_object) {
    if (depth_ >= detail::kMaxJsonDepth) {
      error_ = detail::TooDeepMessage();
      return false;
    }
    if (depth_ == 0 && !is_object) return NotAnObject();
    if (depth_ == 1 && target_ != nullptr) target_->clear();
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::string* target_ = nullptr;
  ApiError result_;
  std::string error_;
};

}  // namespace

Result<ApiError> ParseApiError(std::string_view body) {
  ApiErrorHandler handler;
  if (std::string error = detail::RunReader(body, handler); !error.empty()) return Error{std::move(error)};
  return std::move(handler).Take();
}

}  // namespace dse::dashscope
