#include "mock/fleet.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

#include "common/splitmix.h"

namespace dse::mock {
namespace {

// splitmix64 keeps the fleet reproducible from the seed.
class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t Next() {
    state_ += kSplitMixGamma;
    return SplitMix(state_);
  }
  // Uniform enough for picking among a handful of choices.
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& choices) {
    return choices[Below(N)];
  }

 private:
  uint64_t state_;
};

constexpr std::array<const char*, 4> kHostedModels = {"qwen-plus", "qwen-max", "qwen-turbo", "emo"};
constexpr std::array<const char*, 4> kOpenModels = {"qwen2.5-7b-instruct", "qwen2.5-14b-instruct",
                                                    "qwen2.5-72b-instruct", "qwen3-8b"};
constexpr std::array<const char*, 8> kNames = {
    "chatbot-prod", "support-assistant", "batch-summarizer", "rag-search",
    "eval-sandbox", "voice-agent",       "translation",      "doc-qa"};
constexpr std::array<const char*, 3> kUnitSpecs = {"mu.small.1x", "mu.medium.1x", "mu.large.1x"};
constexpr int64_t kDay = 86400;

std::string Hex(uint64_t value, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = "0123456789abcdef"[value & 0xF];
    value >>= 4;
  }
  return out;
}

std::string MaskedAccount(uint64_t value) { return std::to_string(100000000 + value % 900000000) + "***"; }

}  // namespace

std::string FormatApiTime(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];  // room for any int fields, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Fleet::Fleet(FleetOptions options) : options_(std::move(options)) { Reset(); }

int64_t Fleet::SimulatedTime(int64_t tick) const { return kEpochSeconds + tick * options_.seconds_per_tick; }

void Fleet::Advance(int64_t ticks) {
  if (ticks > 0) tick_ += ticks;
}

void Fleet::Reset() {
  tick_ = 0;
  (void)Regenerate(options_.count);
}

Status Fleet::Regenerate(size_t count) {
  if (count > kMaxFleetSize) {
    return Error{"count must be at most " + std::to_string(kMaxFleetSize)};
  }
  entries_.clear();
  entries_.reserve(count);
  for (size_t i = 0; i < count; ++i) entries_.push_back(Generate(i, tick_));
  RebuildIndex();
  return Status::Ok();
}

Fleet::Entry Fleet::Generate(size_t index, int64_t start_tick) const {
  // Each index has its own stream, so growing the fleet does not change the
  // deployments already in it.
  Rng rng(options_.seed * 0x100000001B3ull + index);
  const uint64_t account = Rng(options_.seed).Next();

  Entry e;
  e.start_tick = start_tick;
  switch (index) {
    case 1: e.role = Role::kCreated; break;
    case 2: e.role = Role::kScaleUp; break;
    case 3: e.role = Role::kStopped; break;
    case 5: e.role = Role::kFails; break;
    case 7: e.role = Role::kAutoscaled; break;
    case 12: e.role = Role::kDeploying; break;
    case 13: e.role = Role::kPrepaidCreated; break;
    case 14: e.role = Role::kScaling; break;
    default: e.role = Role::kSteady; break;
  }

  Deployment& d = e.base;
  d.workspace_id = options_.workspace_id;
  d.charge_type = "post_paid";
  d.base_capacity = 1;
  switch (index % 4) {
    case 0:
      d.plan = "mu";
      d.base_model = rng.Pick(kHostedModels);
      d.model_name = d.base_model;
      d.model_unit_spec = rng.Pick(kUnitSpecs);
      d.base_capacity = 1 + static_cast<int64_t>(rng.Below(2));
      break;
    case 1:
      d.plan = "ptu";
      d.base_model = rng.Pick(kHostedModels);
      d.model_name = d.base_model;
      d.charge_type = "pre_paid";
      break;
    case 2:
      d.plan = "lora";
      d.base_model = rng.Pick(kOpenModels);
      d.model_name =
          d.base_model + "-ft-202506" + std::to_string(10 + rng.Below(7)) + "-" + Hex(rng.Next(), 4);
      break;
    default:
      d.base_model = rng.Pick(kOpenModels);
      d.model_name = d.base_model;
      break;
  }
  // Index 2 starts at its base capacity so that the scale-up doubles it.
  const int64_t multiple = index == 2 ? 1 : 1 + static_cast<int64_t>(rng.Below(3));
  d.capacity = d.base_capacity * multiple;
  if (d.plan == std::optional<std::string>("ptu")) {
    static constexpr std::array<int64_t, 3> kInputTpm = {100000, 200000, 500000};
    const int64_t input = rng.Pick(kInputTpm);
    d.ptu_capacity = PtuCapacity{input, input / 10};
  }
  if (index % 3 != 2) d.name = std::string(rng.Pick(kNames)) + "-" + std::to_string(index + 1);
  if (index % 2 == 0) {
    static constexpr std::array<int64_t, 3> kRpm = {300, 600, 1200};
    d.rpm_limit = rng.Pick(kRpm);
    d.tpm_limit = *d.rpm_limit * 200;
  }

  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "-mock%03zu", index + 1);
  d.deployed_model = d.base_model + "-" + Hex(rng.Next(), 8) + suffix;
  d.creator = MaskedAccount(account);
  d.modifier = index % 5 == 4 ? MaskedAccount(Rng(account).Next()) : d.creator;

  const int64_t epoch = SimulatedTime(start_tick);
  if (e.role == Role::kCreated) {
    d.created_at = epoch;
    d.modified_at = epoch;
  } else {
    d.created_at =
        epoch - (1 + static_cast<int64_t>(rng.Below(90))) * kDay - static_cast<int64_t>(rng.Below(kDay));
    d.modified_at = d.created_at + static_cast<int64_t>(rng.Below(static_cast<size_t>(epoch - d.created_at)));
  }
  d.status = e.role == Role::kStopped ? "STOPPED" : "RUNNING";
  d.ready_capacity = e.role == Role::kStopped ? 0 : d.capacity;

  // Second-release fields: from the index only, after every draw above.
  d.rpm_limit_as_string = d.rpm_limit.has_value() && index % 6 == 4;
  if (d.ptu_capacity) {
    constexpr int64_t kYear = 365 * kDay;
    d.pre_paid_expires_at = d.created_at + (5 + static_cast<int64_t>(index % 4)) * kYear;
    const bool fast = index % 8 == 1;
    d.ptu_service_tier = fast ? "ptu_fast" : "ptu_default";
    d.overflow_strategy = fast ? "enable" : "disable";
  }
  if (e.role == Role::kScaling) {
    d.capacity = 2 * d.base_capacity;
    d.ready_capacity = d.capacity;
  }
  return e;
}

