// The simulated deployment fleet of one DashScope account.
//
// Everything here is a pure function of (seed, fleet size, tick, admin
// edits): two mocks started with the same flags list byte-identical pages at
// the same tick. Time is simulated too: tick 0 is 2025-06-17T11:00:00 and each
// tick adds `seconds_per_tick` (the --tick interval, 10 s when ticks are
// manual), so gmt_* fields never depend on the wall clock.
//
// TICK SCHEDULE (ticks are counted from the last (re)generation of the fleet:
// start, POST /mock/reset, or POST /mock/deployments count=N). Roles depend on
// the deployment's index in the list only, never on the seed:
//
//   index 1  created:     PENDING, ready_capacity 0, at ticks 0 and 1;
//                         RUNNING with ready_capacity = capacity from tick 2.
//                         gmt_create = tick 0; gmt_modified = tick 2 once RUNNING.
//   index 2  scale-up:    RUNNING, capacity C (= base_capacity), at ticks 0-2;
//                         tick 3: capacity 2C, status UPDATING, ready_capacity
//                         stays C for ticks 3, 4, 5; tick 6: RUNNING, ready 2C.
//                         gmt_modified = tick 3, then tick 6.
//   index 3  stopped:     STOPPED, ready_capacity 0, always.
//   index 5  fails:       RUNNING at ticks 0-3; FAILED with ready_capacity 0
//                         from tick 4 on, for good. gmt_modified = tick 4.
//   index 7  autoscaled:  a 60-tick cycle: ticks 0-29 RUNNING at capacity C;
//                         ticks 30-32 UPDATING at 2C with ready C; ticks 33-59
//                         RUNNING at 2C; at tick 60 back to C with ready C at
//                         once (scaling down needs no warm-up), and so on. gmt_modified = the last of those
//                         edges.
//   index 12 deploying:   DEPLOYING (a status outside the seven) with
//                         ready_capacity 0 at ticks 0-2; RUNNING from tick 3.
//   index 13 prepaid PTU: WAIT_PRE_PAID_BILLING_TO_DEPLOYING at ticks 0-2,
//                         DEPLOYING at ticks 3-5 (ready 0), RUNNING from 6.
//   index 14 scaling:     SCALING at ticks 0-5 with ready_capacity C of 2C;
//                         RUNNING at 2C from tick 6.
//   all others (0, 4, 6, 8, ...): RUNNING with ready_capacity = capacity.
//
// The default fleet (12) therefore has at tick 0: 1 PENDING, 1 STOPPED and 10
// RUNNING; at tick 4 or later: 1 FAILED, 1 STOPPED and 10 RUNNING (index 2
// UPDATING during ticks 3-5). Indexes 12-14 (the demo runs 16) add the
// statuses outside the seven.
//
// FIELD RULES by index i: plan is "mu" when i%4==0 (with model_unit_spec),
// "ptu" when i%4==1 (with ptu_capacity, charge_type pre_paid), "lora" when
// i%4==2 (a fine-tuned model_name on an open base_model), absent when i%4==3;
// name is present unless i%3==2; rpm_limit/tpm_limit present when i%2==0,
// rpm_limit sent as a JSON string (the reference types it String) when
// i%6==4. PTU deployments are prepaid: pre_paid_gmt_expired 5 + i%4 years
// after gmt_create (so the demo never looks expiring against the wall
// clock), ptu_service_tier ptu_fast when i%8==1 else ptu_default,
// overflow_strategy enable when i%8==1 else disable. A FAILED index 5 gives a
// fail_reason. None of these draw from the seed's stream, so ids and values
// of the first release stay as they were.
// Ids look like "<base_model>-<8 hex>-mock<i+1, 3 digits or more>"; the hex,
// models, capacities and dates come from the seed.
//
// Admin edits: Pin() freezes a deployment at its current view plus the given
// overrides (it leaves its schedule role; gmt_modified = the current tick).
// Add() appends a qwen-plus, plan mu, capacity 1 deployment that follows the
// "created" role from the current tick, or, when a status is given, stays as
// given (ready_capacity = capacity if RUNNING, else 0, unless set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace dse::mock {

