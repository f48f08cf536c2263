// Content negotiation for the telemetry path.
#pragma once

#include <string_view>

namespace dse::server {

// True when an Accept-Encoding value (several header lines joined with ",")
// accepts gzip: "gzip" or "x-gzip" listed with q > 0, or, when neither is
// listed, "*" with q > 0. "gzip;q=0" refuses gzip. An element with a malformed
// q-value counts as not acceptable.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace dse::server
