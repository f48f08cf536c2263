// Hand-written JSON output for the mock. The mock must not depend on the
// parser the exporter uses (RapidJSON lives in src/dashscope only), so that a
// bug in one cannot hide the same bug in the other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dse::mock {

// Appends `text` as a quoted JSON string. Control characters are escaped and
// bytes that are not valid UTF-8 become U+FFFD, so the output is always valid
// JSON whatever an admin request put into a field.
void AppendJsonString(std::string& out, std::string_view text);

// A compact writer that places commas and colons; the caller keeps the
// nesting balanced.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Already-serialized JSON, e.g. a nested document written separately.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  std::vector<bool> has_items_;  // per open container
  bool after_key_ = false;
};

}  // namespace dse::mock
