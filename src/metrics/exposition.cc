#include "metrics/exposition.h"

#include <algorithm>

#include "metrics/text_format.h"

namespace dse::metrics {
namespace {

// HELP/TYPE lines per family, compressed once for the life of the process.
const std::vector<CompressedText>& FamilyHeaders() {
  static const auto* headers = [] {
    auto* h = new std::vector<CompressedText>();
    for (const DeploymentFamily& family : DeploymentFamilies()) {
      std::string text;
      AppendHeader(text, family.name, family.help, family.type);
      h->push_back(Compress(std::move(text)));
    }
    return h;
  }();
  return *headers;
}

// The tail starts with the exporter's own metrics, which change only when a
// poll or a reload does, and ends with process_* and the HTTP request
// counts, which change on every scrape. Deflating all of it was a fifth of a
// gzip scrape's CPU, so the part two consecutive tails share (their longest
// common prefix, cut at a line end) is deflated once and reused while tails
// start with it. Keyed by the text itself: a stale entry can only miss.
struct TailPrefix {
  std::string tail;       // the tail this entry was made from
  CompressedText prefix;  // sync-flushed, so the rest of a tail can follow
};

// Shorter shared prefixes are not worth an entry.
constexpr size_t kMinTailPrefix = 512;

std::shared_ptr<const TailPrefix> TailPrefixFor(const std::string& tail) {
  static std::mutex mu;
  static std::shared_ptr<const TailPrefix> last;  // guarded by mu
  std::shared_ptr<const TailPrefix> cached;
  {
    std::lock_guard lock(mu);
    cached = last;
  }
  if (cached && !cached->prefix.text.empty() && tail.starts_with(cached->prefix.text)) return cached;

  size_t shared = 0;
  if (cached) {
    const size_t n = std::min(tail.size(), cached->tail.size());
    shared = static_cast<size_t>(
        std::mismatch(tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(n), cached->tail.begin())
            .first -
        tail.begin());
    const size_t line_end = shared == 0 ? std::string::npos : tail.rfind('\n', shared - 1);
    shared = line_end == std::string::npos ? 0 : line_end + 1;
  }
  auto next = std::make_shared<TailPrefix>();
  next->tail = tail;
  if (shared >= kMinTailPrefix) next->prefix = Compress(tail.substr(0, shared));
  std::lock_guard lock(mu);
  last = next;
  return next;
}

}  // namespace

std::shared_ptr<const DeploymentData> BuildDeploymentData(std::string_view account,
                                                          std::vector<dashscope::Deployment> deployments,
                                                          std::vector<StatusSince> status_since,
                                                          std::shared_ptr<const DeploymentData> previous) {
  if (previous && previous->account != account) previous.reset();
  if (previous && previous->deployments == deployments && previous->status_since == status_since) {
    return previous;
  }
  auto data = std::make_shared<DeploymentData>();
  data->account = account;
  DeploymentFamilyText text = RenderDeploymentFamilies(account, deployments, status_since);
  data->families.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (previous && previous->families[i].text == text[i]) {
      data->families[i] = previous->families[i];
    } else {
      data->families[i] = Compress(std::move(text[i]));
    }
  }
  data->deployments = std::move(deployments);
  data->status_since = std::move(status_since);
  return data;
}

ExpositionStore::ExpositionStore() : current_(std::make_shared<Exposition>()) {}

void ExpositionStore::SetAccounts(const std::vector<AccountView>& accounts) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const AccountSnapshot>> next;
  for (const auto& view : accounts) {
    std::shared_ptr<const AccountSnapshot> kept;
    for (const auto& old : accounts_) {
      if (old->view.name == view.name) kept = old;
    }
    if (!kept) {
      auto fresh = std::make_shared<AccountSnapshot>();
      fresh->view = view;
      kept = std::move(fresh);
    }
    next.push_back(std::move(kept));
  }
  accounts_ = std::move(next);
  RebuildLocked();
}

void ExpositionStore::Publish(std::shared_ptr<const AccountSnapshot> snapshot) {
  std::lock_guard lock(mu_);
  for (auto& a : accounts_) {
    if (a->view.name == snapshot->view.name) {
      a = std::move(snapshot);
      RebuildLocked();
      return;
    }
  }
  // An account removed by a reload while its last poll was running: its
  // result is no longer wanted.
}

void ExpositionStore::RebuildLocked() {
  // Only pointers are gathered here; the text was rendered and compressed by
  // the poller before Publish.
  auto e = std::make_shared<Exposition>();
  e->accounts = accounts_;
  const auto& headers = FamilyHeaders();
  for (size_t f = 0; f < headers.size(); ++f) {
    std::vector<const CompressedText*> lines;
    for (const auto& a : accounts_) {
      if (a->data && !a->data->families[f].text.empty()) lines.push_back(&a->data->families[f]);
    }
    if (lines.empty()) continue;  // a family with no samples is left out entirely
    lines.insert(lines.begin(), &headers[f]);
    for (const CompressedText* p : lines) {
      // crc32("") is 0, so combining from 0 needs no special first case.
      e->crc = Crc32Combine(e->crc, p->crc, p->text.size());
      e->text_size += p->text.size();
      e->pieces.push_back(p);
    }
  }
  current_ = std::move(e);
}

std::shared_ptr<const Exposition> ExpositionStore::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::vector<std::shared_ptr<const AccountSnapshot>> ExpositionStore::Accounts() const {
  std::lock_guard lock(mu_);
  return accounts_;
}

ScrapeBody AssembleScrapeBody(std::shared_ptr<const Exposition> exposition, std::string tail, bool gzip) {
  struct Owned {
    std::shared_ptr<const Exposition> exposition;
    std::string tail;
    std::shared_ptr<const TailPrefix> tail_prefix;
    std::string tail_deflated;  // the tail after tail_prefix
    std::string trailer;
  };
  auto owned = std::make_shared<Owned>();
  owned->exposition = std::move(exposition);
  owned->tail = std::move(tail);
  const Exposition& e = *owned->exposition;

  ScrapeBody body;
  body.gzip = gzip;
  body.pieces.reserve(e.pieces.size() + 3);
  auto add = [&body](std::string_view piece) {
    if (piece.empty()) return;
    body.pieces.push_back(piece);
    body.size += piece.size();
  };
  if (gzip) {
    owned->tail_prefix = TailPrefixFor(owned->tail);
    const CompressedText& prefix = owned->tail_prefix->prefix;
    const std::string_view rest = std::string_view(owned->tail).substr(prefix.text.size());
    // After a cached prefix, the rest is the small part that changes on every
    // scrape: deflating it saves a few hundred bytes for a large share of a
    // gzip scrape's CPU (docs/benchmarks.md, commit cd25411), so it is
    // stored (level 0) instead.
    owned->tail_deflated = DeflateFinal(rest, prefix.text.empty() ? kGzipLevel : 0);
    uint32_t crc = Crc32Combine(e.crc, prefix.crc, prefix.text.size());
    crc = Crc32Combine(crc, Crc32(rest), rest.size());
    owned->trailer = GzipTrailer(crc, e.text_size + owned->tail.size());
    add(GzipHeader());
    for (const CompressedText* p : e.pieces) add(p->deflated);
    add(prefix.deflated);
    add(owned->tail_deflated);
    add(owned->trailer);
  } else {
    for (const CompressedText* p : e.pieces) add(p->text);
    add(owned->tail);
  }
  body.keep_alive = std::move(owned);
  return body;
}

}  // namespace dse::metrics
