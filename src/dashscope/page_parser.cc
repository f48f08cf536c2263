// JSON -> model with RapidJSON's SAX reader in iterative mode: no DOM is
// built (a page is read once, straight into DeploymentPage) and no recursion
// happens, so hostile nesting costs neither stack nor much heap.
#include "dashscope/page_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/text.h"
#include "common/utf8.h"
#include "dashscope/api_time.h"
#include "dashscope/json_reader.h"

namespace dse::dashscope {
namespace {

using detail::JsonType;
using detail::kErrorPrefix;
using detail::RunReader;
using detail::Scalar;
using detail::TypeName;

// ---------------------------------------------------------------- deployments

enum class Kind : std::uint8_t { kString, kNumber, kTime, kObject };

enum Field : std::uint8_t {
  kDeployedModel,
  kWorkspaceId,
  kName,
  kModelName,
  kBaseModel,
  kStatus,
  kPlan,
  kChargeType,
  kCapacity,
  kBaseCapacity,
  kReadyCapacity,
  kRpmLimit,
  kTpmLimit,
  kGmtCreate,
  kGmtModified,
  kPrePaidGmtExpired,
  kPtuServiceTier,
  kOverflowStrategy,
  kModelUnitSpec,
  kFailReason,
  kPtuCapacity,  // an object holding the next four
  kPtuInputTpm,
  kPtuOutputTpm,
  kPtuInputTpmQuota,
  kPtuOutputTpmQuota,
  kInputTpmQuota,  // the quota spellings beside ptu_capacity rather than in it
  kOutputTpmQuota,
  kFieldCount,
  kUnknownField = kFieldCount,
};

struct FieldSpec {
  std::string_view name;
  Kind kind;
};

constexpr std::array<FieldSpec, kFieldCount> kFields = {{
    {"deployed_model", Kind::kString},
    {"workspace_id", Kind::kString},
    {"name", Kind::kString},
    {"model_name", Kind::kString},
    {"base_model", Kind::kString},
    {"status", Kind::kString},
    {"plan", Kind::kString},
    {"charge_type", Kind::kString},
    {"capacity", Kind::kNumber},
    {"base_capacity", Kind::kNumber},
    {"ready_capacity", Kind::kNumber},
    {"rpm_limit", Kind::kNumber},
    {"tpm_limit", Kind::kNumber},
    {"gmt_create", Kind::kTime},
    {"gmt_modified", Kind::kTime},
    {"pre_paid_gmt_expired", Kind::kTime},
    {"ptu_service_tier", Kind::kString},
    {"overflow_strategy", Kind::kString},
    {"model_unit_spec", Kind::kString},
    {"fail_reason", Kind::kString},
    {"ptu_capacity", Kind::kObject},
    {"ptu_capacity.input_tpm", Kind::kNumber},
    {"ptu_capacity.output_tpm", Kind::kNumber},
    {"ptu_capacity.input_tpm_quota", Kind::kNumber},
    {"ptu_capacity.output_tpm_quota", Kind::kNumber},
    {"input_tpm_quota", Kind::kNumber},
    {"output_tpm_quota", Kind::kNumber},
}};

constexpr bool IsPtuCapacityMember(Field f) { return f >= kPtuInputTpm && f <= kPtuOutputTpmQuota; }

Field LookupField(std::string_view key) {
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    if (IsPtuCapacityMember(static_cast<Field>(i))) continue;
    if (kFields[i].name == key) return static_cast<Field>(i);
  }
  return kUnknownField;
}

// A key inside the ptu_capacity object.
Field LookupPtuCapacityField(std::string_view key) {
  constexpr std::string_view kPrefix = "ptu_capacity.";
  for (std::size_t i = kPtuInputTpm; i <= kPtuOutputTpmQuota; ++i) {
    if (kFields[i].name.substr(kPrefix.size()) == key) return static_cast<Field>(i);
  }
  return kUnknownField;
}

// A number written as a JSON string: the whole string must follow JSON's
// number grammar (no spaces, signs other than a leading '-', hex, inf or nan).
std::optional<double> NumberFromString(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return std::nullopt;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec == std::errc::result_out_of_range || end != s.data() + s.size()) return std::nullopt;
  return d;
}