Deployment Fleet::View(const Entry& entry) const {
  Deployment d = entry.base;
  const int64_t age = tick_ - entry.start_tick;
  const int64_t c = entry.base.capacity;
  auto changed_at = [&](int64_t age_of_change) {
    d.modified_at = SimulatedTime(entry.start_tick + age_of_change);
  };
  switch (entry.role) {
    case Role::kSteady:
    case Role::kStopped:
    case Role::kPinned: break;
    case Role::kCreated:
      if (age < 2) {
        d.status = "PENDING";
        d.ready_capacity = 0;
      } else {
        d.status = "RUNNING";
        d.ready_capacity = d.capacity;
        changed_at(2);
      }
      break;
    case Role::kScaleUp:
      if (age >= 3) {
        d.capacity = 2 * c;
        d.status = age < 6 ? "UPDATING" : "RUNNING";
        d.ready_capacity = age < 6 ? c : 2 * c;
        changed_at(age < 6 ? 3 : 6);
      }
      break;
    case Role::kFails:
      if (age >= 4) {
        d.status = "FAILED";
        d.ready_capacity = 0;
        d.fail_reason = "Insufficient resource: no free capacity for " + d.model_name + " in this region";
        changed_at(4);
      }
      break;
    case Role::kDeploying:
      if (age < 3) {
        d.status = "DEPLOYING";
        d.ready_capacity = 0;
      } else {
        changed_at(3);
      }
      break;
    case Role::kPrepaidCreated:
      if (age < 6) {
        d.status = age < 3 ? "WAIT_PRE_PAID_BILLING_TO_DEPLOYING" : "DEPLOYING";
        d.ready_capacity = 0;
        if (age >= 3) changed_at(3);
      } else {
        changed_at(6);
      }
      break;
    case Role::kScaling:
      if (age < 6) {
        d.status = "SCALING";
        d.ready_capacity = c / 2;
      } else {
        changed_at(6);
      }
      break;
    case Role::kAutoscaled: {
      const int64_t cycle = age / 60;
      const int64_t phase = age % 60;
      if (phase >= 30) {
        d.capacity = 2 * c;
        d.status = phase < 33 ? "UPDATING" : "RUNNING";
        d.ready_capacity = phase < 33 ? c : 2 * c;
        changed_at(cycle * 60 + (phase < 33 ? 30 : 33));
      } else if (cycle > 0) {
        changed_at(cycle * 60);
      }
      break;
    }
  }
  return d;
}

std::vector<Deployment> Fleet::Page(size_t offset, size_t limit) const {
  std::vector<Deployment> page;
  if (offset >= entries_.size()) return page;
  const size_t end = offset + std::min(limit, entries_.size() - offset);
  page.reserve(end - offset);
  for (size_t i = offset; i < end; ++i) page.push_back(View(entries_[i]));
  return page;
}