// Simulated Unix time of tick 0: 2025-06-17T11:00:00 (the API gives no zone).
inline constexpr int64_t kEpochSeconds = 1750158000;
inline constexpr size_t kMaxFleetSize = 100000;

struct PtuCapacity {
  int64_t input_tpm = 0;
  int64_t output_tpm = 0;
};

// One deployment as the list call reports it at one tick.
struct Deployment {
  std::string deployed_model;
  std::optional<std::string> name;
  int64_t created_at = 0;   // Unix seconds, rendered as gmt_create
  int64_t modified_at = 0;  // Unix seconds, rendered as gmt_modified
  std::string status;
  std::string model_name;
  std::string base_model;
  int64_t base_capacity = 1;
  int64_t capacity = 1;
  int64_t ready_capacity = 0;
  std::string workspace_id;
  std::string charge_type;
  std::optional<std::string> plan;
  std::optional<std::string> model_unit_spec;
  std::optional<int64_t> rpm_limit;
  std::optional<int64_t> tpm_limit;
  std::optional<PtuCapacity> ptu_capacity;
  bool rpm_limit_as_string = false;
  std::optional<int64_t> pre_paid_expires_at;  // Unix seconds, rendered as pre_paid_gmt_expired
  std::optional<std::string> ptu_service_tier;
  std::optional<std::string> overflow_strategy;
  std::optional<std::string> fail_reason;
  std::string creator;
  std::string modifier;
};

// Fields an admin request may set; unset ones keep their value.
struct DeploymentEdit {
  std::optional<std::string> status;
  std::optional<std::string> name;
  std::optional<std::string> model_name;
  std::optional<int64_t> capacity;
  std::optional<int64_t> ready_capacity;
  std::optional<int64_t> base_capacity;
  std::optional<std::string> fail_reason;      // "" removes it
  std::optional<int64_t> pre_paid_expires_at;  // Unix seconds (wall-clock tests need a real date)
  std::optional<int64_t> ptu_input_tpm;        // either makes it a PTU deployment
  std::optional<int64_t> ptu_output_tpm;
};

struct FleetOptions {
  size_t count = 12;
  uint64_t seed = 1;
  std::string workspace_id = "llm-mock";
  int64_t seconds_per_tick = 10;
};

// Not thread-safe: the owner serializes access.
class Fleet {
 public:
  explicit Fleet(FleetOptions options);

  int64_t tick() const { return tick_; }
  size_t size() const { return entries_.size(); }
  int64_t SimulatedTime(int64_t tick) const;

  void Advance(int64_t ticks);
  // Back to tick 0 and the fleet the options describe.
  void Reset();
  // A fresh fleet of `count`; the schedule restarts from the current tick.
  Status Regenerate(size_t count);

  // Deployments [offset, offset + limit) as they are at the current tick;
  // fewer (or none) past the end.
  std::vector<Deployment> Page(size_t offset, size_t limit) const;
  std::optional<Deployment> Find(std::string_view deployed_model) const;

  Status Pin(std::string_view deployed_model, const DeploymentEdit& edit);
  Status Add(std::string_view deployed_model, const DeploymentEdit& edit);
  Status Remove(std::string_view deployed_model);

 private:
  enum class Role {
    kSteady,
    kCreated,
    kScaleUp,
    kStopped,
    kFails,
    kAutoscaled,
    kDeploying,
    kPrepaidCreated,
    kScaling,
    kPinned
  };

  struct Entry {
    Deployment base;  // the deployment before its role is applied
    Role role = Role::kSteady;
    int64_t start_tick = 0;
  };

  Entry Generate(size_t index, int64_t start_tick) const;
  Deployment View(const Entry& entry) const;
  void RebuildIndex();

  const FleetOptions options_;
  int64_t tick_ = 0;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // deployed_model -> entries_ position
};

// "YYYY-MM-DDTHH:MM:SS" of a Unix time read as UTC.
std::string FormatApiTime(int64_t unix_seconds);

}  // namespace dse::mock