std::optional<std::string>* OptionalStringField(Deployment& d, Field f) {
  switch (f) {
    case kName: return &d.name;
    case kModelName: return &d.model_name;
    case kBaseModel: return &d.base_model;
    case kStatus: return &d.status;
    case kPlan: return &d.plan;
    case kChargeType: return &d.charge_type;
    case kPtuServiceTier: return &d.ptu_service_tier;
    case kOverflowStrategy: return &d.overflow_strategy;
    case kModelUnitSpec: return &d.model_unit_spec;
    case kFailReason: return &d.fail_reason;
    default: return nullptr;
  }
}

std::optional<double>* NumberField(Deployment& d, Field f) {
  switch (f) {
    case kCapacity: return &d.capacity;
    case kBaseCapacity: return &d.base_capacity;
    case kReadyCapacity: return &d.ready_capacity;
    case kRpmLimit: return &d.rpm_limit;
    case kTpmLimit: return &d.tpm_limit;
    case kPtuInputTpm: return &d.ptu_input_tpm;
    case kPtuOutputTpm: return &d.ptu_output_tpm;
    default: return nullptr;
  }
}

std::optional<int64_t>* TimeField(Deployment& d, Field f) {
  switch (f) {
    case kGmtCreate: return &d.gmt_create;
    case kGmtModified: return &d.gmt_modified;
    case kPrePaidGmtExpired: return &d.pre_paid_gmt_expired;
    default: return nullptr;
  }
}

bool* ZonelessFlag(Deployment& d, Field f) {
  switch (f) {
    case kGmtCreate: return &d.zoneless.gmt_create;
    case kGmtModified: return &d.zoneless.gmt_modified;
    case kPrePaidGmtExpired: return &d.zoneless.pre_paid_gmt_expired;
    default: return nullptr;
  }
}

// One deployment object being read. Its problems wait here until the record
// ends, because `deployed_model`, which names the record, may come last.
struct RecordBuilder {
  Deployment deployment;
  std::optional<JsonType> deployed_model_type;  // nullopt: absent or null
  struct FieldProblem {
    Field field;
    Problem::Kind kind;
    std::string message;
  };
  std::vector<FieldProblem> problems;  // in order met; one per field
  // The *_tpm_quota spellings; used when the plain one is absent.
  std::array<std::optional<double>, 4> tpm_quota;  // kPtuInputTpmQuota .. kOutputTpmQuota

  void Reset() {
    deployment = Deployment{};
    deployed_model_type.reset();
    problems.clear();
    tpm_quota = {};
  }

  std::optional<double>* QuotaField(Field f) {
    if (f < kPtuInputTpmQuota || f > kOutputTpmQuota) return nullptr;
    return &tpm_quota[static_cast<std::size_t>(f - kPtuInputTpmQuota)];
  }

  // At the end of the record: ptu_capacity.input_tpm, else its quota
  // spelling inside ptu_capacity, else the one beside it.
  void ResolvePtuCapacity() {
    Deployment& d = deployment;
    if (!d.ptu_input_tpm) d.ptu_input_tpm = tpm_quota[0] ? tpm_quota[0] : tpm_quota[2];
    if (!d.ptu_output_tpm) d.ptu_output_tpm = tpm_quota[1] ? tpm_quota[1] : tpm_quota[3];
  }

