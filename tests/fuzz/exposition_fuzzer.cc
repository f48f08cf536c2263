// Whatever a page parses into must come out as well-formed exposition text:
// the hostile strings of a body become label values, and one bad label value
// would make Prometheus reject the whole scrape. Checks the rendered lines,
// the pre-compressed pieces and the assembled scrape body, plain and gzip.
#include <zlib.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dashscope/page_parser.h"
#include "fuzz_check.h"
#include "metrics/deployment_families.h"
#include "metrics/exposition.h"
#include "metrics/gzip_member.h"
#include "metrics/text_format.h"

namespace {

using dse::fuzz::IsValidUtf8;
namespace metrics = dse::metrics;

// Both as allowed by the config loader; the second needs escaping.
constexpr std::string_view kAccounts[] = {"fuzz", R"(we"ird\acc)"};

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Reads a metric or label name at line[pos]; metric names may also hold ':'.
std::string_view ReadName(std::string_view line, size_t& pos, bool metric) {
  const size_t start = pos;
  while (pos < line.size() &&
         ((pos == start ? IsNameStart(line[pos]) : IsNameChar(line[pos])) || (metric && line[pos] == ':'))) {
    ++pos;
  }
  return line.substr(start, pos - start);
}

bool IsSampleValue(std::string_view v) {
  if (v == "NaN" || v == "+Inf" || v == "-Inf") return true;
  if (v.empty()) return false;
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  return ec == std::errc() && end == v.data() + v.size();
}

// One sample line without its '\n': name{label="value",...} value
// Returns the metric name; aborts on anything else.
std::string_view CheckSampleLine(std::string_view line) {
  size_t pos = 0;
  const std::string_view name = ReadName(line, pos, true);
  DSE_FUZZ_CHECK(!name.empty(), line);
  DSE_FUZZ_CHECK(pos < line.size() && line[pos] == '{', line);
  ++pos;
  bool first = true;
  while (pos < line.size() && line[pos] != '}') {
    if (!first) {
      DSE_FUZZ_CHECK(line[pos] == ',', line);
      ++pos;
    }
    first = false;
    DSE_FUZZ_CHECK(!ReadName(line, pos, false).empty(), line);
    DSE_FUZZ_CHECK(line.substr(pos, 2) == "=\"", line);
    pos += 2;
    size_t unescaped = 0;
    for (;;) {
      DSE_FUZZ_CHECK(pos < line.size(), line);  // unterminated label value
      const char c = line[pos++];
      if (c == '"') break;
      if (c == '\\') {
        DSE_FUZZ_CHECK(pos < line.size(), line);
        const char e = line[pos++];
        DSE_FUZZ_CHECK(e == '\\' || e == '"' || e == 'n', line);
      }
      ++unescaped;
    }
    DSE_FUZZ_CHECK(unescaped <= metrics::kMaxLabelValueBytes, line);
  }
  DSE_FUZZ_CHECK(line.substr(pos, 2) == "} ", line);
  pos += 2;
  DSE_FUZZ_CHECK(IsSampleValue(line.substr(pos)), line);
  return name;
}

// Every line of `text` is a sample of `family` (or, with headers allowed,
// a HELP/TYPE line). Returns the number of sample lines.
size_t CheckLines(std::string_view text, std::string_view family, bool headers) {
  DSE_FUZZ_CHECK(IsValidUtf8(text), text);
  DSE_FUZZ_CHECK(text.empty() || text.back() == '\n', text);
  size_t samples = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (headers && (line.starts_with("# HELP ") || line.starts_with("# TYPE "))) continue;
    const std::string_view name = CheckSampleLine(line);
    if (!family.empty()) DSE_FUZZ_CHECK(name == family, line);
    ++samples;
  }
  return samples;
}

