#include "testing/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace dse::testing {
namespace {

// 16 + MAX_WBITS: gzip framing rather than zlib's.
constexpr int kGzipWindowBits = 16 + MAX_WBITS;

struct Inflated {
  std::string text;
  int members = 0;
  bool complete = false;  // ended at the end of a member, no bytes left over
};

Inflated Inflate(std::string_view bytes) {
  Inflated r;
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) return r;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  char buf[65536];
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    r.text.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      ++r.members;
      if (zs.avail_in == 0) {
        r.complete = true;
        break;
      }
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) break;  // the input ends inside a member
  }
  inflateEnd(&zs);
  return r;
}

}  // namespace

std::string Gzip(std::string_view text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<std::string> GunzipMembers(std::string_view bytes) {
  Inflated r = Inflate(bytes);
  if (!r.complete) return std::nullopt;
  return std::move(r.text);
}

std::string Gunzip(std::string_view bytes) {
  Inflated r = Inflate(bytes);
  EXPECT_TRUE(r.complete) << "not complete gzip: a bad trailer, or bytes after the member";
  EXPECT_EQ(r.members, 1) << "want exactly one gzip member";
  return std::move(r.text);
}

}  // namespace dse::testing