  // Duplicate keys: the last one wins, so an earlier value and its problem go.
  void ClearField(Field f) {
    if (f == kPtuCapacity) {  // a later ptu_capacity replaces what the earlier one held
      for (Field m : {kPtuInputTpm, kPtuOutputTpm, kPtuInputTpmQuota, kPtuOutputTpmQuota}) ClearField(m);
    }
    problems.erase(
        std::remove_if(problems.begin(), problems.end(), [f](const FieldProblem& p) { return p.field == f; }),
        problems.end());
    Deployment& d = deployment;
    if (auto* q = QuotaField(f)) q->reset();
    if (f == kDeployedModel) {
      d.deployed_model.clear();
      deployed_model_type.reset();
    } else if (f == kWorkspaceId) {
      d.workspace_id.clear();
    } else if (auto* s = OptionalStringField(d, f)) {
      s->reset();
    } else if (auto* n = NumberField(d, f)) {
      n->reset();
    } else if (auto* t = TimeField(d, f)) {
      t->reset();
      *ZonelessFlag(d, f) = false;
    }
  }

  // Values of keys we do not know are ignored.
  void Set(Field f, const Scalar& v) {
    if (f >= kFieldCount) return;
    ClearField(f);
    if (v.type == JsonType::kNull) return;  // null means absent
    Deployment& d = deployment;
    const Kind kind = kFields[f].kind;
    if (f == kDeployedModel) {
      // Not a field problem: a record without it is dropped, which says so.
      deployed_model_type = v.type;
      if (v.type == JsonType::kString && AssignValidUtf8(v.text, d.deployed_model)) {
        problems.push_back({f, Problem::Kind::kInvalidUtf8, "invalid UTF-8 replaced"});
      }
      return;
    }
    switch (kind) {
      case Kind::kString: {
        if (v.type != JsonType::kString) break;
        std::string* dst = &d.workspace_id;
        if (f != kWorkspaceId) dst = &OptionalStringField(d, f)->emplace();
        if (AssignValidUtf8(v.text, *dst)) {
          problems.push_back({f, Problem::Kind::kInvalidUtf8, "invalid UTF-8 replaced"});
        }
        return;
      }
      case Kind::kNumber: {
        std::optional<double> number;
        if (v.type == JsonType::kInteger || v.type == JsonType::kFloat) {
          number = v.number;
        } else if (v.type == JsonType::kString) {
          number = NumberFromString(v.text);  // the reference types rpm_limit as a String
        }
        if (!number) break;
        if (auto* q = QuotaField(f)) {
          *q = number;
        } else {
          *NumberField(d, f) = number;
        }
        return;
      }
      case Kind::kObject: break;  // an object opens at the next depth; any other value is wrong
      case Kind::kTime: {
        if (v.type != JsonType::kString) break;
        bool had_zone = false;
        if (const auto t = detail::ParseApiTimeZoned(v.text, &had_zone)) {
          *TimeField(d, f) = *t;
          *ZonelessFlag(d, f) = !had_zone;
        } else {
          problems.push_back({f, Problem::Kind::kMalformedRecord, "invalid time " + Quote(v.text)});
        }
        return;
      }
    }
    std::string msg = kind == Kind::kNumber   ? "expected a number, got "
                      : kind == Kind::kObject ? "expected an object, got "
                                              : "expected a string, got ";
    msg += TypeName(v.type);
    problems.push_back({f, Problem::Kind::kWrongType, std::move(msg)});
  }
};

enum MetaField : std::uint8_t { kPageNo, kPageSize, kTotal, kMetaCount };
constexpr std::array<std::string_view, kMetaCount> kMetaNames = {"page_no", "page_size", "total"};

// What one envelope (`output` or `data`) held; the page is taken from one.
struct Envelope {
  std::string_view name;
  bool present = false;  // an object was seen under this key
  bool has_deployments = false;
  std::optional<JsonType> deployments_type;  // when given, but not as an array
  std::array<std::optional<int64_t>, kMetaCount> meta;
  std::array<std::optional<Problem>, kMetaCount> meta_problems;  // one per field: last key wins
  std::vector<Deployment> deployments;
  std::vector<Problem> record_problems;  // at most kMaxListedProblems
  std::size_t record_problem_count = 0;
  int64_t next_index = 0;

