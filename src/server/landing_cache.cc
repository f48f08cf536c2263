#include "server/landing_cache.h"

#include <cstdint>
#include <utility>

#include "metrics/gzip_member.h"
#include "server/landing_page.h"

namespace dse::server::detail {

namespace {

// One complete gzip member of `text`, made with the exposition's own code.
std::string GzipMember(const std::string& text) {
  const metrics::CompressedText body = metrics::Compress(text);
  const uint32_t crc = body.crc;
  std::string out(metrics::GzipHeader());
  out += body.deflated;
  out += metrics::DeflateFinal("");
  const auto size = static_cast<uint32_t>(text.size());
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((crc >> shift) & 0xff));
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((size >> shift) & 0xff));
  return out;
}

std::string LandingKey(const metrics::StatusView& view) {
  std::string key = view.version + '\n' + view.revision + '\n' + view.telemetry_path + '\n';
  for (const metrics::AccountView& a : view.accounts) {
    key += a.name;
    key += '\n';
    key += a.base_url + '\n' + a.workspace + '\n' + a.last_error + '\n';
    key +=
        std::to_string(a.up) + std::to_string(a.ever_succeeded()) + std::to_string(a.data_dropped_as_stale);
    key += ' ' + std::to_string(a.last_success_unix.value_or(-1)) + ' ' +
           std::to_string(a.last_poll_unix.value_or(-1));
    key += ' ' + std::to_string(a.last_poll_duration_seconds);
    // The deployments are an immutable snapshot: its address names it.
    key += ' ' + std::to_string(reinterpret_cast<uintptr_t>(a.deployments.get())) + '\n';
  }
  return key;
}

}  // namespace

std::shared_ptr<const std::string> CachedLandingPage(LandingCache& landing, const metrics::StatusView& view,
                                                     int64_t now, bool gzip) {
  std::string key = LandingKey(view);
  if (now != landing.now || key != landing.key) {
    landing.plain = std::make_shared<const std::string>(RenderLandingPage(view, now));
    landing.gzip.reset();
    landing.key = std::move(key);
    landing.now = now;
  }
  if (!gzip) return landing.plain;
  if (!landing.gzip) landing.gzip = std::make_shared<const std::string>(GzipMember(*landing.plain));
  return landing.gzip;
}

}  // namespace dse::server::detail