// Inflates raw deflate (windowBits -15) or gzip (windowBits 31) data.
std::string Inflate(std::string_view in, int window_bits) {
  z_stream z{};
  DSE_FUZZ_CHECK(inflateInit2(&z, window_bits) == Z_OK, "inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_SYNC_FLUSH);
    DSE_FUZZ_CHECK(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "inflate failed");
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
  if (window_bits > 15) DSE_FUZZ_CHECK(rc == Z_STREAM_END, "gzip member not finished");
  inflateEnd(&z);
  return out;
}

std::string Concat(const metrics::ScrapeBody& body) {
  std::string out;
  for (std::string_view p : body.pieces) out.append(p);
  DSE_FUZZ_CHECK(out.size() == body.size, "ScrapeBody::size is not the sum of its pieces");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto page = dse::dashscope::ParseDeploymentPage(dse::fuzz::AsText(data, size));
  if (!page.ok()) return 0;
  const std::vector<dse::dashscope::Deployment>& deployments = page->deployments;

  // Rendered text per family: the right lines, the right number of them, and
  // pieces that inflate back to the text with the right CRC.
  std::vector<std::shared_ptr<const metrics::AccountSnapshot>> snapshots;
  // A status history as a poller keeps one, so its two families render too;
  // the second account has none, so they must stay empty there.
  std::vector<metrics::StatusSince> since;
  for (const auto& d : deployments) since.push_back({d.gmt_modified.value_or(0), since.size()});
  for (std::string_view account : kAccounts) {
    const bool with_since = account == kAccounts[0];
    auto data_ptr =
        metrics::BuildDeploymentData(account, deployments, with_since ? since : decltype(since){});
    const auto families = metrics::DeploymentFamilies();
    DSE_FUZZ_CHECK(data_ptr->families.size() == families.size(), "a piece per family");
    for (size_t f = 0; f < families.size(); ++f) {
      const std::string_view family = families[f].name;
      const metrics::CompressedText& piece = data_ptr->families[f];
      const size_t lines = CheckLines(piece.text, family, false);
      if (family == "dashscope_deployment_status") {
        DSE_FUZZ_CHECK(lines == deployments.size() * metrics::kKnownStatuses.size(), piece.text);
      } else if (family == "dashscope_deployment_info") {
        DSE_FUZZ_CHECK(lines == deployments.size(), piece.text);
      } else if (families[f].needs_history) {
        DSE_FUZZ_CHECK(lines == (with_since ? deployments.size() : 0), piece.text);
      } else {
        DSE_FUZZ_CHECK(lines <= deployments.size(), piece.text);
      }
      DSE_FUZZ_CHECK(metrics::Crc32(piece.text) == piece.crc, "crc of a family piece");
      DSE_FUZZ_CHECK(Inflate(piece.deflated, -15) == piece.text, "deflated piece != its text");
    }
    auto snapshot = std::make_shared<metrics::AccountSnapshot>();
    snapshot->view.name = std::string(account);
    snapshot->data = std::move(data_ptr);
    snapshots.push_back(std::move(snapshot));
  }

  // The published exposition across both accounts, then one scrape's body.
  metrics::ExpositionStore store;
  std::vector<metrics::AccountView> views;
  for (const auto& s : snapshots) views.push_back(s->view);
  store.SetAccounts(views);
  for (auto& s : snapshots) store.Publish(std::move(s));
  const auto exposition = store.Current();

  const std::string tail = "dse_fuzz_tail{part=\"tail\"} 1\n";
  const std::string plain = Concat(metrics::AssembleScrapeBody(exposition, tail, false));
  DSE_FUZZ_CHECK(plain.ends_with(tail), "tail missing");
  DSE_FUZZ_CHECK(plain.size() == exposition->text_size + tail.size(), "text_size");
  CheckLines(plain, "", true);

  const std::string gzipped = Concat(metrics::AssembleScrapeBody(exposition, tail, true));
  DSE_FUZZ_CHECK(Inflate(gzipped, 31) == plain, "gzip body does not inflate to the plain body");
  return 0;
}
