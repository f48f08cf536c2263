// Low-level pieces of the Prometheus text format 0.0.4, appended to a string
// without intermediate allocations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dse::metrics {

// Label values longer than this are cut (at a UTF-8 boundary): a runaway API
// string must not blow up every series it lands in.
inline constexpr size_t kMaxLabelValueBytes = 256;

// Appends `value` escaped for use inside a quoted label value (\\, \", \n),
// cut to `max_bytes` at a UTF-8 boundary.
void AppendLabelValue(std::string& out, std::string_view value, size_t max_bytes = kMaxLabelValueBytes);

// Appends the shortest text that reads back as `value` ("1", "0.5", "NaN", "+Inf").
void AppendValue(std::string& out, double value);
void AppendValue(std::string& out, int64_t value);

// "# HELP name help\n# TYPE name type\n"; help is escaped (\\ and \n).
void AppendHeader(std::string& out, std::string_view name, std::string_view help, std::string_view type);

}  // namespace dse::metrics