std::optional<Deployment> Fleet::Find(std::string_view deployed_model) const {
  auto it = index_.find(std::string(deployed_model));
  if (it == index_.end()) return std::nullopt;
  return View(entries_[it->second]);
}

namespace {

Status CheckEdit(const DeploymentEdit& edit) {
  auto non_negative = [](const std::optional<int64_t>& v) { return !v || *v >= 0; };
  if (!non_negative(edit.capacity)) return Error{"capacity must not be negative"};
  if (!non_negative(edit.ready_capacity)) return Error{"ready_capacity must not be negative"};
  if (!non_negative(edit.base_capacity)) return Error{"base_capacity must not be negative"};
  if (edit.status && edit.status->empty()) return Error{"status must not be empty"};
  if (edit.fail_reason && edit.fail_reason->size() > 4096)
    return Error{"fail_reason must be at most 4096 bytes"};
  return Status::Ok();
}

void ApplyEdit(const DeploymentEdit& edit, Deployment& d) {
  if (edit.status) d.status = *edit.status;
  if (edit.name) d.name = *edit.name;
  if (edit.model_name) d.model_name = *edit.model_name;
  if (edit.capacity) d.capacity = *edit.capacity;
  if (edit.ready_capacity) d.ready_capacity = *edit.ready_capacity;
  if (edit.base_capacity) d.base_capacity = *edit.base_capacity;
  // A reason belongs to a failure: a new status drops the old one.
  if (edit.status && *edit.status != "FAILED") d.fail_reason.reset();
  if (edit.fail_reason) {
    d.fail_reason = *edit.fail_reason;
    if (d.fail_reason->empty()) d.fail_reason.reset();
  }
  if (edit.pre_paid_expires_at) d.pre_paid_expires_at = *edit.pre_paid_expires_at;
  if (edit.ptu_input_tpm || edit.ptu_output_tpm) {
    PtuCapacity ptu = d.ptu_capacity.value_or(PtuCapacity{});
    if (edit.ptu_input_tpm) ptu.input_tpm = *edit.ptu_input_tpm;
    if (edit.ptu_output_tpm) ptu.output_tpm = *edit.ptu_output_tpm;
    d.ptu_capacity = ptu;
  }
}

}  // namespace

Status Fleet::Pin(std::string_view deployed_model, const DeploymentEdit& edit) {
  auto it = index_.find(std::string(deployed_model));
  if (it == index_.end()) return Error{"no deployment " + std::string(deployed_model)};
  if (Status s = CheckEdit(edit); !s.ok()) return s;
  Entry& e = entries_[it->second];
  Deployment d = View(e);
  ApplyEdit(edit, d);
  d.modified_at = SimulatedTime(tick_);
  e.base = std::move(d);
  e.role = Role::kPinned;
  return Status::Ok();
}

Status Fleet::Add(std::string_view deployed_model, const DeploymentEdit& edit) {
  if (deployed_model.empty()) return Error{"add needs a deployed_model"};
  if (index_.count(std::string(deployed_model)) != 0) {
    return Error{"deployment " + std::string(deployed_model) + " already exists"};
  }
  if (entries_.size() >= kMaxFleetSize) {
    return Error{"the fleet already has " + std::to_string(kMaxFleetSize) + " deployments"};
  }
  if (Status s = CheckEdit(edit); !s.ok()) return s;
  Entry e;
  e.start_tick = tick_;
  e.role = edit.status ? Role::kPinned : Role::kCreated;
  Deployment& d = e.base;
  d.deployed_model = std::string(deployed_model);
  d.model_name = "qwen-plus";
  d.base_model = "qwen-plus";
  d.workspace_id = options_.workspace_id;
  d.charge_type = "post_paid";
  d.plan = "mu";
  d.model_unit_spec = kUnitSpecs[0];
  d.creator = MaskedAccount(Rng(options_.seed).Next());
  d.modifier = d.creator;
  d.created_at = SimulatedTime(tick_);
  d.modified_at = d.created_at;
  d.status = "RUNNING";
  ApplyEdit(edit, d);
  if (edit.model_name) d.base_model = *edit.model_name;
  if (!edit.capacity) d.capacity = d.base_capacity;
  if (!edit.ready_capacity) d.ready_capacity = d.status == "RUNNING" ? d.capacity : 0;
  index_.emplace(d.deployed_model, entries_.size());
  entries_.push_back(std::move(e));
  return Status::Ok();
}

Status Fleet::Remove(std::string_view deployed_model) {
  auto it = index_.find(std::string(deployed_model));
  if (it == index_.end()) return Error{"no deployment " + std::string(deployed_model)};
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  RebuildIndex();
  return Status::Ok();
}

void Fleet::RebuildIndex() {
  index_.clear();
  index_.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].base.deployed_model, i);
}

}  // namespace dse::mock
