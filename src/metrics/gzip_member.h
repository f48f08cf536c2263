// Builds one gzip member out of independently compressed pieces, so that the
// big, rarely changing parts of the exposition are compressed once per poll
// and a scrape only compresses its small per-scrape tail.
//
// Each piece is raw deflate from a fresh stream ended with Z_SYNC_FLUSH: it is
// byte-aligned, has no final-block bit and refers to nothing before it, so
// pieces can be concatenated in any order. The tail is compressed with
// Z_FINISH (it carries the final block); the trailer's CRC is combined from
// the pieces' CRCs with crc32_combine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dse::metrics {

// Chosen by measurement (docs/benchmarks.md): level 1 already shrinks the
// repetitive exposition text far below 1/8 at a fraction of level 6's cost.
inline constexpr int kGzipLevel = 1;

struct CompressedText {
  std::string text;
  std::string deflated;  // raw deflate, sync-flushed, not final
  uint32_t crc = 0;      // crc32 of text
};

CompressedText Compress(std::string text, int level = kGzipLevel);

// Raw deflate of `text` carrying the final block (valid for empty text too).
// Made for the small per-scrape tail: it uses a 4 KiB window.
std::string DeflateFinal(std::string_view text, int level = kGzipLevel);

// The fixed 10-byte gzip header (no name, no mtime, OS = Unix).
std::string_view GzipHeader();

// crc32 of `text`, and the combination of two adjacent CRCs.
uint32_t Crc32(std::string_view text);
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, size_t length_b);

// The 8-byte trailer: CRC-32 and size modulo 2^32, little-endian.
std::string GzipTrailer(uint32_t crc, size_t total_size);

}  // namespace dse::metrics
