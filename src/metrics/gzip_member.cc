#include "metrics/gzip_member.h"

#include <zlib.h>

#include <climits>
#include <cstring>

namespace dse::metrics {
namespace {

// Negative window bits: raw deflate (no zlib header).
std::string Deflate(std::string_view text, int level, int flush, int window_bits = 15, int mem_level = 8) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(text.size())) + 16);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  // deflateBound covers the whole input, so one call always suffices.
  deflate(&zs, flush);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  out.shrink_to_fit();
  return out;
}

}  // namespace

uint32_t Crc32(std::string_view text) {
  return static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(text.data()), text.size()));
}

uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, size_t length_b) {
  return static_cast<uint32_t>(crc32_combine64(crc_a, crc_b, static_cast<z_off64_t>(length_b)));
}

CompressedText Compress(std::string text, int level) {
  CompressedText c;
  if (!text.empty()) {
    c.deflated = Deflate(text, level, Z_SYNC_FLUSH);
    c.crc = Crc32(text);
  }
  c.text = std::move(text);
  return c;
}

std::string DeflateFinal(std::string_view text, int level) {
  // A 4 KiB window and memLevel 5 keep zlib's state at ~32 KiB instead of
  // ~256 KiB (32 KiB window, memLevel 8). This runs on every gzip scrape, on
  // any HTTP worker, and each worker's malloc arena kept the larger state
  // resident. For a tail of a few KiB the output is as small.
  return Deflate(text, level, Z_FINISH, 12, 5);
}

std::string_view GzipHeader() {
  static constexpr char kHeader[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};
  return {kHeader, sizeof kHeader};
}

std::string GzipTrailer(uint32_t crc, size_t total_size) {
  std::string t(8, '\0');
  const auto size32 = static_cast<uint32_t>(total_size & 0xFFFFFFFFu);
  for (int i = 0; i < 4; ++i) {
    t[static_cast<size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    t[static_cast<size_t>(4 + i)] = static_cast<char>((size32 >> (8 * i)) & 0xFF);
  }
  return t;
}

}  // namespace dse::metrics