  void ResetDeployments() {
    has_deployments = false;
    deployments_type.reset();
    deployments.clear();
    record_problems.clear();
    record_problem_count = 0;
    next_index = 0;
  }
  void Reset() {
    ResetDeployments();
    present = false;
    meta = {};
    meta_problems = {};
  }
  void AddRecordProblem(Problem problem) {
    ++record_problem_count;
    if (record_problems.size() < kMaxListedProblems) record_problems.push_back(std::move(problem));
  }
  static Problem NotObjectProblem(int64_t index, JsonType t) {
    return {Problem::Kind::kWrongType,
            "deployment #" + std::to_string(index) + ": expected an object, got " + std::string(TypeName(t))};
  }
  void SetMeta(MetaField m, const Scalar& v) {
    meta[m].reset();
    meta_problems[m].reset();
    if (v.type == JsonType::kNull) return;
    if (v.type == JsonType::kInteger && v.integer) {
      meta[m] = *v.integer;
      return;
    }
    Problem& p = meta_problems[m].emplace();
    p.text = "field " + std::string(name) + "." + std::string(kMetaNames[m]) + ": ";
    if (v.type == JsonType::kInteger) {
      p.kind = Problem::Kind::kMalformedRecord;
      p.text += "integer out of range";
    } else {
      p.kind = Problem::Kind::kWrongType;
      p.text += "expected an integer, got ";
      p.text += v.type == JsonType::kFloat ? "float" : TypeName(v.type);
    }
  }
};

// SAX handler for a list response. The document shape it reads is fixed:
//   depth 1: the top-level object        (keys: output, data)
//   depth 2: an envelope object          (keys: deployments, page_no, ...)
//   depth 3: the deployments array
//   depth 4: a deployment object          (keys: the fields)
// Every container that is not one of these is skipped whole, so at any
// depth that is not being skipped we know exactly where we are.
class PageHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, PageHandler> {
 public:
  PageHandler() {
    envelopes_[0].name = "output";
    envelopes_[1].name = "data";
  }

