// Published state: per account, an immutable snapshot of the last good data
// (rendered and compressed once per poll); across accounts, the exposition
// that scrapes read. Writers swap whole snapshots; readers never wait on a
// poll, a render or a compression.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dashscope/deployment.h"
#include "metrics/deployment_families.h"
#include "metrics/gzip_member.h"
#include "metrics/scrape_body.h"
#include "metrics/status_view.h"

namespace dse::metrics {

// One account's deployments as of one successful poll, with their sample
// lines per family, plain and compressed.
struct DeploymentData {
  std::string account;
  std::vector<dashscope::Deployment> deployments;
  // Parallel to deployments, or empty when no status history was kept.
  std::vector<StatusSince> status_since;
  std::vector<CompressedText> families;  // in DeploymentFamilies() order
};

// `previous` (the account's last data, may be null) lets an unchanged poll
// cost no rendering or compression: a fleet at rest lists the same thing
// every poll, so equal input returns `previous` itself, and a family whose
// lines came out the same keeps its compressed text.
std::shared_ptr<const DeploymentData> BuildDeploymentData(
    std::string_view account, std::vector<dashscope::Deployment> deployments,
    std::vector<StatusSince> status_since = {}, std::shared_ptr<const DeploymentData> previous = nullptr);

struct AccountSnapshot {
  AccountView view;                            // view.deployments aliases data
  std::shared_ptr<const DeploymentData> data;  // null: nothing to export
};

// The deployment families of every account, in exposition order, ready to
// be sent: each family's HELP/TYPE followed by every account's lines.
struct Exposition {
  std::vector<std::shared_ptr<const AccountSnapshot>> accounts;  // keeps pieces alive
  std::vector<const CompressedText*> pieces;
  size_t text_size = 0;
  uint32_t crc = 0;  // crc32 of all pieces' text, in order
};

class ExpositionStore {
 public:
  ExpositionStore();

  // Sets the accounts and their order (start-up and reload). Snapshots of
  // accounts no longer listed are dropped; new ones start empty.
  void SetAccounts(const std::vector<AccountView>& accounts);
  // Replaces one account's snapshot and republishes.
  void Publish(std::shared_ptr<const AccountSnapshot> snapshot);

  std::shared_ptr<const Exposition> Current() const;
  std::vector<std::shared_ptr<const AccountSnapshot>> Accounts() const;

 private:
  void RebuildLocked();

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const AccountSnapshot>> accounts_;  // guarded by mu_
  std::shared_ptr<const Exposition> current_;                     // guarded by mu_
};

// A scrape's body: the published exposition followed by `tail` (the small,
// per-scrape part), plain or as one gzip member.
ScrapeBody AssembleScrapeBody(std::shared_ptr<const Exposition> exposition, std::string tail, bool gzip);

}  // namespace dse::metrics
