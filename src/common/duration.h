// Prometheus-style durations ("500ms", "30s", "1h30m").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dse {

using Duration = std::chrono::milliseconds;

// Accepts the units ms, s, m, h, d, w, y (Prometheus' set), in decreasing
// order, each at most once; "0" alone is zero. Returns an error text that
// describes the accepted syntax.
Result<Duration> ParseDuration(std::string_view text);

// Shortest Prometheus form, e.g. 90000ms -> "1m30s".
std::string FormatDuration(Duration d);

}  // namespace dse