  bool Null() { return OnScalar(Scalar{}); }
  bool Bool(bool) { return OnScalar(Scalar{JsonType::kBool, {}, 0, {}}); }
  bool Int(int i) { return OnInteger(i); }
  bool Uint(unsigned u) { return OnInteger(u); }
  bool Int64(int64_t i) { return OnInteger(i); }
  bool Uint64(uint64_t u) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return OnScalar(Scalar{JsonType::kInteger, {}, static_cast<double>(u), std::nullopt});
    }
    return OnInteger(static_cast<int64_t>(u));
  }
  bool Double(double d) { return OnScalar(Scalar{JsonType::kFloat, {}, d, {}}); }
  // With kParseNumbersAsStringsFlag every number comes here, already checked
  // against JSON's number grammar by the reader.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const std::string_view text(s, n);
    if (text.find_first_of(".eE") == std::string_view::npos) {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(s, s + n, i);
      if (ec == std::errc() && end == s + n) return OnInteger(i);
      // Out of int64's range: still an integer in JSON, kept as a double.
      double d = 0;
      std::from_chars(s, s + n, d);
      return OnScalar(Scalar{JsonType::kInteger, {}, d, std::nullopt});
    }
    double d = 0;
    auto [end, ec] = std::from_chars(s, s + n, d);
    // Overflow (1e400) saturates rather than failing the page; underflow is 0.
    if (ec == std::errc::result_out_of_range) {
      d = text.find_first_of("eE") != std::string_view::npos && text[text.find_first_of("eE") + 1] == '-'
              ? 0.0
              : std::numeric_limits<double>::infinity() * (text[0] == '-' ? -1 : 1);
    }
    return Double(d);
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return OnScalar(Scalar{JsonType::kString, std::string_view(s, n), 0, {}});
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (skip_depth_ != 0) return true;
    const std::string_view key(s, n);
    switch (depth_) {
      case 1: keyed_ = key == "output" ? &envelopes_[0] : key == "data" ? &envelopes_[1] : nullptr; break;
      case 2:
        member_ = key == "deployments" ? Member::kDeployments : Member::kOther;
        for (int m = 0; m < kMetaCount; ++m) {
          if (key == kMetaNames[m]) {
            member_ = Member::kMeta;
            meta_ = static_cast<MetaField>(m);
          }
        }
        break;
      case 4: field_ = LookupField(key); break;
      case 5: field_ = LookupPtuCapacityField(key); break;  // the only object read at depth 5
      default: break;
    }
    return true;
  }
  bool StartObject() { return Open(JsonType::kObject); }
  bool StartArray() { return Open(JsonType::kArray); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  const std::string& error() const { return error_; }

  Result<DeploymentPage> Finish() && {
    Envelope* chosen = nullptr;
    for (Envelope& e : envelopes_) {
      if (e.present && e.has_deployments) {
        chosen = &e;
        break;
      }
    }
    // An account without deployments may come back as `"deployments": null`
    // or with no list at all beside `"total": 0`: an empty page, not an error,
    // or such an account could never become ready.
    for (Envelope& e : envelopes_) {
      if (chosen != nullptr) break;
      const bool null_list = e.deployments_type == JsonType::kNull;
      const bool no_list_none_total = !e.deployments_type && e.meta[kTotal] == 0;
      if (e.present && (null_list || no_list_none_total)) chosen = &e;
    }
    if (chosen == nullptr) return Error{MissingEnvelopeMessage()};
    Envelope& e = *chosen;
    DeploymentPage page;
    page.page_no = e.meta[kPageNo];
    page.page_size = e.meta[kPageSize];
    page.total = e.meta[kTotal];
    page.deployments = std::move(e.deployments);
    std::size_t count = e.record_problem_count;
    for (std::optional<Problem>& p : e.meta_problems) {
      if (p) {
        page.problems.push_back(std::move(*p));
        ++count;
      }
    }
    for (Problem& p : e.record_problems) {
      if (page.problems.size() == kMaxListedProblems) break;
      page.problems.push_back(std::move(p));
    }
    page.problems_not_listed = count - page.problems.size();
    return page;
  }

 private:
  // What the value under the current key of an envelope is.
  enum class Member : std::uint8_t { kOther, kDeployments, kMeta };

  bool Fail(std::string message) {
    error_ = std::string(kErrorPrefix) + std::move(message);
    return false;
  }

  bool OnInteger(int64_t i) { return OnScalar(Scalar{JsonType::kInteger, {}, static_cast<double>(i), i}); }

  bool OnScalar(const Scalar& v) {
    if (skip_depth_ != 0) return true;
    switch (depth_) {
      case 0: return Fail("expected a JSON object at the top level, got " + std::string(TypeName(v.type)));
      case 1:
        // `"output": null` (or a string) after an object: the last key wins.
        if (keyed_ != nullptr) keyed_->Reset();
        break;
      case 2: OnEnvelopeMember(v); break;
      case 3: {
        Envelope& e = *envelope_;
        e.AddRecordProblem(e.NotObjectProblem(e.next_index++, v.type));
        break;
      }
      case 4:
      case 5: record_.Set(field_, v); break;
      default: break;
    }
    return true;
  }

  void OnEnvelopeMember(const Scalar& v) {
    Envelope& e = *envelope_;
    if (member_ == Member::kDeployments) {
      e.ResetDeployments();
      e.deployments_type = v.type;
    } else if (member_ == Member::kMeta) {
      e.SetMeta(meta_, v);
    }
  }

  bool Open(JsonType t) {
    if (depth_ >= detail::kMaxJsonDepth) {
      error_ = detail::TooDeepMessage();
      return false;
    }
    ++depth_;
    if (skip_depth_ != 0) return true;
    switch (depth_) {
      case 1:
        if (t != JsonType::kObject)
          return Fail("expected a JSON object at the top level, got " + std::string(TypeName(t)));
        return true;
      case 2:
        if (keyed_ == nullptr) break;
        envelope_ = keyed_;
        envelope_->Reset();
        if (t == JsonType::kObject) {
          envelope_->present = true;
          member_ = Member::kOther;
          return true;
        }
        break;
      case 3: {
        Envelope& e = *envelope_;
        if (member_ == Member::kDeployments) {
          e.ResetDeployments();
          if (t == JsonType::kArray) {
            e.has_deployments = true;
            return true;
          }
          e.deployments_type = t;
        } else if (member_ == Member::kMeta) {
          e.SetMeta(meta_, Scalar{t, {}, 0, {}});
        }
        break;
      }
      case 4: {
        Envelope& e = *envelope_;
        record_index_ = e.next_index++;
        if (t == JsonType::kObject) {
          record_.Reset();
          field_ = kUnknownField;
          return true;
        }
        e.AddRecordProblem(e.NotObjectProblem(record_index_, t));
        break;
      }
      case 5:
        if (field_ == kPtuCapacity && t == JsonType::kObject) {
          record_.ClearField(kPtuCapacity);
          field_ = kUnknownField;
          return true;
        }
        record_.Set(field_, Scalar{t, {}, 0, {}});
        break;
      case 6: record_.Set(field_, Scalar{t, {}, 0, {}}); break;
      default: break;
    }
    skip_depth_ = depth_;
    return true;
  }

  bool Close() {
    if (skip_depth_ != 0) {
      if (depth_ == skip_depth_) skip_depth_ = 0;
    } else if (depth_ == 4) {
      FinishRecord();
    }
    --depth_;
    return true;
  }

  void FinishRecord() {
    Envelope& e = *envelope_;
    RecordBuilder& r = record_;
    Deployment& d = r.deployment;
    if (r.deployed_model_type != JsonType::kString || d.deployed_model.empty()) {
      Problem p{Problem::Kind::kMissingDeployedModel,
                "deployment #" + std::to_string(record_index_) + ": missing deployed_model"};
      if (r.deployed_model_type && r.deployed_model_type != JsonType::kString) {
        p.text += ": expected a string, got ";
        p.text += TypeName(*r.deployed_model_type);
      }
      e.AddRecordProblem(std::move(p));
      return;
    }
    r.ResolvePtuCapacity();
    if (!r.problems.empty()) {
      const std::string prefix = "deployment " + Quote(d.deployed_model) + ": field ";
      for (RecordBuilder::FieldProblem& p : r.problems) {
        e.AddRecordProblem({p.kind, prefix + std::string(kFields[p.field].name) + ": " + p.message});
      }
    }
    e.deployments.push_back(std::move(d));
  }

  std::string MissingEnvelopeMessage() const {
    std::string out(kErrorPrefix);
    std::string where;
    for (const Envelope& e : envelopes_) {
      if (!e.present) continue;
      if (!where.empty()) where += " or ";
      where += "\"" + std::string(e.name) + "\"";
      if (e.deployments_type) where += " (got " + std::string(TypeName(*e.deployments_type)) + ")";
    }
    if (where.empty()) return out + "no \"output\" or \"data\" object at the top level";
    return out + "no \"deployments\" array in " + where;
  }

  int depth_ = 0;              // containers open now
  int skip_depth_ = 0;         // depth of the container being skipped; 0 when none
  Envelope* keyed_ = nullptr;  // the envelope the last top-level key names, if any
  Member member_ = Member::kOther;
  MetaField meta_ = kPageNo;  // which one, when member_ is kMeta
  Field field_ = kUnknownField;
  int64_t record_index_ = 0;
  Envelope* envelope_ = nullptr;
  std::array<Envelope, 2> envelopes_;
  RecordBuilder record_;
  std::string error_;
};

}  // namespace

Result<DeploymentPage> ParseDeploymentPage(std::string_view body) {
  PageHandler handler;
  if (std::string error = RunReader(body, handler); !error.empty()) return Error{std::move(error)};
  return std::move(handler).Finish();
}

}  // namespace dse::dashscope
