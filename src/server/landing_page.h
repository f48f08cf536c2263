// The HTML page served at "/": version, links and every account's
// deployments. Plain HTML with inline CSS, no scripts, no external assets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/status_view.h"

namespace dse::server {

// A pure function of its inputs so that tests can pin the exact output.
// `now_unix` (seconds) is used for "how long ago" texts.
//
// Stable hooks for browser tests:
//   <section class="account" data-account=".." data-up="1|0">
//   <tr class="deployment" data-account=".." data-deployed-model=".." data-status="..">
// Deployments are listed non-RUNNING first, then by deployed_model.
std::string RenderLandingPage(const metrics::StatusView& view, int64_t now_unix);

// Escapes & < > " ' for use in text and in double-quoted attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace dse::server
